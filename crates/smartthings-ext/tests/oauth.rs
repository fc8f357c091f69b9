//! OAuth sessions against the simulator's token endpoint: refresh before
//! expiry and after a 401, one refresh however many requests wait, every
//! rotation saved before use, `invalid_grant` terminal, a dead token
//! endpoint bounded by the deadline, and two stores on one file making one
//! refresh.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod support;

use futures::future::BoxFuture;
use smartthings_ext::{
    ErrorKind, FileStore, MemoryStore, OAuthApp, RetryPolicy, SmartThings, StoreError, TokenSet,
    TokenStore,
};
use smartthings_sim::{FaultPlan, FaultRates};
use support::oauth::{app, believed, client, login, simulator};

/// A store that records every save, and fails saves while told to.
#[derive(Default)]
struct Recording {
    inner: MemoryStore,
    saved: Mutex<Vec<TokenSet>>,
    failing: AtomicBool,
    saves: AtomicUsize,
}

impl Recording {
    fn holding(tokens: TokenSet) -> Arc<Self> {
        Arc::new(Self {
            inner: MemoryStore::new(tokens),
            ..Self::default()
        })
    }
}

impl TokenStore for Recording {
    fn load(&self) -> BoxFuture<'_, Result<Option<TokenSet>, StoreError>> {
        self.inner.load()
    }

    fn save<'a>(&'a self, tokens: &'a TokenSet) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            self.saves.fetch_add(1, Ordering::SeqCst);
            if self.failing.load(Ordering::SeqCst) {
                return Err("disk full".into());
            }
            self.saved.lock().unwrap().push(tokens.clone());
            self.inner.save(tokens).await
        })
    }
}

