//! Encrypted backups of the store: `exsyncctl backup FILE` and `exsyncd restore FILE`.
//!
//! A backup is the store as of one redb read transaction (syncs keep committing meanwhile),
//! copied into a new database, then sealed whole with the master key (XChaCha20-Poly1305) and
//! written as `MAGIC ‖ nonce ‖ ciphertext`. Credentials inside stay sealed field by field as
//! well. The copy is held in memory while it is sealed: fine for stores of some hundred MB;
//! a streaming format would be needed beyond that.
//!
//! Restoring checks everything before it replaces anything: the file opens with the master
//! key, the database inside opens with this exsyncd's schema, and its key check value matches
//! the key. A store in use by a running daemon is never replaced; an existing one only with
//! `--force`.

use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};

use crate::credentials::MasterKey;
use crate::store::Store;

/// The first bytes of a backup file, with its format version.
const MAGIC: &[u8] = b"EXSYNC-BACKUP-1\n";

/// Writes an encrypted, consistent copy of `store` to `file` (which must not exist).
/// `scratch` is a private directory for the unencrypted copy while it is made.
pub fn write_backup(
    store: &Store,
    key: &MasterKey,
    file: &Path,
    scratch: &Path,
) -> anyhow::Result<u64> {
    if !file.is_absolute() {
        bail!("backup file {} must be an absolute path", file.display());
    }
    let tmp = scratch.join(format!("backup-{}.redb.tmp", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    let result = (|| {
        store
            .copy_to(&tmp)
            .with_context(|| format!("Failed to copy the store for backup {}", file.display()))?;
        let plain = std::fs::read(&tmp)
            .with_context(|| format!("Failed to read the store copy {}", tmp.display()))?;
        let sealed = key.seal_backup(&plain);
        let mut out = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(file)
            .with_context(|| format!("Failed to create the backup file {}", file.display()))?;
        out.write_all(MAGIC)
            .and_then(|()| out.write_all(&sealed))
            .and_then(|()| out.sync_all())
            .with_context(|| format!("Failed to write the backup file {}", file.display()))?;
        Ok((MAGIC.len() + sealed.len()) as u64)
    })();
    let _ = std::fs::remove_file(&tmp);
    result
}

/// Replaces the store at `store_path` with the backup in `file`. Refuses a store a daemon has
/// open, and an existing store unless `force`.
pub fn restore(file: &Path, key: &MasterKey, store_path: &Path, force: bool) -> anyhow::Result<()> {
    let bytes = std::fs::read(file)
        .with_context(|| format!("Failed to read the backup file {}", file.display()))?;
    let Some(sealed) = bytes.strip_prefix(MAGIC) else {
        bail!(
            "{} is not an exsync backup (no backup header)",
            file.display()
        );
    };
    let plain = key
        .open_backup(sealed, &file.display().to_string())
        .with_context(|| {
            format!(
                "Failed to decrypt {} with the master key from {}",
                file.display(),
                key.source
            )
        })?;
    if store_path.exists() {
        // redb locks an open database: a running daemon's store does not open here.
        match redb::Database::open(store_path) {
            Err(redb::DatabaseError::DatabaseAlreadyOpen) => bail!(
                "the store {} is in use by a running exsyncd: stop it first (systemctl stop exsyncd)",
                store_path.display()
            ),
            _ if !force => bail!(
                "the store {} exists: restoring would overwrite it; add --force to replace it",
                store_path.display()
            ),
            _ => {}
        }
    }
    let tmp: PathBuf = store_path.with_extension("redb.restore");
    let _ = std::fs::remove_file(&tmp);
    let checked = (|| {
        std::fs::write(&tmp, &plain)
            .with_context(|| format!("Failed to write {}", tmp.display()))?;
        let store = Store::open(&tmp)
            .with_context(|| format!("The backup {} holds no readable store", file.display()))?;
        if let Some(check) = store.key_check()? {
            if !key.verifies(&check) {
                bail!(
                    "the backup {} was made with another master key than the one from {}",
                    file.display(),
                    key.source
                );
            }
        }
        Ok(())
    })();
    if let Err(e) = checked {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    std::fs::rename(&tmp, store_path).with_context(|| {
        format!(
            "Failed to move the restored store into place at {}",
            store_path.display()
        )
    })?;
    Ok(())
}
