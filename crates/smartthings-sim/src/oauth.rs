//! OAuth 2 as SmartThings runs it: authorization codes, access tokens that
//! expire and refresh tokens that rotate. The registry is plain state; the
//! HTTP side is `server/oauth.rs`.

use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, Instant};

use serde::Serialize;

/// The client id registered unless configured otherwise.
pub const DEFAULT_CLIENT_ID: &str = "sim-client";
/// The secret of [`DEFAULT_CLIENT_ID`].
pub const DEFAULT_CLIENT_SECRET: &str = "sim-secret";

/// How the simulator's OAuth 2 server behaves.
#[derive(Clone)]
pub struct OAuthConfig {
    /// Registered clients as `(client_id, client_secret)`; by default the
    /// one pair [`DEFAULT_CLIENT_ID`]:[`DEFAULT_CLIENT_SECRET`].
    pub clients: Vec<(String, String)>,
    /// How long an access token is valid, in simulated time (default 86 399
    /// s, as SmartThings says). It is divided by
    /// [`Config::time_scale`](crate::Config::time_scale) like every
    /// rate-limit window, so a scaled-up run sees tokens expire within it;
    /// `expires_in` reports the real lifetime, in whole seconds rounded up.
    pub access_token_lifetime: Duration,
    /// When a refresh token that was already used comes back, revoke every
    /// token of its authorization (default `true`): one of the two holders
    /// of that token is not the client, and the server cannot tell which.
    /// When `false` the reuse is only refused.
    pub revoke_family_on_reuse: bool,
    /// How long an authorization code may be exchanged, in real time
    /// (default 10 minutes). A code is single-use.
    pub code_lifetime: Duration,
}

impl Default for OAuthConfig {
    fn default() -> Self {
        Self {
            clients: vec![(
                DEFAULT_CLIENT_ID.to_owned(),
                DEFAULT_CLIENT_SECRET.to_owned(),
            )],
            access_token_lifetime: Duration::from_secs(86_399),
            revoke_family_on_reuse: true,
            code_lifetime: Duration::from_secs(600),
        }
    }
}

impl fmt::Debug for OAuthConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let clients: Vec<_> = self
            .clients
            .iter()
            .map(|(id, _)| format!("{id}:** redacted **"))
            .collect();
        f.debug_struct("OAuthConfig")
            .field("clients", &clients)
            .field("access_token_lifetime", &self.access_token_lifetime)
            .field("revoke_family_on_reuse", &self.revoke_family_on_reuse)
            .field("code_lifetime", &self.code_lifetime)
            .finish()
    }
}

/// OAuth counters, part of [`Stats`](crate::Stats).
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct OAuthStats {
    /// Authorization codes issued.
    pub authorizations: u64,
    /// Codes exchanged for tokens.
    pub code_exchanges: u64,
    /// Successful refresh grants.
    pub refreshes: u64,
    /// Refresh tokens presented again after they were used.
    pub reuse_attempts: u64,
    /// 4xx answers of the token endpoint (injected faults excluded).
    pub token_errors: u64,
    /// Access tokens issued.
    pub access_tokens_issued: u64,
    /// Authorizations not revoked whose latest refresh token is unused.
    pub active_sessions: u64,
    /// API requests refused because their OAuth access token had expired.
    pub expired_token_rejections: u64,
}

/// A refused grant, as the token endpoint words it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct GrantError {
    /// `invalid_grant`, `invalid_client`, ...
    pub(crate) error: &'static str,
    pub(crate) description: String,
}

impl GrantError {
    pub(crate) fn new(error: &'static str, description: impl Into<String>) -> Self {
        Self {
            error,
            description: description.into(),
        }
    }

    fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new("invalid_grant", description)
    }
}

impl fmt::Display for GrantError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.error, self.description)
    }
}

/// Tokens issued by one grant.
#[derive(Clone, Debug)]
pub(crate) struct Grant {
    pub(crate) access_token: String,
    pub(crate) refresh_token: String,
    /// The real lifetime of the access token, in whole seconds (rounded up,
    /// at least 1).
    pub(crate) expires_in: u64,
    pub(crate) scope: String,
    pub(crate) installed_app_id: String,
}

/// What an access token presented to the API turned out to be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Access {
    /// Valid; the family's installed app id keys its rate limits.
    Valid { installed_app_id: String },
    /// Issued, but past its lifetime.
    Expired,
    /// Issued, but its family was revoked.
    Revoked,
    /// Never issued here.
    Unknown,
}

struct Code {
    client_id: String,
    redirect_uri: String,
    scope: String,
    expires_at: Instant,
    used: bool,
}

