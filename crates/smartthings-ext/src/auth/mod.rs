//! What the transport asks for before every request: the `Authorization`
//! header. A static token (a personal access token) gives the same header
//! forever; an OAuth session refreshes its access token before it expires
//! and after a 401, once for every request in flight, and hands the rotated
//! tokens to its store before it uses them.

pub(crate) mod oauth;
pub(crate) mod store;
pub(crate) mod token;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use futures::FutureExt;
use futures::future::{BoxFuture, Shared};
use reqwest::header::HeaderValue;
use tokio::time::Instant;

use crate::error::{Error, ErrorKind};
use crate::retry::RetryPolicy;
use oauth::{OAuthApp, TokenSet};
use store::TokenStore;
use token::Token;

/// Where the bearer token comes from.
pub(crate) enum Credentials {
    /// The same token for every request.
    Static(HeaderValue),
    /// An OAuth session that refreshes itself.
    OAuth(Arc<Session>),
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Static(_) => f.write_str("Credentials::Static(<redacted>)"),
            Self::OAuth(session) => write!(f, "Credentials::OAuth({:?})", session.app),
        }
    }
}

/// The header for one request, and which token generation it carries (so
/// that a 401 for an old token does not trigger a second refresh).
pub(crate) struct Authorization {
    pub(crate) header: HeaderValue,
    pub(crate) generation: u64,
}

impl Credentials {
    pub(crate) fn from_token(token: &Token) -> Result<Self, Error> {
        token.authorization().map(Self::Static).ok_or_else(|| {
            Error::new(
                ErrorKind::Config,
                "the token contains characters an HTTP header cannot carry",
            )
        })
    }

    /// The header to send now; refreshes first if the token is due.
    pub(crate) async fn authorization(&self, deadline: Instant) -> Result<Authorization, Error> {
        match self {
            Self::Static(header) => Ok(Authorization {
                header: header.clone(),
                generation: 0,
            }),
            Self::OAuth(session) => session.authorization(deadline).await,
        }
    }

    /// The server refused the token of `generation` with a 401. Whether the
    /// request may be replayed with a new one.
    pub(crate) async fn rejected(&self, generation: u64, deadline: Instant) -> Result<bool, Error> {
        match self {
            Self::Static(_) => Ok(false),
            Self::OAuth(session) => session
                .renew(Reason::Rejected(generation), deadline)
                .await
                .map(|_| true),
        }
    }

    /// Refreshes made so far.
    pub(crate) fn refreshes(&self) -> u64 {
        match self {
            Self::Static(_) => 0,
            Self::OAuth(session) => session.refreshes.load(Ordering::Relaxed),
        }
    }
}

/// The tokens in use.
#[derive(Clone)]
struct Current {
    tokens: TokenSet,
    header: HeaderValue,
    generation: u64,
    /// The store refused these tokens: they are the only copy of the
    /// rotated refresh token, and are not used until saved.
    unsaved: bool,
}

/// Why a refresh is asked for.
#[derive(Clone, Copy, Debug)]
enum Reason {
    /// No tokens yet, or they are due.
    Due,
    /// The server refused the token of this generation.
    Rejected(u64),
}

/// A failed refresh, shared by every request that waited for it.
#[derive(Clone)]
struct Failure(Arc<Error>);

type Flight = Shared<BoxFuture<'static, Result<(), Failure>>>;

/// An OAuth session: the app, its store, and the tokens in use.
pub(crate) struct Session {
    app: OAuthApp,
    store: Arc<dyn TokenStore>,
    http: reqwest::Client,
    retry: RetryPolicy,
    current: RwLock<Option<Current>>,
    /// The refresh in flight, which every request that needs one awaits.
    flight: Mutex<Option<Flight>>,
    generations: AtomicU64,
    pub(crate) refreshes: AtomicU64,
}

impl Session {
    pub(crate) fn new(
        app: OAuthApp,
        store: Arc<dyn TokenStore>,
        http: reqwest::Client,
        retry: RetryPolicy,
    ) -> Self {
        Self {
            app,
            store,
            http,
            retry,
            current: RwLock::new(None),
            flight: Mutex::new(None),
            generations: AtomicU64::new(0),
            refreshes: AtomicU64::new(0),
        }
    }

    fn current(&self) -> Option<Current> {
        self.current.read().ok().and_then(|c| c.clone())
    }

    fn usable(&self, current: &Current) -> bool {
        !current.unsaved && !current.tokens.refresh_due(self.app.skew())
    }

    async fn authorization(self: &Arc<Self>, deadline: Instant) -> Result<Authorization, Error> {
        let current = match self.current() {
            Some(current) if self.usable(&current) => current,
            _ => self.renew(Reason::Due, deadline).await?,
        };
        Ok(Authorization {
            header: current.header,
            generation: current.generation,
        })
    }

