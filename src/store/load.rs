//! Loading a [`MemoryStore`] from files and directories (SPEC §8).
//!
//! - A file may be PEM (any number of `CERTIFICATE`, `PKCS7`, `PRIVATE KEY`,
//!   `EC PRIVATE KEY` and `RSA PRIVATE KEY` blocks, with any text between
//!   them, such as the `subject=` lines this crate writes), a DER
//!   certificate, a DER P7B, or a DER private key.
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
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use super::manifest::Manifest;
use super::memory::MemoryStore;
use crate::certificate::CertificateView;
use crate::key::PrivateKey;
use crate::tlv::{self, Reader, tag};
use crate::{CertId, ExportError, base64};

/// What loading does with a file it cannot read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum BadFiles {
    /// Stop with an error that names the file (the default).
    #[default]
    Fail,
    /// Skip the file and report it in [`LoadReport::warnings`].
    SkipWithWarning,
}

/// Settings for loading a store.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// What to do with a file that cannot be read.
    pub bad_files: BadFiles,
}

/// What a load did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
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
            } else if let Some(contents) = loader.file(path, &mut |_, _| None, &|_| false)? {
                let named_for: Vec<_> = contents.certificates.iter().map(|&id| (id, path.to_owned())).collect();
                for key in contents.keys {
                    loader.keys.push(PendingKey {
                        key,
                        file: path.to_owned(),
                        named_for: named_for.clone(),
                    });
                }
            }
        }
        loader.pair_keys()?;
        Ok(loader.report)
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

/// One thing a file held.
enum Item {
    Certificate(Box<[u8]>),
    Key(PrivateKey),
}

/// The certificates a file added and the keys it held.
#[derive(Default)]
struct FileContents {
    certificates: Vec<CertId>,
    keys: Vec<PrivateKey>,
}

