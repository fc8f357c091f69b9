//! The simulator's OAuth 2 on the wire: the authorize redirect, code
//! exchange, rotating refresh tokens, reuse, expiry, client authentication
//! and faults on the token endpoint.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;
use smartthings_sim::{
    Config, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, FaultPlan, FaultRates, Home, OAuthConfig,
    Simulator,
};

const REDIRECT: &str = "https://app.example/callback?from=sim";
const SCOPE: &str = "r:devices:* x:devices:*";

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn form(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// `POST /oauth/token` with the simulator's client in the Basic header.
async fn token_request(sim: &Simulator, pairs: &[(&str, &str)]) -> reqwest::Response {
    let (id, secret) = sim.oauth_client();
    token_request_as(sim, Some((id, secret)), pairs).await
}

async fn token_request_as(
    sim: &Simulator,
    client: Option<(&str, &str)>,
    pairs: &[(&str, &str)],
) -> reqwest::Response {
    let request = http()
        .post(sim.token_url())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(pairs));
    let request = match client {
        Some((id, secret)) => request.basic_auth(id, Some(secret)),
        None => request,
    };
    request.send().await.unwrap()
}

/// A token answer: its status and JSON body.
async fn token(sim: &Simulator, pairs: &[(&str, &str)]) -> (StatusCode, Value) {
    let response = token_request(sim, pairs).await;
    (response.status(), response.json().await.unwrap())
}

async fn exchange(sim: &Simulator, code: &str) -> (StatusCode, Value) {
    token(
        sim,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("client_id", sim.oauth_client().0),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await
}

async fn refresh(sim: &Simulator, refresh_token: &str) -> (StatusCode, Value) {
    token(
        sim,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", sim.oauth_client().0),
            ("refresh_token", refresh_token),
        ],
    )
    .await
}

/// A fresh token pair by the in-process authorize step.
async fn login(sim: &Simulator) -> Value {
    let code = sim
        .authorize(sim.oauth_client().0, REDIRECT, SCOPE)
        .unwrap();
    let (status, body) = exchange(sim, &code).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

fn text<'v>(body: &'v Value, field: &str) -> &'v str {
    body[field]
        .as_str()
        .unwrap_or_else(|| panic!("{field} in {body}"))
}