/// Every token descended from one authorization.
struct Family {
    client_id: String,
    scope: String,
    installed_app_id: String,
    revoked: bool,
    /// The refresh token issued last; the session is active while it is
    /// unused.
    latest_refresh: String,
}

struct AccessToken {
    family: usize,
    expires_at: Instant,
}

struct RefreshToken {
    family: usize,
    consumed: bool,
}

/// Codes, token families and counters.
pub(crate) struct Registry {
    access_lifetime: Duration,
    code_lifetime: Duration,
    revoke_family_on_reuse: bool,
    codes: HashMap<String, Code>,
    families: Vec<Family>,
    access: HashMap<String, AccessToken>,
    refresh: HashMap<String, RefreshToken>,
    issued: u64,
    rng: fastrand::Rng,
    pub(crate) stats: OAuthStats,
}

impl Registry {
    /// `time_scale` > 1 shortens access tokens by that factor.
    pub(crate) fn new(config: &OAuthConfig, time_scale: f64) -> Self {
        Self {
            access_lifetime: config.access_token_lifetime.div_f64(time_scale.max(1e-6)),
            code_lifetime: config.code_lifetime,
            revoke_family_on_reuse: config.revoke_family_on_reuse,
            codes: HashMap::new(),
            families: Vec::new(),
            access: HashMap::new(),
            refresh: HashMap::new(),
            issued: 0,
            // Unseeded: tokens must not be guessable from a run's seed.
            rng: fastrand::Rng::new(),
            stats: OAuthStats::default(),
        }
    }

    /// A fresh secret: a counter makes it unique, random hex unguessable.
    fn secret(&mut self, prefix: &str) -> String {
        self.issued += 1;
        let (a, b) = (self.rng.u64(..), self.rng.u64(..));
        format!("{prefix}-{}-{a:016x}{b:016x}", self.issued)
    }

    /// Issue a code for an authorization the user consented to.
    pub(crate) fn authorize(
        &mut self,
        client_id: &str,
        redirect_uri: &str,
        scope: &str,
        now: Instant,
    ) -> String {
        let code = self.secret("sac");
        self.codes.insert(
            code.clone(),
            Code {
                client_id: client_id.to_owned(),
                redirect_uri: redirect_uri.to_owned(),
                scope: scope.to_owned(),
                expires_at: now + self.code_lifetime,
                used: false,
            },
        );
        self.stats.authorizations += 1;
        code
    }

    /// `grant_type=authorization_code`: a new family.
    pub(crate) fn exchange_code(
        &mut self,
        client_id: &str,
        code: &str,
        redirect_uri: &str,
        now: Instant,
        installed_app_id: impl FnOnce() -> String,
    ) -> Result<Grant, GrantError> {
        let Some(entry) = self.codes.get_mut(code) else {
            return Err(GrantError::invalid_grant("Invalid authorization code."));
        };
        if entry.used {
            return Err(GrantError::invalid_grant(
                "The authorization code was already used.",
            ));
        }
        if now >= entry.expires_at {
            return Err(GrantError::invalid_grant(
                "The authorization code has expired.",
            ));
        }
        if entry.client_id != client_id {
            return Err(GrantError::invalid_grant(
                "The authorization code was issued to another client.",
            ));
        }
        if entry.redirect_uri != redirect_uri {
            return Err(GrantError::invalid_grant(
                "The redirect_uri does not match the authorization request.",
            ));
        }
        entry.used = true;
        let scope = entry.scope.clone();
        self.families.push(Family {
            client_id: client_id.to_owned(),
            scope,
            installed_app_id: installed_app_id(),
            revoked: false,
            latest_refresh: String::new(),
        });
        self.stats.code_exchanges += 1;
        Ok(self.issue(self.families.len() - 1, now))
    }

    /// `grant_type=refresh_token`: rotate within the family.
    pub(crate) fn refresh(
        &mut self,
        client_id: &str,
        refresh_token: &str,
        now: Instant,
    ) -> Result<Grant, GrantError> {
        let Some(entry) = self.refresh.get(refresh_token) else {
            return Err(GrantError::invalid_grant("Invalid refresh token."));
        };
        let index = entry.family;
        let consumed = entry.consumed;
        let family = &mut self.families[index];
        // A token presented by another client says nothing about its own
        // client, so it revokes nothing.
        if family.client_id != client_id {
            return Err(GrantError::invalid_grant(
                "The refresh token was issued to another client.",
            ));
        }
        if consumed {
            self.stats.reuse_attempts += 1;
            if self.revoke_family_on_reuse && !family.revoked {
                family.revoked = true;
                self.stats.active_sessions = self.stats.active_sessions.saturating_sub(1);
            }
            return Err(GrantError::invalid_grant(
                "The refresh token was already used.",
            ));
        }
        if family.revoked {
            return Err(GrantError::invalid_grant("The refresh token was revoked."));
        }
        if let Some(entry) = self.refresh.get_mut(refresh_token) {
            entry.consumed = true;
        }
        self.stats.refreshes += 1;
        // The family stays active: its new refresh token is unused.
        self.stats.active_sessions = self.stats.active_sessions.saturating_sub(1);
        Ok(self.issue(index, now))
    }

