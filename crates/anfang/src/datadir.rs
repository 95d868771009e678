//! The data directory: configuration, keys (0600), the SQLite database, and the audit chain's
//! external checkpoint. Opening it assembles the application.

use crate::config::{self, Config};
use anfang_app::audit::Checkpoint;
use anfang_app::vault::Vault;
use anfang_app::{App, AppConfig};
use anyhow::Context;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The key file's name: two hex-encoded 256-bit keys, readable by the owner only.
pub const KEYS_FILE: &str = "keys";
/// The audit checkpoint's file name.
pub const CHECKPOINT_FILE: &str = "audit.head";
/// The folder of images (face photos, encrypted by the vault) inside the data directory.
pub const IMAGES_DIR: &str = "images";

/// Writes `contents` to `path` with mode 0600 from the start (never world-readable).
fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("create {}", path.display()))?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()?;
    Ok(())
}

/// The online payment providers' secrets file inside the data directory (0600).
pub const PAYMENT_KEYS_FILE: &str = "payment_keys";

/// The configured payment providers with their secrets; a provider configured for the first
/// time is given a generated secret, appended to the payment keys file (created 0600).
pub(crate) fn payment_providers(
    data_dir: &Path,
    names: &[String],
) -> anyhow::Result<Vec<anfang_app::fee_online::PaymentProvider>> {
    let path = data_dir.join(PAYMENT_KEYS_FILE);
    let mut known: std::collections::BTreeMap<String, String> = std::collections::BTreeMap::new();
    if path.exists() {
        let text = std::fs::read_to_string(&path).with_context(|| format!("read {}", path.display()))?;
        for line in text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
        {
            let (name, value) = line
                .split_once('=')
                .context("payment keys file: expected name = hex")?;
            known.insert(
                name.trim().to_string(),
                value.trim().trim_matches('"').to_string(),
            );
        }
    }
    let missing: Vec<&String> = names.iter().filter(|n| !known.contains_key(*n)).collect();
    if !missing.is_empty() {
        let mut text = if path.exists() {
            std::fs::read_to_string(&path)?
        } else {
            "# Anfang online payment providers' callback secrets (HMAC-SHA256). Give each to its provider only.\n"
                .to_string()
        };
        for name in missing {
            let secret = hex::encode(anfang_base::random_bytes(32));
            text.push_str(&format!("{name} = {secret}\n"));
            known.insert(name.clone(), secret);
            tracing::info!(provider = %name, file = %path.display(), "generated a payment callback secret");
        }
        // Rewritten through a new 0600 file, then moved over the old one.
        let tmp = data_dir.join(format!("{PAYMENT_KEYS_FILE}.new"));
        let _ = std::fs::remove_file(&tmp);
        write_private(&tmp, &text)?;
        std::fs::rename(&tmp, &path).with_context(|| format!("replace {}", path.display()))?;
    }
    Ok(names
        .iter()
        .map(|name| anfang_app::fee_online::PaymentProvider {
            name: name.clone(),
            secret: known[name].clone().into_bytes(),
        })
        .collect())
}

/// The vault of a data directory (its keys file).
pub(crate) fn load_vault(data_dir: &Path) -> anyhow::Result<Vault> {
    let path = data_dir.join(KEYS_FILE);
    let text = std::fs::read_to_string(&path).with_context(|| format!("read {}", path.display()))?;
    let mut keys = [[0u8; 32]; 2];
    let mut found = 0;
    for line in text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let (name, value) = line.split_once('=').context("keys file: expected name = hex")?;
        let slot = match name.trim() {
            "data_key" => 0,
            "index_key" => 1,
            other => anyhow::bail!("keys file: unknown key {other}"),
        };
        let bytes = hex::decode(value.trim().trim_matches('"')).context("keys file: not hex")?;
        keys[slot] = bytes
            .try_into()
            .map_err(|_| anyhow::anyhow!("keys file: {} must be 32 bytes", name.trim()))?;
        found += 1;
    }
    anyhow::ensure!(found == 2, "keys file must hold data_key and index_key");
    Ok(Vault::new(&keys[0], &keys[1]))
}

/// Segments are closed and a new one begun once they reach this size.
const SEGMENT_BYTES: u64 = 256 * 1024 * 1024;

/// The segment a stream appends to.
#[derive(Debug)]
struct Segment {
    file: std::fs::File,
    name: String,
    len: u64,
}

