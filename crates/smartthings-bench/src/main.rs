//! Benchmarks that print figures: `cargo xtask bench` (or
//! `cargo run --release -p smartthings-bench`). Every figure is measured
//! against the local simulator on loopback; see docs/benchmarks.md.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Result;
use futures::StreamExt;
use serde_json::Value;
use smartthings_ext::{
    ChangeKind, DeviceQuery, DeviceStatus, Event, EventSubscription, LiveHome, LiveOptions, Origin,
    RateLimitPolicy, RetryPolicy, SmartThings, SnapshotOptions, collect_all,
};
use smartthings_sim::{Activity, Config, Home, Simulator, StreamFault};

/// Counts heap bytes: the live heap of the whole process for the event
/// stream's memory figure, and the peak of one call on one thread for the
/// decode figures ([`peak_during`]).
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
/// Whether every allocation of the process is counted in `LIVE`: only in a
/// process that runs the event stream's section (see [`sections`]).
/// Elsewhere two shared atomics per allocation, contended by the simulator
/// and the client threads, would tax the Rust side of a comparison, and the
/// more so the more it allocates. Turned off once, before any section,
/// never on again: a block allocated uncounted and freed counted would make
/// `LIVE` wrap.
static COUNTING: AtomicBool = AtomicBool::new(true);

thread_local! {
    /// This thread's heap growth and its peak since [`peak_during`] began,
    /// while it runs: per thread and only then, so that the timed decode
    /// runs pay one thread-local read per allocation, not two atomics.
    static WINDOW: Cell<Option<(isize, isize)>> = const { Cell::new(None) };
}

fn window(delta: isize) {
    let _ = WINDOW.try_with(|w| {
        if let Some((live, peak)) = w.get() {
            w.set(Some((live + delta, peak.max(live + delta))));
        }
    });
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded to the system allocator with the same layout.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            if COUNTING.load(Ordering::Relaxed) {
                LIVE.fetch_add(layout.size(), Ordering::Relaxed);
            }
            window(layout.size() as isize);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `alloc` above with this layout.
        unsafe { System.dealloc(ptr, layout) };
        if COUNTING.load(Ordering::Relaxed) {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        }
        window(-(layout.size() as isize));
    }

    /// The system's own `realloc`, counted as it happened: a block resized
    /// in place (glibc shrinks in place) changes the heap by the difference;
    /// a moved block was held twice until the copy was done. The default,
    /// a new block and a copy every time, would count a shrink as growth.
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded to the system allocator with the caller's
        // guarantees, as `alloc` and `dealloc` above.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            let (old_size, new_size) = (layout.size() as isize, new_size as isize);
            if COUNTING.load(Ordering::Relaxed) {
                LIVE.fetch_add(new_size as usize, Ordering::Relaxed);
                LIVE.fetch_sub(old_size as usize, Ordering::Relaxed);
            }
            if new == ptr {
                window(new_size - old_size);
            } else {
                window(new_size);
                window(-old_size);
            }
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Peak heap growth on this thread while `f` runs, in bytes.
fn peak_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    WINDOW.set(Some((0, 0)));
    let out = f();
    let peak = WINDOW.take().map_or(0, |(_, peak)| peak);
    (out, peak.max(0) as usize)
}

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// The ratios `numerator[i] / denominator[i]` of runs made side by side:
/// their median and quartiles. On a shared VM the machine's speed drifts
/// by 10 % within seconds; a ratio taken within one round cancels what
/// the two runs shared, where a ratio of two medians does not.
struct Paired {
    median: f64,
    lower_quartile: f64,
    upper_quartile: f64,
}

impl Paired {
    fn of(numerator: &[f64], denominator: &[f64]) -> Self {
        assert!(
            !numerator.is_empty() && numerator.len() == denominator.len(),
            "paired runs: {} against {}",
            numerator.len(),
            denominator.len()
        );
        let mut ratios: Vec<f64> = numerator
            .iter()
            .zip(denominator)
            .map(|(n, d)| n / d)
            .collect();
        ratios.sort_by(f64::total_cmp);
        // The quartiles as far from either end: the k-th lowest and the
        // k-th highest.
        let last = ratios.len() - 1;
        let k = last / 4;
        Self {
            median: ratios[last / 2],
            lower_quartile: ratios[k],
            upper_quartile: ratios[last - k],
        }
    }
}

impl std::fmt::Display for Paired {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:.2}x ({:.2}–{:.2})",
            self.median, self.lower_quartile, self.upper_quartile
        )
    }
}

fn client(sim: &Simulator, limits: RateLimitPolicy) -> Result<SmartThings> {
    Ok(SmartThings::builder()
        .token(sim.token())
        .base_url(sim.base_url())
        .rate_limits(limits)
        .build()?)
}

fn no_limits() -> Config {
    Config {
        rate_limits: false,
        ..Config::default()
    }
}

/// Request economy: snapshot versus the lower bound and the naive strategy.
async fn request_economy() -> Result<()> {
    println!("## Request economy (full home snapshot)\n");
    println!(
        "| devices | locations | snapshot requests | lower bound | naive requests | naive / snapshot |"
    );
    println!("|---:|---:|---:|---:|---:|---:|");
    for (devices, locations) in [(10, 1), (200, 1), (1000, 5), (2000, 10)] {
        let sim = Simulator::start(Home::generated(locations, devices, 1)?, no_limits()).await?;
        let c = client(&sim, RateLimitPolicy::disabled())?;
        let snapshot = c.snapshot().await?;
        assert_eq!(snapshot.devices.len(), devices);
        // ⌈N/200⌉ device pages + locations + scenes + one room list per location.
        let bound = devices.div_ceil(200) + 1 + 1 + locations;

        let naive_sim =
            Simulator::start(Home::generated(locations, devices, 1)?, no_limits()).await?;
        let n = client(&naive_sim, RateLimitPolicy::disabled())?;
        let before = n.metrics().requests;
        let listed = collect_all(n.devices(DeviceQuery::all())).await?;
        let _ = collect_all(n.locations()).await?;
        let _ = collect_all(n.scenes(None)).await?;
        let locations_list = collect_all(n.locations()).await?;
        for l in &locations_list.items {
            let _ = collect_all(n.rooms(l.location_id.as_deref().unwrap_or_default())).await?;
        }
        let ids: Vec<String> = listed
            .items
            .iter()
            .filter_map(|d| d.device_id.clone())
            .collect();
        let _: Vec<_> = n.statuses(ids.clone(), 16).collect().await;
        for id in &ids {
            n.get_device_health().device_id(id).send().await?;
        }
        // The second locations list only fed this loop; do not count it.
        let naive = n.metrics().requests - before - 1;
        println!(
            "| {devices} | {locations} | {} | {bound} | {naive} | {:.0}x |",
            snapshot.requests,
            naive as f64 / snapshot.requests as f64
        );
    }
    println!();
    Ok(())
}

