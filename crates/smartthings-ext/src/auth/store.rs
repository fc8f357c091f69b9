//! Where an OAuth session's tokens live between refreshes. A refresh token
//! is single-use: the store is the one place the rotated token is kept, so
//! it is written before the new access token is used, and a refresh across
//! processes happens under the store's lock.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use futures::future::BoxFuture;

use crate::auth::oauth::TokenSet;

/// What a store's failure is: anything that says why.
pub type StoreError = Box<dyn std::error::Error + Send + Sync>;

/// Held while a refresh runs; dropping it lets the next one in.
pub struct StoreLock(#[allow(dead_code, reason = "held for its Drop")] Option<Box<dyn Send>>);

impl StoreLock {
    /// A lock that excludes nobody: for stores used by one process.
    pub fn none() -> Self {
        Self(None)
    }

    /// A lock released when `guard` is dropped.
    pub fn holding(guard: impl Send + 'static) -> Self {
        Self(Some(Box::new(guard)))
    }
}

impl fmt::Debug for StoreLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StoreLock")
    }
}

/// Storage for an OAuth session's [`TokenSet`]: a file ([`FileStore`]),
/// memory ([`MemoryStore`]), or the host application's own configuration
/// store.
///
/// The client calls [`lock`](Self::lock), then [`load`](Self::load) to see
/// whether another process already rotated the tokens, then refreshes and
/// calls [`save`](Self::save) before it uses the new access token. A store
/// shared between processes must make `lock` exclusive across them.
///
/// ```
/// use futures::future::BoxFuture;
/// use smartthings_ext::{StoreError, TokenSet, TokenStore};
///
/// /// Tokens kept in the host's settings (here: a mutex around a string).
/// struct Settings(std::sync::Mutex<Option<String>>);
///
/// impl TokenStore for Settings {
///     fn load(&self) -> BoxFuture<'_, Result<Option<TokenSet>, StoreError>> {
///         Box::pin(async move {
///             let text = self.0.lock().unwrap().clone();
///             Ok(match text {
///                 Some(text) => Some(serde_json::from_str(&text)?),
///                 None => None,
///             })
///         })
///     }
///     fn save<'a>(&'a self, tokens: &'a TokenSet) -> BoxFuture<'a, Result<(), StoreError>> {
///         Box::pin(async move {
///             *self.0.lock().unwrap() = Some(serde_json::to_string(tokens)?);
///             Ok(())
///         })
///     }
/// }
/// ```
pub trait TokenStore: Send + Sync + 'static {
    /// The stored token set, if any.
    fn load(&self) -> BoxFuture<'_, Result<Option<TokenSet>, StoreError>>;

    /// Replace the stored token set. Return only once it is durable: the
    /// old refresh token is already spent.
    fn save<'a>(&'a self, tokens: &'a TokenSet) -> BoxFuture<'a, Result<(), StoreError>>;

    /// Exclusive access for one refresh, across every process sharing the
    /// store. The default excludes nobody (one process per store).
    fn lock(&self) -> BoxFuture<'_, Result<StoreLock, StoreError>> {
        Box::pin(async { Ok(StoreLock::none()) })
    }
}

/// A shared store: the application keeps a handle to read what the client
/// saved.
impl<T: TokenStore + ?Sized> TokenStore for std::sync::Arc<T> {
    fn load(&self) -> BoxFuture<'_, Result<Option<TokenSet>, StoreError>> {
        (**self).load()
    }

    fn save<'a>(&'a self, tokens: &'a TokenSet) -> BoxFuture<'a, Result<(), StoreError>> {
        (**self).save(tokens)
    }

    fn lock(&self) -> BoxFuture<'_, Result<StoreLock, StoreError>> {
        (**self).lock()
    }
}

/// Tokens in memory: for one process that gets its tokens elsewhere.
/// [`current`](Self::current) reads what the client saved last.
#[derive(Default)]
pub struct MemoryStore(Mutex<Option<TokenSet>>);

impl MemoryStore {
    /// A store holding `tokens`.
    pub fn new(tokens: TokenSet) -> Self {
        Self(Mutex::new(Some(tokens)))
    }

    /// The token set saved last.
    pub fn current(&self) -> Option<TokenSet> {
        self.0.lock().ok().and_then(|t| t.clone())
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MemoryStore")
    }
}

impl TokenStore for MemoryStore {
    fn load(&self) -> BoxFuture<'_, Result<Option<TokenSet>, StoreError>> {
        Box::pin(async move { Ok(self.current()) })
    }

    fn save<'a>(&'a self, tokens: &'a TokenSet) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            *self
                .0
                .lock()
                .map_err(|_| "the memory store's lock is poisoned")? = Some(tokens.clone());
            Ok(())
        })
    }
}

