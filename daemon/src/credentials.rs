//! Credentials at rest: the master key, sealing one credential field, and the vault that
//! keeps sealed credentials in the store.
//!
//! Every field is encrypted on its own with XChaCha20-Poly1305 under the master key, with a
//! fresh random 192-bit nonce per write and `(integration, field)` bound as associated data, so
//! a sealed value moved to another integration or field does not open. The store keeps a key
//! check value (a sealed constant): a wrong master key is found before any credential is
//! decrypted, and then nothing is decrypted or written.
//!
//! The master key comes from, in this order: the systemd credential
//! `$CREDENTIALS_DIRECTORY/exsync.key` (`LoadCredential=`), `key_file` in `exsyncd.toml`,
//! `$EXSYNC_KEY_FILE`. The file holds 64 hex digits (`exsyncd keygen`) and may be readable by
//! its owner only.
//!
//! Decrypted values live in [`Zeroizing`] buffers and are wiped on drop. This module never
//! puts a value into an error or a log line; callers must not either.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use zeroize::Zeroizing;

use crate::store::{Store, StoreError};

/// The file name of the master key in the systemd credentials directory.
pub const KEY_CREDENTIAL_NAME: &str = "exsync.key";
/// The environment variable naming a key file, tried last.
pub const KEY_FILE_ENV: &str = "EXSYNC_KEY_FILE";
/// XChaCha20's nonce: 24 random bytes, large enough that random nonces never collide.
const NONCE_BYTES: usize = 24;
const KEY_BYTES: usize = 32;
/// What the key check value seals; its associated data differs from every credential's.
const KEY_CHECK_PLAINTEXT: &[u8] = b"exsync master key check v1";
const KEY_CHECK_AAD: &[u8] = b"exsync-key-check-v1";
const BACKUP_AAD: &[u8] = b"exsync-backup-v1";

/// Why the master key could not be used. Names the file, never its content.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    #[error("master key file {path} has mode {mode:04o}: it must not be readable or writable by group or others (chmod 600 it)")]
    Permissions { path: String, mode: u32 },
    #[error("cannot read the master key file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("master key file {path} does not hold a key: expected 64 hex digits (make one with `exsyncd keygen`)")]
    Malformed { path: String },
}

/// A sealed value did not open: wrong key, or bytes changed.
#[derive(Debug, thiserror::Error)]
#[error("decryption failed while opening {what}: wrong master key or altered data")]
pub struct OpenError {
    what: String,
}

/// The master key, wiped from memory on drop.
pub struct MasterKey {
    key: Zeroizing<[u8; KEY_BYTES]>,
    /// Where it came from, for messages.
    pub source: String,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MasterKey(from {})", self.source)
    }
}

/// A new random key as 64 hex digits (`exsyncd keygen`).
pub fn generate_key() -> Zeroizing<String> {
    let mut bytes = Zeroizing::new([0u8; KEY_BYTES]);
    rand::rngs::OsRng.fill_bytes(bytes.as_mut());
    Zeroizing::new(hex::encode(bytes.as_ref()))
}

/// Where the master key is, if anywhere: the systemd credential, then `key_file`, then
/// `$EXSYNC_KEY_FILE`.
pub fn locate_key(key_file: Option<&Path>) -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("CREDENTIALS_DIRECTORY") {
        let path = Path::new(&dir).join(KEY_CREDENTIAL_NAME);
        if path.exists() {
            return Some(path);
        }
    }
    if let Some(path) = key_file {
        return Some(path.to_owned());
    }
    std::env::var_os(KEY_FILE_ENV)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// Reads a key file, refusing one that group or others may access.
pub fn load_key(path: &Path) -> Result<MasterKey, KeyError> {
    let shown = path.display().to_string();
    let meta = std::fs::metadata(path).map_err(|source| KeyError::Read {
        path: shown.clone(),
        source,
    })?;
    let mode = meta.permissions().mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Err(KeyError::Permissions { path: shown, mode });
    }
    let text = Zeroizing::new(std::fs::read(path).map_err(|source| KeyError::Read {
        path: shown.clone(),
        source,
    })?);
    let key = parse_key(&text).ok_or(KeyError::Malformed {
        path: shown.clone(),
    })?;
    Ok(MasterKey { key, source: shown })
}

