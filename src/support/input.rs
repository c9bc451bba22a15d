//! Reading the files a person hands idpsim (scenarios, `idpsim.toml`, baselines, state files,
//! captures to import): regular files only, at most [`MAX_FILE_BYTES`], UTF-8 with the position
//! of the first bad byte.
//!
//! Why each rule: a FIFO named `x.yaml` blocks `open` and `read` forever, `/dev/zero` never
//! ends, and `/proc/self/fd/N` can be either; a file of gigabytes exhausts memory before any
//! parser can refuse it. Each is refused before a byte is read (or after at most the limit),
//! with an error that names the rule, so a bad input never hangs a run and nothing is sent.

use std::io::Read;
use std::path::Path;

use crate::support::diagnostic::Pos;

/// The largest input file idpsim reads: 8 MiB. A hand-written scenario is a few KiB and a long
/// recording a few MiB; past this, memory (a node tree about ten times the text) and load time
/// stop being predictable.
pub const MAX_FILE_BYTES: u64 = 8 * 1024 * 1024;

/// The largest capture `idpsim import` reads: 64 MiB. A browser's HAR keeps every response
/// body and header, most of which the scenario drops.
pub const MAX_CAPTURE_BYTES: u64 = 64 * 1024 * 1024;

/// Why a file was not read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputError {
    /// Where in the file, when the problem has a position (invalid UTF-8).
    pub pos: Option<Pos>,
    pub message: String,
}

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.pos {
            Some(p) => write!(f, "{}:{}: {}", p.line, p.col, self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl InputError {
    fn new(message: impl Into<String>) -> Self {
        InputError {
            pos: None,
            message: message.into(),
        }
    }
}

/// What kind of thing a non-regular file is, in words.
pub fn kind_of(file_type: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if file_type.is_char_device() {
            return "a character device";
        }
        if file_type.is_block_device() {
            return "a block device";
        }
        if file_type.is_socket() {
            return "a socket";
        }
    }
    if file_type.is_dir() {
        "a folder"
    } else if file_type.is_symlink() {
        "a symbolic link"
    } else {
        "not a regular file"
    }
}

/// The metadata of what `path` names, symlinks followed, with a loop named as one.
pub fn metadata(path: &Path) -> Result<std::fs::Metadata, InputError> {
    std::fs::metadata(path).map_err(|e| {
        if is_symlink_loop(&e) {
            InputError::new("a loop of symbolic links: following them never reaches a file")
        } else {
            InputError::new(e.to_string())
        }
    })
}

fn is_symlink_loop(e: &std::io::Error) -> bool {
    // ELOOP: 40 on Linux, 62 on the BSDs and macOS. std has no stable ErrorKind for it yet.
    let eloop = if cfg!(any(
        target_os = "macos",
        target_os = "ios",
        target_os = "freebsd"
    )) {
        62
    } else {
        40
    };
    e.raw_os_error() == Some(eloop)
}

/// Checks that `path` is a regular file of at most `max` bytes, without opening it.
pub fn check_regular(path: &Path, max: u64) -> Result<std::fs::Metadata, InputError> {
    let meta = metadata(path)?;
    if !meta.is_file() {
        return Err(InputError::new(format!(
            "{}, not a regular file: idpsim reads only regular files",
            kind_of(&meta.file_type())
        )));
    }
    if meta.len() > max {
        return Err(too_large(max));
    }
    Ok(meta)
}

fn too_large(max: u64) -> InputError {
    InputError::new(format!(
        "the file is larger than {max} bytes ({} MiB), idpsim's limit for this input",
        max / (1024 * 1024)
    ))
}

/// Reads a regular file of at most [`MAX_FILE_BYTES`] as bytes.
pub fn read_bytes(path: &Path) -> Result<Vec<u8>, InputError> {
    read_bytes_up_to(path, MAX_FILE_BYTES)
}

/// Reads a regular file of at most `max` bytes.
pub fn read_bytes_up_to(path: &Path, max: u64) -> Result<Vec<u8>, InputError> {
    check_regular(path, max)?;
    let file = std::fs::File::open(path).map_err(|e| InputError::new(e.to_string()))?;
    // Checked again on the open file: the name may have been swapped in between.
    let meta = file
        .metadata()
        .map_err(|e| InputError::new(e.to_string()))?;
    if !meta.is_file() {
        return Err(InputError::new(format!(
            "{}, not a regular file: idpsim reads only regular files",
            kind_of(&meta.file_type())
        )));
    }
    let mut bytes = Vec::with_capacity(meta.len().min(max) as usize);
    // A file that grows while it is read (or lies about its size, as /proc files do) stops at
    // the limit plus one byte, which is enough to know it is too large.
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| InputError::new(e.to_string()))?;
    if bytes.len() as u64 > max {
        return Err(too_large(max));
    }
    Ok(bytes)
}