    /// Make sure the tokens in use satisfy `reason`: one refresh at a time,
    /// which every caller awaits (each up to its own deadline). The refresh
    /// runs in its own task, so a caller that gives up cannot interrupt it
    /// between the token endpoint's answer and the save.
    async fn renew(self: &Arc<Self>, reason: Reason, deadline: Instant) -> Result<Current, Error> {
        loop {
            if let Some(current) = self.current() {
                let satisfied = match reason {
                    Reason::Due => self.usable(&current),
                    Reason::Rejected(generation) => {
                        current.generation != generation && !current.unsaved
                    }
                };
                if satisfied {
                    return Ok(current);
                }
            }
            let flight = {
                let mut slot = self.flight.lock().expect("refresh slot");
                match slot.as_ref() {
                    Some(flight) => flight.clone(),
                    None => {
                        let session = self.clone();
                        let task = tokio::spawn(async move {
                            let outcome = session.refresh(reason).await;
                            *session.flight.lock().expect("refresh slot") = None;
                            outcome.map_err(|e| Failure(Arc::new(e)))
                        });
                        let flight = async move {
                            task.await.unwrap_or_else(|e| {
                                Err(Failure(Arc::new(Error::new(
                                    ErrorKind::Reauthorize,
                                    format!("the token refresh did not finish: {e}"),
                                ))))
                            })
                        }
                        .boxed()
                        .shared();
                        *slot = Some(flight.clone());
                        flight
                    }
                }
            };
            match tokio::time::timeout_at(deadline, flight).await {
                Ok(Ok(())) => {
                    // Another reason's refresh may not satisfy this one (a
                    // 401 for the token just issued): look again.
                    if let Some(current) = self.current().filter(|c| !c.unsaved) {
                        if matches!(reason, Reason::Rejected(g) if g == current.generation) {
                            return Err(Error::new(
                                ErrorKind::Unauthorized,
                                "the server refused a freshly refreshed access token",
                            ));
                        }
                        return Ok(current);
                    }
                }
                Ok(Err(Failure(error))) => return Err(error.copy()),
                Err(_) => {
                    return Err(Error::new(
                        ErrorKind::Transport,
                        format!(
                            "token endpoint {}: the token refresh did not finish within the call's deadline",
                            self.app.token_endpoint()
                        ),
                    ));
                }
            }
        }
    }

    /// One refresh, under the store's lock: adopt what another process
    /// stored if it is newer and usable, else spend the newest refresh
    /// token and save the result before anyone uses it.
    async fn refresh(&self, reason: Reason) -> Result<(), Error> {
        let deadline = Instant::now() + self.retry.deadline_duration();
        let _lock = tokio::time::timeout_at(deadline, self.store.lock())
            .await
            .map_err(|_| {
                Error::new(
                    ErrorKind::TokenStore,
                    "the token store stayed locked (another process is refreshing) past the call's deadline",
                )
            })?
            .map_err(store_error)?;
        let ours = self.current();
        // The access token the server refused, if it is still ours: stored
        // tokens that hold it are no better.
        let refused = match (reason, &ours) {
            (Reason::Rejected(g), Some(ours)) if g == ours.generation => {
                Some(ours.tokens.access_token().clone())
            }
            _ => None,
        };
        let rejected = |tokens: &TokenSet| {
            refused
                .as_ref()
                .is_some_and(|r| r.expose() == tokens.access_token().expose())
        };
        let base = match ours {
            // The only copy of the rotated tokens: they are newer than
            // anything stored, and must reach the store first.
            Some(ours) if ours.unsaved => {
                self.store.save(&ours.tokens).await.map_err(store_error)?;
                if !ours.tokens.refresh_due(self.app.skew()) && !rejected(&ours.tokens) {
                    self.publish(ours.tokens);
                    return Ok(());
                }
                ours.tokens
            }
            ours => {
                let stored = self.store.load().await.map_err(store_error)?;
                let Some(stored) = stored else {
                    return Err(Error::new(
                        ErrorKind::Reauthorize,
                        "the token store holds no session (never logged in, or logged out): authorise again",
                    ));
                };
                let newer = ours.as_ref().is_none_or(|o| !o.tokens.same_tokens(&stored));
                if newer && !stored.refresh_due(self.app.skew()) && !rejected(&stored) {
                    // Another process refreshed first: its tokens, not a
                    // second refresh with a spent refresh token.
                    self.publish(stored);
                    return Ok(());
                }
                stored
            }
        };
        let tokens = self
            .app
            .refresh(&self.http, &base, &self.retry, deadline)
            .await?;
        self.refreshes.fetch_add(1, Ordering::Relaxed);
        tracing::info!(
            expires_at = ?tokens.expires_at(),
            "access token refreshed"
        );
        match self.store.save(&tokens).await {
            Ok(()) => {
                self.publish(tokens);
                Ok(())
            }
            Err(cause) => {
                // Kept, unused, so that the next request tries the save
                // again instead of the spent refresh token.
                self.set(tokens, true);
                Err(store_error(cause))
            }
        }
    }

    fn publish(&self, tokens: TokenSet) {
        self.set(tokens, false);
    }

    fn set(&self, tokens: TokenSet, unsaved: bool) {
        let Some(header) = tokens.access_token().authorization() else {
            tracing::warn!("the new access token cannot be sent in a header");
            return;
        };
        let generation = self.generations.fetch_add(1, Ordering::Relaxed) + 1;
        if let Ok(mut current) = self.current.write() {
            *current = Some(Current {
                tokens,
                header,
                generation,
                unsaved,
            });
        }
    }
}

fn store_error(cause: store::StoreError) -> Error {
    Error::new(
        ErrorKind::TokenStore,
        format!("the token store failed: {cause}"),
    )
}
