//! Output that a closed pipe cannot crash (`idpsim audit … | head -1`), and the one way a report
//! or state file is written.
//!
//! `print!` panics when stdout is gone; these macros drop the write instead: once the reader has
//! left, nobody is there to read the rest, and the exit code still tells the story.

use std::fmt;
use std::path::{Path, PathBuf};

/// `println!` that survives a closed pipe: printing never panics.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// `print!` that survives a closed pipe.
macro_rules! say_raw {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout(), $($arg)*);
    }};
}

pub(crate) use {say, say_raw};

/// Writes all of `text` to stdout and flushes it; a closed pipe is not an error.
pub fn stdout(text: &str) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// Flushes stdout (a line a parent process waits for, e.g. `serve`'s address); a closed pipe
/// is not an error.
pub fn flush() {
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
}

/// Writes all of `text` to stderr; a closed pipe is not an error.
pub fn stderr(text: &str) {
    use std::io::Write as _;
    let _ = std::io::stderr().write_all(text.as_bytes());
}

/// A file that could not be written, naming the path that failed (the file or its folder).
#[derive(Debug)]
pub struct WriteError {
    pub path: PathBuf,
    pub cause: std::io::Error,
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.cause)
    }
}

/// Writes a report or state file, creating its folder first (`--report-json out/run.json` works
/// in a fresh CI workspace).
pub fn write_file(path: &Path, text: &str) -> Result<(), WriteError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|cause| WriteError {
            path: dir.to_path_buf(),
            cause,
        })?;
    }
    std::fs::write(path, text).map_err(|cause| WriteError {
        path: path.to_path_buf(),
        cause,
    })
}