/// Reads a regular file of at most [`MAX_FILE_BYTES`] as UTF-8 text.
pub fn read_text(path: &Path) -> Result<String, InputError> {
    utf8(read_bytes(path)?)
}

/// Bytes already in memory (a fuzz input, a test), checked as a file's would be: at most
/// [`MAX_FILE_BYTES`], UTF-8.
pub fn text_from_bytes(bytes: Vec<u8>) -> Result<String, InputError> {
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_large(MAX_FILE_BYTES));
    }
    utf8(bytes)
}

/// The bytes as text, or where the first byte that is not UTF-8 sits (line and column, the
/// column counted in characters as editors do).
pub fn utf8(bytes: Vec<u8>) -> Result<String, InputError> {
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let bytes = e.into_bytes();
        let byte = bytes.get(at).copied().unwrap_or(0);
        // Everything before `at` is valid UTF-8 by definition.
        let before = std::str::from_utf8(&bytes[..at]).unwrap_or("");
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        InputError {
            pos: Some(Pos::new(line, col)),
            message: format!(
                "the file is not UTF-8: byte 0x{byte:02x} at offset {at} does not start a valid \
                 character (save the file as UTF-8)"
            ),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_utf8_has_a_position() {
        let err = utf8(b"name: x\nsteps:\n  - a\xffb\n".to_vec()).expect_err("not UTF-8");
        assert_eq!(err.pos, Some(Pos::new(3, 6)));
        assert!(err.message.contains("0xff"), "{}", err.message);
        // Columns count characters, not bytes.
        let err = utf8("é\u{e9}x".bytes().chain([0xc3]).collect()).expect_err("cut");
        assert_eq!(err.pos, Some(Pos::new(1, 4)));
    }

    #[test]
    fn only_regular_files_are_read() {
        let dir = tempdir();
        let err = read_text(&dir).expect_err("a folder");
        assert!(
            err.message.contains("a folder, not a regular file"),
            "{err}"
        );
        #[cfg(target_os = "linux")]
        {
            let err = read_text(Path::new("/dev/zero")).expect_err("a device");
            assert!(err.message.contains("a character device"), "{err}");
        }
        let big = dir.join("big.yaml");
        std::fs::write(&big, vec![b'#'; MAX_FILE_BYTES as usize + 1]).expect("write");
        let err = read_text(&big).expect_err("too large");
        assert!(
            err.message.contains("larger than 8388608 bytes (8 MiB)"),
            "{err}"
        );
        let err = read_bytes_up_to(&big, 10).expect_err("over a small limit");
        assert!(err.message.contains("larger than 10 bytes"), "{err}");
        let ok = dir.join("ok.yaml");
        std::fs::write(&ok, "name: x\n").expect("write");
        assert_eq!(read_text(&ok).as_deref(), Ok("name: x\n"));
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn tempdir() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "idpsim-input-{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&dir).expect("tempdir");
        dir
    }
}
