//! `st config`: the profiles file.

use std::io::Read;

use anyhow::Result;
use smartthings_ext::{FileStore, TokenStore};

use crate::cli::ConfigAction;
use crate::config;

pub(super) async fn run(profile: &str, action: &ConfigAction) -> Result<()> {
    match action {
        ConfigAction::SetToken { base_url } => {
            let mut input = String::new();
            std::io::stdin().read_to_string(&mut input)?;
            let path = config::set_token(profile, &input, base_url.clone())?;
            eprintln!(
                "stored the token of profile {profile:?} in {} (mode 0600)",
                path.display()
            );
        }
        ConfigAction::Show => {
            let file = config::load()?;
            for (name, p) in &file.profiles {
                let session = match &p.oauth {
                    Some(oauth) => oauth_summary(name, &oauth.client_id).await?,
                    None => String::new(),
                };
                crate::output::line(format!(
                    "{name}: token {}, base URL {}{session}",
                    if p.token.is_some() {
                        "<set>"
                    } else {
                        "<unset>"
                    },
                    p.base_url
                        .as_deref()
                        .unwrap_or(smartthings_ext::DEFAULT_BASE_URL)
                ))?;
            }
        }
        ConfigAction::Path => crate::output::line(config::path()?.display())?,
    }
    Ok(())
}

/// The OAuth app and its session, without a secret: client id, scopes and
/// expiry.
async fn oauth_summary(profile: &str, client_id: &str) -> Result<String> {
    let store = FileStore::new(config::session_path(profile)?);
    Ok(match store.load().await {
        Ok(Some(tokens)) => format!(
            ", OAuth app {client_id}: logged in, scopes {}, {}",
            tokens.scopes().join(" "),
            super::login::expiry(&tokens)
        ),
        Ok(None) => format!(", OAuth app {client_id}: logged out"),
        Err(error) => format!(", OAuth app {client_id}: session unreadable ({error})"),
    })
}