/// Images as files under one folder, readable by the owner only. `put` writes one file per key
/// (a relative path of plain segments) whole: temporary file, sync, rename. `append` writes a
/// batch into the stream's current segment file (append-only, rolled over at 256 MiB) with one
/// `fdatasync` for the whole batch; its keys read `stream/segment.seg@offset+length`. Pictures
/// in segments are not deleted one by one: retention drops whole segments (streams are named
/// per day), and bytes nothing refers to (a failed batch, a duplicate upload) go with them.
#[derive(Debug)]
pub struct FileImages {
    root: PathBuf,
    segments: Arc<Mutex<std::collections::HashMap<String, Segment>>>,
}

fn plain_key(key: &str) -> bool {
    let plain = |s: &str| {
        !s.is_empty()
            && s != "."
            && s != ".."
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    };
    key.split('/').all(plain)
}

/// A segment key's file, offset and length.
fn segment_ref(key: &str) -> Option<(&str, u64, usize)> {
    let (file, span) = key.split_once('@')?;
    let (offset, len) = span.split_once('+')?;
    Some((file, offset.parse().ok()?, len.parse().ok()?))
}

impl FileImages {
    /// Images under `root`.
    pub fn new(root: PathBuf) -> FileImages {
        FileImages {
            root,
            segments: Arc::default(),
        }
    }

    fn path(&self, key: &str) -> Result<PathBuf, String> {
        if plain_key(key) {
            Ok(self.root.join(key))
        } else {
            Err(format!("'{key}' is not a plain relative key"))
        }
    }
}

/// Opens a new segment in `dir` (created if need be); the folder is synced so that the new
/// file's name survives a crash.
fn new_segment(dir: &Path) -> std::io::Result<Segment> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::create_dir_all(dir)?;
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    let name = format!("{millis:013}-{}.seg", hex::encode(anfang_base::random_bytes(4)));
    let file = std::fs::OpenOptions::new()
        .append(true)
        .create_new(true)
        .mode(0o600)
        .open(dir.join(&name))?;
    std::fs::File::open(dir)?.sync_all()?;
    Ok(Segment { file, name, len: 0 })
}

#[async_trait::async_trait]
impl anfang_app::faces::ImageStore for FileImages {
    async fn put(&self, key: &str, bytes: &[u8]) -> Result<(), String> {
        use std::os::unix::fs::OpenOptionsExt;
        let path = self.path(key)?;
        let tmp = path.with_extension("part");
        let bytes = bytes.to_vec();
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&tmp)?;
            std::io::Write::write_all(&mut file, &bytes)?;
            file.sync_all()?;
            std::fs::rename(&tmp, &path)
        })
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, String> {
        if let Some((file, offset, len)) = segment_ref(key) {
            let path = self.path(file)?;
            return tokio::task::spawn_blocking(move || -> std::io::Result<Option<Vec<u8>>> {
                use std::os::unix::fs::FileExt;
                let file = match std::fs::File::open(&path) {
                    Ok(f) => f,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                    Err(e) => return Err(e),
                };
                let mut bytes = vec![0; len];
                file.read_exact_at(&mut bytes, offset)?;
                Ok(Some(bytes))
            })
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string());
        }
        match tokio::fs::read(self.path(key)?).await {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.to_string()),
        }
    }

    async fn delete(&self, key: &str) -> Result<(), String> {
        if segment_ref(key).is_some() {
            // Reclaimed with its segment.
            return Ok(());
        }
        match tokio::fs::remove_file(self.path(key)?).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.to_string()),
            _ => Ok(()),
        }
    }

    async fn append(&self, stream: &str, items: Vec<Vec<u8>>) -> Result<Vec<String>, String> {
        let dir = self.path(stream)?;
        let stream = stream.to_string();
        let segments = self.segments.clone();
        tokio::task::spawn_blocking(move || -> std::io::Result<Vec<String>> {
            use std::io::Write;
            let total: u64 = items.iter().map(|i| i.len() as u64).sum();
            let mut open = segments.lock().unwrap_or_else(|e| e.into_inner());
            let full = open
                .get(&stream)
                .is_none_or(|s| s.len > 0 && s.len + total > SEGMENT_BYTES);
            if full {
                // Yesterday's segment of the same kind is finished: its file is closed.
                let family = stream.rsplit_once('/').map(|(f, _)| f.to_string());
                open.retain(|k, _| k.rsplit_once('/').map(|(f, _)| f.to_string()) != family);
                open.insert(stream.clone(), new_segment(&dir)?);
            }
            let Some(segment) = open.get_mut(&stream) else {
                return Err(std::io::Error::other("no segment"));
            };
            let mut keys = Vec::with_capacity(items.len());
            let mut offset = segment.len;
            let written = (|| {
                for bytes in &items {
                    segment.file.write_all(bytes)?;
                    keys.push(format!("{stream}/{}@{offset}+{}", segment.name, bytes.len()));
                    offset += bytes.len() as u64;
                }
                segment.file.sync_data()
            })();
            match written {
                Ok(()) => {
                    segment.len = offset;
                    Ok(keys)
                }
                Err(e) => {
                    // The next batch begins a fresh segment; nothing refers to these bytes.
                    open.remove(&stream);
                    Err(e)
                }
            }
        })
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())
    }
}

