//! Persistence of the whole store to one JSON file.
//!
//! Writes are crash-safe: serialise to a temp file in the target's directory, fsync it, rename
//! it over the target (atomic on POSIX within one filesystem), then fsync the directory so the
//! rename itself is durable. A crash at any point leaves either the old or the new file.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::store::Data;
use super::ServerError;

const FORMAT: &str = "idpsim-refserver/1";

#[derive(Serialize, Deserialize)]
struct FileV1 {
    format: String,
    #[serde(flatten)]
    data: Data,
}

/// Loads the store; a missing file is an empty store.
pub(crate) fn load(path: &Path) -> Result<Data, ServerError> {
    // A FIFO or a device given as --data would block the read (or never end); the store can be
    // larger than the scenario-file limit, so only the kind of file is checked.
    if let Ok(meta) = fs::metadata(path) {
        if !meta.is_file() {
            return Err(ServerError::DataRead {
                path: path.to_path_buf(),
                source: std::io::Error::other(format!(
                    "{}, not a regular file",
                    crate::support::input::kind_of(&meta.file_type())
                )),
            });
        }
    }
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Data::default()),
        Err(e) => {
            return Err(ServerError::DataRead {
                path: path.to_path_buf(),
                source: e,
            })
        }
    };
    let file: FileV1 = serde_json::from_slice(&bytes).map_err(|e| ServerError::DataCorrupt {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    if file.format != FORMAT {
        return Err(ServerError::DataCorrupt {
            path: path.to_path_buf(),
            reason: format!("unknown format '{}' (expected '{FORMAT}')", file.format),
        });
    }
    Ok(file.data)
}

/// Serialises the store (cheap, done under the store lock so the snapshot is consistent).
pub(crate) fn serialize(data: &Data) -> Result<Vec<u8>, serde_json::Error> {
    #[derive(Serialize)]
    struct FileRef<'a> {
        format: &'a str,
        #[serde(flatten)]
        data: &'a Data,
    }
    let mut file = serde_json::to_value(FileRef {
        format: FORMAT,
        data,
    })?;
    forget_passwords(&mut file);
    serde_json::to_vec(&file)
}

/// What a persisted password becomes: the server never returns a password (it is write-only),
/// so the file keeps only that one was set, never the password itself.
const PASSWORD_NOT_STORED: &str = "[set; not stored]";

/// Replaces every `password` attribute's value (any case) in the file's resources.
fn forget_passwords(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if k.eq_ignore_ascii_case("password") && !v.is_null() {
                    *v = serde_json::Value::String(PASSWORD_NOT_STORED.into());
                } else {
                    forget_passwords(v);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(forget_passwords),
        _ => {}
    }
}

fn temp_path(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "store".into());
    let tmp = format!(
        ".{name}.tmp-{}-{}",
        std::process::id(),
        rand::random::<u32>()
    );
    match target.parent() {
        Some(dir) => dir.join(tmp),
        None => PathBuf::from(tmp),
    }
}

/// Atomically replaces `target` with `bytes` (temp file + fsync + rename + dir fsync).
pub(crate) fn write_atomic(target: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = temp_path(target);
    let result = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, target)?;
        if let Some(dir) = target.parent() {
            let dir = if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            };
            // Directory fsync makes the rename durable; not supported everywhere, so best effort.
            if let Ok(d) = fs::File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}
