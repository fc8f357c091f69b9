//! `st login` and `st logout`: the OAuth authorization-code flow, and the
//! session file every other command refreshes.

use std::io::BufRead;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result, bail};
use axum::extract::{RawQuery, State};
use axum::response::Html;
use smartthings_ext::{AuthorizationRequest, FileStore, RetryPolicy, TokenSet, TokenStore};
use tokio::sync::mpsc;
use url::Url;

use super::UsageError;
use crate::cli::{Global, LoginArgs};
use crate::config::{self, OAuthProfile};

/// Where the browser is sent back when the app's registered redirect URI is
/// not given: a loopback address this command listens on.
const DEFAULT_REDIRECT_URI: &str = "http://127.0.0.1:8765/callback";

/// What `st` can do, as SmartThings names it.
const DEFAULT_SCOPES: [&str; 10] = [
    "r:devices:*",
    "x:devices:*",
    "r:locations:*",
    "w:locations:*",
    "x:locations:*",
    "r:scenes:*",
    "x:scenes:*",
    "r:rules:*",
    "w:rules:*",
    "sse",
];

pub(super) async fn login(global: &Global, args: &LoginArgs) -> Result<()> {
    let profile_name = global.profile.as_str();
    let mut file = config::load()?;
    let stored = file
        .profiles
        .get(profile_name)
        .and_then(|p| p.oauth.clone())
        .unwrap_or_default();
    let pick = |flag: &Option<String>, stored: &Option<String>| flag.clone().or(stored.clone());
    let oauth = OAuthProfile {
        client_id: args
            .client_id
            .clone()
            .or(Some(stored.client_id.clone()).filter(|s| !s.is_empty()))
            .ok_or_else(|| usage("no client id: pass --client-id or set SMARTTHINGS_CLIENT_ID"))?,
        client_secret: args
            .client_secret
            .clone()
            .or(Some(stored.client_secret.clone()).filter(|s| !s.is_empty()))
            .ok_or_else(|| {
                usage("no client secret: pass --client-secret or set SMARTTHINGS_CLIENT_SECRET")
            })?,
        redirect_uri: pick(&args.redirect_uri, &stored.redirect_uri)
            .or(Some(DEFAULT_REDIRECT_URI.to_owned())),
        scopes: if !args.scopes.is_empty() {
            args.scopes.clone()
        } else if !stored.scopes.is_empty() {
            stored.scopes.clone()
        } else {
            DEFAULT_SCOPES.map(str::to_owned).to_vec()
        },
        token_url: pick(&args.token_url, &stored.token_url),
        authorize_url: pick(&args.authorize_url, &stored.authorize_url),
    };
    let app = oauth.app();
    let redirect = oauth.redirect_uri.clone().unwrap_or_default();
    let request = app.authorization_request()?;
    let code = match loopback(&redirect)? {
        Some(addr) => receive(&request, &redirect, addr, args).await?,
        None => paste(&request, args)?,
    };
    let tokens = app
        .exchange_code(&http()?, &code, &RetryPolicy::default())
        .await?;
    let store = FileStore::new(config::session_path(profile_name)?);
    store
        .save(&tokens)
        .await
        .map_err(|e| anyhow::anyhow!("the session could not be saved: {e}"))?;
    let profile = file.profiles.entry(profile_name.to_owned()).or_default();
    profile.oauth = Some(oauth);
    if global.base_url.is_some() {
        profile.base_url = global.base_url.clone();
    }
    let path = config::save(&file)?;
    eprintln!(
        "logged in: profile {profile_name:?}, scopes {}, {}; session in {} (mode 0600), app in {}",
        tokens.scopes().join(" "),
        expiry(&tokens),
        store.path().display(),
        path.display()
    );
    Ok(())
}

pub(super) async fn logout(profile_name: &str) -> Result<()> {
    let store = FileStore::new(config::session_path(profile_name)?);
    let removed = store
        .remove()
        .await
        .map_err(|e| anyhow::anyhow!("{}: {e}", store.path().display()))?;
    if removed {
        eprintln!(
            "logged out: removed the session of profile {profile_name:?} ({})",
            store.path().display()
        );
    } else {
        eprintln!("profile {profile_name:?} had no session");
    }
    Ok(())
}

