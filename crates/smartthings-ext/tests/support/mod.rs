//! A loopback HTTP server that answers from a script, for the cases httpmock
//! cannot stage: a sequence of answers to the same request, a dropped
//! connection, a truncated body.

#![allow(dead_code, reason = "each test binary uses a part of it")]

pub mod oauth;
pub mod sinks;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

pub const TOKEN: &str = "tok-ext-tests-9a7b3c";

/// One scripted answer.
#[derive(Clone, Debug)]
pub enum Reply {
    /// A complete response.
    Http {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    },
    /// Close the connection without answering.
    Drop,
    /// A body without a declared length (chunked transfer encoding).
    Chunked { status: u16, body: String },
    /// Announce `declared` bytes of body, send only `body`, close.
    Truncated {
        status: u16,
        declared: usize,
        body: String,
    },
}

impl Reply {
    pub fn json(status: u16, body: serde_json::Value) -> Self {
        Self::Http {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string(),
        }
    }

    pub fn raw(status: u16, content_type: &str, body: &str) -> Self {
        Self::Http {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            body: body.into(),
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        if let Self::Http { headers, .. } = &mut self {
            headers.push((name.into(), value.into()));
        }
        self
    }
}

/// A request the server received.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

pub struct Scripted {
    pub base: String,
    pub seen: Arc<Mutex<Vec<Seen>>>,
}

impl Scripted {
    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

/// Start a server answering `replies` in order, one connection per request.
/// `{BASE}` in a body stands for the server's own base URL (for next links).
pub async fn scripted(replies: Vec<Reply>) -> Scripted {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/v1", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let queue = Arc::new(Mutex::new(VecDeque::from(replies)));
    let log = seen.clone();
    let own_base = base.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let (log, queue, own_base) = (log.clone(), queue.clone(), own_base.clone());
            tokio::spawn(async move {
                let Some(request) = read_request(&mut socket).await else {
                    return;
                };
                log.lock().unwrap().push(request);
                let reply = queue.lock().unwrap().pop_front().unwrap_or(Reply::raw(
                    599,
                    "text/plain",
                    "script exhausted",
                ));
                let bytes = match reply {
                    Reply::Drop => return,
                    Reply::Http {
                        status,
                        headers,
                        body,
                    } => {
                        let body = body.replace("{BASE}", &own_base);
                        let mut head = format!(
                            "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n",
                            body.len()
                        );
                        for (k, v) in headers {
                            head.push_str(&format!("{k}: {v}\r\n"));
                        }
                        format!("{head}\r\n{body}")
                    }
                    Reply::Chunked { status, body } => format!(
                        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n{:x}\r\n{body}\r\n0\r\n\r\n",
                        body.len()
                    ),
                    Reply::Truncated {
                        status,
                        declared,
                        body,
                    } => format!(
                        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {declared}\r\nconnection: close\r\n\r\n{body}"
                    ),
                };
                let _ = socket.write_all(bytes.as_bytes()).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    Scripted { base, seen }
}

async fn read_request(socket: &mut tokio::net::TcpStream) -> Option<Seen> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let (method, target) = (first.next()?.to_owned(), first.next()?.to_owned());
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    while buffer.len() < head_end + length {
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
    let body = String::from_utf8_lossy(&buffer[head_end..]).into_owned();
    Some(Seen {
        method,
        target,
        headers,
        body,
    })
}

/// A client for `base` with the test token.
pub fn client(base: &str) -> smartthings_ext::SmartThings {
    smartthings_ext::SmartThings::builder()
        .token(TOKEN)
        .base_url(base)
        .build()
        .unwrap()
}
