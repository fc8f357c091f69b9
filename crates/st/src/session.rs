//! The client a command runs with: the embedded simulator for `--demo`,
//! otherwise a token from the flags or the environment, else the profile's
//! OAuth session (refreshed and saved by the library), else its token.

use anyhow::{Result, bail};
use smartthings_ext::{FileStore, SmartThings, Token};
use smartthings_sim::{Activity, Home, Simulator};

use crate::cli::{Cli, Command, DeviceAction, DevicesArgs, Format};
use crate::config;

/// A connected client, and the simulator behind it for `--demo`.
pub struct Session {
    pub client: SmartThings,
    pub format: Format,
    _simulator: Option<Simulator>,
}

/// How far back the demo home's device history goes.
const DEMO_PAST: std::time::Duration = std::time::Duration::from_secs(7 * 24 * 3600);

/// Events in the demo home's past week: one every ten minutes or so.
const DEMO_PAST_EVENTS: usize = 1_000;

pub async fn connect(cli: &Cli) -> Result<Session> {
    let global = &cli.global;
    let format = crate::output::format(global);
    if global.demo {
        let simulator = Simulator::start(Home::demo(), smartthings_sim::Config::default()).await?;
        // A week behind it, for the commands that read the history (only
        // for them: it moves status timestamps to times relative to now,
        // and every other demo answers the same from run to run).
        if matches!(
            &cli.command,
            Command::Devices(DevicesArgs {
                action: Some(DeviceAction::History { .. }),
                ..
            }) | Command::Export {
                events_since: Some(_),
                ..
            }
        ) {
            simulator.invent_past(DEMO_PAST, DEMO_PAST_EVENTS, 1);
        }
        if matches!(
            cli.command,
            Command::Events(_) | Command::Export { follow: true, .. }
        ) {
            // Something to watch: a few devices changing now and then.
            simulator.start_activity(Activity {
                devices: 3,
                events_per_second: 2.0,
                health_fraction: 0.05,
                seed: 1,
            });
        }
        let client = SmartThings::builder()
            .token(simulator.token())
            .base_url(simulator.base_url())
            .allow_stream_origin(simulator.stream_origin())
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
    let session = config::session_path(&global.profile)?;
    let mut builder = SmartThings::builder();
    builder = match (&global.token, &profile.oauth, &profile.token) {
        (Some(token), _, _) => builder.token_value(Token::new(token)),
        (None, Some(oauth), _) if session.exists() => {
            builder.oauth(oauth.app(), FileStore::new(session))
        }
        (None, _, Some(token)) => builder.token_value(Token::new(token)),
        (None, Some(_), None) => bail!(
            "profile {:?} is logged out: run `st login` (or pass --token)",
            global.profile
        ),
        (None, None, None) => bail!(
            "no token: pass --token, set SMARTTHINGS_TOKEN, log in with `st login`, or store a token with `st config set-token` (or try --demo)"
        ),
    };
    if let Some(base) = global.base_url.clone().or(profile.base_url) {
        builder = builder.base_url(base);
    }
    for origin in &global.stream_origin {
        builder = builder.allow_stream_origin(origin);
    }
    Ok(Session {
        client: builder.build()?,
        format,
        _simulator: None,
    })
}
