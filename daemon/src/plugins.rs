//! Finds, copies and loads the plugins of the plugin directory.
//!
//! Each `*.so` is copied to `<state>/plugins/<stem>-<sha256>.so` and loaded from there: glibc
//! hands back the already-loaded code for a path it has opened before, so a changed file must
//! get a new path, and the copy also makes the loaded code immune to the file being replaced
//! underneath us. A file that is not a plugin, speaks another ABI version or has a mismatched
//! layout is refused with a reason; the daemon keeps running without it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use exsync_plugin_api::loader::{LoadError, PluginLibrary};
use exsync_protocol::{ErrorInfo, PluginInfo};
use sha2::{Digest, Sha256};

use crate::events::{PluginLoaded, PluginRefused};
use crate::metrics::Metrics;

/// One file of the plugin directory and what became of it.
#[derive(Clone)]
pub struct PluginEntry {
    pub info: PluginInfo,
    pub library: Option<PluginLibrary>,
    /// The file's size, modification time and inode when it was read: while they stay the
    /// same, a reload takes the content as unchanged without hashing it again.
    pub stamp: Option<FileStamp>,
}

/// What identifies a file's version without reading it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileStamp {
    len: u64,
    modified: Option<std::time::SystemTime>,
    inode: u64,
}

impl FileStamp {
    pub fn of(file: &Path) -> Option<FileStamp> {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::metadata(file).ok()?;
        Some(FileStamp {
            len: m.len(),
            modified: m.modified().ok(),
            inode: m.ino(),
        })
    }
}

/// Generations of each plugin id seen by this process: libraries are never unloaded, so every
/// new code version of a plugin stays resident.
#[derive(Default)]
pub struct Generations {
    seen: HashMap<String, Vec<String>>,
}

impl Generations {
    /// Code versions loaded by this process, all plugins together: they all stay mapped.
    pub fn resident(&self) -> usize {
        self.seen.values().map(Vec::len).sum()
    }

    fn generation(&mut self, id: &str, sha: &str) -> u32 {
        let shas = self.seen.entry(id.to_owned()).or_default();
        match shas.iter().position(|s| s == sha) {
            Some(i) => i as u32 + 1,
            None => {
                shas.push(sha.to_owned());
                shas.len() as u32
            }
        }
    }
}

fn refused(
    file: &Path,
    sha: String,
    kind: &str,
    reason: &str,
    message: String,
    m: &Metrics,
) -> PluginEntry {
    let shown = file.display().to_string();
    PluginRefused {
        file: &shown,
        reason,
        message: &message,
    }
    .emit(m);
    PluginEntry {
        info: PluginInfo {
            file: shown,
            state: "refused".into(),
            sha256: sha,
            error: Some(
                ErrorInfo::new(kind, format!("{reason}: {message}"))
                    .with_hint("replace the file with a plugin built against exsync-plugin-api 1.x, or remove it"),
            ),
            ..Default::default()
        },
        library: None,
        stamp: None,
    }
}

/// The sha256 of a file's content, hex.
pub fn file_sha256(file: &Path) -> std::io::Result<String> {
    Ok(hex::encode(Sha256::digest(std::fs::read(file)?)))
}

/// Every `*.so` in `dir`, sorted.
pub fn plugin_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "so"))
        .collect();
    files.sort();
    Ok(files)
}