/// Wall time with the simulator enforcing seed 002's limits at a shrunk
/// time scale.
async fn wall_time_under_limits() -> Result<()> {
    const SCALE: f64 = 60.0;
    println!("## Wall time under rate limits (time scale {SCALE}x: a 60 s window lasts 1 s)\n");
    println!("| workload | requests | best time the limits allow | measured | 429s received |");
    println!("|---|---:|---:|---:|---:|");
    let config = || Config {
        time_scale: SCALE,
        ..Config::default()
    };

    // Every device's status once: no per-device window binds; the floor is
    // the client's concurrency (16) times loopback latency.
    let sim = Simulator::start(Home::generated(5, 1000, 3)?, config()).await?;
    let c = client(&sim, RateLimitPolicy::default().time_scale(SCALE))?;
    let ids: Vec<String> = sim.with_home(|h| h.devices.keys().cloned().collect());
    let started = Instant::now();
    let results: Vec<_> = c.statuses(ids, 16).collect().await;
    let elapsed = started.elapsed();
    assert!(results.iter().all(|(_, r)| r.is_ok()));
    println!(
        "| status of each of 1000 devices, 16 in flight | 1000 | no limit binds | {:.2} s | {} |",
        elapsed.as_secs_f64(),
        sim.stats().by_status.get(&429).copied().unwrap_or(0)
    );

    // A dashboard polling 10 devices 1000 times each: the per-device status
    // window (350 per 60 s) binds. Request k of a device can go in window
    // floor(k/350): the 1000th in window 2, so 2 windows = 2 s at this scale,
    // and then window 2's 3 000 requests still take the time they take
    // without limits (measured: the same client and concurrency, limits off).
    let sim = Simulator::start(Home::generated(1, 10, 3)?, config()).await?;
    let c = client(&sim, RateLimitPolicy::default().time_scale(SCALE))?;
    let ten: Vec<String> = sim.with_home(|h| h.devices.keys().cloned().collect());
    let polls = |ids: &[String], n: usize| -> Vec<String> {
        (0..n).flat_map(|_| ids.iter().cloned()).collect()
    };
    let windows = Duration::from_secs(60).div_f64(SCALE) * 2;
    let started = Instant::now();
    let results: Vec<_> = c.statuses(polls(&ten, 1000), 32).collect().await;
    let elapsed = started.elapsed();
    assert!(results.iter().all(|(_, r)| r.is_ok()));
    let throttled = sim.stats().by_status.get(&429).copied().unwrap_or(0);
    let free = Simulator::start(Home::generated(1, 10, 3)?, no_limits()).await?;
    let f = client(&free, RateLimitPolicy::disabled())?;
    let free_ids: Vec<String> = free.with_home(|h| h.devices.keys().cloned().collect());
    let tail_polls = polls(&free_ids, 300);
    let _: Vec<_> = f.statuses(tail_polls.clone(), 32).collect().await;
    let started = Instant::now();
    let _: Vec<_> = f.statuses(tail_polls, 32).collect().await;
    let tail = started.elapsed();
    let best = windows + tail;
    println!(
        "| 10 devices x 1000 status polls, 32 in flight | 10000 | {:.2} s (2 windows) + {:.2} s (the last window's 3000, unthrottled) = {:.2} s | {:.2} s ({:.3}x) | {throttled} |",
        windows.as_secs_f64(),
        tail.as_secs_f64(),
        best.as_secs_f64(),
        elapsed.as_secs_f64(),
        elapsed.as_secs_f64() / best.as_secs_f64(),
    );
    println!();
    Ok(())
}

/// What else the machine is doing, printed before each section: the
/// figures below are only comparable on an idle machine. The load average
/// includes this bench's own previous section (it decays over minutes), so
/// the warning rests on the CPU time other processes used over the last
/// second: all CPUs' busy time (`/proc/stat`) minus this process's
/// (`/proc/self/stat`, which counts the in-process simulator too).
fn print_load() {
    let load = std::fs::read_to_string("/proc/loadavg").ok().and_then(|l| {
        l.split_whitespace()
            .next()
            .and_then(|one| one.parse::<f64>().ok())
    });
    let load = load.map_or("unknown".into(), |one| format!("{one:.2}"));
    let Some(busy) = cores_busy(Duration::from_secs(1)) else {
        println!("> load average {load}; CPU use unknown (no /proc)\n");
        return;
    };
    let mut warnings = Vec::new();
    if busy.others > 0.5 {
        warnings.push("other work is running");
    }
    // Between sections the bench does nothing: CPU time here is a previous
    // section's tasks still running (a simulator or stream left behind).
    if busy.own > 0.1 {
        warnings.push("this process is still busy with a previous section");
    }
    let warning = if warnings.is_empty() {
        String::new()
    } else {
        format!(
            ": **{}; these figures are not comparable**",
            warnings.join("; ")
        )
    };
    println!(
        "> load average {load} (1 min, this bench's previous section included); over the last second, other processes used {:.2} cores and this one, idle between sections, {:.2}{warning}\n",
        busy.others, busy.own
    );
}

/// Cores' worth of CPU time used over a period.
struct CoresBusy {
    /// By processes other than this one.
    others: f64,
    /// By this process.
    own: f64,
}

