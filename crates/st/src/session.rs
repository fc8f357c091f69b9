//! The client a command runs with: the embedded simulator for `--demo`,
//! otherwise the token and base URL from the flags, the environment or the
//! profile.

use anyhow::{Context, Result};
use smartthings_ext::{SmartThings, Token};
use smartthings_sim::{Home, Simulator};

use crate::cli::{Cli, Format};
use crate::config;

/// A connected client, and the simulator behind it for `--demo`.
pub struct Session {
    pub client: SmartThings,
    pub format: Format,
    _simulator: Option<Simulator>,
}

pub async fn connect(cli: &Cli) -> Result<Session> {
    let global = &cli.global;
    let format = crate::output::format(global);
    if global.demo {
        let simulator = Simulator::start(Home::demo(), smartthings_sim::Config::default()).await?;
        let client = SmartThings::builder()
            .token(simulator.token())
            .base_url(simulator.base_url())
            .build()?;
        return Ok(Session {
            client,
            format,
            _simulator: Some(simulator),
        });
    }
    let profile = config::load()?
        .profiles
        .remove(&global.profile)
        .unwrap_or_default();
    let token = global
        .token
        .clone()
        .or(profile.token)
        .map(Token::new)
        .context("no token: pass --token, set SMARTTHINGS_TOKEN, or store one with `st config set-token` (or try --demo)")?;
    let mut builder = SmartThings::builder().token_value(token);
    if let Some(base) = global.base_url.clone().or(profile.base_url) {
        builder = builder.base_url(base);
    }
    Ok(Session {
        client: builder.build()?,
        format,
        _simulator: None,
    })
}