fn parse_key(text: &[u8]) -> Option<Zeroizing<[u8; KEY_BYTES]>> {
    let trimmed = text.trim_ascii();
    if trimmed.len() != KEY_BYTES * 2 {
        return None;
    }
    let mut key = Zeroizing::new([0u8; KEY_BYTES]);
    hex::decode_to_slice(trimmed, key.as_mut()).ok()?;
    Some(key)
}

/// The associated data of one credential field: the pair it belongs to, unambiguously.
fn field_aad(integration: &str, field: &str) -> Vec<u8> {
    let mut aad = b"exsync-credential-v1\0".to_vec();
    aad.extend_from_slice(integration.as_bytes());
    aad.push(0);
    aad.extend_from_slice(field.as_bytes());
    aad
}

impl MasterKey {
    #[cfg(test)]
    fn from_bytes(bytes: [u8; KEY_BYTES]) -> MasterKey {
        MasterKey {
            key: Zeroizing::new(bytes),
            source: "test".into(),
        }
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(self.key.as_ref().into())
    }

    /// `nonce ‖ ciphertext ‖ tag`, with a fresh random nonce.
    fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_BYTES];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let sealed = self
            .cipher()
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .expect("XChaCha20-Poly1305 encrypts any message that fits in memory");
        let mut out = Vec::with_capacity(NONCE_BYTES + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    fn open(&self, aad: &[u8], sealed: &[u8], what: &str) -> Result<Zeroizing<Vec<u8>>, OpenError> {
        let err = || OpenError {
            what: what.to_owned(),
        };
        if sealed.len() < NONCE_BYTES {
            return Err(err());
        }
        let (nonce, body) = sealed.split_at(NONCE_BYTES);
        self.cipher()
            .decrypt(XNonce::from_slice(nonce), Payload { msg: body, aad })
            .map(Zeroizing::new)
            .map_err(|_| err())
    }

    /// Seals one credential field's value.
    pub fn seal_field(&self, integration: &str, field: &str, value: &str) -> Vec<u8> {
        self.seal(&field_aad(integration, field), value.as_bytes())
    }

    /// Opens one credential field's value.
    pub fn open_field(
        &self,
        integration: &str,
        field: &str,
        sealed: &[u8],
    ) -> Result<Zeroizing<String>, OpenError> {
        let what = format!("credential `{field}` of {integration}");
        let bytes = self.open(&field_aad(integration, field), sealed, &what)?;
        let text = std::str::from_utf8(&bytes).map_err(|_| OpenError { what })?;
        Ok(Zeroizing::new(text.to_owned()))
    }

    /// The key check value to keep in the store.
    pub fn key_check(&self) -> Vec<u8> {
        self.seal(KEY_CHECK_AAD, KEY_CHECK_PLAINTEXT)
    }

    /// Whether this key made `check`.
    pub fn verifies(&self, check: &[u8]) -> bool {
        self.open(KEY_CHECK_AAD, check, "the key check value")
            .is_ok_and(|p| p.as_slice() == KEY_CHECK_PLAINTEXT)
    }

    /// Seals a whole backup file.
    pub fn seal_backup(&self, bytes: &[u8]) -> Vec<u8> {
        self.seal(BACKUP_AAD, bytes)
    }

    /// Opens a backup file.
    pub fn open_backup(&self, sealed: &[u8], file: &str) -> Result<Vec<u8>, OpenError> {
        self.open(BACKUP_AAD, sealed, &format!("backup {file}"))
            .map(|z| z.to_vec())
    }
}

/// A vault that cannot serve secrets, and why.
#[derive(Debug, Clone)]
pub enum KeyState {
    /// No master key configured (and nothing stored that needs one).
    Missing,
    /// The key does not match the store's key check value.
    Wrong { source: String },
}

/// Why the daemon must not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VaultError {
    #[error("the store holds encrypted credentials of {integrations} but no master key is configured: provide it as the systemd credential exsync.key, key_file in exsyncd.toml or EXSYNC_KEY_FILE")]
    NoKey { integrations: String },
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// An integration's credentials, decrypted.
pub struct OpenedCredentials {
    pub fields: BTreeMap<String, Zeroizing<String>>,
    pub set_ms: i64,
}

/// The master key and the sealed credentials in the store.
pub struct Vault {
    store: Arc<Store>,
    key: Result<MasterKey, KeyState>,
}