/// Cores' worth of CPU time used by other processes and by this one over
/// `period` (`None` without /proc).
fn cores_busy(period: Duration) -> Option<CoresBusy> {
    // USER_HZ: the unit of both files, 100 on Linux.
    const TICKS_PER_SECOND: f64 = 100.0;
    fn all_busy() -> Option<u64> {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        let fields: Vec<u64> = stat
            .lines()
            .next()?
            .split_whitespace()
            .skip(1)
            .filter_map(|f| f.parse().ok())
            .collect();
        // user nice system idle iowait irq softirq steal ...: idle and
        // iowait are not work.
        let total: u64 = fields.iter().take(8).sum();
        Some(total - fields.get(3)? - fields.get(4).copied().unwrap_or(0))
    }
    fn own_busy() -> Option<u64> {
        let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
        // After the command name (which may hold spaces) in parentheses.
        let rest = &stat[stat.rfind(')')? + 2..];
        let fields: Vec<u64> = rest
            .split_whitespace()
            .map(|f| f.parse().unwrap_or(0))
            .collect();
        // utime, stime, cutime, cstime: fields 14-17 of the line.
        Some(fields.get(11)? + fields.get(12)? + fields.get(13)? + fields.get(14)?)
    }
    let (all, own) = (all_busy()?, own_busy()?);
    std::thread::sleep(period);
    let (all_after, own_after) = (all_busy()?, own_busy()?);
    let own = own_after - own;
    let others = (all_after - all).saturating_sub(own);
    let cores = |ticks: u64| ticks as f64 / TICKS_PER_SECOND / period.as_secs_f64();
    Some(CoresBusy {
        others: cores(others),
        own: cores(own),
    })
}

/// Real payloads to decode beside the simulator's: every `*.json` in
/// `$SMARTTHINGS_BENCH_PAYLOADS` (default `crates/smartthings-bench/payloads`),
/// a device page when it has `items`, a device status when it has
/// `components`. None are committed: real pages carry a home's ids and names.
fn real_payloads() -> Vec<(String, Vec<u8>)> {
    let dir = std::env::var_os("SMARTTHINGS_BENCH_PAYLOADS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("payloads"));
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    if files.is_empty() {
        println!(
            "No real payloads in {} (set SMARTTHINGS_BENCH_PAYLOADS to a directory of device pages and statuses): their rows are skipped.\n",
            dir.display()
        );
    }
    files
        .into_iter()
        .filter_map(|path| {
            let name = path.file_name()?.to_string_lossy().into_owned();
            Some((name, std::fs::read(&path).ok()?))
        })
        .collect()
}

/// Node's `JSON.parse` on the same bytes, in a `node` process kept alive
/// so that its runs interleave with the Rust ones: on a shared machine both
/// then see the same load.
struct NodeParse {
    child: std::process::Child,
    stdin: std::process::ChildStdin,
    stdout: std::io::BufReader<std::process::ChildStdout>,
    path: std::path::PathBuf,
}

impl NodeParse {
    const SCRIPT: &str = r#"
const text = require('fs').readFileSync(process.argv[1], 'utf8');
require('readline').createInterface({ input: process.stdin }).on('line', (line) => {
  const n = Number(line);
  const t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) JSON.parse(text);
  console.log(Number(process.hrtime.bigint() - t) / 1e9 / n);
});
"#;

    /// `None` when `node` is not on PATH.
    fn start(bytes: &[u8]) -> Option<Self> {
        use std::process::{Command, Stdio};
        let path = std::env::temp_dir().join(format!(
            "smartthings-bench-node-{}.json",
            std::process::id()
        ));
        std::fs::write(&path, bytes).ok()?;
        let mut child = Command::new("node")
            .arg("-e")
            .arg(Self::SCRIPT)
            .arg(&path)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let stdin = child.stdin.take()?;
        let stdout = std::io::BufReader::new(child.stdout.take()?);
        Some(Self {
            child,
            stdin,
            stdout,
            path,
        })
    }

    /// Seconds per `JSON.parse`, over `n` of them.
    fn run(&mut self, n: usize) -> Option<f64> {
        use std::io::{BufRead, Write};
        writeln!(self.stdin, "{n}").ok()?;
        let mut line = String::new();
        self.stdout.read_line(&mut line).ok()?;
        line.trim().parse().ok()
    }
}

