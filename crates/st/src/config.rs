//! Named profiles in the platform's config directory, readable by the owner
//! only.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

/// One profile: a token and, optionally, another API root.
#[derive(Clone, Default, Deserialize, Serialize)]
pub struct Profile {
    pub token: Option<String>,
    pub base_url: Option<String>,
}

impl std::fmt::Debug for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Profile")
            .field("token", &self.token.as_ref().map(|_| "<set>"))
            .field("base_url", &self.base_url)
            .finish()
    }
}

#[derive(Debug, Default, Deserialize, Serialize)]
pub struct ConfigFile {
    #[serde(default)]
    pub profiles: BTreeMap<String, Profile>,
}

/// `$ST_CONFIG`, else `<config dir>/smartthings-rs/config.yaml`.
pub fn path() -> Result<PathBuf> {
    if let Some(path) = std::env::var_os("ST_CONFIG") {
        return Ok(PathBuf::from(path));
    }
    let dir = dirs::config_dir().context("no config directory on this platform; set ST_CONFIG")?;
    Ok(dir.join("smartthings-rs").join("config.yaml"))
}

pub fn load() -> Result<ConfigFile> {
    let path = path()?;
    match std::fs::read_to_string(&path) {
        Ok(text) => serde_yaml::from_str(&text)
            .with_context(|| format!("{} is not a valid config file", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(ConfigFile::default()),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// Write the file with owner-only permissions (0600, its folder 0700).
pub fn save(config: &ConfigFile) -> Result<PathBuf> {
    let path = path()?;
    let text = serde_yaml::to_string(config)?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        // An existing file keeps its mode on open; tighten it first.
        if path.exists() {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
        }
    }
    let mut file = options
        .open(&path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.write_all(text.as_bytes())?;
    Ok(path)
}

/// Store the token read from `input` in `profile`.
pub fn set_token(profile: &str, input: &str, base_url: Option<String>) -> Result<PathBuf> {
    let token = input.lines().next().unwrap_or_default().trim().to_owned();
    if token.is_empty() {
        bail!(
            "no token on standard input: pipe it in, e.g. `echo \"$TOKEN\" | st config set-token`"
        );
    }
    let mut config = load()?;
    let entry = config.profiles.entry(profile.to_owned()).or_default();
    entry.token = Some(token);
    if base_url.is_some() {
        entry.base_url = base_url;
    }
    save(&config)
}