/// The audit checkpoint kept in a file beside the database (replaced atomically).
#[derive(Debug)]
pub struct FileCheckpoint {
    path: PathBuf,
    /// The last head written by this process, to skip redundant writes.
    last: Mutex<Option<(i64, String)>>,
}

impl FileCheckpoint {
    /// A checkpoint at `path`.
    pub fn new(path: PathBuf) -> FileCheckpoint {
        FileCheckpoint {
            path,
            last: Mutex::new(None),
        }
    }

    fn read(&self) -> Option<(i64, String)> {
        let text = std::fs::read_to_string(&self.path).ok()?;
        let (seq, hash) = text.trim().split_once(' ')?;
        Some((seq.parse().ok()?, hash.to_string()))
    }
}

impl Checkpoint for FileCheckpoint {
    fn advance(&self, seq: i64, hash: &str) {
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        // Another process (the CLI beside a running server) may have moved it further.
        let current = self
            .read()
            .map(|(s, _)| s)
            .unwrap_or(0)
            .max(last.as_ref().map(|(s, _)| *s).unwrap_or(0));
        if seq <= current {
            return;
        }
        let tmp = self.path.with_extension("tmp");
        let written =
            std::fs::write(&tmp, format!("{seq} {hash}\n")).and_then(|_| std::fs::rename(&tmp, &self.path));
        match written {
            Ok(()) => *last = Some((seq, hash.to_string())),
            Err(e) => {
                tracing::error!(error = %e, path = %self.path.display(), "could not write the audit checkpoint")
            }
        }
    }

    fn load(&self) -> Option<(i64, String)> {
        self.read()
    }
}

/// Creates a data directory: commented config, keys (0600), migrated database and the
/// `admin` user. Returns the admin password (to print once).
pub async fn init(data_dir: &Path) -> anyhow::Result<String> {
    std::fs::create_dir_all(data_dir).with_context(|| format!("create {}", data_dir.display()))?;
    let config_path = data_dir.join(config::CONFIG_FILE);
    anyhow::ensure!(
        !config_path.exists(),
        "{} already exists: this data directory is initialised",
        config_path.display()
    );
    let (data_key, index_key) = Vault::generate_keys();
    write_private(
        &data_dir.join(KEYS_FILE),
        &format!(
            "# Anfang keys: AES-256-GCM data key and HMAC blind-index key. Back up securely; never share.\ndata_key = {}\nindex_key = {}\n",
            hex::encode(data_key),
            hex::encode(index_key)
        ),
    )?;
    std::fs::write(&config_path, config::default_file_text())?;
    let app = open(data_dir).await?;
    let req = anfang_app::auth::CreateUser {
        username: "admin".into(),
        role: "district_admin".into(),
        scope: "district".into(),
        display_name: Some("系统管理员".into()),
    };
    let (_, password) = app.create_user("cli", &req).await?;
    Ok(password)
}

/// Opens an initialised data directory and assembles the application.
pub async fn open(data_dir: &Path) -> anyhow::Result<App> {
    let config = Config::load(data_dir)?;
    open_with(data_dir, &config).await
}

/// Opens with an already loaded configuration.
pub async fn open_with(data_dir: &Path, config: &Config) -> anyhow::Result<App> {
    let vault = load_vault(data_dir)?;
    let url = config.database_url(data_dir);
    let store = anfang_store_sql::SqlStore::open(&url)
        .await
        .with_context(|| format!("open database {}", redact(&url)))?;
    let app_config = AppConfig {
        session_ttl_secs: config.auth.session_ttl_secs,
        lockout_threshold: config.auth.lockout_threshold,
        lockout_secs: config.auth.lockout_secs,
        cascade_targets: config.cascade.iter().map(crate::cascade::upward).collect(),
        alarm_sla: config.alarms.sla()?,
        message_senders: config.notify.senders()?,
    };
    let providers = payment_providers(data_dir, &config.fees.payment_providers)?;
    Ok(App::new(
        Arc::new(store),
        Arc::new(anfang_base::SystemClock),
        vault,
        Arc::new(FileCheckpoint::new(data_dir.join(CHECKPOINT_FILE))),
        Arc::new(FileImages::new(data_dir.join(IMAGES_DIR))),
        app_config,
    )
    .with_payment_providers(providers))
}

