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
    /// Wrap a token. Surrounding whitespace (a trailing newline from a file
    /// or a pasted `\r\n`) is not part of it.
    pub fn new(token: impl Into<String>) -> Self {
        let token = token.into();
        let trimmed = token.trim();
        if trimmed.len() == token.len() {
            Self(SecretString::from(token))
        } else {
            Self(SecretString::from(trimmed.to_owned()))
        }
    }

    /// The token from `SMARTTHINGS_TOKEN`, if set and not blank.
    pub fn from_env() -> Option<Self> {
        std::env::var(TOKEN_ENV)
            .ok()
            .filter(|t| !t.trim().is_empty())
            .map(Self::new)
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
