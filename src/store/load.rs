//! Loading a [`MemoryStore`] from files and directories.
//!
//! - A file may be PEM (any number of `CERTIFICATE`, `PKCS7`, `PRIVATE KEY`,
//!   `EC PRIVATE KEY` and `RSA PRIVATE KEY` blocks, with any text between
//!   them, such as the `subject=` lines this crate writes), a DER
//!   certificate, a DER P7B, or a DER private key (read by
//!   [`crate::formats`]). Only regular files are read, up to
//!   [`LoadOptions::max_file_size`]; certificates above
//!   [`LoadOptions::max_certificate_size`] are refused.
//! - A directory is read with its files in byte order of their names; ids
//!   are given 1, 2, 3, … in that order, certificates within a file in
//!   file order, a certificate seen twice keeping its first id. Hidden
//!   files (a leading `.`) and subdirectories are not read; the manifest
//!   [`MANIFEST_FILE`](super::MANIFEST_FILE) is read as a manifest.
//! - Keys are paired after every path is read. A key sitting in a file
//!   with certificates, or in a file with the same stem as a certificate
//!   file (`www.key` beside `www.pem`), is *named for* those certificates:
//!   if it matches none of them it is a [`ExportError::KeyMismatch`] and is
//!   never paired with anything. Other keys pair with every certificate
//!   holding their public key; one that matches none is reported.
//! - A file that cannot be read is an error naming it, or, with
//!   [`BadFiles::SkipWithWarning`], skipped and reported.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use super::manifest::{MAX_MANIFEST_BYTES, Manifest};
use super::memory::MemoryStore;
use crate::certificate::CertificateView;
use crate::error::ExportError;
use crate::formats::{Item, items};
use crate::ids::CertId;
use crate::key::PrivateKey;

/// What loading does with a file it cannot read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum BadFiles {
    /// Stop with an error that names the file (the default).
    #[default]
    Fail,
    /// Skip the file and report it in [`LoadReport::warnings`]. Automatic
    /// ids given after a skipped file may differ from those of a complete
    /// load, so looking them up by id fails with
    /// [`ExportError::UnstableId`] (thumbprints and fixed ids still work).
    SkipWithWarning,
}

/// Settings for loading a store.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LoadOptions {
    /// What to do with a file that cannot be read.
    pub bad_files: BadFiles,
    /// The largest file read, in bytes (default 4 GiB, room for a bundle
    /// of a few million certificates; memory for it must be there).
    pub max_file_size: u64,
    /// The largest certificate accepted, in bytes (default 1 MiB: real
    /// certificates, even with thousands of names, stay far below it, and
    /// the cap bounds what a chain build hashes).
    pub max_certificate_size: usize,
}

impl LoadOptions {
    /// The default [`max_file_size`](Self::max_file_size).
    pub const DEFAULT_MAX_FILE_SIZE: u64 = 4 << 30;
    /// The default [`max_certificate_size`](Self::max_certificate_size).
    pub const DEFAULT_MAX_CERTIFICATE_SIZE: usize = 1 << 20;

    /// The defaults, with `bad_files`.
    pub fn with_bad_files(bad_files: BadFiles) -> Self {
        Self {
            bad_files,
            ..Self::default()
        }
    }
}

impl Default for LoadOptions {
    fn default() -> Self {
        Self {
            bad_files: BadFiles::Fail,
            max_file_size: Self::DEFAULT_MAX_FILE_SIZE,
            max_certificate_size: Self::DEFAULT_MAX_CERTIFICATE_SIZE,
        }
    }
}

/// What a load did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LoadReport {
    /// Certificates added.
    pub certificates: usize,
    /// Certificates skipped because the store already held them.
    pub duplicates: usize,
    /// Private keys paired with at least one certificate.
    pub keys: usize,
    /// Files skipped, keys that pair with nothing, and other problems that
    /// did not stop the load.
    pub warnings: Vec<ExportError>,
}

