//! The bodies of the fuzz targets in `fuzz/`, public so that the test suite
//! also runs them over the committed corpus. Each panics only on a bug.

use crate::paginate::next_page_url;
use crate::transport::same_origin;
use smartthings::status::DeviceStatus;

/// Any bytes: decoding never panics, and a status that decodes re-encodes to
/// the same model (lossless); the client's decode of a body
/// (`smartthings::decode_body`) agrees with the careful item-by-item one.
pub fn status_decode(data: &[u8]) {
    if let Ok(status) = serde_json::from_slice::<DeviceStatus>(data) {
        let text = serde_json::to_vec(&status).expect("a decoded status encodes");
        let again: DeviceStatus = serde_json::from_slice(&text).expect("an encoded status decodes");
        assert_eq!(again, status, "status round trip");
        for (_, _, _, attribute) in status.attributes() {
            let _ = attribute.timestamp();
            let _ = attribute.as_f64();
            let _ = attribute.as_str_list();
        }
        for component in status.components.values() {
            let _ = (
                component.switch(),
                component.level(),
                component.color(),
                component.lock(),
            );
            let _ = (
                component.temperature(),
                component.device_watch(),
                component.contact(),
            );
        }
        let _ = status.enabled();
    }
    // The client's one-pass decode agrees with the careful one, item by
    // item, on any bytes.
    let careful = serde_json::from_slice::<smartthings::types::ListDevicesResponse>(data);
    let client = smartthings::decode_body::<smartthings::types::ListDevicesResponse>(data);
    match (&careful, &client) {
        (Ok(careful), Ok(client)) => assert_eq!(careful, client, "page decodes alike"),
        (Err(_), Err(_)) => {}
        _ => panic!("the decodes disagree: careful {careful:?}, client {client:?}"),
    }
    let careful = serde_json::from_slice::<DeviceStatus>(data).ok();
    assert_eq!(
        careful,
        smartthings::decode_body(data).ok(),
        "status decodes alike"
    );
}

/// Any string as a next link: never panics, and an accepted link is always
/// on the base URL's origin.
pub fn next_link(data: &[u8]) {
    let Ok(href) = std::str::from_utf8(data) else {
        return;
    };
    for base in ["https://api.smartthings.com/v1", "http://127.0.0.1:8080/v1"] {
        let base = url::Url::parse(base).expect("a valid base");
        if let Ok(url) = next_page_url(&base, href) {
            assert!(same_origin(&url, &base), "{href:?} escaped {base}");
        }
    }
}

/// Any server answer to a generated operation and to a paged list: the
/// client never panics, never hangs, and every failure is a typed error
/// without the token in it.
///
/// Input layout: `[flags][status: u16 BE]` then header lines (`name: value`),
/// a blank line (`\n\n`) and the body. Flag bit 0: declare a longer body than
/// sent (cut off); bit 7: no length at all (read to close); bits 1–6: how
/// many bytes too long.
pub fn response(data: &[u8]) {
    RIG.with(|rig| rig.run(data));
}

const FUZZ_TOKEN: &str = "fuzz-token-3e8a1c";

thread_local! {
    static RIG: Rig = Rig::start();
}

/// A runtime and a loopback server that answers every request with the
/// current input, kept for the life of the fuzzing thread.
struct Rig {
    runtime: tokio::runtime::Runtime,
    base: String,
    answer: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
}

impl Rig {
    fn start() -> Self {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let answer = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("a loopback port");
        let base = format!("http://{}/v1", listener.local_addr().expect("bound"));
        let served = answer.clone();
        runtime.spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let bytes = served.lock().map(|a| a.clone()).unwrap_or_default();
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut chunk = [0u8; 2048];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match socket.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let _ = socket.write_all(&bytes).await;
                    let _ = socket.shutdown().await;
                });
            }
        });
        Self {
            runtime,
            base,
            answer,
        }
    }

    fn run(&self, data: &[u8]) {
        use futures::StreamExt;

        use crate::{DeviceQuery, RetryPolicy, SmartThings};
        let Some(raw) = http_response(data) else {
            return;
        };
        *self.answer.lock().expect("answer") = raw;
        let client = SmartThings::builder()
            .token(FUZZ_TOKEN)
            .base_url(&self.base)
            .timeout(std::time::Duration::from_secs(2))
            .retry(
                RetryPolicy::default()
                    .max_attempts(2)
                    .deadline(std::time::Duration::from_secs(3))
                    .max_hinted_wait(std::time::Duration::from_millis(20))
                    .backoff(
                        std::time::Duration::from_millis(1),
                        std::time::Duration::from_millis(2),
                    ),
            )
            .max_pages(5)
            .build()
            .expect("a client");
        let check = |error: &crate::Error| {
            let shown = format!("{error} {error:?}");
            assert!(!shown.contains(FUZZ_TOKEN), "the token leaked: {shown}");
            if let Some(status) = error.status().filter(|s| !s.is_success()) {
                // Status first: an error status decides the kind.
                assert_ne!(error.kind(), crate::ErrorKind::Decode, "{status}: {error}");
            }
        };
        self.runtime.block_on(async {
            let work = async {
                if let Err(error) = client.get_device().device_id("d1").send().await {
                    check(&error);
                }
                let mut devices = client.devices(DeviceQuery::all());
                let mut items = 0;
                while let Some(item) = devices.next().await {
                    match item {
                        Ok(_) => items += 1,
                        Err(error) => check(&error),
                    }
                    assert!(items <= 5 * 200 + 1000, "a paged list that never ends");
                }
            };
            tokio::time::timeout(std::time::Duration::from_secs(20), work)
                .await
                .expect("the client hung");
        });
    }
}

/// The bytes of an HTTP/1.1 response built from a fuzz input.
fn http_response(data: &[u8]) -> Option<Vec<u8>> {
    let (&flags, rest) = data.split_first()?;
    let (status, rest) = rest.split_first_chunk::<2>()?;
    let status = u16::from_be_bytes(*status) % 1000;
    let split = rest.windows(2).position(|w| w == b"\n\n");
    let (head, body) = match split {
        Some(at) => (&rest[..at], &rest[at + 2..]),
        None => (&[][..], rest),
    };
    let mut out = format!("HTTP/1.1 {status:03} X\r\n").into_bytes();
    for line in head.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        out.extend_from_slice(line);
        out.extend_from_slice(b"\r\n");
    }
    if flags & 0x80 == 0 {
        let extra = if flags & 1 == 1 {
            usize::from((flags >> 1) & 0x3f) + 1
        } else {
            0
        };
        out.extend_from_slice(format!("content-length: {}\r\n", body.len() + extra).as_bytes());
    }
    out.extend_from_slice(b"connection: close\r\n\r\n");
    out.extend_from_slice(body);
    Some(out)
}