impl Loader<'_> {
    /// Applies the bad-file policy to an error about `path`.
    fn bad(&mut self, error: ExportError) -> Result<(), ExportError> {
        match self.options.bad_files {
            BadFiles::Fail => Err(error),
            BadFiles::SkipWithWarning => {
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
            let is_file = entry.file_type().map_err(io)?.is_file() || entry.path().is_file();
            if is_file && !name.as_encoded_bytes().starts_with(b".") && name != super::MANIFEST_FILE {
                names.push(name);
            }
        }
        names.sort_by(|a, b| a.as_encoded_bytes().cmp(b.as_encoded_bytes()));

        let manifest_path = dir.join(super::MANIFEST_FILE);
        let mut manifest = if manifest_path.is_file() {
            Manifest::read(&manifest_path)?
        } else {
            Manifest::default()
        };
        let reserved = manifest.reserved_ids();

        let mut by_stem: HashMap<PathBuf, Vec<(CertId, PathBuf)>> = HashMap::new();
        let mut keys = Vec::new();
        let mut files: HashMap<String, Vec<CertId>> = HashMap::new();
        for name in names {
            let path = dir.join(&name);
            let file_name = name.to_string_lossy().into_owned();
            let mut fixed = |count: usize, der: &[u8]| manifest.fixed_id(&file_name, count, der);
            let contents = match self.file(&path, &mut fixed, &|id| reserved.contains(&id)) {
                // Only a manifest's fixed id can collide with another certificate's.
                Err(ExportError::InvalidOption {
                    what: "certificate id",
                    reason,
                }) => {
                    return Err(ExportError::BadManifest {
                        path: manifest_path,
                        reason: format!("{file_name}: {reason}"),
                    });
                }
                other => other?,
            };
            let Some(contents) = contents else { continue };
            let stem = path.with_extension("");
            by_stem
                .entry(stem)
                .or_default()
                .extend(contents.certificates.iter().map(|&id| (id, path.clone())));
            for key in contents.keys {
                keys.push((key, path.clone(), contents.certificates.clone()));
            }
            files.insert(file_name, contents.certificates);
        }
        manifest.check_fixed_ids()?;
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
    /// DER); `reserved` says which ids automatic numbering skips.
    /// Returns `None` for a bad file that was skipped.
    fn file(
        &mut self,
        path: &Path,
        fixed: &mut dyn FnMut(usize, &[u8]) -> Option<CertId>,
        reserved: &dyn Fn(CertId) -> bool,
    ) -> Result<Option<FileContents>, ExportError> {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => Zeroizing::new(bytes),
            Err(e) => {
                return self
                    .bad(ExportError::Io {
                        path: path.to_owned(),
                        kind: e.kind(),
                    })
                    .map(|()| None);
            }
        };
        let items = match read_items(&bytes) {
            Ok(items) => items,
            Err(reason) => {
                return self
                    .bad(ExportError::BadStoreFile {
                        path: path.to_owned(),
                        reason,
                    })
                    .map(|()| None);
            }
        };
        let count = items.iter().filter(|i| matches!(i, Item::Certificate(_))).count();
        let mut contents = FileContents::default();
        for item in items {
            match item {
                Item::Certificate(der) => {
                    let id = fixed(count, &der);
                    match self.store.insert_entry(der, id, reserved) {
                        Ok(inserted) => {
                            if inserted.new {
                                self.report.certificates += 1;
                            } else {
                                self.report.duplicates += 1;
                            }
                            contents.certificates.push(inserted.id);
                        }
                        Err(e @ ExportError::InvalidOption { .. }) => return Err(e),
                        Err(e) => {
                            let reason = e.to_string();
                            self.bad(ExportError::BadStoreFile {
                                path: path.to_owned(),
                                reason,
                            })?;
                        }
                    }
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
                    use crate::store::CertificateStore;
                    let stored = self.store.certificate(*id).ok().flatten();
                    stored.is_some_and(|c| {
                        CertificateView::parse(&c.der).is_ok_and(|view| pending.key.matches_public_key(view.spki))
                    })
                });
                if !matches_one {
                    let certificate = pending.named_for[0].1.display().to_string();
                    self.bad(ExportError::KeyMismatch { key: file, certificate })?;
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

/// The certificates and keys of one file's bytes.
fn read_items(bytes: &[u8]) -> Result<Vec<Item>, String> {
    if let Some(start) = find(bytes, b"-----BEGIN ") {
        return read_pem(bytes, start);
    }
    if CertificateView::parse(bytes).is_ok() {
        return Ok(vec![Item::Certificate(bytes.into())]);
    }
    if let Ok(certificates) = p7b_certificates(bytes) {
        return Ok(certificates.into_iter().map(|c| Item::Certificate(c.into())).collect());
    }
    if let Ok(key) = PrivateKey::from_der(bytes) {
        return Ok(vec![Item::Key(key)]);
    }
    Err("neither PEM nor a DER certificate, P7B or private key".into())
}

fn read_pem(bytes: &[u8], mut start: usize) -> Result<Vec<Item>, String> {
    let mut items = Vec::new();
    let mut scratch = Vec::new();
    loop {
        let rest = &bytes[start + b"-----BEGIN ".len()..];
        let label_len = find(rest, b"-----").ok_or("a BEGIN line without its closing dashes")?;
        let label = std::str::from_utf8(&rest[..label_len]).map_err(|_| "a PEM label that is not text")?;
        let body_start = start + b"-----BEGIN ".len() + label_len + 5;
        let end_marker = format!("-----END {label}-----");
        // Certificate blocks are decoded as the END line is looked for: one pass.
        let base64_block = matches!(
            label,
            "CERTIFICATE" | "X509 CERTIFICATE" | "TRUSTED CERTIFICATE" | "PKCS7" | "CMS"
        );
        let body_len = if base64_block {
            let used = base64::decode_pem_body(&bytes[body_start..], &mut scratch)
                .map_err(|e| format!("the {label} block is not base64: {e}"))?;
            bytes[body_start + used..]
                .starts_with(end_marker.as_bytes())
                .then_some(used)
        } else {
            find(&bytes[body_start..], end_marker.as_bytes())
        }
        .ok_or_else(|| format!("the {label} block has no END line"))?;
        let block_end = body_start + body_len + end_marker.len();
        match label {
            "CERTIFICATE" | "X509 CERTIFICATE" | "TRUSTED CERTIFICATE" => {
                // A TRUSTED CERTIFICATE carries OpenSSL trust settings after the
                // certificate. The certificate itself is checked when it is stored.
                let certificate = Reader::new(&scratch)
                    .next()
                    .map_err(|e| format!("the {label} block: {}", der::Error::from(e)))?;
                items.push(Item::Certificate(certificate.raw.into()));
            }
            "PKCS7" | "CMS" => {
                for certificate in p7b_certificates(&scratch).map_err(|e| format!("the {label} block: {e}"))? {
                    items.push(Item::Certificate(certificate.into()));
                }
            }
            "PRIVATE KEY" | "EC PRIVATE KEY" | "RSA PRIVATE KEY" | "ENCRYPTED PRIVATE KEY" => {
                let text = std::str::from_utf8(&bytes[start..block_end]).map_err(|_| "a key block that is not text")?;
                items.push(Item::Key(PrivateKey::from_pem(text).map_err(|e| e.to_string())?));
            }
            // Blocks that sit beside certificates and keys but are not ours to load.
            "EC PARAMETERS" | "X509 CRL" | "CERTIFICATE REQUEST" | "NEW CERTIFICATE REQUEST" | "PUBLIC KEY" => {}
            other => return Err(format!("unknown PEM block {other:?}")),
        }
        match find(&bytes[block_end..], b"-----BEGIN ") {
            Some(next) => start = block_end + next,
            None => return Ok(items),
        }
    }
}

/// The certificates of a DER P7B (`ContentInfo` with `SignedData`), in
/// the order the file lists them.
pub(crate) fn p7b_certificates(der: &[u8]) -> der::Result<Vec<&[u8]>> {
    const SIGNED_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02];
    let content_info = tlv::single(der, tag::SEQUENCE)?;
    let mut fields = Reader::new(content_info.value);
    if fields.expect(tag::OID)?.value != SIGNED_DATA {
        return Err(der::ErrorKind::OidUnknown {
            oid: der::asn1::ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2"),
        }
        .into());
    }
    let explicit = fields.expect(tag::CONTEXT_0)?;
    fields.finish()?;
    let signed_data = tlv::single(explicit.value, tag::SEQUENCE)?;
    let mut parts = Reader::new(signed_data.value);
    parts.expect(tag::INTEGER)?;
    parts.expect(tag::SET)?;
    parts.expect(tag::SEQUENCE)?;
    let mut certificates = Vec::new();
    if let Some(set) = parts.optional(tag::CONTEXT_0)? {
        let mut reader = Reader::new(set.value);
        while !reader.is_empty() {
            let choice = reader.next()?;
            // Only the plain `Certificate` choice; attribute certificates are not ours.
            if choice.tag == tag::SEQUENCE {
                CertificateView::parse(choice.raw)?;
                certificates.push(choice.raw);
            }
        }
    }
    Ok(certificates)
}

/// The first position of `needle` in `haystack`. Jumps between `-`
/// characters, which PEM bodies never contain, so a bundle is scanned once.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    let first = *needle.first()?;
    let mut at = 0;
    while let Some(offset) = haystack[at..].iter().position(|&b| b == first) {
        let candidate = at + offset;
        if haystack[candidate..].starts_with(needle) {
            return Some(candidate);
        }
        at = candidate + 1;
    }
    None
}
