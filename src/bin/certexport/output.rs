//! Where the command line's results go: files in an output directory,
//! written safely, and standard output, which may close early.

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use certexport::{ExportArtifact, ExportError};

use crate::failure::Failure;

/// Whether an existing file may be replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Existing {
    /// Refuse ([`ExportError::OutputExists`]): the default.
    Keep,
    /// Replace it atomically (`--force`).
    Replace,
}

/// Writes `artifact` to `dir/<its file name>` and returns the path.
///
/// - The bytes go to a new temporary file in `dir` first (created
///   exclusively, so never through a planted symbolic link), are flushed to
///   disk, and only then take the final name: a failed write (a full disk)
///   leaves nothing behind, and a reader never sees half a file.
/// - The final name is taken with a hard link, which fails if anything —
///   a file or a symbolic link — is there already; with
///   [`Existing::Replace`] by a rename, which replaces a link itself, never
///   the file it points to.
/// - A file that holds a private key (even encrypted) is created readable
///   by its owner only (0600); others follow the umask.
pub(crate) fn write_artifact(dir: &Path, artifact: &ExportArtifact, existing: Existing) -> Result<PathBuf, Failure> {
    let path = dir.join(artifact.file_name());
    let write_error = |path: &Path| {
        let path = path.to_owned();
        move |e: std::io::Error| {
            Failure::Export(ExportError::Write {
                path: path.clone(),
                kind: e.kind(),
            })
        }
    };
    let (temp_path, mut file) = temporary_file(dir, artifact.contains_private_key()).map_err(write_error(dir))?;
    let written = file.write_all(artifact.bytes()).and_then(|()| file.sync_all());
    drop(file);
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temp_path);
        return Err(write_error(&path)(e));
    }
    let placed = match existing {
        Existing::Replace => std::fs::rename(&temp_path, &path),
        Existing::Keep => std::fs::hard_link(&temp_path, &path),
    };
    // After a rename the temporary name is gone already; after a link (or
    // a failure) it is removed here.
    let _ = std::fs::remove_file(&temp_path);
    match placed {
        Ok(()) => Ok(path),
        Err(e) if e.kind() == ErrorKind::AlreadyExists => Err(Failure::Export(ExportError::OutputExists { path })),
        Err(e) => Err(write_error(&path)(e)),
    }
}

/// A new file in `dir` with a random name, created exclusively, 0600 when
/// it will hold a key.
fn temporary_file(dir: &Path, secret: bool) -> std::io::Result<(PathBuf, File)> {
    loop {
        let mut random = [0u8; 12];
        getrandom::fill(&mut random).map_err(|_| std::io::Error::other("no random numbers"))?;
        let name: String = random.iter().map(|b| format!("{b:02x}")).collect();
        let path = dir.join(format!(".certexport-{name}.tmp"));
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(if secret { 0o600 } else { 0o644 });
        }
        #[cfg(not(unix))]
        let _ = secret;
        match options.open(&path) {
            Ok(file) => return Ok((path, file)),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Writes `bytes` to standard output. A reader that went away (`| head`)
/// ends the program quietly, as it ends `cat`.
pub(crate) fn to_stdout(bytes: &[u8]) -> Result<(), Failure> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == ErrorKind::BrokenPipe => Err(Failure::StdoutClosed),
        Err(e) => Err(Failure::Export(ExportError::Write {
            path: "<stdout>".into(),
            kind: e.kind(),
        })),
    }
}