impl Drop for NodeParse {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Decode throughput into the typed model, beside `serde_json::Value` and
/// Node's `JSON.parse` on the same bytes.
async fn decode_throughput() -> Result<()> {
    println!(
        "## Decode throughput (15 interleaved rounds of about 20 ms a decoder; typed / Node: median of the rounds' ratios, quartiles in brackets)\n"
    );
    let node = std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !node {
        println!("`node` is not on PATH: the Node columns are skipped.\n");
    }
    let mut payloads: Vec<(String, Vec<u8>)> = real_payloads()
        .into_iter()
        .map(|(name, bytes)| (format!("real: {name}"), bytes))
        .collect();

    let sim = Simulator::start(Home::generated(1, 200, 5)?, no_limits()).await?;
    let page = reqwest::Client::new()
        .get(format!(
            "{}/devices?includeStatus=true&includeHealth=true",
            sim.base_url()
        ))
        .bearer_auth(sim.token())
        .send()
        .await?
        .bytes()
        .await?;
    payloads.push((
        "simulator: 200-device page, includeStatus".into(),
        page.to_vec(),
    ));
    // The shape of the issue's real page (82 devices, no status): the demo
    // home's devices, which carry the fields real ones do (integration
    // details, profile, presentation ids), repeated to 82 with their own ids.
    let demo: Vec<Value> = Home::demo()
        .devices
        .values()
        .map(|d| d.device.clone())
        .collect();
    let items: Vec<Value> = (0..82)
        .map(|i| {
            let mut device = demo[i % demo.len()].clone();
            device["deviceId"] = format!("5f1c0a4e-7d2b-4c1e-9a3f-{i:012}").into();
            device
        })
        .collect();
    payloads.push((
        format!(
            "simulator: the demo home's {} devices repeated to 82, no status",
            demo.len()
        ),
        serde_json::to_vec(&serde_json::json!({"items": items, "_links": {}}))?,
    ));
    // A large appliance: the demo refrigerator's status grown to 12
    // components, as multi-door appliances report.
    let mut status = Home::demo()
        .devices
        .values()
        .find(|d| d.device["label"] == "Refrigerator")
        .map(|d| d.status.clone())
        .unwrap_or_default();
    let main = status["components"]["main"].clone();
    for i in 0..11 {
        status["components"][format!("sub{i}")] = main.clone();
    }
    payloads.push((
        "simulator: refrigerator status grown to 12 components".into(),
        serde_json::to_vec(&status)?,
    ));

    println!(
        "| payload | size | decoded into | typed MB/s | serde_json::Value MB/s | Node JSON.parse MB/s | typed / Node (quartiles) | typed peak heap | peak / size | `Value` peak / size |"
    );
    println!("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|");
    fn rate(bytes: usize, seconds: f64) -> f64 {
        bytes as f64 / seconds / 1e6
    }
    /// A decoded body, whatever its type: held by [`run`] until the next
    /// one is decoded.
    type Decoded = Box<dyn std::any::Any>;
    /// Calls of `f` that last about 20 ms.
    fn calls_per_run(f: &dyn Fn() -> Decoded) -> usize {
        let t = Instant::now();
        std::hint::black_box(f());
        let once = t.elapsed().as_secs_f64().max(1e-7);
        ((0.02 / once) as usize).clamp(1, 10_000)
    }
    /// Seconds per call of `f`, over `n` calls. Each result is held until
    /// the next is decoded, as a client replacing its previous page holds
    /// it (and as Node's loop leaves it to the garbage collector): freed
    /// at once, a megabyte of small blocks makes glibc give the heap back
    /// to the kernel, and every decode then pays its page faults again
    /// (measured: up to a third of the time, varying with what ran before).
    fn run(f: &dyn Fn() -> Decoded, n: usize) -> f64 {
        let mut held = f();
        let t = Instant::now();
        for _ in 0..n {
            held = std::hint::black_box(f());
        }
        let seconds = t.elapsed().as_secs_f64() / n as f64;
        drop(held);
        seconds
    }
    // As the client decodes every body (`smartthings::decode_body`).
    fn decode_page(bytes: &[u8]) -> Option<smartthings::types::ListDevicesResponse> {
        smartthings::decode_body(bytes).ok()
    }
    fn decode_status(bytes: &[u8]) -> Option<DeviceStatus> {
        smartthings::decode_body(bytes).ok()
    }
    for (label, bytes) in &payloads {
        let head: Value = serde_json::from_slice(bytes)?;
        let (kind, typed, decodes): (&str, &dyn Fn() -> Decoded, bool) = if head
            .get("items")
            .is_some()
        {
            let decodes = decode_page(bytes)
                .and_then(|p| p.items)
                .is_some_and(|items| items.iter().any(|d| d.valid().is_some()));
            (
                "ListDevicesResponse",
                &|| Box::new(decode_page(bytes)),
                decodes,
            )
        } else if head.get("components").is_some() {
            let decodes = decode_status(bytes).is_some();
            ("DeviceStatus", &|| Box::new(decode_status(bytes)), decodes)
        } else {
            println!("| {label} | | neither a device page nor a status: skipped | | | | | | | |");
            continue;
        };
        if !decodes {
            println!("| {label} | | {kind}: does not decode, skipped | | | | | | | |");
            continue;
        }
        drop(head);
        // Peak heap while decoding, the decoded value still held.
        let peak = if kind == "DeviceStatus" {
            peak_during(|| decode_status(bytes)).1
        } else {
            peak_during(|| decode_page(bytes)).1
        };
        // The same bytes as a generic JSON tree, for scale: the typed model
        // keeps every field too, so the tree is what it competes with.
        let value_peak = peak_during(|| serde_json::from_slice::<Value>(bytes)).1;
        let value = || -> Decoded { Box::new(serde_json::from_slice::<Value>(bytes).ok()) };
        let n = calls_per_run(typed);
        let mut node_parse = node.then(|| NodeParse::start(bytes)).flatten();
        // Warm up, then 15 runs of each, interleaved.
        run(typed, n);
        run(&value, n);
        let _ = node_parse.as_mut().and_then(|p| p.run(n));
        let (mut typed_t, mut value_t, mut node_t) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..15 {
            typed_t.push(run(typed, n));
            value_t.push(run(&value, n));
            if let Some(s) = node_parse.as_mut().and_then(|p| p.run(n)) {
                node_t.push(s);
            }
        }
        drop(node_parse);
        // Typed / Node is a ratio of rates: Node's time over ours, round by round.
        let versus_node = (node_t.len() == 15).then(|| Paired::of(&node_t, &typed_t));
        let node_rate = (node_t.len() == 15).then(|| rate(bytes.len(), median(node_t)));
        let (typed_s, value_s) = (median(typed_t), median(value_t));
        let typed_rate = rate(bytes.len(), typed_s);
        println!(
            "| {label} | {:.0} KB | {kind} | {typed_rate:.0} | {:.0} | {} | {} | {:.0} KB | {:.2}x | {:.2}x |",
            bytes.len() as f64 / 1024.0,
            rate(bytes.len(), value_s),
            node_rate.map_or("no node".into(), |r| format!("{r:.0}")),
            versus_node.map_or("".into(), |r| r.to_string()),
            peak as f64 / 1024.0,
            peak as f64 / bytes.len() as f64,
            value_peak as f64 / bytes.len() as f64,
        );
    }
    println!();
    Ok(())
}

/// The full client stack versus a bare reqwest GET on loopback, with the
/// generated client alone (default hooks, no transport) between them: the
/// difference between the last two rows is this crate's layer.
async fn per_request_overhead() -> Result<()> {
    /// Rounds, each a batch of sequential GETs per client, the clients
    /// taking turns to go first.
    const ROUNDS: usize = 30;
    const BATCH: usize = 300;
    const DEVICE: &str = "80e26532-85d4-484c-b012-1c04f3d35f95";
    println!(
        "## Per-request overhead ({ROUNDS} rounds of {BATCH} sequential GETs a client, taking turns; median per request, and the median of the rounds' ratios with quartiles)\n"
    );
    let sim = Simulator::start(Home::demo(), no_limits()).await?;
    let url = format!("{}/devices/{DEVICE}/health", sim.base_url());
    let bare = reqwest::Client::new();
    let mut auth = reqwest::header::HeaderMap::new();
    auth.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {}", sim.token()).parse()?,
    );
    let generated = smartthings::Client::new_with_client(
        &sim.base_url(),
        reqwest::Client::builder().default_headers(auth).build()?,
        smartthings::Hooks::default(),
    );
    let full = SmartThings::builder()
        .token(sim.token())
        .base_url(sim.base_url())
        .retry(RetryPolicy::default())
        .rate_limits(RateLimitPolicy::disabled())
        .build()?;
    // One batch of one client; seconds per request.
    let batch = async |which: usize| -> Result<f64> {
        let t = Instant::now();
        for _ in 0..BATCH {
            match which {
                0 => {
                    let r = bare.get(&url).bearer_auth(sim.token()).send().await?;
                    std::hint::black_box(r.bytes().await?);
                }
                1 => {
                    let health = generated.get_device_health().device_id(DEVICE).send();
                    std::hint::black_box(health.await?);
                }
                _ => {
                    std::hint::black_box(full.get_device_health().device_id(DEVICE).send().await?);
                }
            }
        }
        Ok(t.elapsed().as_secs_f64() / BATCH as f64)
    };
    for which in 0..3 {
        batch(which).await?; // warm-up: connections, caches
    }
    let mut times: [Vec<f64>; 3] = Default::default();
    for round in 0..ROUNDS {
        for turn in 0..3 {
            let which = (round + turn) % 3;
            times[which].push(batch(which).await?);
        }
    }
    println!("| client | per request | ratio to bare reqwest (quartiles) |");
    println!("|---|---:|---:|");
    for (which, label) in [
        "bare reqwest GET + read body",
        "generated client alone (default hooks, no transport; typed decode)",
        "full stack (hooks, limiter lookup, retry policy, tracing off, typed decode)",
    ]
    .into_iter()
    .enumerate()
    {
        println!(
            "| {label} | {:.1} µs | {} |",
            median(times[which].clone()) * 1e6,
            Paired::of(&times[which], &times[0])
        );
    }
    println!();
    Ok(())
}