/// `GET /v1/devices` with `token`: the status and JSON body.
async fn devices(sim: &Simulator, token: &str) -> (StatusCode, Value) {
    let response = http()
        .get(format!("{}/devices", sim.base_url()))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

fn with_oauth(oauth: OAuthConfig) -> Config {
    Config {
        oauth,
        ..Config::default()
    }
}

async fn start(config: Config) -> Simulator {
    Simulator::start(Home::demo(), config).await.unwrap()
}

#[tokio::test]
async fn the_browser_flow_ends_with_a_token_that_reads_the_api() {
    let sim = start(Config::default()).await;
    assert_eq!(
        sim.oauth_client(),
        (DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)
    );
    let mut authorize = url::Url::parse(&sim.authorize_url()).unwrap();
    authorize
        .query_pairs_mut()
        .append_pair("client_id", DEFAULT_CLIENT_ID)
        .append_pair("response_type", "code")
        .append_pair("redirect_uri", REDIRECT)
        .append_pair("scope", SCOPE)
        .append_pair("state", "a b&c");
    let response = http().get(authorize.as_str()).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    let location = url::Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
    assert_eq!(location.host_str(), Some("app.example"));
    assert_eq!(location.path(), "/callback");
    let query: HashMap<_, _> = location.query_pairs().into_owned().collect();
    assert_eq!(query["from"], "sim", "the redirect's own query is kept");
    assert_eq!(query["state"], "a b&c");
    let code = &query["code"];

    let (status, body) = exchange(&sim, code).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 86_399);
    assert_eq!(body["scope"], SCOPE);
    assert_eq!(body["access_tier"], 0);
    let app = text(&body, "installed_app_id");
    assert_eq!(app.len(), 36, "uuid-like: {app}");
    let access = text(&body, "access_token");
    let refresh_token = text(&body, "refresh_token");
    assert_ne!(access, refresh_token);
    assert_ne!(access, sim.token());

    let (status, page) = devices(&sim, access).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(!page["items"].as_array().unwrap().is_empty());

    let stats = sim.stats();
    assert_eq!(stats.oauth.authorizations, 1);
    assert_eq!(stats.oauth.code_exchanges, 1);
    assert_eq!(stats.oauth.access_tokens_issued, 1);
    assert_eq!(stats.oauth.active_sessions, 1);
    assert_eq!(stats.oauth.token_errors, 0);
    assert_eq!(stats.by_operation["oauthAuthorize"], 1);
    assert_eq!(stats.by_operation["oauthToken"], 1);
    assert_eq!(stats.by_operation["listDevices"], 1);
    // The same counters over HTTP.
    let over_http: Value = http()
        .get(format!("{}/__sim/stats", sim.origin()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(over_http["oauth"]["code_exchanges"], 1);
    assert_eq!(over_http["oauth"]["active_sessions"], 1);
}

#[tokio::test]
async fn the_authorize_endpoint_refuses_what_it_cannot_redirect_and_redirects_the_rest() {
    let sim = start(Config::default()).await;
    let authorize = |pairs: &[(&str, &str)]| {
        let url = format!("{}?{}", sim.authorize_url(), form(pairs));
        async move { http().get(url).send().await.unwrap() }
    };
    let unknown = authorize(&[
        ("client_id", "stranger"),
        ("response_type", "code"),
        ("redirect_uri", REDIRECT),
    ])
    .await;
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        unknown.json::<Value>().await.unwrap()["error"],
        "invalid_client"
    );
    let no_redirect =
        authorize(&[("client_id", DEFAULT_CLIENT_ID), ("response_type", "code")]).await;
    assert_eq!(no_redirect.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        no_redirect.json::<Value>().await.unwrap()["error"],
        "invalid_request"
    );
    let implicit = authorize(&[
        ("client_id", DEFAULT_CLIENT_ID),
        ("response_type", "token"),
        ("redirect_uri", REDIRECT),
        ("state", "s1"),
    ])
    .await;
    assert_eq!(implicit.status(), StatusCode::FOUND);
    let location = url::Url::parse(implicit.headers()["location"].to_str().unwrap()).unwrap();
    let query: HashMap<_, _> = location.query_pairs().into_owned().collect();
    assert_eq!(query["error"], "unsupported_response_type");
    assert_eq!(query["state"], "s1");
    assert!(!query.contains_key("code"));
    assert_eq!(sim.stats().oauth.authorizations, 0);
    assert!(sim.authorize("stranger", REDIRECT, SCOPE).is_err());
    assert!(
        sim.authorize(DEFAULT_CLIENT_ID, "not a url", SCOPE)
            .is_err()
    );
}

#[tokio::test]
async fn a_refresh_rotates_and_a_reused_refresh_token_revokes_the_family() {
    let sim = start(Config::default()).await;
    let first = login(&sim).await;
    let (status, second) = refresh(&sim, text(&first, "refresh_token")).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    assert_ne!(second["access_token"], first["access_token"]);
    assert_ne!(second["refresh_token"], first["refresh_token"]);
    assert_eq!(second["installed_app_id"], first["installed_app_id"]);
    assert_eq!(second["scope"], SCOPE);
    // The previous access token lives until its own expiry.
    assert_eq!(
        devices(&sim, text(&first, "access_token")).await.0,
        StatusCode::OK
    );
    assert_eq!(
        devices(&sim, text(&second, "access_token")).await.0,
        StatusCode::OK
    );

    let (status, reused) = refresh(&sim, text(&first, "refresh_token")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(reused["error"], "invalid_grant");
    assert!(
        text(&reused, "error_description").contains("already used"),
        "{reused}"
    );

    let (status, body) = devices(&sim, text(&second, "access_token")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "UnauthorizedError");
    assert_eq!(
        devices(&sim, text(&first, "access_token")).await.0,
        StatusCode::UNAUTHORIZED
    );
    let (status, newest) = refresh(&sim, text(&second, "refresh_token")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(newest["error"], "invalid_grant");

    let stats = sim.stats().oauth;
    assert_eq!(stats.refreshes, 1);
    assert_eq!(stats.reuse_attempts, 1);
    assert_eq!(stats.access_tokens_issued, 2);
    assert_eq!(stats.active_sessions, 0);
    assert_eq!(stats.token_errors, 2);
    // Revocation is not expiry.
    assert_eq!(stats.expired_token_rejections, 0);
    // Static tokens are untouched by any of it.
    assert_eq!(devices(&sim, sim.token()).await.0, StatusCode::OK);
}

#[tokio::test]
async fn without_family_revocation_a_reuse_is_only_refused() {
    let sim = start(with_oauth(OAuthConfig {
        revoke_family_on_reuse: false,
        ..OAuthConfig::default()
    }))
    .await;
    let first = login(&sim).await;
    let (_, second) = refresh(&sim, text(&first, "refresh_token")).await;
    let (status, reused) = refresh(&sim, text(&first, "refresh_token")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(reused["error"], "invalid_grant");
    assert_eq!(
        devices(&sim, text(&second, "access_token")).await.0,
        StatusCode::OK
    );
    let (status, third) = refresh(&sim, text(&second, "refresh_token")).await;
    assert_eq!(status, StatusCode::OK, "{third}");
    assert_eq!(
        devices(&sim, text(&third, "access_token")).await.0,
        StatusCode::OK
    );
    let stats = sim.stats().oauth;
    assert_eq!(stats.reuse_attempts, 1);
    assert_eq!(stats.refreshes, 2);
    assert_eq!(stats.active_sessions, 1);
}

#[tokio::test]
async fn an_access_token_expires_after_its_lifetime_scaled_by_the_time_scale() {
    let sim = start(with_oauth(OAuthConfig {
        access_token_lifetime: Duration::from_secs(1),
        ..OAuthConfig::default()
    }))
    .await;
    let pair = login(&sim).await;
    assert_eq!(pair["expires_in"], 1);
    let access = text(&pair, "access_token");
    assert_eq!(devices(&sim, access).await.0, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let (status, body) = devices(&sim, access).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "UnauthorizedError");
    assert_eq!(body["error"]["message"], "The token is invalid or expired.");
    assert!(body["requestId"].is_string(), "{body}");
    assert_eq!(sim.stats().oauth.expired_token_rejections, 1);
    // The refresh token outlives it and brings a working one.
    let (status, next) = refresh(&sim, text(&pair, "refresh_token")).await;
    assert_eq!(status, StatusCode::OK, "{next}");
    assert_eq!(
        devices(&sim, text(&next, "access_token")).await.0,
        StatusCode::OK
    );

    let scaled = start(Config {
        time_scale: 10.0,
        ..with_oauth(OAuthConfig {
            access_token_lifetime: Duration::from_secs(20),
            ..OAuthConfig::default()
        })
    })
    .await;
    assert_eq!(login(&scaled).await["expires_in"], 2);
}

#[tokio::test]
async fn the_token_endpoint_authenticates_the_client() {
    let sim = start(Config::default()).await;
    let code = sim.authorize(DEFAULT_CLIENT_ID, REDIRECT, SCOPE).unwrap();
    let exchange_pairs = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
    ];
    let refused = [
        token_request_as(&sim, Some((DEFAULT_CLIENT_ID, "wrong")), &exchange_pairs).await,
        token_request_as(&sim, None, &exchange_pairs).await,
        token_request_as(
            &sim,
            Some(("stranger", DEFAULT_CLIENT_SECRET)),
            &exchange_pairs,
        )
        .await,
        token_request(
            &sim,
            &[&exchange_pairs[..], &[("client_id", "someone-else")]].concat(),
        )
        .await,
    ];
    for response in refused {
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert!(response.headers().contains_key("www-authenticate"));
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], "invalid_client", "{body}");
    }
    // None of it spent the code.
    let (status, body) = token(&sim, &exchange_pairs).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(sim.stats().oauth.token_errors, 4);

    // A second registered client is accepted with its own secret.
    let two = start(with_oauth(OAuthConfig {
        clients: vec![("a".into(), "1".into()), ("b".into(), "2".into())],
        ..OAuthConfig::default()
    }))
    .await;
    let code = two.authorize("b", REDIRECT, "").unwrap();
    let pairs = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
    ];
    let response = token_request_as(&two, Some(("b", "2")), &pairs).await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn codes_are_single_use_and_bound_to_their_redirect() {
    let sim = start(Config::default()).await;
    let code = sim.authorize(DEFAULT_CLIENT_ID, REDIRECT, SCOPE).unwrap();
    let (status, body) = token(
        &sim,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "https://app.example/elsewhere"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");
    assert_eq!(exchange(&sim, &code).await.0, StatusCode::OK);
    let (status, again) = exchange(&sim, &code).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(again["error"], "invalid_grant");
    let (status, unknown) = exchange(&sim, "sac-0-made-up").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(unknown["error"], "invalid_grant");

    // Malformed requests are told which part is wrong.
    for (pairs, error) in [
        (&[("code", code.as_str())][..], "invalid_request"),
        (
            &[
                ("grant_type", "authorization_code"),
                ("redirect_uri", REDIRECT),
            ][..],
            "invalid_request",
        ),
        (&[("grant_type", "refresh_token")][..], "invalid_request"),
        (&[("grant_type", "password")][..], "unsupported_grant_type"),
    ] {
        let (status, body) = token(&sim, pairs).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{pairs:?}");
        assert_eq!(body["error"], error, "{pairs:?}");
    }
    let stats = sim.stats().oauth;
    assert_eq!(stats.code_exchanges, 1);
    assert_eq!(stats.token_errors, 7);
}

#[tokio::test]
async fn faults_reach_the_token_endpoint_by_its_operation_id() {
    let mut rates = FaultRates::default();
    rates.set("server_error", 1.0).unwrap();
    let sim = start(Config {
        faults: FaultPlan {
            seed: 3,
            per_operation: HashMap::from([("oauthToken".to_owned(), rates)]),
            ..FaultPlan::default()
        },
        ..Config::default()
    })
    .await;
    let code = sim.authorize(DEFAULT_CLIENT_ID, REDIRECT, SCOPE).unwrap();
    let response = token_request(
        &sim,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await;
    assert!(response.status().is_server_error(), "{}", response.status());
    let last = sim.log().pop().unwrap();
    assert_eq!(last.operation, "oauthToken");
    assert!(
        last.fault.as_deref().unwrap().starts_with("ServerError"),
        "{last:?}"
    );
    assert_eq!(last.status, response.status().as_u16());
    // The fault came before the grant: nothing was issued.
    assert_eq!(sim.stats().oauth.code_exchanges, 0);
    assert_eq!(sim.stats().oauth.token_errors, 0);
    // The API is not under that operation's plan.
    assert_eq!(devices(&sim, sim.token()).await.0, StatusCode::OK);
    assert_eq!(sim.log().pop().unwrap().fault, None);

    // A dropped token request closes the connection; latency delays it.
    let mut rates = FaultRates::default();
    rates.set("drop", 1.0).unwrap();
    let dropping = start(Config {
        faults: FaultPlan {
            per_operation: HashMap::from([("oauthToken".to_owned(), rates)]),
            ..FaultPlan::default()
        },
        ..Config::default()
    })
    .await;
    let sent = http()
        .post(dropping.token_url())
        .body(form(&[("grant_type", "refresh_token")]))
        .send()
        .await;
    assert!(sent.is_err());
    assert_eq!(dropping.log().pop().unwrap().status, 0);

    let slow = start(Config {
        faults: FaultPlan {
            per_operation: HashMap::from([(
                "oauthToken".to_owned(),
                FaultRates {
                    latency: Duration::from_millis(300),
                    ..FaultRates::default()
                },
            )]),
            ..FaultPlan::default()
        },
        ..Config::default()
    })
    .await;
    let started = std::time::Instant::now();
    login(&slow).await;
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn the_tokens_of_one_authorization_share_their_rate_limit() {
    let sim = start(Config::default()).await;
    let first = login(&sim).await;
    let (_, second) = refresh(&sim, text(&first, "refresh_token")).await;
    let remaining = |response: &reqwest::Response| -> u32 {
        response.headers()["x-ratelimit-remaining"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap()
    };
    let get = |token: String| {
        let url = format!("{}/devices", sim.base_url());
        async move { http().get(url).bearer_auth(token).send().await.unwrap() }
    };
    let before = remaining(&get(text(&first, "access_token").to_owned()).await);
    let after = remaining(&get(text(&second, "access_token").to_owned()).await);
    assert_eq!(
        after,
        before - 1,
        "a rotated token continues the same window"
    );
    let other = login(&sim).await;
    let fresh = remaining(&get(text(&other, "access_token").to_owned()).await);
    assert_eq!(fresh, before, "another authorization has its own window");
    let static_token = remaining(&get(sim.token().to_owned()).await);
    assert_eq!(static_token, before);
}

/// The binary's OAuth flags: its own client, a short lifetime and reuse
/// without revocation.
#[tokio::test]
async fn the_binary_takes_its_oauth_flags() {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_smartthings-sim"))
        .args([
            "--oauth-client",
            "my-app:my-secret",
            "--access-token-lifetime",
            "30",
            "--time-scale",
            "10",
            "--keep-family-on-reuse",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = HashMap::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some((key, value)) = line.trim().split_once(':') {
            printed.insert(key.trim().to_owned(), value.trim().to_owned());
        }
        if printed.contains_key("OAuth authorize") {
            break;
        }
    }
    assert!(printed["OAuth client"].starts_with("my-app"), "{printed:?}");
    let token_url = &printed["OAuth token"];
    let authorize_url = &printed["OAuth authorize"];
    assert!(token_url.ends_with("/oauth/token"));

    let http = http();
    let query = form(&[
        ("client_id", "my-app"),
        ("response_type", "code"),
        ("redirect_uri", REDIRECT),
    ]);
    let redirect = http
        .get(format!("{authorize_url}?{query}"))
        .send()
        .await
        .unwrap();
    let location = url::Url::parse(redirect.headers()["location"].to_str().unwrap()).unwrap();
    let code = location
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let post = |pairs: &[(&str, &str)]| {
        let request = http
            .post(token_url)
            .basic_auth("my-app", Some("my-secret"))
            .body(form(pairs));
        async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let first = post(&[
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("redirect_uri", REDIRECT),
    ])
    .await;
    assert_eq!(first["expires_in"], 3, "{first}");
    let refresh = |token: &Value| {
        let token = token.as_str().unwrap().to_owned();
        post(&[("grant_type", "refresh_token"), ("refresh_token", &token)])
    };
    let second = refresh(&first["refresh_token"]).await;
    assert!(second["access_token"].is_string(), "{second}");
    assert_eq!(
        refresh(&first["refresh_token"]).await["error"],
        "invalid_grant"
    );
    // Kept, not revoked.
    let third = refresh(&second["refresh_token"]).await;
    assert!(third["access_token"].is_string(), "{third}");
    child.kill().unwrap();
    child.wait().unwrap();

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_smartthings-sim"))
        .args(["--oauth-client", "no-secret"])
        .output()
        .unwrap();
    assert!(!out.status.success());
}
