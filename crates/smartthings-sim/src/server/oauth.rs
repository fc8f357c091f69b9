//! The OAuth 2 endpoints, at the server root as SmartThings serves them
//! (`https://api.smartthings.com/oauth/...`, not under `/v1`): `authorize`
//! consents on the user's behalf, `token` exchanges codes and rotates
//! refresh tokens. Both go through the fault layer like any operation.

use std::time::Instant;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::{AUTHORIZATION, CACHE_CONTROL, LOCATION, PRAGMA, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use url::Url;

use super::operations::Api;
use super::request::{param, query};
use super::{Shared, Sim};
use crate::oauth::{Grant, GrantError, basic_credentials};

/// The kind of id `Sim::new_id` makes for an installed app.
const INSTALLED_APP_ID_KIND: u16 = 5;

pub(super) fn routes(api: Api) -> Api {
    api.get("/oauth/authorize", "oauthAuthorize", authorize)
        .post("/oauth/token", "oauthToken", token)
}

impl Sim {
    fn known_client(&self, client_id: &str) -> bool {
        self.config
            .oauth
            .clients
            .iter()
            .any(|(id, _)| id == client_id)
    }

    /// Issue a code as the authorize endpoint does once the user consented.
    pub(crate) fn issue_code(
        &self,
        client_id: &str,
        redirect_uri: &str,
        scope: &str,
    ) -> Result<String, GrantError> {
        if !self.known_client(client_id) {
            return Err(GrantError::new("invalid_client", "Unknown client_id."));
        }
        if Url::parse(redirect_uri).is_err() {
            return Err(GrantError::new(
                "invalid_request",
                "redirect_uri must be an absolute URL.",
            ));
        }
        Ok(self.oauth.lock().expect("oauth").authorize(
            client_id,
            redirect_uri,
            scope,
            Instant::now(),
        ))
    }
}

/// `GET /oauth/authorize`: the browser step, consented at once. Errors about
/// the client or the redirect itself are answered here, since the redirect
/// cannot be trusted; the others go back to the client by redirect.
async fn authorize(State(sim): State<Shared>, uri: Uri) -> Response {
    let query = query(&uri);
    let client_id = param(&query, "client_id").unwrap_or_default();
    let redirect_uri = param(&query, "redirect_uri").unwrap_or_default();
    if !sim.known_client(client_id) {
        let error = GrantError::new("invalid_client", "Unknown client_id.");
        return oauth_error(StatusCode::BAD_REQUEST, &error);
    }
    let mut target = match Url::parse(redirect_uri) {
        Ok(target) => target,
        Err(_) => {
            let error = GrantError::new(
                "invalid_request",
                "redirect_uri is required and must be an absolute URL.",
            );
            return oauth_error(StatusCode::BAD_REQUEST, &error);
        }
    };
    let outcome = if param(&query, "response_type") == Some("code") {
        let scope = param(&query, "scope").unwrap_or_default();
        match sim.issue_code(client_id, redirect_uri, scope) {
            Ok(code) => ("code", code),
            Err(error) => return oauth_error(StatusCode::BAD_REQUEST, &error),
        }
    } else {
        ("error", "unsupported_response_type".to_owned())
    };
    {
        let mut pairs = target.query_pairs_mut();
        pairs.append_pair(outcome.0, &outcome.1);
        if let Some(state) = param(&query, "state") {
            pairs.append_pair("state", state);
        }
    }
    (
        StatusCode::FOUND,
        [
            (LOCATION, target.to_string()),
            (CACHE_CONTROL, "no-store".into()),
        ],
    )
        .into_response()
}

/// `POST /oauth/token`: a code or a refresh token for a new pair.
async fn token(State(sim): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    match grant(&sim, &headers, &body) {
        Ok(grant) => (
            StatusCode::OK,
            [(CACHE_CONTROL, "no-store"), (PRAGMA, "no-cache")],
            axum::Json(json!({
                "access_token": grant.access_token,
                "token_type": "bearer",
                "refresh_token": grant.refresh_token,
                "expires_in": grant.expires_in,
                "scope": grant.scope,
                "installed_app_id": grant.installed_app_id,
                "access_tier": 0,
            })),
        )
            .into_response(),
        Err(error) => {
            sim.oauth.lock().expect("oauth").stats.token_errors += 1;
            let status = if error.error == "invalid_client" {
                StatusCode::UNAUTHORIZED
            } else {
                StatusCode::BAD_REQUEST
            };
            oauth_error(status, &error)
        }
    }
}

fn grant(sim: &Sim, headers: &HeaderMap, body: &[u8]) -> Result<Grant, GrantError> {
    let (client_id, secret) = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(basic_credentials)
        .ok_or_else(|| {
            GrantError::new(
                "invalid_client",
                "Client authentication by HTTP Basic is required.",
            )
        })?;
    if !sim
        .config
        .oauth
        .clients
        .iter()
        .any(|(id, s)| *id == client_id && *s == secret)
    {
        return Err(GrantError::new("invalid_client", "Bad client credentials."));
    }
    let form: Vec<(String, String)> = url::form_urlencoded::parse(body).into_owned().collect();
    if param(&form, "client_id").is_some_and(|id| id != client_id) {
        return Err(GrantError::new(
            "invalid_client",
            "client_id does not match the authenticated client.",
        ));
    }
    let required = |name: &str| {
        param(&form, name)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| GrantError::new("invalid_request", format!("{name} is required.")))
    };
    let now = Instant::now();
    match required("grant_type")? {
        "authorization_code" => {
            let code = required("code")?;
            let redirect_uri = required("redirect_uri")?;
            sim.oauth.lock().expect("oauth").exchange_code(
                &client_id,
                code,
                redirect_uri,
                now,
                || sim.new_id(INSTALLED_APP_ID_KIND),
            )
        }
        "refresh_token" => {
            let refresh_token = required("refresh_token")?;
            sim.oauth
                .lock()
                .expect("oauth")
                .refresh(&client_id, refresh_token, now)
        }
        other => Err(GrantError::new(
            "unsupported_grant_type",
            format!("Unsupported grant type: {other}."),
        )),
    }
}

/// An OAuth error body; a 401 carries the Basic challenge.
fn oauth_error(status: StatusCode, error: &GrantError) -> Response {
    let body = axum::Json(json!({
        "error": error.error,
        "error_description": error.description,
    }));
    let mut response = (status, body).into_response();
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            WWW_AUTHENTICATE,
            axum::http::HeaderValue::from_static(r#"Basic realm="oauth""#),
        );
    }
    response
}