/// Loads one plugin file through its content-addressed copy under `copies` (or in place when
/// `copies` is `None`, for one-shot validation).
pub fn load_file(
    file: &Path,
    copies: Option<&Path>,
    generations: &mut Generations,
    metrics: &Metrics,
) -> PluginEntry {
    let stamp = FileStamp::of(file);
    let bytes = match std::fs::read(file) {
        Ok(b) => b,
        Err(e) => {
            return refused(
                file,
                String::new(),
                "plugin",
                "unreadable",
                format!("cannot read the file: {e}"),
                metrics,
            )
        }
    };
    let sha = hex::encode(Sha256::digest(&bytes));
    let load_path = match copies {
        Some(dir) => {
            let stem = file
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("plugin");
            let copy = dir.join(format!("{stem}-{sha}.so"));
            if !copy.exists() {
                let tmp = dir.join(format!(".{stem}-{sha}.so.tmp"));
                let written = std::fs::create_dir_all(dir)
                    .and_then(|_| std::fs::write(&tmp, &bytes))
                    .and_then(|_| std::fs::rename(&tmp, &copy));
                if let Err(e) = written {
                    return refused(
                        file,
                        sha,
                        "plugin",
                        "copy_failed",
                        format!("cannot copy it to {}: {e}", copy.display()),
                        metrics,
                    );
                }
            }
            copy
        }
        None => file.to_owned(),
    };
    match PluginLibrary::load(&load_path) {
        Ok(library) => {
            let manifest = library.manifest();
            let generation = generations.generation(&manifest.id, &sha);
            let shown = file.display().to_string();
            PluginLoaded {
                file: &shown,
                id: &manifest.id,
                version: &manifest.version,
            }
            .emit(metrics);
            PluginEntry {
                info: PluginInfo {
                    file: shown,
                    state: "loaded".into(),
                    id: Some(manifest.id.clone()),
                    display_name: Some(manifest.display_name.clone()),
                    version: Some(manifest.version.clone()),
                    api_version: Some(exsync_plugin_api::API_VERSION.to_owned()),
                    sha256: sha,
                    generation,
                    error: None,
                },
                library: Some(library),
                stamp,
            }
        }
        Err(e) => {
            let reason = e.reason();
            let message = match &e {
                LoadError::Open(m) => format!("the dynamic loader refused it: {m}"),
                other => other.to_string(),
            };
            let mut entry = refused(file, sha, "plugin", reason, message, metrics);
            entry.stamp = stamp;
            entry
        }
    }
}

/// Loads every plugin of `dir`. A second file with an id already loaded is refused.
pub fn load_dir(
    dir: &Path,
    copies: Option<&Path>,
    generations: &mut Generations,
    metrics: &Metrics,
) -> Result<Vec<PluginEntry>, String> {
    let files = plugin_files(dir)
        .map_err(|e| format!("cannot list plugin directory {}: {e}", dir.display()))?;
    let mut entries: Vec<PluginEntry> = Vec::new();
    for file in files {
        let mut entry = load_file(&file, copies, generations, metrics);
        if let Some(id) = &entry.info.id {
            if let Some(first) = entries.iter().find(|e| e.info.id.as_ref() == Some(id)) {
                let message = format!(
                    "plugin id `{id}` is already provided by {}",
                    first.info.file
                );
                entry = refused(
                    &file,
                    entry.info.sha256.clone(),
                    "plugin",
                    "duplicate_id",
                    message,
                    metrics,
                );
            }
        }
        entries.push(entry);
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generations_count_code_versions_and_an_old_build_back_keeps_its_number() {
        let mut g = Generations::default();
        assert_eq!(g.generation("probe", "aa"), 1);
        assert_eq!(g.generation("probe", "bb"), 2);
        assert_eq!(
            g.generation("probe", "aa"),
            1,
            "the same code is the same generation"
        );
        assert_eq!(g.generation("binance", "cc"), 1);
        assert_eq!(g.resident(), 3);
    }

    #[test]
    fn a_file_stamp_changes_when_the_file_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("p.so");
        std::fs::write(&file, b"one").unwrap();
        let before = FileStamp::of(&file).unwrap();
        assert_eq!(FileStamp::of(&file), Some(before.clone()));
        let tmp = dir.path().join("p.so.tmp");
        std::fs::write(&tmp, b"two").unwrap();
        std::fs::rename(&tmp, &file).unwrap();
        assert_ne!(FileStamp::of(&file), Some(before));
    }
}