/// The event stream: how fast events are decoded (raw stream) and applied
/// (LiveHome), and how long an event takes from the simulator publishing it
/// to the client having it.
async fn event_stream() -> Result<()> {
    const DEVICES: usize = 1_000;
    const SECONDS: f64 = 5.0;
    /// Offered rates: the simulator's generator shares the 2 cores with the
    /// client, so the highest rows say where the pair stops keeping up.
    const RATES: [f64; 3] = [5_000.0, 20_000.0, 40_000.0];
    const APPLIED_RATE: f64 = 20_000.0;
    println!(
        "## Event stream ({DEVICES} devices, random activity for {SECONDS} s per row, simulator in the same process)\n"
    );
    let sim = Simulator::start(Home::generated(5, DEVICES, 3)?, no_limits()).await?;
    let client = SmartThings::builder()
        .token(sim.token())
        .base_url(sim.base_url())
        .allow_stream_origin(sim.stream_origin())
        .rate_limits(RateLimitPolicy::disabled())
        .build()?;
    let percentile = |delays: &[f64], p: f64| {
        let mut sorted = delays.to_vec();
        sorted.sort_by(f64::total_cmp);
        sorted
            .get(((sorted.len() as f64 - 1.0) * p) as usize)
            .copied()
            .unwrap_or(f64::NAN)
    };

    // Decoded: the raw stream, with the delay from publish to decoded.
    println!(
        "| offered (events/s) | published | device events decoded per second | publish → decoded, median / p99 (ms) |"
    );
    println!("|---:|---:|---:|---:|");
    for (seed, rate) in RATES.into_iter().enumerate() {
        let mut events = client.events(EventSubscription::all_locations());
        while !matches!(events.next().await, Some(Ok(Event::Connected { .. }))) {}
        let published_before = sim.stream_stats().events_published;
        sim.start_activity(Activity {
            devices: DEVICES,
            events_per_second: rate,
            health_fraction: 0.0,
            seed: seed as u64,
        });
        let started = Instant::now();
        let mut delays = Vec::new();
        while started.elapsed().as_secs_f64() < SECONDS {
            if let Ok(Some(Ok(Event::Device(event)))) =
                tokio::time::timeout(Duration::from_millis(100), events.next()).await
                && let Some(sent) = event.event_time
            {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)?
                    .as_millis() as i64;
                delays.push((now - sent) as f64);
            }
        }
        sim.stop_activity();
        let decoded = delays.len() as f64 / started.elapsed().as_secs_f64();
        let published = sim.stream_stats().events_published - published_before;
        events.close().await;
        println!(
            "| {rate:.0} | {published} | {decoded:.0} | {:.0} / {:.0} |",
            percentile(&delays, 0.5),
            percentile(&delays, 0.99)
        );
    }
    println!();
    let activity = Activity {
        devices: DEVICES,
        events_per_second: APPLIED_RATE,
        health_fraction: 0.0,
        seed: 9,
    };

    // Applied: LiveHome, the same activity. The simulator stamps each
    // attribute with its event's time, so a sampled change's delay is read
    // off the live state when the consumer receives it.
    let mut live = LiveHome::start(
        &client,
        EventSubscription::all_locations(),
        LiveOptions::default().reconcile_every(None),
    )
    .await?;
    let before = live.metrics().events;
    sim.start_activity(activity);
    let started = Instant::now();
    let mut applied_delays = Vec::new();
    let mut received = 0u64;
    while started.elapsed().as_secs_f64() < SECONDS {
        let Ok(Some(change)) = tokio::time::timeout(Duration::from_millis(100), live.next()).await
        else {
            continue;
        };
        received += 1;
        if received.is_multiple_of(64)
            && change.origin == Origin::Stream
            && let ChangeKind::Attribute {
                component,
                capability,
                attribute,
                ..
            } = &change.kind
            && let Some(at) = live.device(&change.device_id).and_then(|d| {
                d.status
                    .component(component)?
                    .capability(capability)?
                    .attribute(attribute)?
                    .timestamp()
            })
        {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)?
                .as_micros() as i64;
            applied_delays.push((now - at.timestamp_micros()) as f64 / 1e3);
        }
    }
    sim.stop_activity();
    let applied = (live.metrics().events - before) as f64 / started.elapsed().as_secs_f64();
    live.stop().await;

    println!("| LiveHome, offered {APPLIED_RATE:.0} events/s | value |");
    println!("|---|---:|");
    println!("| events applied per second | {applied:.0} |");
    println!(
        "| publish → applied and received, median / p99 (ms, {} samples) | {:.0} / {:.0} |",
        applied_delays.len(),
        percentile(&applied_delays, 0.5),
        percentile(&applied_delays, 0.99)
    );
    println!();
    memory_across_reconnects(&sim, &client).await
}