/// "expires in 23 h 59 min", or "no expiry given".
pub(super) fn expiry(tokens: &TokenSet) -> String {
    match tokens.expires_at() {
        Some(at) => match at.duration_since(SystemTime::now()) {
            Ok(left) => {
                let minutes = left.as_secs() / 60;
                format!(
                    "access token expires in {} h {} min (then refreshed)",
                    minutes / 60,
                    minutes % 60
                )
            }
            Err(_) => "access token expired (refreshed on next use)".to_owned(),
        },
        None => "no expiry given".to_owned(),
    }
}

fn usage(message: &str) -> anyhow::Error {
    UsageError(message.to_owned()).into()
}

/// The HTTP client for the code exchange: no redirects, no proxy from the
/// environment (the request carries the client secret).
fn http() -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(30))
        .build()
        .context("HTTP client")
}

/// The address to listen on, when the redirect URI is `http` on loopback.
fn loopback(redirect: &str) -> Result<Option<SocketAddr>> {
    let url =
        Url::parse(redirect).map_err(|e| usage(&format!("redirect URI {redirect:?}: {e}")))?;
    let ip = match url.host() {
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip),
        Some(url::Host::Domain("localhost")) => IpAddr::from([127, 0, 0, 1]),
        _ => return Ok(None),
    };
    if url.scheme() != "http" || !ip.is_loopback() {
        return Ok(None);
    }
    let port = url.port_or_known_default().unwrap_or(80);
    Ok(Some(SocketAddr::new(ip, port)))
}

fn show(request: &AuthorizationRequest, args: &LoginArgs) {
    eprintln!(
        "Open this URL in a browser and allow access:\n\n  {}\n",
        request.url()
    );
    if !args.no_browser {
        open_browser(request.url().as_str());
    }
}

/// Best effort: the URL is printed either way.
fn open_browser(url: &str) {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else if cfg!(windows) {
        "explorer"
    } else {
        "xdg-open"
    };
    let _ = std::process::Command::new(opener)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
}

/// Serve the redirect URI's path on loopback until a redirect with the
/// right state arrives (a wrong one is answered and ignored), or the wait
/// ends.
async fn receive(
    request: &AuthorizationRequest,
    redirect: &str,
    addr: SocketAddr,
    args: &LoginArgs,
) -> Result<String> {
    let path = Url::parse(redirect)?.path().to_owned();
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| {
        format!("cannot listen on {addr} for the redirect (is another login running?)")
    })?;
    let (sender, mut received) = mpsc::channel::<String>(8);
    let app = axum::Router::new()
        .route(
            &path,
            axum::routing::get(
                |State(sender): State<mpsc::Sender<String>>, RawQuery(query): RawQuery| async move {
                    let _ = sender.send(query.unwrap_or_default()).await;
                    Html("<html><body><p>SmartThings login received; you can close this window and return to the terminal.</p></body></html>")
                },
            ),
        )
        .with_state(sender);
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    eprintln!("Waiting for the redirect on {redirect} ...");
    show(request, args);
    let wait = tokio::time::sleep(Duration::from_secs(args.wait));
    tokio::pin!(wait);
    let code = loop {
        tokio::select! {
            query = received.recv() => {
                let Some(query) = query else { bail!("the redirect listener stopped") };
                match request.code_from_redirect(&query) {
                    Ok(code) => break code,
                    // Another tab, an old link: not this login.
                    Err(error) if error.kind() == smartthings_ext::ErrorKind::Validation => {
                        eprintln!("ignored a redirect: {error}");
                    }
                    Err(error) => return Err(error.into()),
                }
            }
            () = &mut wait => bail!("no redirect within {} s; run `st login` again", args.wait),
        }
    };
    server.abort();
    Ok(code)
}

/// The redirect URI is not ours to listen on: the user pastes the URL the
/// browser was sent to.
fn paste(request: &AuthorizationRequest, args: &LoginArgs) -> Result<String> {
    show(request, args);
    eprintln!("Then paste the URL your browser was redirected to:");
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(request.code_from_redirect(&line)?)
}