/// The issue's soak: 2-second access tokens, 32 tasks, thousands of
/// requests across 20+ expiries: no request fails, one refresh per token
/// lifetime, no refresh token used twice, every rotation saved in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soak_32_tasks_across_20_expiries_lose_nothing() {
    const LIFETIME: Duration = Duration::from_secs(2);
    let sim = simulator(LIFETIME, |_| {}).await;
    let app = app(&sim).refresh_skew(Duration::from_millis(50));
    let first = login(&sim, &app).await;
    let store = Recording::holding(first.clone());
    let client = client(&sim, app, store.clone());

    let started = Instant::now();
    let run_for = LIFETIME * 21 + Duration::from_millis(500);
    let failures = Arc::new(AtomicUsize::new(0));
    let requests = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..32)
        .map(|_| {
            let (client, failures, requests) = (client.clone(), failures.clone(), requests.clone());
            tokio::spawn(async move {
                while started.elapsed() < run_for {
                    match client.list_locations().send().await {
                        Ok(_) => requests.fetch_add(1, Ordering::Relaxed),
                        Err(error) => {
                            eprintln!("request failed: {error}");
                            failures.fetch_add(1, Ordering::Relaxed)
                        }
                    };
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let elapsed = started.elapsed();
    let stats = sim.stats().oauth;
    let expiries = (elapsed.as_secs_f64() / LIFETIME.as_secs_f64()).floor() as u64;
    let requests = requests.load(Ordering::Relaxed);
    eprintln!(
        "{requests} requests in {elapsed:?}; {} refreshes for {expiries} expiries; metrics {:?}",
        stats.refreshes,
        client.metrics()
    );
    assert_eq!(failures.load(Ordering::Relaxed), 0, "failed requests");
    assert!(requests >= 5_000, "only {requests} requests");
    assert!(expiries >= 20, "only {expiries} expiries");
    assert!(
        stats.refreshes.abs_diff(expiries) <= 1,
        "{} refreshes for {expiries} expiries",
        stats.refreshes
    );
    assert_eq!(stats.reuse_attempts, 0, "a refresh token was used twice");
    assert_eq!(client.metrics().token_refreshes, stats.refreshes);
    // Every rotation reached the store, in the order issued: each saved
    // set is newer than the one before and carries a new refresh token.
    let saved = store.saved.lock().unwrap().clone();
    assert_eq!(saved.len() as u64, stats.refreshes);
    let mut previous = first;
    for set in &saved {
        assert!(set.issued_at() >= previous.issued_at());
        assert_ne!(set.expose_refresh_token(), previous.expose_refresh_token());
        assert_ne!(
            set.access_token().expose(),
            previous.access_token().expose()
        );
        previous = set.clone();
    }
    assert!(
        store.inner.current().unwrap().same_tokens_as(&previous),
        "the store does not hold the last rotation"
    );
}

trait SameTokens {
    fn same_tokens_as(&self, other: &TokenSet) -> bool;
}

impl SameTokens for TokenSet {
    fn same_tokens_as(&self, other: &TokenSet) -> bool {
        self.access_token().expose() == other.access_token().expose()
            && self.expose_refresh_token() == other.expose_refresh_token()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_requests_at_expiry_make_one_refresh() {
    let sim = simulator(Duration::from_secs(3600), |_| {}).await;
    let app = app(&sim);
    let tokens = login(&sim, &app).await;
    // Due now, as far as the client knows.
    let store = Recording::holding(believed(&tokens, Duration::ZERO));
    let client = client(&sim, app, store.clone());
    let calls: Vec<_> = (0..64)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.list_locations().send().await })
        })
        .collect();
    for call in calls {
        call.await.unwrap().unwrap();
    }
    assert_eq!(sim.stats().oauth.refreshes, 1);
    assert_eq!(store.saves.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_401_refreshes_once_and_replays_even_a_command() {
    let sim = simulator(Duration::from_secs(1), |_| {}).await;
    let app = app(&sim);
    let tokens = login(&sim, &app).await;
    // The client believes the token good for an hour; the server expires
    // it after a second.
    let client = client(
        &sim,
        app,
        Recording::holding(believed(&tokens, Duration::from_secs(3600))),
    );
    tokio::time::sleep(Duration::from_millis(1_300)).await;
    let device = sim.with_home(|home| {
        let switch = home.devices.values().find(|d| d.has_capability("switch"));
        switch.unwrap().id().to_owned()
    });
    let result = client
        .execute(&device, [smartthings_ext::Command::switch_on()])
        .await;
    assert!(result.is_ok(), "{result:?}");
    let metrics = client.metrics();
    assert_eq!((metrics.auth_replays, metrics.token_refreshes), (1, 1));
    assert_eq!(sim.stats().oauth.expired_token_rejections, 1);
    assert_eq!(sim.commands().len(), 1, "the command ran once");
}

#[tokio::test]
async fn a_server_that_always_answers_401_gets_one_replay_not_a_loop() {
    let server = httpmock::MockServer::start_async().await;
    let token = server
        .mock_async(|when, then| {
            when.method("POST").path("/oauth/token");
            then.status(200).json_body(serde_json::json!({
                "access_token": "a2", "token_type": "bearer", "refresh_token": "r2",
                "expires_in": 86399, "scope": "r:locations:*"
            }));
        })
        .await;
    let api = server
        .mock_async(|when, then| {
            when.method("GET").path("/v1/locations");
            then.status(401).json_body(serde_json::json!({
                "requestId": "q", "error": {"code": "UnauthorizedError", "message": "no"}
            }));
        })
        .await;
    let store = Recording::holding(TokenSet::new("a1", "r1", Duration::from_secs(3600)));
    let client = SmartThings::builder()
        .base_url(server.url("/v1"))
        .oauth(
            OAuthApp::new("id", "secret").token_url(server.url("/oauth/token")),
            store,
        )
        .build()
        .unwrap();
    let error = client.list_locations().send().await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unauthorized);
    assert_eq!(error.attempts(), 2);
    assert_eq!((api.calls_async().await, token.calls_async().await), (2, 1));
}

#[tokio::test]
async fn a_spent_refresh_token_is_terminal_and_not_retried() {
    let sim = simulator(Duration::from_secs(3600), |config| {
        config.oauth.revoke_family_on_reuse = false;
    })
    .await;
    let app = app(&sim);
    let stale = login(&sim, &app).await;
    // Someone else (a stale copy of the profile) already rotated it.
    let fresh = client(
        &sim,
        app.clone(),
        MemoryStore::new(believed(&stale, Duration::ZERO)),
    );
    fresh.list_locations().send().await.unwrap();
    let client = client(
        &sim,
        app,
        MemoryStore::new(believed(&stale, Duration::ZERO)),
    );
    let error = client.list_locations().send().await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Reauthorize, "{error}");
    assert!(error.to_string().contains("invalid_grant"), "{error}");
    assert!(error.to_string().contains(&sim.token_url()), "{error}");
    assert_eq!(error.attempts(), 1, "invalid_grant was retried");
    let stats = sim.stats().oauth;
    assert_eq!((stats.refreshes, stats.reuse_attempts), (1, 1));
}

#[tokio::test]
async fn a_token_endpoint_down_past_the_deadline_is_a_typed_error_naming_it() {
    let mut faults = FaultPlan::none();
    let mut down = FaultRates::default();
    down.set("server-error", 1.0).unwrap();
    faults.per_operation.insert("oauthToken".into(), down);
    let sim = simulator(Duration::from_secs(3600), |config| config.faults = faults).await;
    let app = app(&sim);
    let tokens = TokenSet::new("a", "r", Duration::ZERO);
    let client = SmartThings::builder()
        .base_url(sim.base_url())
        .oauth(app, MemoryStore::new(tokens))
        .retry(
            RetryPolicy::default()
                .deadline(Duration::from_secs(2))
                .backoff(Duration::from_millis(50), Duration::from_millis(400)),
        )
        .build()
        .unwrap();
    let started = Instant::now();
    let error = client.list_locations().send().await.unwrap_err();
    let took = started.elapsed();
    assert_eq!(error.kind(), ErrorKind::Server, "{error}");
    assert!(error.to_string().contains(&sim.token_url()), "{error}");
    assert!(error.attempts() > 1, "not retried: {error}");
    assert!(took < Duration::from_secs(4), "took {took:?}");
    let served = sim
        .stats()
        .by_operation
        .get("oauthToken")
        .copied()
        .unwrap_or(0);
    assert!(served > 1, "{served} token requests");
    // Nothing reached the API without a token.
    assert_eq!(sim.stats().by_operation.get("listLocations"), None);

    // No server at all: refused connections, same bound.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let client = SmartThings::builder()
        .base_url(sim.base_url())
        .oauth(
            OAuthApp::new("id", "secret").token_url(format!("http://{closed}/oauth/token")),
            MemoryStore::new(TokenSet::new("a", "r", Duration::ZERO)),
        )
        .retry(RetryPolicy::default().deadline(Duration::from_secs(1)))
        .build()
        .unwrap();
    let started = Instant::now();
    let error = client.list_locations().send().await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Transport, "{error}");
    assert!(error.to_string().contains(&closed.to_string()), "{error}");
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn a_failed_save_is_an_error_and_the_rotated_tokens_are_not_lost() {
    let sim = simulator(Duration::from_secs(3600), |_| {}).await;
    let app = app(&sim);
    let tokens = login(&sim, &app).await;
    let store = Recording::holding(believed(&tokens, Duration::ZERO));
    store.failing.store(true, Ordering::SeqCst);
    let client = client(&sim, app, store.clone());
    let error = client.list_locations().send().await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::TokenStore, "{error}");
    assert!(error.to_string().contains("disk full"), "{error}");
    assert_eq!(sim.stats().by_operation.get("listLocations"), None);
    // The store works again: the kept tokens are saved, not refreshed anew.
    store.failing.store(false, Ordering::SeqCst);
    client.list_locations().send().await.unwrap();
    assert_eq!(sim.stats().oauth.refreshes, 1);
    assert_eq!(store.saved.lock().unwrap().len(), 1);
    assert_eq!(sim.stats().oauth.reuse_attempts, 0);
}

/// Two stores on one file lock the same lock file, as two processes do
/// (`flock` locks belong to each open file, not to the process).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_clients_on_one_file_store_make_one_refresh() {
    let sim = simulator(Duration::from_secs(3600), |_| {}).await;
    let app = app(&sim);
    let tokens = login(&sim, &app).await;
    let dir = std::env::temp_dir().join(format!("st-oauth-{}", std::process::id()));
    let path = dir.join("session.json");
    FileStore::new(&path)
        .save(&believed(&tokens, Duration::ZERO))
        .await
        .unwrap();
    let first = client(&sim, app.clone(), FileStore::new(&path));
    let second = client(&sim, app, FileStore::new(&path));
    let (a, b) = tokio::join!(
        first.list_locations().send(),
        second.list_locations().send()
    );
    a.unwrap();
    b.unwrap();
    let stats = sim.stats().oauth;
    assert_eq!((stats.refreshes, stats.reuse_attempts), (1, 0));
    let _ = std::fs::remove_dir_all(dir);
}