/// The process's resident set in MiB (Linux; NaN elsewhere).
fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|kib| kib.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

/// A LiveHome whose stream is dropped again and again, re-reading the
/// whole home after each reconnection: live heap and resident set after
/// each block. Flat means nothing (sinks, tasks, buffers) accumulates per
/// reconnection. No random activity here: the simulator keeps a log of
/// every event it publishes (for tests), which would grow the heap too.
async fn memory_across_reconnects(sim: &Simulator, client: &SmartThings) -> Result<()> {
    const BLOCKS: u64 = 5;
    const PER_BLOCK: u64 = 40;
    println!(
        "### Memory across reconnects ({} drops, each followed by a re-read of the 1000-device home)\n",
        BLOCKS * PER_BLOCK
    );
    let mut live = LiveHome::start(
        client,
        EventSubscription::all_locations().max_backoff(Duration::from_millis(20)),
        LiveOptions::default().reconcile_every(None),
    )
    .await?;
    println!(
        "| reconnects | reconciliations | live heap (MiB) | resident set (MiB) | sinks open at the simulator |"
    );
    println!("|---:|---:|---:|---:|---:|");
    for _ in 0..BLOCKS {
        for _ in 0..PER_BLOCK {
            let reconnects = live.metrics().reconnects;
            let deadline = Instant::now() + Duration::from_secs(10);
            while sim.stream_stats().streams_active == 0 && Instant::now() < deadline {
                let _ = tokio::time::timeout(Duration::from_millis(5), live.next()).await;
            }
            sim.stream_fault(StreamFault::Drop);
            while live.metrics().reconnects == reconnects && Instant::now() < deadline {
                let _ = tokio::time::timeout(Duration::from_millis(5), live.next()).await;
            }
        }
        // Let the last reconciliation land before reading.
        let settle = Instant::now();
        while settle.elapsed() < Duration::from_millis(500) {
            let _ = tokio::time::timeout(Duration::from_millis(20), live.next()).await;
        }
        let metrics = live.metrics();
        println!(
            "| {} | {} | {:.1} | {:.1} | {} |",
            metrics.reconnects,
            metrics.reconciliations,
            LIVE.load(Ordering::Relaxed) as f64 / (1 << 20) as f64,
            rss_mib(),
            sim.stream_stats().sinks_active
        );
    }
    live.stop().await;
    println!();
    Ok(())
}