    /// A new access and refresh token in `family`.
    fn issue(&mut self, family: usize, now: Instant) -> Grant {
        let access_token = self.secret("sat");
        let refresh_token = self.secret("srt");
        self.access.insert(
            access_token.clone(),
            AccessToken {
                family,
                expires_at: now + self.access_lifetime,
            },
        );
        self.refresh.insert(
            refresh_token.clone(),
            RefreshToken {
                family,
                consumed: false,
            },
        );
        self.stats.access_tokens_issued += 1;
        self.stats.active_sessions += 1;
        let entry = &mut self.families[family];
        entry.latest_refresh.clone_from(&refresh_token);
        Grant {
            access_token,
            refresh_token,
            expires_in: self.access_lifetime.as_secs_f64().ceil().max(1.0) as u64,
            scope: entry.scope.clone(),
            installed_app_id: entry.installed_app_id.clone(),
        }
    }

    /// Check an access token presented to the API; an expired one is
    /// counted.
    pub(crate) fn check_access(&mut self, token: &str, now: Instant) -> Access {
        let Some(entry) = self.access.get(token) else {
            return Access::Unknown;
        };
        let family = &self.families[entry.family];
        if family.revoked {
            Access::Revoked
        } else if now >= entry.expires_at {
            self.stats.expired_token_rejections += 1;
            Access::Expired
        } else {
            Access::Valid {
                installed_app_id: family.installed_app_id.clone(),
            }
        }
    }

    /// Families not revoked whose latest refresh token is unused, counted
    /// afresh (the counter in `stats` is kept up to date as tokens rotate).
    #[cfg(test)]
    fn count_active(&self) -> u64 {
        self.families
            .iter()
            .filter(|f| {
                !f.revoked
                    && self
                        .refresh
                        .get(&f.latest_refresh)
                        .is_some_and(|r| !r.consumed)
            })
            .count() as u64
    }
}