/// A URL with any password replaced, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn image_files_round_trip_privately_and_refuse_odd_keys() {
        use anfang_app::faces::ImageStore;
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let images = FileImages::new(dir.path().join(IMAGES_DIR));
        images.put("faces/7/ab-1", b"sealed").await.unwrap();
        assert_eq!(
            images.get("faces/7/ab-1").await.unwrap(),
            Some(b"sealed".to_vec())
        );
        let mode = std::fs::metadata(dir.path().join("images/faces/7/ab-1"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        images.delete("faces/7/ab-1").await.unwrap();
        images.delete("faces/7/ab-1").await.unwrap();
        assert_eq!(images.get("faces/7/ab-1").await.unwrap(), None);
        for odd in ["../x", "/etc/passwd", "faces//x", "faces/./x", "a b"] {
            assert!(images.put(odd, b"x").await.is_err(), "{odd}");
        }
    }

    #[tokio::test]
    async fn batches_append_to_one_segment_per_day_and_read_back() {
        use anfang_app::faces::ImageStore;
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let images = FileImages::new(dir.path().join(IMAGES_DIR));
        let first = images
            .append("captures/20261123", vec![b"one".to_vec(), b"three".to_vec()])
            .await
            .unwrap();
        let second = images
            .append("captures/20261123", vec![b"two".to_vec()])
            .await
            .unwrap();
        assert_eq!(images.get(&first[1]).await.unwrap(), Some(b"three".to_vec()));
        assert_eq!(images.get(&second[0]).await.unwrap(), Some(b"two".to_vec()));
        let segment = |k: &str| k.split('@').next().unwrap().to_string();
        assert_eq!(segment(&first[0]), segment(&second[0]), "one segment for the day");
        let file = dir.path().join(IMAGES_DIR).join(segment(&first[0]));
        assert_eq!(
            std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o600
        );
        // The next day begins another segment; yesterday's is closed, still readable.
        let next = images
            .append("captures/20261124", vec![b"four".to_vec()])
            .await
            .unwrap();
        assert_ne!(segment(&next[0]), segment(&first[0]));
        assert_eq!(images.segments.lock().unwrap().len(), 1);
        assert_eq!(images.get(&first[0]).await.unwrap(), Some(b"one".to_vec()));
        // Keys never escape the folder, and a deleted picture waits for its segment to go.
        assert!(images.get("../x.seg@0+1").await.is_err());
        images.delete(&first[0]).await.unwrap();
        assert_eq!(images.get(&first[0]).await.unwrap(), Some(b"one".to_vec()));
    }

    #[test]
    fn redacts_passwords() {
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("sqlite:/x/y.db"), "sqlite:/x/y.db");
    }

    #[test]
    fn private_files_are_0600() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        write_private(&path, "x").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        assert!(write_private(&path, "y").is_err(), "never overwritten");
    }

    #[test]
    fn payment_providers_get_a_private_secret_once() {
        let dir = tempfile::tempdir().unwrap();
        assert!(payment_providers(dir.path(), &[]).unwrap().is_empty());
        assert!(
            !dir.path().join(PAYMENT_KEYS_FILE).exists(),
            "no file without a provider"
        );
        let first = payment_providers(dir.path(), &["unionpay".into()]).unwrap();
        assert_eq!(first[0].name, "unionpay");
        assert_eq!(first[0].secret.len(), 64, "32 random bytes in hex");
        // Listed again with another: the first keeps its secret, the second gets its own.
        let both = payment_providers(dir.path(), &["unionpay".into(), "alipay".into()]).unwrap();
        assert_eq!(both[0].secret, first[0].secret);
        assert_ne!(both[1].secret, first[0].secret);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(PAYMENT_KEYS_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let bad = crate::config::FeesConfig {
            payment_providers: vec!["Union Pay".into()],
        };
        assert!(bad.validate().is_err());
        let twice = crate::config::FeesConfig {
            payment_providers: vec!["a".into(), "a".into()],
        };
        assert!(twice.validate().is_err());
    }
}