/// A load of a 1000-device home into each directory format, and an
/// unchanged re-run into the same directory.
async fn export_to_files() -> Result<()> {
    use smartthings_export::{Destination, ExportOptions, export};
    const RUNS: usize = 5;
    println!("## Export to files (1000 devices, 5 locations, median of {RUNS} runs)\n");
    let sim = Simulator::start(Home::generated(5, 1000, 1)?, no_limits()).await?;
    let c = client(&sim, RateLimitPolicy::disabled())?;
    println!(
        "| format | first load | unchanged re-run | status rows | requests | files | on disk |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    // What the requests alone take, to read the formats' share off the rows below.
    let mut fetch = Vec::new();
    for _ in 0..RUNS {
        let started = Instant::now();
        c.snapshot().await?;
        fetch.push(started.elapsed().as_secs_f64());
    }
    println!(
        "| (snapshot alone, no rules or capabilities, nothing written) | {:.0} ms | | | | | |",
        median(fetch) * 1e3
    );
    type ToDirectory = fn(std::path::PathBuf) -> Destination;
    let formats: [(&str, ToDirectory); 2] = [
        ("Parquet (Snappy)", Destination::Parquet),
        ("JSON Lines", Destination::JsonLines),
    ];
    for (label, destination) in formats {
        let (mut first, mut again) = (Vec::new(), Vec::new());
        let (mut rows, mut requests, mut files, mut bytes) = (0, 0, 0, 0);
        for run in 0..RUNS {
            let dir = std::env::temp_dir().join(format!(
                "smartthings-bench-export-{}-{run}",
                std::process::id()
            ));
            let to = destination(dir.clone());
            let load = export(&c, &to, &ExportOptions::default()).await?;
            first.push(load.duration.as_secs_f64());
            let reload = export(&c, &to, &ExportOptions::default()).await?;
            assert_eq!(reload.stats.changed_status_rows, 0);
            again.push(reload.duration.as_secs_f64());
            (rows, requests) = (load.stats.status_rows, load.requests);
            let sizes: Vec<u64> = std::fs::read_dir(&dir)?
                .map(|e| Ok(e?.metadata()?.len()))
                .collect::<std::io::Result<_>>()?;
            (files, bytes) = (sizes.len(), sizes.iter().sum::<u64>());
            std::fs::remove_dir_all(&dir)?;
        }
        println!(
            "| {label} | {:.0} ms | {:.0} ms | {rows} | {requests} | {files} | {:.0} KB |",
            median(first) * 1e3,
            median(again) * 1e3,
            bytes as f64 / 1024.0
        );
    }
    println!();
    Ok(())
}

/// The official TypeScript SDK the snapshot section compares with, as
/// installed from the npm registry.
const CORE_SDK: &str = "@smartthings/core-sdk@8.3.2";

/// `@smartthings/core-sdk` taking snapshots in a Node process
/// (`node/snapshot.mjs`) kept alive between runs, so that its runs
/// interleave with the Rust ones and both see the same load.
struct NodeSnapshot {
    child: tokio::process::Child,
    stdin: tokio::process::ChildStdin,
    stdout: tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStdout>>,
    version: String,
}

/// One snapshot taken by the SDK, as the script reports it.
struct NodeRun {
    ms: f64,
    devices: u64,
    with_status: u64,
}

impl NodeSnapshot {
    /// Install the SDK (once, into a cache directory outside the
    /// repository) and start the script against `base_url`; `Err` says
    /// why the SDK row is skipped.
    async fn start(base_url: &str, token: &str) -> Result<Self, String> {
        use tokio::io::AsyncBufReadExt;
        use tokio::process::Command;
        let version = Command::new("node")
            .arg("--version")
            .output()
            .await
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .ok_or("`node` is not on PATH")?;
        let prefix = node_bench_dir();
        let installed = prefix.join("node_modules/@smartthings/core-sdk/package.json");
        let wanted = CORE_SDK.rsplit_once('@').map_or("", |(_, v)| v);
        let current = std::fs::read_to_string(&installed)
            .ok()
            .and_then(|text| serde_json::from_str::<Value>(&text).ok())
            .and_then(|package| package["version"].as_str().map(str::to_owned));
        if current.as_deref() != Some(wanted) {
            std::fs::create_dir_all(&prefix)
                .map_err(|e| format!("cannot create {}: {e}", prefix.display()))?;
            // Offline, npm retries for minutes before it gives up.
            let install = Command::new("npm")
                .arg("install")
                .arg("--prefix")
                .arg(&prefix)
                .args([CORE_SDK, "--no-audit", "--no-fund"])
                .kill_on_drop(true)
                .output();
            let install = tokio::time::timeout(Duration::from_secs(120), install)
                .await
                .map_err(|_| format!("`npm install {CORE_SDK}` took over 2 min (no network?)"))?
                .map_err(|e| format!("`npm` did not run ({e})"))?;
            if !install.status.success() {
                let stderr = String::from_utf8_lossy(&install.stderr);
                // npm's first line names the error (`npm error code ...`);
                // its last only points at a log file.
                let first = stderr.lines().find(|l| !l.trim().is_empty());
                return Err(format!(
                    "`npm install {CORE_SDK}` failed (no network?): {}",
                    first.unwrap_or("no message")
                ));
            }
        }
        let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("node/snapshot.mjs");
        let mut child = Command::new("node")
            .arg(&script)
            .arg(&prefix)
            .arg(base_url)
            .arg(token)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", script.display()))?;
        let stdin = child.stdin.take().ok_or("no stdin")?;
        let stdout = tokio::io::BufReader::new(child.stdout.take().ok_or("no stdout")?).lines();
        Ok(Self {
            child,
            stdin,
            stdout,
            version,
        })
    }

    /// One snapshot, timed inside Node.
    async fn run(&mut self) -> Result<NodeRun> {
        use tokio::io::AsyncWriteExt;
        self.stdin.write_all(b"run\n").await?;
        let line = self
            .stdout
            .next_line()
            .await?
            .ok_or_else(|| anyhow::anyhow!("the Node script exited"))?;
        let answer: Value = serde_json::from_str(&line)?;
        if let Some(error) = answer["error"].as_str() {
            anyhow::bail!("the SDK's snapshot failed: {error}");
        }
        let number = |key: &str| {
            answer[key]
                .as_f64()
                .ok_or_else(|| anyhow::anyhow!("no {key} in {line}"))
        };
        Ok(NodeRun {
            ms: number("ms")?,
            devices: number("devices")? as u64,
            with_status: number("withStatus")? as u64,
        })
    }
}

impl Drop for NodeSnapshot {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

/// Where the SDK is installed: `node-bench` in the cargo target directory
/// (ignored by git, kept between runs).
fn node_bench_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"))
        .join("node-bench")
}

/// A 1000-device snapshot, this crate's `snapshot()` beside the official
/// TypeScript SDK making the same lists, on one simulator with its rate
/// limits on (and the client's own limiter on, as by default), and beside
/// the floor of any client that follows the device pages' next links.
async fn snapshot_versus_sdk() -> Result<()> {
    const DEVICES: usize = 1000;
    const LOCATIONS: usize = 5;
    const WARM_UP: usize = 5;
    const RUNS: usize = 15;
    println!(
        "## Snapshot versus the official SDK ({DEVICES} devices, {LOCATIONS} locations, rate limits on, median of {RUNS} interleaved runs after {WARM_UP} warm-up)\n"
    );
    let sim = Simulator::start(Home::generated(LOCATIONS, DEVICES, 1)?, Config::default()).await?;
    let c = client(&sim, RateLimitPolicy::default())?;
    // ⌈N/200⌉ device pages + locations + scenes + one room list per location.
    let pages = DEVICES.div_ceil(200);
    let bound = pages + 1 + 1 + LOCATIONS;
    let mut node = match NodeSnapshot::start(&sim.base_url(), sim.token()).await {
        Ok(node) => Some(node),
        Err(why) => {
            println!("{why}: the SDK row is skipped.\n");
            None
        }
    };
    // The floor: the device pages one after the other (each page's next
    // link is the only way to the next one) with a bare HTTP client that
    // reads the bytes and nothing else; the URLs are the next links the
    // simulator sends, known in advance here.
    let bare = reqwest::Client::new();
    let page_urls: Vec<String> = (0..pages)
        .map(|page| {
            format!(
                "{}/devices?includeStatus=true&includeHealth=true&max=200&page={page}",
                sim.base_url()
            )
        })
        .collect();
    let (mut ours, mut theirs, mut floor) = (Vec::new(), Vec::new(), Vec::new());
    let (mut our_requests, mut their_requests) = (Vec::new(), Vec::new());
    let (mut by_location, mut by_location_requests) = (Vec::new(), Vec::new());
    let options = [
        SnapshotOptions::default(),
        SnapshotOptions::default().devices_by_location(true),
    ];
    for run in 0..WARM_UP + RUNS {
        let measured = run >= WARM_UP;
        for (options, times, requests) in [
            (&options[0], &mut ours, &mut our_requests),
            (&options[1], &mut by_location, &mut by_location_requests),
        ] {
            let before = sim.stats().requests;
            let started = Instant::now();
            let snapshot = c.snapshot_with(options.clone()).await?;
            let elapsed = started.elapsed().as_secs_f64() * 1e3;
            anyhow::ensure!(snapshot.devices.len() == DEVICES && snapshot.status_fallbacks == 0);
            // The server's count, which must agree with the client's own.
            let served = sim.stats().requests - before;
            anyhow::ensure!(
                served == snapshot.requests,
                "{served} served, {} counted",
                snapshot.requests
            );
            if measured {
                times.push(elapsed);
                requests.push(served);
            }
        }
        if let Some(node) = &mut node {
            let before = sim.stats().requests;
            let sdk = node.run().await?;
            anyhow::ensure!(
                sdk.devices == DEVICES as u64 && sdk.with_status == sdk.devices,
                "the SDK listed {} devices, {} with status",
                sdk.devices,
                sdk.with_status
            );
            if measured {
                theirs.push(sdk.ms);
                their_requests.push(sim.stats().requests - before);
            }
        }
        let started = Instant::now();
        for url in &page_urls {
            let page = bare.get(url).bearer_auth(sim.token()).send().await?;
            std::hint::black_box(page.error_for_status()?.bytes().await?);
        }
        if measured {
            floor.push(started.elapsed().as_secs_f64() * 1e3);
        }
    }
    let throttled = sim.stats().throttled;
    // Every run makes the same requests; a range would say otherwise.
    let count = |requests: &[u64]| match (requests.iter().min(), requests.iter().max()) {
        (Some(min), Some(max)) if min == max => min.to_string(),
        (Some(min), Some(max)) => format!("{min}–{max}"),
        _ => "–".into(),
    };
    let spread = |ms: &[f64]| {
        let min = ms.iter().copied().fold(f64::INFINITY, f64::min);
        let max = ms.iter().copied().fold(0.0, f64::max);
        format!("{min:.0}–{max:.0} ms")
    };
    let sdk_median = (theirs.len() == RUNS).then(|| median(theirs.clone()));
    // Round by round: each round ran every client once, side by side.
    let ratio =
        |ms: &[f64]| sdk_median.map_or("–".to_owned(), |_| Paired::of(ms, &theirs).to_string());
    println!(
        "| client | requests | lower bound | median | min–max | / SDK, median of the rounds' ratios (quartiles) |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    let our_median = median(ours.clone());
    println!(
        "| smartthings-rs `snapshot()` | {} | {bound} | {our_median:.1} ms | {} | {} |",
        count(&our_requests),
        spread(&ours),
        ratio(&ours),
    );
    let by_location_median = median(by_location.clone());
    println!(
        "| smartthings-rs `snapshot_with(devices_by_location)`: the {LOCATIONS} locations' device lists at once | {} | {bound} | {by_location_median:.1} ms | {} | {} |",
        count(&by_location_requests),
        spread(&by_location),
        ratio(&by_location),
    );
    if let (Some(node), Some(sdk)) = (&node, sdk_median) {
        println!(
            "| {CORE_SDK} (Node {}), lists with `Promise.all` | {} | {bound} | {sdk:.1} ms | {} | 1.00x |",
            node.version,
            count(&their_requests),
            spread(&theirs),
        );
    }
    let floor_median = median(floor.clone());
    println!(
        "| floor: the {pages} device pages in sequence, bare reqwest, bytes only | {pages} | | {floor_median:.1} ms | {} | {} |",
        spread(&floor),
        ratio(&floor),
    );
    let metrics = c.metrics();
    println!(
        "\n429s sent by the simulator: {throttled}; client limiter: {} requests held, {} ms in all\n",
        metrics.limiter_waits, metrics.limiter_wait_ms
    );
    Ok(())
}

/// The sections, in the order a full run measures them.
const SECTIONS: [&str; 7] = [
    "economy", "limits", "decode", "overhead", "export", "events", "snapshot",
];

fn main() -> Result<()> {
    let Some(only) = std::env::args().nth(1) else {
        return every_section();
    };
    let wanted: Vec<&str> = only.split(',').collect();
    if let Some(unknown) = wanted.iter().find(|w| !SECTIONS.contains(w)) {
        anyhow::bail!(
            "no section {unknown:?}; the sections are {}",
            SECTIONS.join(", ")
        );
    }
    tokio::runtime::Runtime::new()?.block_on(sections(&wanted))
}

/// Every section, each in a process of its own: a section that ends with a
/// large heap freed (the event stream's) leaves glibc's allocator
/// fragmented, and the next section in the same process would spend most of
/// its time in `malloc` (measured: the snapshot 4x slower after the event
/// stream than alone).
fn every_section() -> Result<()> {
    println!("# smartthings-rs benchmarks\n");
    let exe = std::env::current_exe()?;
    for section in SECTIONS {
        // Flushed first: the child writes to the same stdout.
        std::io::Write::flush(&mut std::io::stdout())?;
        let status = std::process::Command::new(&exe).arg(section).status()?;
        anyhow::ensure!(status.success(), "the {section} section failed ({status})");
    }
    Ok(())
}

/// The named sections, in this process, in the order of [`SECTIONS`].
async fn sections(wanted: &[&str]) -> Result<()> {
    if !wanted.contains(&"events") {
        COUNTING.store(false, Ordering::Relaxed);
    }
    for section in SECTIONS.into_iter().filter(|s| wanted.contains(s)) {
        print_load();
        match section {
            "economy" => request_economy().await?,
            "limits" => wall_time_under_limits().await?,
            "decode" => decode_throughput().await?,
            "overhead" => per_request_overhead().await?,
            "export" => export_to_files().await?,
            "events" => event_stream().await?,
            "snapshot" => snapshot_versus_sdk().await?,
            _ => unreachable!("checked against SECTIONS"),
        }
    }
    Ok(())
}