impl MemoryStore {
    /// A store loaded from one file or directory, failing on any bad file.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self, ExportError> {
        let mut store = Self::new();
        store.load_paths([path], &LoadOptions::default())?;
        Ok(store)
    }

    /// Loads files and directories into the store, then pairs the keys
    /// they held with certificates.
    pub fn load_paths<P: AsRef<Path>>(
        &mut self,
        paths: impl IntoIterator<Item = P>,
        options: &LoadOptions,
    ) -> Result<LoadReport, ExportError> {
        let mut loader = Loader {
            store: self,
            options,
            report: LoadReport::default(),
            keys: Vec::new(),
        };
        for path in paths {
            let path = path.as_ref();
            if path.is_dir() {
                loader.directory(path)?;
            } else {
                let contents = loader.file(path, false, &mut |_, _| None)?;
                loader.keys_named_for_their_file(path, contents);
            }
        }
        loader.pair_keys()?;
        Ok(loader.report)
    }

    /// Loads the bytes of one store file already in memory (a PEM bundle,
    /// a DER certificate or P7B, a key), as [`load_paths`](Self::load_paths)
    /// loads a file; `name` stands for the file in errors.
    pub fn load_bytes(
        &mut self,
        name: impl AsRef<Path>,
        bytes: &[u8],
        options: &LoadOptions,
    ) -> Result<LoadReport, ExportError> {
        let name = name.as_ref();
        let mut loader = Loader {
            store: self,
            options,
            report: LoadReport::default(),
            keys: Vec::new(),
        };
        let too_large = u64::try_from(bytes.len()).map_or(true, |len| len > options.max_file_size);
        let contents = if too_large {
            let error = ExportError::FileTooLarge {
                path: name.to_owned(),
                what: "a store file",
                limit: options.max_file_size,
            };
            loader.bad(name, error).map(|()| None)?
        } else {
            loader.contents(name, bytes, &mut |_, _| None)?
        };
        loader.keys_named_for_their_file(name, contents);
        loader.pair_keys()?;
        Ok(loader.report)
    }
}

/// The bytes of the regular file `path`, of at most `limit` bytes, in
/// zeroizing memory (a store file may hold keys). Devices, FIFOs and
/// sockets are refused before they are opened (opening a FIFO for reading
/// blocks until a writer comes; a device can feed input without end), and
/// the file is checked again once open. `what` names the kind of file in
/// [`ExportError::FileTooLarge`].
pub fn read_regular_file(path: &Path, limit: u64, what: &'static str) -> Result<Zeroizing<Vec<u8>>, ExportError> {
    read_file(path, limit, what, true)
}

/// [`read_regular_file`], with the look before opening (`stat_first`) or
/// without it, for a file its directory listing already calls regular (a
/// directory load's files each cost one `stat` less). Either way opening
/// does not wait (`O_NONBLOCK`: a FIFO put there since opens at once) and
/// the open file is checked.
fn read_file(path: &Path, limit: u64, what: &'static str, stat_first: bool) -> Result<Zeroizing<Vec<u8>>, ExportError> {
    let io = io_error(path);
    let regular = |metadata: std::fs::Metadata| {
        if metadata.is_file() {
            Ok(metadata)
        } else {
            Err(ExportError::NotARegularFile {
                path: path.to_owned(),
                kind: file_kind(metadata.file_type()),
            })
        }
    };
    if stat_first {
        regular(std::fs::metadata(path).map_err(&io)?)?;
    }
    let mut open = std::fs::OpenOptions::new();
    open.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        open.custom_flags(libc::O_NONBLOCK);
    }
    let file = open.open(path).map_err(&io)?;
    let metadata = regular(file.metadata().map_err(&io)?)?;
    let too_large = || ExportError::FileTooLarge {
        path: path.to_owned(),
        what,
        limit,
    };
    if metadata.len() > limit {
        return Err(too_large());
    }
    let mut bytes = Zeroizing::new(Vec::with_capacity(usize::try_from(metadata.len()).unwrap_or(0)));
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(&io)?;
    if bytes.len() as u64 > limit {
        return Err(too_large());
    }
    Ok(bytes)
}

fn io_error(path: &Path) -> impl Fn(std::io::Error) -> ExportError + '_ {
    move |e| ExportError::Io {
        path: path.to_owned(),
        kind: e.kind(),
    }
}

