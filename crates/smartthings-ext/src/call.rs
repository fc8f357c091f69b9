//! One call of one operation, from the builder's `send` to this crate's
//! [`Error`]: the transport writes what happened on the wire into a record
//! scoped to the call (attempts made, the last response's status and
//! request id, and the headers and body of an error status), and the error
//! is built from that record. The generated
//! client's own error can then lose nothing: an undocumented status, an HTML
//! page or an empty body on an error status keeps its status, request id and
//! body, and a connection that failed after retries keeps its attempt count.

use std::cell::RefCell;
use std::future::Future;

use reqwest::header::HeaderMap;
use smartthings::ResponseValue;

use crate::client::SmartThings;
use crate::error::{Error, ErrorKind, SeenResponse};

/// What the transport saw during one call.
#[derive(Debug, Default)]
pub(crate) struct CallRecord {
    /// Requests put on the wire for this call.
    pub(crate) attempts: u32,
    /// The status and request id of the last response.
    pub(crate) response: Option<SeenResponse>,
    /// The last response's headers and body, when its status was not a
    /// success: read by the transport so that they survive whatever the
    /// generated client does with them.
    pub(crate) error_response: Option<(HeaderMap, Vec<u8>)>,
    /// The client refused the request itself (nothing was sent).
    pub(crate) local: Option<Error>,
}

tokio::task_local! {
    static CALL: RefCell<CallRecord>;
}

/// Update the current call's record, if the request belongs to one.
pub(crate) fn record(update: impl FnOnce(&mut CallRecord)) {
    let _ = CALL.try_with(|call| update(&mut call.borrow_mut()));
}

// `call` and `recorded` are plain functions returning futures, not `async
// fn`s: an `async fn` keeps its argument (the generated call's future) and
// the future it awaits side by side, and each such layer copied the whole
// call's state again (a device-health call's future was 7 KB, 4x the
// generated one's, and moved several times per request).
impl SmartThings {
    /// Run one generated call and turn its outcome into the body or a
    /// lossless [`Error`].
    pub(crate) fn call<T, E>(
        &self,
        send: impl Future<Output = Result<ResponseValue<T>, smartthings::Error<E>>>,
    ) -> impl Future<Output = Result<T, Error>> {
        futures::FutureExt::map(recorded(send), |(result, record)| {
            result
                .map(ResponseValue::into_inner)
                .map_err(|e| error_of(e, record))
        })
    }
}

/// Run `future` with a fresh call record, and return the record with it.
pub(crate) fn recorded<F: Future>(future: F) -> impl Future<Output = (F::Output, CallRecord)> {
    // A map, not an `async move` block: the block would hold the future
    // twice (captured, then awaited). The closure runs inside the scope.
    let take_record = |output| {
        let record = CALL.with(|call| std::mem::take(&mut *call.borrow_mut()));
        (output, record)
    };
    CALL.scope(
        RefCell::new(CallRecord::default()),
        futures::FutureExt::map(future, take_record),
    )
}

/// The error for a failed call: the status and body the transport recorded
/// come first; otherwise `error` (what the client concluded) with the
/// status and attempts the record adds.
pub(crate) fn failed(record: CallRecord, error: impl FnOnce() -> Error) -> Error {
    if let Some(local) = record.local {
        // Refused by the client (a body over the cap): what the server sent
        // still says which response it was.
        let local = match &record.response {
            Some(seen) => local.with_response(seen),
            None => local,
        };
        // A failed token refresh counts its own attempts (at the token
        // endpoint); a refusal counts the call's.
        if local.attempts() > 0 {
            return local;
        }
        return local.with_attempts(record.attempts);
    }
    let error = match (&record.response, &record.error_response) {
        (Some(seen), Some((headers, body))) => Error::from_response(seen.status, headers, body),
        (Some(seen), None) => error().with_response(seen),
        (None, _) => error(),
    };
    error.with_attempts(record.attempts)
}

fn error_of<E>(error: smartthings::Error<E>, record: CallRecord) -> Error {
    use smartthings::Error as E;
    failed(record, || match error {
        E::InvalidResponsePayload(body, cause) => Error::decode(&body, cause),
        E::ResponseBodyError(cause) => Error::body(cause),
        E::CommunicationError(cause) | E::InvalidUpgrade(cause) => Error::transport(cause),
        // Refused before anything was sent (a missing required parameter).
        E::InvalidRequest(message) => Error::new(ErrorKind::Validation, message),
        E::Custom(message) => Error::new(ErrorKind::Transport, message),
        // The transport records every error status with its body, so these
        // are reached only by a response that bypassed it.
        E::ErrorResponse(response) => {
            Error::from_response(response.status(), response.headers(), b"")
        }
        E::UnexpectedResponse(response) => {
            Error::from_response(response.status(), response.headers(), b"")
        }
    })
}
