//! Named profiles in the platform's config directory, readable by the owner
//! only.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

/// One profile: a token or an OAuth app (whose session lives in its own
/// file, see [`session_path`]) and, optionally, another API root.
#[derive(Clone, Default, Deserialize, Serialize)]
pub struct Profile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth: Option<OAuthProfile>,
}

/// The OAuth app a profile logs in with.
#[derive(Clone, Default, Deserialize, Serialize)]
pub struct OAuthProfile {
    pub client_id: String,
    pub client_secret: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorize_url: Option<String>,
}

impl OAuthProfile {
    /// The app as the library takes it.
    pub fn app(&self) -> smartthings_ext::OAuthApp {
        let mut app = smartthings_ext::OAuthApp::new(&self.client_id, &self.client_secret)
            .scopes(self.scopes.iter().cloned());
        if let Some(uri) = &self.redirect_uri {
            app = app.redirect_uri(uri);
        }
        if let Some(url) = &self.token_url {
            app = app.token_url(url);
        }
        if let Some(url) = &self.authorize_url {
            app = app.authorize_url(url);
        }
        app
    }
}

impl std::fmt::Debug for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Profile")
            .field("token", &self.token.as_ref().map(|_| "<set>"))
            .field("base_url", &self.base_url)
            .field(
                "oauth_client_id",
                &self.oauth.as_ref().map(|o| o.client_id.as_str()),
            )
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

/// The file holding `profile`'s OAuth session: `sessions/<profile>.json`
/// beside the config file, written atomically (0600) on every refresh.
pub fn session_path(profile: &str) -> Result<PathBuf> {
    let config = path()?;
    let dir = config.parent().map(Path::to_path_buf).unwrap_or_default();
    let name: String = profile
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    Ok(dir.join("sessions").join(format!("{name}.json")))
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

/// Write the config file: owner-only (0600), atomically (a temporary file
/// in the same directory, renamed over the old one, so a crash leaves the old
/// file or the new one, never half of either). Directories it has to create
/// are made 0700; existing ones (`$HOME`, `/tmp`) are left as they are. A
/// symlink in place of the file is refused rather than followed.
pub fn save(config: &ConfigFile) -> Result<PathBuf> {
    let path = path()?;
    save_to(&path, config)?;
    Ok(path)
}

fn save_to(path: &Path, config: &ConfigFile) -> Result<()> {
    let text = serde_yaml::to_string(config)?;
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        bail!(
            "{} is a symbolic link; refusing to write a token through it (remove it or set ST_CONFIG to a regular file)",
            path.display()
        );
    }
    // A bare file name lives in the current directory.
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    create_private_dirs(&dir)?;
    let name = path
        .file_name()
        .with_context(|| format!("{} names no file", path.display()))?;
    let temporary = dir.join(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let written = write_private(&temporary, text.as_bytes())
        .and_then(|()| std::fs::rename(&temporary, path).map_err(Into::into));
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written.with_context(|| format!("cannot write {}", path.display()))
}

/// Create `dir` and the missing directories above it, each 0700; touch no
/// directory that already exists.
fn create_private_dirs(dir: &Path) -> Result<()> {
    let missing: Vec<&Path> = dir.ancestors().take_while(|d| !d.exists()).collect();
    for created in missing.into_iter().rev() {
        let mut builder = std::fs::DirBuilder::new();
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o700);
        }
        builder
            .create(created)
            .with_context(|| format!("cannot create {}", created.display()))?;
    }
    Ok(())
}

/// A new file, 0600 from its creation (never readable by others, even
/// briefly), synced to disk before it is renamed into place.
fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    Ok(())
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

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    fn config(token: &str) -> ConfigFile {
        let mut file = ConfigFile::default();
        file.profiles.insert(
            "default".into(),
            Profile {
                token: Some(token.into()),
                ..Profile::default()
            },
        );
        file
    }

    #[test]
    fn an_existing_directory_keeps_its_mode_and_new_ones_are_private() {
        let home = tempfile::tempdir().unwrap();
        std::fs::set_permissions(home.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        // The parent exists: it used to be chmodded to 0700.
        let beside = home.path().join("config.yaml");
        save_to(&beside, &config("t1")).unwrap();
        assert_eq!(mode(home.path()), 0o755);
        assert_eq!(mode(&beside), 0o600);
        // Missing directories are created private.
        let nested = home.path().join("a/b/config.yaml");
        save_to(&nested, &config("t2")).unwrap();
        assert_eq!(mode(&home.path().join("a")), 0o700);
        assert_eq!(mode(&home.path().join("a/b")), 0o700);
        assert_eq!(mode(home.path()), 0o755);
    }

    #[test]
    fn a_rewrite_is_whole_private_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.yaml");
        std::fs::write(&path, "x".repeat(10_000)).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        save_to(&path, &config("fresh")).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("fresh") && !text.contains("xxx"), "{text}");
        assert_eq!(mode(&path), 0o600);
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["config.yaml"]);
    }

    #[test]
    fn a_symlinked_config_file_is_refused_and_its_target_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("elsewhere");
        std::fs::write(&target, "keep").unwrap();
        let link = dir.path().join("config.yaml");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let error = save_to(&link, &config("t")).unwrap_err();
        assert!(error.to_string().contains("symbolic link"), "{error}");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep");
    }
}