/// Tokens in a JSON file, readable by its owner only (0600), shared safely
/// by every process that opens it:
///
/// - a save writes a new file beside it, syncs it, and renames it into
///   place, so a crash or a kill at any moment leaves the old tokens or the
///   new ones, never a half-written file;
/// - [`lock`](TokenStore::lock) takes an exclusive lock on `<file>.lock`,
///   so that two processes refreshing at once make one refresh: the second
///   reads the first one's tokens instead of spending a refresh token twice.
#[derive(Clone, Debug)]
pub struct FileStore {
    path: PathBuf,
}

/// How often a waiting process tries the lock again.
const LOCK_POLL: Duration = Duration::from_millis(20);

impl FileStore {
    /// The store at `path` (created on the first save).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Delete the stored session (logging out), under the lock.
    pub async fn remove(&self) -> Result<bool, StoreError> {
        let _lock = self.lock().await?;
        match std::fs::remove_file(&self.path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    fn lock_path(&self) -> PathBuf {
        sibling(&self.path, ".lock")
    }

    fn read(&self) -> Result<Option<TokenSet>, StoreError> {
        match std::fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| format!("{} is not a token file: {e}", self.path.display()).into()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("cannot read {}: {e}", self.path.display()).into()),
        }
    }

    fn write(&self, tokens: &TokenSet) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec_pretty(tokens)?;
        if std::fs::symlink_metadata(&self.path).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(format!(
                "{} is a symbolic link; refusing to write tokens through it",
                self.path.display()
            )
            .into());
        }
        let dir = parent(&self.path);
        create_private_dirs(&dir)?;
        // Unique per process and save: two writers never share a file.
        static SAVES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let save = SAVES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let temporary = sibling(&self.path, &format!(".{}-{save}.tmp", std::process::id()));
        let written = write_private(&temporary, &bytes)
            .and_then(|()| std::fs::rename(&temporary, &self.path));
        if let Err(e) = written {
            let _ = std::fs::remove_file(&temporary);
            return Err(format!("cannot write {}: {e}", self.path.display()).into());
        }
        // The rename is durable once the directory is.
        if let Ok(dir) = File::open(&dir) {
            let _ = dir.sync_all();
        }
        Ok(())
    }
}

impl TokenStore for FileStore {
    fn load(&self) -> BoxFuture<'_, Result<Option<TokenSet>, StoreError>> {
        Box::pin(async move { self.read() })
    }

    fn save<'a>(&'a self, tokens: &'a TokenSet) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move { self.write(tokens) })
    }

    fn lock(&self) -> BoxFuture<'_, Result<StoreLock, StoreError>> {
        Box::pin(async move {
            let path = self.lock_path();
            create_private_dirs(&parent(&path))?;
            let mut options = OpenOptions::new();
            options.create(true).truncate(false).write(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            let file = options
                .open(&path)
                .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
            // Polled rather than blocking a thread: the caller's deadline
            // bounds the wait, and a dropped wait leaves nothing behind.
            loop {
                match file.try_lock() {
                    Ok(()) => return Ok(StoreLock::holding(file)),
                    Err(std::fs::TryLockError::WouldBlock) => tokio::time::sleep(LOCK_POLL).await,
                    Err(std::fs::TryLockError::Error(e)) => {
                        return Err(format!("cannot lock {}: {e}", path.display()).into());
                    }
                }
            }
        })
    }
}

/// Missing directories are made 0700: they hold secrets.
fn create_private_dirs(dir: &Path) -> Result<(), StoreError> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .map_err(|e| format!("cannot create {}: {e}", dir.display()).into())
}

fn parent(path: &Path) -> PathBuf {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// `<dir>/<name><suffix>`, beside `path`.
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    parent(path).join(name)
}

/// A new file, 0600 from its creation, synced before it is renamed.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_file_store_round_trips_privately_and_locks_exclusively() {
        let dir = std::env::temp_dir().join(format!("st-store-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let store = FileStore::new(dir.join("nested/session.json"));
        assert!(store.load().await.unwrap().is_none());
        let tokens = TokenSet::new("a1", "r1", Duration::from_secs(60));
        store.save(&tokens).await.unwrap();
        let back = store.load().await.unwrap().unwrap();
        assert!(back.same_tokens(&tokens));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(store.path())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let held = store.lock().await.unwrap();
        let second = tokio::time::timeout(Duration::from_millis(200), store.lock()).await;
        assert!(
            second.is_err(),
            "a second lock was granted while the first was held"
        );
        drop(held);
        let again = tokio::time::timeout(Duration::from_secs(2), store.lock()).await;
        assert!(again.is_ok(), "the lock was not released");
        drop(again);
        assert!(store.remove().await.unwrap());
        assert!(store.load().await.unwrap().is_none());
        std::fs::write(store.path(), "{not json").unwrap();
        let error = store.load().await.unwrap_err().to_string();
        assert!(error.contains("not a token file"), "{error}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
