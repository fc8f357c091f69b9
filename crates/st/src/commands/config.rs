//! `st config`: the profiles file.

use std::io::Read;

use anyhow::Result;

use crate::cli::ConfigAction;
use crate::config;

pub(super) fn run(profile: &str, action: &ConfigAction) -> Result<()> {
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
                crate::output::line(format!(
                    "{name}: token {}, base URL {}",
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
