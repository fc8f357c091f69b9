//! `st login` end to end against the simulator (the test plays the
//! browser), sessions that outlive many access tokens across separate `st`
//! runs, a stale profile, two `st` processes refreshing at once, and `st`
//! killed at random points while it refreshes.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use smartthings_ext::{FileStore, OAuthApp, RetryPolicy, TokenSet, TokenStore};
use smartthings_sim::{Config, FaultRates, Home, OAuthConfig, Simulator};

const SCOPES: &str = "r:devices:* r:locations:*";

struct Profile {
    _dir: tempfile::TempDir,
    config: PathBuf,
    session: PathBuf,
}

impl Profile {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config.yaml");
        let session = dir.path().join("sessions").join("default.json");
        Self {
            _dir: dir,
            config,
            session,
        }
    }

    fn st(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_st"));
        cmd.env_remove("SMARTTHINGS_TOKEN")
            .env_remove("SMARTTHINGS_BASE_URL")
            .env_remove("SMARTTHINGS_CLIENT_ID")
            .env_remove("SMARTTHINGS_CLIENT_SECRET")
            .env("ST_CONFIG", &self.config);
        cmd
    }

    /// Write the app into the profile and `tokens` as its session, as
    /// `st login` would have.
    async fn logged_in(&self, sim: &Simulator, tokens: &TokenSet) {
        let (id, secret) = sim.oauth_client();
        std::fs::write(
            &self.config,
            format!(
                "profiles:\n  default:\n    base_url: {}\n    oauth:\n      client_id: {id}\n      client_secret: {secret}\n      token_url: {}\n",
                sim.base_url(),
                sim.token_url()
            ),
        )
        .unwrap();
        FileStore::new(&self.session).save(tokens).await.unwrap();
    }

    async fn stored(&self) -> TokenSet {
        FileStore::new(&self.session)
            .load()
            .await
            .unwrap()
            .expect("a session")
    }
}

async fn simulator(lifetime: Duration, configure: impl FnOnce(&mut Config)) -> Simulator {
    let mut config = Config {
        rate_limits: false,
        oauth: OAuthConfig {
            access_token_lifetime: lifetime,
            ..OAuthConfig::default()
        },
        ..Config::default()
    };
    configure(&mut config);
    Simulator::start(Home::demo(), config).await.unwrap()
}

/// A new session (a new token family), due for a refresh at once.
async fn due_session(sim: &Simulator) -> TokenSet {
    let (id, secret) = sim.oauth_client();
    let redirect = "http://127.0.0.1:9/callback";
    let app = OAuthApp::new(id, secret)
        .token_url(sim.token_url())
        .redirect_uri(redirect);
    let code = sim.authorize(id, redirect, SCOPES).unwrap();
    let tokens = app
        .exchange_code(&reqwest::Client::new(), &code, &RetryPolicy::default())
        .await
        .unwrap();
    TokenSet::new(
        tokens.access_token().expose(),
        tokens.expose_refresh_token().unwrap(),
        Duration::ZERO,
    )
}

async fn output(mut cmd: Command) -> Output {
    tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test(flavor = "multi_thread")]