/// Checks what [`MemoryStore::add`] needs of a certificate: its fields,
/// and the issuer and subject names it indexes. Every certificate of a
/// file is checked before any is stored, so that a bad file is refused (or
/// skipped) whole.
fn storable(der: &[u8]) -> der::Result<()> {
    let view = CertificateView::parse(der)?;
    crate::name::check_der(view.issuer)?;
    crate::name::check_der(view.subject)
}

fn file_kind(file_type: std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "a FIFO";
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
        "a directory"
    } else {
        "not a regular file"
    }
}

struct Loader<'a> {
    store: &'a mut MemoryStore,
    options: &'a LoadOptions,
    report: LoadReport,
    keys: Vec<PendingKey>,
}

/// A key read from a file, waiting to be paired.
struct PendingKey {
    key: PrivateKey,
    file: PathBuf,
    /// The certificates it was named for (same file or same stem).
    named_for: Vec<(CertId, PathBuf)>,
}

/// The certificates a file added and the keys it held.
#[derive(Default)]
struct FileContents {
    certificates: Vec<CertId>,
    keys: Vec<PrivateKey>,
}

impl Loader<'_> {
    /// Applies the bad-file policy to an error about `path`. A skipped
    /// file makes the automatic ids after it unstable.
    fn bad(&mut self, path: &Path, error: ExportError) -> Result<(), ExportError> {
        match self.options.bad_files {
            BadFiles::Fail => Err(error),
            BadFiles::SkipWithWarning => {
                self.store.mark_later_ids_unstable(path.to_owned());
                self.report.warnings.push(error);
                Ok(())
            }
        }
    }

    fn directory(&mut self, dir: &Path) -> Result<(), ExportError> {
        let io = |e: std::io::Error| ExportError::Io {
            path: dir.to_owned(),
            kind: e.kind(),
        };
        let mut names = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(io)? {
            let entry = entry.map_err(io)?;
            let name = entry.file_name();
            // Regular files, and symbolic links to them; devices, FIFOs and
            // subdirectories are not store files.
            let listed_regular = entry.file_type().map_err(io)?.is_file();
            let is_file = listed_regular || entry.path().is_file();
            if is_file && !name.as_encoded_bytes().starts_with(b".") && name != super::MANIFEST_FILE {
                names.push((name, listed_regular));
            }
        }
        names.sort_by(|a, b| a.0.as_encoded_bytes().cmp(b.0.as_encoded_bytes()));

        let manifest_path = dir.join(super::MANIFEST_FILE);
        let mut manifest = if manifest_path.is_file() {
            let bytes = read_regular_file(&manifest_path, MAX_MANIFEST_BYTES, "a store manifest")?;
            Manifest::read(&manifest_path, &bytes)?
        } else {
            Manifest::default()
        };
        self.store.reserve_ids(manifest.reserved_ids());

        let mut keys = Vec::new();
        let mut files: HashMap<String, Vec<CertId>> = HashMap::new();
        for (name, listed_regular) in names {
            let path = dir.join(&name);
            let file_name = name.to_string_lossy().into_owned();
            let mut fixed = |count: usize, der: &[u8]| manifest.fixed_id(&file_name, count, der);
            let contents = match self.file(&path, listed_regular, &mut fixed) {
                // Only a manifest's fixed id can collide with another certificate's.
                Err(e @ (ExportError::IdTaken { .. } | ExportError::AlreadyStored { .. })) => {
                    return Err(manifest.error(format!("{file_name}: {e}")));
                }
                other => other?,
            };
            let Some(contents) = contents else { continue };
            for key in contents.keys {
                keys.push((key, path.clone(), contents.certificates.clone()));
            }
            files.insert(file_name, contents.certificates);
        }
        manifest.check_fixed_ids()?;
        // Which certificates each file stem holds, for keys in files of
        // their own; only when there are keys (most stores have none).
        let mut by_stem: HashMap<PathBuf, Vec<(CertId, PathBuf)>> = HashMap::new();
        if !keys.is_empty() {
            // In file-name order, as the files were read.
            let mut in_order: Vec<_> = files.iter().collect();
            in_order.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            for (name, certificates) in in_order {
                let path = dir.join(name);
                by_stem
                    .entry(path.with_extension(""))
                    .or_default()
                    .extend(certificates.iter().map(|&id| (id, path.clone())));
            }
        }
        for (key, file, certificates) in keys {
            let named_for = if certificates.is_empty() {
                by_stem.get(&file.with_extension("")).cloned().unwrap_or_default()
            } else {
                certificates.into_iter().map(|id| (id, file.clone())).collect()
            };
            self.keys.push(PendingKey { key, file, named_for });
        }
        manifest.apply(self.store, &files)
    }

    /// Reads one file and inserts its certificates. `fixed` gives a fixed
    /// id for a certificate (from its file's certificate count and its
    /// DER). Returns `None` for a bad file that was skipped; a file is
    /// read whole before anything of it is stored, so a skipped file
    /// leaves nothing behind.
    /// `listed_regular`: its directory listing says it is a regular file.
    fn file(
        &mut self,
        path: &Path,
        listed_regular: bool,
        fixed: &mut dyn FnMut(usize, &[u8]) -> Option<CertId>,
    ) -> Result<Option<FileContents>, ExportError> {
        match read_file(path, self.options.max_file_size, "a store file", !listed_regular) {
            Ok(bytes) => self.contents(path, &bytes, fixed),
            Err(e) => self.bad(path, e).map(|()| None),
        }
    }

    /// The keys of a file given alone are named for that file's certificates.
    fn keys_named_for_their_file(&mut self, path: &Path, contents: Option<FileContents>) {
        let Some(contents) = contents.filter(|c| !c.keys.is_empty()) else {
            return;
        };
        let named_for: Vec<_> = contents.certificates.iter().map(|&id| (id, path.to_owned())).collect();
        for key in contents.keys {
            self.keys.push(PendingKey {
                key,
                file: path.to_owned(),
                named_for: named_for.clone(),
            });
        }
    }

    /// Inserts the certificates of one file's `bytes` (see [`file`](Self::file)).
    fn contents(
        &mut self,
        path: &Path,
        bytes: &[u8],
        fixed: &mut dyn FnMut(usize, &[u8]) -> Option<CertId>,
    ) -> Result<Option<FileContents>, ExportError> {
        let items = match items(bytes) {
            Ok(items) => items,
            Err(reason) => {
                let error = ExportError::BadStoreFile {
                    path: path.to_owned(),
                    reason,
                };
                return self.bad(path, error).map(|()| None);
            }
        };
        for item in &items {
            if let Item::Certificate(der) = item {
                let problem = if der.len() > self.options.max_certificate_size {
                    Some(ExportError::CertificateTooLarge {
                        what: path.display().to_string(),
                        size: der.len(),
                        limit: self.options.max_certificate_size,
                    })
                } else {
                    storable(der).err().map(|e| ExportError::BadStoreFile {
                        path: path.to_owned(),
                        reason: format!("malformed certificate: {e}"),
                    })
                };
                if let Some(problem) = problem {
                    return self.bad(path, problem).map(|()| None);
                }
            }
        }
        let count = items.iter().filter(|i| matches!(i, Item::Certificate(_))).count();
        let mut contents = FileContents::default();
        for item in items {
            match item {
                Item::Certificate(der) => {
                    let id = fixed(count, &der);
                    let inserted = self.store.add(der, id)?;
                    if inserted.new {
                        self.report.certificates += 1;
                    } else {
                        self.report.duplicates += 1;
                    }
                    contents.certificates.push(inserted.id);
                }
                Item::Key(key) => contents.keys.push(key),
            }
        }
        Ok(Some(contents))
    }

    fn pair_keys(&mut self) -> Result<(), ExportError> {
        for pending in std::mem::take(&mut self.keys) {
            let file = pending.file.display().to_string();
            if !pending.named_for.is_empty() {
                let matches_one = pending.named_for.iter().any(|(id, _)| {
                    self.store.get(*id).is_some_and(|c| {
                        CertificateView::parse(&c.der).is_ok_and(|view| pending.key.matches_public_key(view.spki))
                    })
                });
                if !matches_one {
                    let certificate = pending.named_for[0].1.display().to_string();
                    self.bad(&pending.file, ExportError::KeyMismatch { key: file, certificate })?;
                    continue;
                }
            }
            if self.store.insert_private_key(pending.key).is_empty() {
                self.report.warnings.push(ExportError::UnpairedKey { key: file });
            } else {
                self.report.keys += 1;
            }
        }
        Ok(())
    }
}
