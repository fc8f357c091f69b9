//! The one place where cross-cutting behaviour meets every generated
//! operation: progenitor's `ClientHooks`, implemented for the generated
//! `Client` (the orphan rule puts it in this crate) and delegating the send
//! itself to a pluggable [`Transport`] that `smartthings-ext` provides.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use progenitor_client::{ClientHooks, ClientInfo, Error, OperationInfo};
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderValue};

use crate::Client;

/// The future a [`Transport`] returns.
pub type TransportFuture<'a> =
    Pin<Box<dyn Future<Output = reqwest::Result<reqwest::Response>> + Send + 'a>>;

/// Sends one request of one operation; retries, rate limiting, auth and
/// tracing live behind this trait (see `smartthings-ext`).
pub trait Transport: Send + Sync + fmt::Debug {
    /// Send `request` for the operation `operation_id` and return the final
    /// response (after any retries the transport chose to make).
    fn execute<'a>(
        &'a self,
        client: &'a reqwest::Client,
        request: reqwest::Request,
        operation_id: &'static str,
    ) -> TransportFuture<'a>;
}

/// The generated client's inner state: which [`Transport`] sends requests.
/// The default sends each request once, as it is.
#[derive(Clone, Debug, Default)]
pub struct Hooks {
    transport: Option<Arc<dyn Transport>>,
}

impl Hooks {
    /// Hooks that send every request through `transport`.
    pub fn new(transport: Arc<dyn Transport>) -> Self {
        Self {
            transport: Some(transport),
        }
    }
}

/// Seed 002: "Content-Type: application/json;charset=utf-8 -- Required for
/// requests with a JSON body (POST, PUT)".
const JSON_UTF8: HeaderValue = HeaderValue::from_static("application/json;charset=utf-8");

impl ClientHooks<Hooks> for Client {
    async fn pre<E>(
        &self,
        request: &mut reqwest::Request,
        _info: &OperationInfo,
    ) -> Result<(), Error<E>> {
        let headers = request.headers_mut();
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        if headers.contains_key(CONTENT_TYPE) {
            headers.insert(CONTENT_TYPE, JSON_UTF8);
        }
        Ok(())
    }

    async fn exec(
        &self,
        request: reqwest::Request,
        info: &OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        match &self.inner().transport {
            Some(transport) => {
                transport
                    .execute(self.client(), request, info.operation_id)
                    .await
            }
            None => self.client().execute(request).await,
        }
    }
}

/// One path parameter as a path segment, percent-encoded; values that
/// would not stay one segment (empty, `.`, `..`: URL parsing
/// folds dot segments even when percent-encoded) are refused. The generated
/// operations call this for every path parameter.
#[doc(hidden)]
pub fn encode_path(segment: &str) -> Result<String, String> {
    match segment {
        "" | "." | ".." => Err(format!(
            "{segment:?} is not a valid path parameter: it would change the request's path"
        )),
        // Ids are UUIDs and names of unreserved characters, which encode as
        // themselves: copied without the encoder's formatting machinery.
        _ if segment.bytes().all(is_unreserved) => Ok(segment.to_owned()),
        _ => Ok(progenitor_client::encode_path(segment)),
    }
}

/// RFC 3986's unreserved characters, which no path encoding changes.
fn is_unreserved(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~')
}

#[cfg(test)]
mod tests {
    use super::encode_path;

    #[test]
    fn dot_segments_and_empty_ids_are_refused() {
        for bad in ["", ".", ".."] {
            assert!(encode_path(bad).is_err(), "{bad:?}");
        }
        assert_eq!(encode_path("a/b c").unwrap(), "a%2Fb%20c");
        assert_eq!(encode_path("...").unwrap(), "...");
    }

    #[test]
    fn segments_copied_as_they_are_are_those_the_encoder_keeps() {
        for segment in [
            "80e26532-85d4-484c-b012-1c04f3d35f95",
            "main",
            "switchLevel",
            "a.b_c~d-e",
            "ABCxyz0189",
        ] {
            assert_eq!(
                encode_path(segment).unwrap(),
                progenitor_client::encode_path(segment),
                "{segment}"
            );
            assert_eq!(encode_path(segment).unwrap(), segment);
        }
        // Every ASCII byte, one at a time: whichever way a byte goes (the
        // copy or the encoder), the result is the encoder's, so a byte
        // added to the copied set that the encoder would change fails here.
        for byte in 0u8..0x80 {
            let segment = format!("x{}y", byte as char);
            assert_eq!(
                encode_path(&segment).unwrap(),
                progenitor_client::encode_path(&segment),
                "{byte:#x}"
            );
        }
    }
}