async fn login_then_three_expiries_across_runs_then_a_stale_profile_exits_3() {
    let lifetime = Duration::from_secs(2);
    let sim = simulator(lifetime, |_| {}).await;
    let profile = Profile::new();
    let (id, secret) = sim.oauth_client();
    let redirect = format!("http://127.0.0.1:{}/callback", free_port());

    let mut login = profile.st();
    login
        .args(["--base-url", &sim.base_url(), "login", "--no-browser"])
        .args(["--client-id", id, "--redirect-uri", &redirect])
        .args([
            "--token-url",
            &sim.token_url(),
            "--authorize-url",
            &sim.authorize_url(),
        ])
        .args(["--scope", "r:devices:*", "--scope", "r:locations:*"])
        .env("SMARTTHINGS_CLIENT_SECRET", secret)
        .stderr(Stdio::piped());
    let mut child = login.spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (url, rest) = tokio::task::spawn_blocking(move || {
        let mut lines = BufReader::new(stderr).lines();
        let mut seen = String::new();
        loop {
            let line = lines.next().expect("st login printed no URL").unwrap();
            seen.push_str(&line);
            seen.push('\n');
            if let Some(url) = line.trim().strip_prefix("http") {
                return (format!("http{url}"), lines);
            }
        }
    })
    .await
    .unwrap();
    assert!(url.starts_with(&sim.authorize_url()), "{url}");

    // The browser: the authorize page redirects to st's listener.
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let consent = browser.get(&url).send().await.unwrap();
    assert_eq!(consent.status(), 302);
    let back = consent.headers()["location"].to_str().unwrap().to_owned();
    assert!(back.starts_with(&redirect), "{back}");
    // A forged redirect (wrong state) is ignored, not fatal.
    let forged = browser
        .get(format!("{redirect}?code=forged&state=not-ours"))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 200);
    let page = browser.get(&back).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    let said: Vec<String> = rest.map_while(Result::ok).collect();
    assert!(status.success(), "st login failed: {said:?}");
    assert!(said.iter().any(|l| l.contains("logged in")), "{said:?}");
    assert!(
        said.iter().any(|l| l.contains("ignored a redirect")),
        "{said:?}"
    );

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for file in [&profile.session, &profile.config] {
            let mode = std::fs::metadata(file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{}", file.display());
        }
    }
    let first = profile.stored().await;
    assert_eq!(first.scopes(), ["r:devices:*", "r:locations:*"]);

    // `config show`: scopes and expiry, no secret.
    let mut show = profile.st();
    show.args(["config", "show"]);
    let shown = output(show).await;
    let shown_text = text(&shown.stdout);
    assert!(shown.status.success());
    assert!(
        shown_text.contains("logged in") && shown_text.contains("r:locations:*"),
        "{shown_text}"
    );
    assert!(shown_text.contains("expires in"), "{shown_text}");
    for secret in [
        secret.to_owned(),
        first.access_token().expose().to_owned(),
        first.expose_refresh_token().unwrap().to_owned(),
    ] {
        assert!(!shown_text.contains(&secret), "{shown_text}");
    }

    // Separate runs across three expiries, no login in between. The first
    // rotation's copy is kept to play a stale profile later.
    let mut stale = None;
    for run in 0..4 {
        tokio::time::sleep(lifetime + Duration::from_millis(200)).await;
        let mut locations = profile.st();
        locations.args(["locations", "-o", "json"]);
        let out = output(locations).await;
        assert!(out.status.success(), "run {run}: {}", text(&out.stderr));
        if run == 0 {
            stale = Some(std::fs::read(&profile.session).unwrap());
        }
    }
    let stats = sim.stats().oauth;
    assert_eq!(stats.refreshes, 4, "{stats:?}");
    assert_eq!(stats.reuse_attempts, 0);
    assert_eq!(stats.code_exchanges, 1, "logged in once");

    // A stale copy of the profile holds a spent refresh token.
    tokio::time::sleep(lifetime + Duration::from_millis(200)).await;
    std::fs::write(&profile.session, stale.unwrap()).unwrap();
    let mut locations = profile.st();
    locations.args(["locations"]);
    let out = output(locations).await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("run `st login` again"), "{stderr}");
    assert!(stderr.contains("invalid_grant"), "{stderr}");

    // Logging out removes the session; the next command says so.
    let mut logout = profile.st();
    logout.arg("logout");
    assert!(output(logout).await.status.success());
    assert!(!profile.session.exists());
    let mut locations = profile.st();
    locations.arg("locations");
    let out = output(locations).await;
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("st login"),
        "{}",
        text(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn two_st_processes_refreshing_at_once_make_one_refresh() {
    let sim = simulator(Duration::from_secs(3600), |_| {}).await;
    let profile = Profile::new();
    const ROUNDS: u64 = 5;
    for round in 0..ROUNDS {
        profile.logged_in(&sim, &due_session(&sim).await).await;
        let children: Vec<Child> = (0..2)
            .map(|_| {
                let mut cmd = profile.st();
                cmd.args(["locations", "-o", "json"])
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped());
                cmd.spawn().unwrap()
            })
            .collect();
        for child in children {
            let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
                .await
                .unwrap();
            assert!(out.status.success(), "round {round}: {}", text(&out.stderr));
        }
        let stats = sim.stats().oauth;
        assert_eq!(stats.refreshes, round + 1, "round {round}: {stats:?}");
        assert_eq!(stats.reuse_attempts, 0, "round {round}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn st_killed_at_random_points_never_leaves_the_session_empty_or_unparseable() {
    // A slower token endpoint widens the window between the refresh and
    // the save, where a kill hurts most.
    let sim = simulator(Duration::from_secs(3600), |config| {
        let slow = FaultRates {
            latency: Duration::from_millis(5),
            ..FaultRates::default()
        };
        config
            .faults
            .per_operation
            .insert("oauthToken".into(), slow);
    })
    .await;
    let profile = Profile::new();
    // How long a run takes here, start to exit: the kills land within it.
    let mut runs = Vec::new();
    for _ in 0..3 {
        profile.logged_in(&sim, &due_session(&sim).await).await;
        let mut cmd = profile.st();
        cmd.args(["locations", "-o", "json"]);
        let started = std::time::Instant::now();
        assert!(output(cmd).await.status.success());
        runs.push(started.elapsed());
    }
    runs.sort();
    // Kill points up to a little past the slowest run: on a loaded machine
    // a run takes longer than it did alone, and the points must still fall
    // before, during and after the refresh and its save. At least 50
    // cycles, and more until both sides of the save were hit a few times
    // (within a generous budget): the invariant is checked after every kill.
    let span = runs[runs.len() - 1].as_micros() as u64 * 3 / 2;
    let mut rng = fastrand::Rng::with_seed(7);
    let (mut cycles, mut before_save, mut rotated) = (0, 0, 0);
    while cycles < 200 && (cycles < 50 || before_save < 5 || rotated < 5) {
        cycles += 1;
        let written = due_session(&sim).await;
        profile.logged_in(&sim, &written).await;
        let mut cmd = profile.st();
        cmd.args(["locations", "-o", "json"])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut child = cmd.spawn().unwrap();
        let delay = Duration::from_micros(rng.u64(0..span));
        tokio::task::spawn_blocking(move || {
            std::thread::sleep(delay);
            let _ = child.kill(); // SIGKILL
            child.wait().unwrap();
        })
        .await
        .unwrap();
        let stored = read_session(&profile.session)
            .unwrap_or_else(|e| panic!("cycle {cycles}, killed after {delay:?}: {e}"));
        if stored.access_token().expose() == written.access_token().expose() {
            before_save += 1;
        } else {
            rotated += 1;
        }
    }
    eprintln!(
        "{cycles} cycles, kills within {span} µs (runs {runs:?}): {before_save} before the save, \
         {rotated} after it"
    );
    assert!(before_save >= 1, "no run was killed before its save");
    assert!(rotated >= 1, "no run got as far as saving a rotation");
}

fn read_session(path: &Path) -> Result<TokenSet, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("unreadable: {e}"))?;
    if bytes.is_empty() {
        return Err("empty".into());
    }
    serde_json::from_slice(&bytes).map_err(|e| format!("unparseable: {e}"))
}