impl Vault {
    /// A vault without key and without store checks (offline validation).
    pub fn opens_nothing(store: Arc<Store>) -> Vault {
        Vault {
            store,
            key: Err(KeyState::Missing),
        }
    }

    /// Loads the master key (if one is configured) and checks it against the store. Refuses a
    /// key file others may read, and a store with credentials but no key. A wrong key is not
    /// an error here: the vault then opens nothing and writes nothing.
    pub fn open(store: Arc<Store>, key_file: Option<&Path>) -> Result<Vault, VaultError> {
        let key = locate_key(key_file).map(|p| load_key(&p)).transpose()?;
        let stored = store.credential_stamps()?;
        let check = store.key_check()?;
        let key = match key {
            None if !stored.is_empty() => {
                let names: Vec<&str> = stored.iter().map(|(n, _)| n.as_str()).collect();
                return Err(VaultError::NoKey {
                    integrations: names.join(", "),
                });
            }
            None => Err(KeyState::Missing),
            Some(key) => match check {
                Some(check) if !key.verifies(&check) => Err(KeyState::Wrong { source: key.source }),
                Some(_) => Ok(key),
                None => {
                    store.set_key_check(&key.key_check())?;
                    Ok(key)
                }
            },
        };
        Ok(Vault { store, key })
    }

    /// Why secrets cannot be opened or stored, if they cannot.
    pub fn unusable(&self) -> Option<String> {
        match &self.key {
            Ok(_) => None,
            Err(KeyState::Missing) => Some(
                "no master key is configured (systemd credential exsync.key, key_file in exsyncd.toml, or EXSYNC_KEY_FILE)".into(),
            ),
            Err(KeyState::Wrong { source }) => Some(format!(
                "the master key from {source} is not the key this store's credentials were sealed with; nothing is decrypted or written until the right key is configured"
            )),
        }
    }

    /// Whether a key is configured that is not the store's.
    pub fn key_is_wrong(&self) -> bool {
        matches!(self.key, Err(KeyState::Wrong { .. }))
    }

    pub fn key(&self) -> Result<&MasterKey, String> {
        self.key
            .as_ref()
            .map_err(|_| self.unusable().expect("an unusable vault says why"))
    }

    /// When the integration's credentials were last set, if any are stored.
    pub fn stamp(&self, integration: &str) -> Option<i64> {
        self.store
            .sealed_credentials(integration)
            .ok()
            .flatten()
            .map(|(_, set_ms)| set_ms)
    }

    /// Every integration with stored credentials, and when they were set.
    pub fn stamps(&self) -> Vec<(String, i64)> {
        self.store.credential_stamps().unwrap_or_default()
    }