/// The `(client_id, client_secret)` of an `Authorization: Basic` header.
/// RFC 6749 §2.3.1: each is form-urlencoded before they are joined.
pub(crate) fn basic_credentials(header: &str) -> Option<(String, String)> {
    use base64::Engine;
    let (scheme, encoded) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let unescape = |part: &str| -> String {
        url::form_urlencoded::parse(format!("x={part}").as_bytes())
            .next()
            .map(|(_, value)| value.into_owned())
            .unwrap_or_default()
    };
    Some((unescape(id), unescape(secret)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry(revoke: bool) -> Registry {
        let config = OAuthConfig {
            revoke_family_on_reuse: revoke,
            ..OAuthConfig::default()
        };
        Registry::new(&config, 1.0)
    }

    fn first_grant(r: &mut Registry, now: Instant) -> Grant {
        let code = r.authorize("c", "https://app/cb", "r:devices:*", now);
        r.exchange_code("c", &code, "https://app/cb", now, || "app-1".into())
            .unwrap()
    }

    #[test]
    fn basic_credentials_decode_and_malformed_ones_do_not() {
        // "sim-client:sim-secret"
        assert_eq!(
            basic_credentials("Basic c2ltLWNsaWVudDpzaW0tc2VjcmV0"),
            Some(("sim-client".into(), "sim-secret".into()))
        );
        // "a:b:c": the secret keeps its colons.
        assert_eq!(
            basic_credentials("basic YTpiOmM="),
            Some(("a".into(), "b:c".into()))
        );
        // "a%3Ab:c%20d": form-urlencoded parts, as RFC 6749 asks.
        assert_eq!(
            basic_credentials("Basic YSUzQWI6YyUyMGQ="),
            Some(("a:b".into(), "c d".into()))
        );
        assert_eq!(
            basic_credentials("Bearer c2ltLWNsaWVudDpzaW0tc2VjcmV0"),
            None
        );
        assert_eq!(basic_credentials("Basic !!!"), None);
        assert_eq!(basic_credentials("Basic bm9jb2xvbg=="), None); // "nocolon"
        assert_eq!(basic_credentials("Basic A"), None);
    }

    #[test]
    fn a_rotation_keeps_the_family_and_old_access_tokens_until_they_expire() {
        let mut r = registry(true);
        let now = Instant::now();
        let first = first_grant(&mut r, now);
        assert_eq!(first.expires_in, 86_399);
        let second = r.refresh("c", &first.refresh_token, now).unwrap();
        assert_eq!(second.installed_app_id, first.installed_app_id);
        assert_eq!(second.scope, "r:devices:*");
        for token in [&first.access_token, &second.access_token] {
            assert_eq!(
                r.check_access(token, now),
                Access::Valid {
                    installed_app_id: "app-1".into()
                }
            );
        }
        let later = now + Duration::from_secs(86_399);
        assert_eq!(r.check_access(&second.access_token, later), Access::Expired);
        assert_eq!(r.stats.expired_token_rejections, 1);
        assert_eq!(r.stats.active_sessions, 1);
        assert_eq!(r.count_active(), 1);
        let tokens = [
            &first.access_token,
            &first.refresh_token,
            &second.access_token,
            &second.refresh_token,
        ];
        for (i, a) in tokens.iter().enumerate() {
            assert!(tokens[i + 1..].iter().all(|b| a != b));
        }
    }

    #[test]
    fn reuse_revokes_the_family_only_when_configured() {
        for revoke in [true, false] {
            let mut r = registry(revoke);
            let now = Instant::now();
            let first = first_grant(&mut r, now);
            let second = r.refresh("c", &first.refresh_token, now).unwrap();
            let reuse = r.refresh("c", &first.refresh_token, now).unwrap_err();
            assert_eq!(reuse.error, "invalid_grant");
            assert!(reuse.description.contains("already used"));
            assert_eq!(r.stats.reuse_attempts, 1);
            let newest = r.check_access(&second.access_token, now);
            let next = r.refresh("c", &second.refresh_token, now);
            if revoke {
                assert_eq!(newest, Access::Revoked);
                assert_eq!(next.unwrap_err().error, "invalid_grant");
                assert_eq!(r.stats.active_sessions, 0);
            } else {
                assert!(matches!(newest, Access::Valid { .. }));
                assert!(next.is_ok());
                assert_eq!(r.stats.active_sessions, 1);
            }
            assert_eq!(r.stats.active_sessions, r.count_active());
        }
    }

    #[test]
    fn codes_are_single_use_bound_to_client_and_redirect_and_expire() {
        let mut r = registry(true);
        let now = Instant::now();
        let code = r.authorize("c", "https://app/cb", "", now);
        let id = || "x".to_owned();
        let refused = |r: &mut Registry, client, redirect, at| {
            r.exchange_code(client, &code, redirect, at, id)
                .unwrap_err()
                .error
        };
        assert_eq!(
            refused(&mut r, "other", "https://app/cb", now),
            "invalid_grant"
        );
        assert_eq!(
            refused(&mut r, "c", "https://app/other", now),
            "invalid_grant"
        );
        let late = now + Duration::from_secs(600);
        assert_eq!(
            refused(&mut r, "c", "https://app/cb", late),
            "invalid_grant"
        );
        assert!(
            r.exchange_code("c", &code, "https://app/cb", now, id)
                .is_ok()
        );
        assert_eq!(refused(&mut r, "c", "https://app/cb", now), "invalid_grant");
        assert_eq!(r.stats.code_exchanges, 1);
    }

    #[test]
    fn a_refresh_token_of_another_client_is_refused_without_revoking() {
        let mut r = registry(true);
        let now = Instant::now();
        let first = first_grant(&mut r, now);
        let err = r.refresh("d", &first.refresh_token, now).unwrap_err();
        assert_eq!(err.error, "invalid_grant");
        assert!(r.refresh("c", &first.refresh_token, now).is_ok());
        assert_eq!(r.stats.reuse_attempts, 0);
    }

    #[test]
    fn the_lifetime_follows_the_time_scale_rounded_up() {
        let config = |secs| OAuthConfig {
            access_token_lifetime: Duration::from_secs(secs),
            ..OAuthConfig::default()
        };
        for (secs, scale, expected) in [(20, 10.0, 2), (1, 1.0, 1), (1, 10.0, 1), (25, 10.0, 3)] {
            let mut r = Registry::new(&config(secs), scale);
            assert_eq!(first_grant(&mut r, Instant::now()).expires_in, expected);
        }
    }
}
