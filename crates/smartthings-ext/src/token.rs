//! The bearer token, which never prints.

use std::fmt;

use reqwest::header::HeaderValue;
use secrecy::{ExposeSecret, SecretString};

/// The environment variable [`Token::from_env`] reads.
pub const TOKEN_ENV: &str = "SMARTTHINGS_TOKEN";

/// A SmartThings personal access token or OAuth access token.
///
/// `Debug` and `Display` print `Token(<redacted>)`; the secret is reachable
/// only through [`Token::expose`], and is zeroed when dropped.
///
/// ```
/// let token = smartthings_ext::Token::new("68cd394f-secret");
/// assert_eq!(format!("{token:?} {token}"), "Token(<redacted>) Token(<redacted>)");
/// ```
#[derive(Clone)]
pub struct Token(SecretString);

impl Token {
    /// Wrap a token.
    pub fn new(token: impl Into<String>) -> Self {
        Self(SecretString::from(token.into()))
    }

    /// The token from `SMARTTHINGS_TOKEN`, if set and not blank.
    pub fn from_env() -> Option<Self> {
        std::env::var(TOKEN_ENV)
            .ok()
            .filter(|t| !t.trim().is_empty())
            .map(|t| Self::new(t.trim()))
    }

    /// The secret itself. Call sites are easy to audit by this name.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// `Bearer <token>`, marked sensitive so that HTTP layers never log it.
    pub(crate) fn authorization(&self) -> Option<HeaderValue> {
        let mut value = HeaderValue::from_str(&format!("Bearer {}", self.expose())).ok()?;
        value.set_sensitive(true);
        Some(value)
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}