    /// Decrypts an integration's credentials. The error says what is wrong, never a value.
    pub fn credentials(&self, integration: &str) -> Result<OpenedCredentials, String> {
        let key = self.key()?;
        let (sealed, set_ms) = self
            .store
            .sealed_credentials(integration)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| {
                format!("no credentials are stored for {integration}: run `exsyncctl credentials set {integration}`")
            })?;
        let mut fields = BTreeMap::new();
        for (field, bytes) in sealed {
            let value = key
                .open_field(integration, &field, &bytes)
                .map_err(|e| e.to_string())?;
            fields.insert(field, value);
        }
        Ok(OpenedCredentials { fields, set_ms })
    }

    /// Seals and stores an integration's credentials, replacing all its old fields at once.
    pub fn store_credentials(
        &self,
        integration: &str,
        fields: &[(&str, &str)],
        set_ms: i64,
    ) -> Result<(), String> {
        let key = self.key()?;
        let sealed: Vec<(String, Vec<u8>)> = fields
            .iter()
            .map(|(f, v)| ((*f).to_owned(), key.seal_field(integration, f, v)))
            .collect();
        self.store
            .put_credentials(integration, &sealed, set_ms)
            .map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> MasterKey {
        MasterKey::from_bytes([byte; KEY_BYTES])
    }

    #[test]
    fn a_sealed_field_opens_with_its_key_integration_and_field_only() {
        let k = key(7);
        let sealed = k.seal_field("binance-main", "api_secret", "s3cr3t-value");
        assert!(!sealed.windows(b"s3cr3t".len()).any(|w| w == b"s3cr3t"));
        assert_eq!(
            k.open_field("binance-main", "api_secret", &sealed)
                .unwrap()
                .as_str(),
            "s3cr3t-value"
        );
        // Bound to its place: another field or integration does not open it.
        assert!(k.open_field("binance-main", "api_key", &sealed).is_err());
        assert!(k
            .open_field("binance-other", "api_secret", &sealed)
            .is_err());
        // Another key does not open it, and says so without the value.
        let e = key(8)
            .open_field("binance-main", "api_secret", &sealed)
            .unwrap_err();
        assert!(e.to_string().contains("wrong master key"), "{e}");
        assert!(!e.to_string().contains("s3cr3t"));
    }

    #[test]
    fn every_write_has_its_own_nonce() {
        let k = key(1);
        let a = k.seal_field("i", "f", "same");
        let b = k.seal_field("i", "f", "same");
        assert_ne!(a[..NONCE_BYTES], b[..NONCE_BYTES]);
        assert_ne!(a, b);
    }

    #[test]
    fn tampering_is_detected() {
        let k = key(2);
        let sealed = k.seal_field("i", "api_key", "abcdefghijklmnop");
        for i in [0, NONCE_BYTES, sealed.len() - 1] {
            let mut bad = sealed.clone();
            bad[i] ^= 1;
            assert!(k.open_field("i", "api_key", &bad).is_err(), "byte {i}");
        }
        assert!(k.open_field("i", "api_key", &sealed[..10]).is_err());
        let backup = k.seal_backup(b"database bytes");
        let mut bad = backup.clone();
        bad[30] ^= 0x80;
        assert!(k.open_backup(&bad, "b").is_err());
        assert_eq!(k.open_backup(&backup, "b").unwrap(), b"database bytes");
    }

    #[test]
    fn the_key_check_tells_a_wrong_key() {
        let check = key(3).key_check();
        assert!(key(3).verifies(&check));
        assert!(!key(4).verifies(&check));
    }

    #[test]
    fn key_files_are_hex_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("exsync.key");
        let text = generate_key();
        assert_eq!(text.len(), 64);
        std::fs::write(&path, format!("{}\n", text.as_str())).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let k = load_key(&path).unwrap();
        assert!(k.verifies(&load_key(&path).unwrap().key_check()));

        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        let e = load_key(&path).unwrap_err().to_string();
        assert!(e.contains("0640") && e.contains("exsync.key"), "{e}");
        assert!(!e.contains(text.as_str()));

        std::fs::write(&path, "not a key").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o400)).unwrap();
        let e = load_key(&path).unwrap_err().to_string();
        assert!(e.contains("64 hex digits"), "{e}");
    }

    #[test]
    fn the_vault_refuses_stored_credentials_without_a_key_and_a_wrong_key() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(&dir.path().join("s.redb")).unwrap());
        let write_key = |name: &str, text: &str| {
            let p = dir.path().join(name);
            std::fs::write(&p, text).unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
            p
        };
        let good = write_key("good.key", &generate_key());
        let vault = Vault::open(store.clone(), Some(&good)).unwrap();
        vault
            .store_credentials("x", &[("api_key", "k-value"), ("api_secret", "s-value")], 5)
            .unwrap();
        let opened = vault.credentials("x").unwrap();
        assert_eq!(opened.fields["api_secret"].as_str(), "s-value");
        assert_eq!(opened.set_ms, 5);

        let wrong = write_key("wrong.key", &generate_key());
        let vault = Vault::open(store.clone(), Some(&wrong)).unwrap();
        let e = vault.credentials("x").err().unwrap();
        assert!(e.contains("wrong.key") && e.contains("not the key"), "{e}");
        assert!(vault
            .store_credentials("x", &[("api_key", "new")], 6)
            .is_err());
        // Nothing was overwritten: the right key still opens the old values.
        let vault = Vault::open(store.clone(), Some(&good)).unwrap();
        assert_eq!(vault.credentials("x").unwrap().set_ms, 5);

        if std::env::var_os(KEY_FILE_ENV).is_none()
            && std::env::var_os("CREDENTIALS_DIRECTORY").is_none()
        {
            let e = Vault::open(store, None).err().unwrap().to_string();
            assert!(e.contains("no master key") && e.contains('x'), "{e}");
        }
    }
}
