//! The store manifest, `certexport-store.json`: fixed ids, `uuId`s,
//! collections, containers and key policies for the certificates of a
//! store directory.
//!
//! ```json
//! {
//!   "certificates": [
//!     { "file": "www.example.com.pem", "id": 100, "uuid": "60b8d6c4e5c7a920d4f4f1f4",
//!       "collections": [5], "containers": [2],
//!       "key_policy": { "name": "Production", "private_key_access": false } },
//!     { "thumbprint": "5fb7ee0633e259dbad0c4c9ae6d38f1a61c7dc25", "collections": [5, 6] }
//!   ]
//! }
//! ```
//!
//! Each entry names certificates by `file` (a file of the directory: all
//! its certificates) or by `thumbprint` (SHA-1 or SHA-256, any spelling
//! [`Thumbprint`] parses). `id` and `uuid` are allowed only where the
//! entry names one certificate. An entry that names nothing in the store,
//! an unknown field, and an id or `uuid` given twice are errors.
//!
//! Every step is linear in the size of the manifest and the store: entries
//! are found through maps by file name and thumbprint, never by scanning.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::IgnoredAny;
use sha1::Digest;

use super::memory::MemoryStore;
use super::{CertificateStore, KeyAccess, KeyPolicy};
use crate::error::{ExportError, shown};
use crate::ids::{CertId, Thumbprint, Uuid};

/// The largest manifest read: 64 MiB, room for a million entries.
pub(super) const MAX_MANIFEST_BYTES: u64 = 64 << 20;

#[derive(Debug, Default)]
pub(super) struct Manifest {
    path: PathBuf,
    entries: Vec<Entry>,
    by_file: HashMap<String, usize>,
    by_sha1: HashMap<[u8; 20], usize>,
    by_sha256: HashMap<[u8; 32], usize>,
    /// An id problem found while files were read, reported once they are.
    deferred: Option<ExportError>,
}

#[derive(Debug)]
struct Entry {
    selector: Selector,
    id: Option<CertId>,
    uuid: Option<Uuid>,
    collections: Vec<u64>,
    containers: Vec<u64>,
    key_policy: Option<KeyPolicy>,
}

#[derive(Debug)]
enum Selector {
    File(String),
    Thumbprint(Thumbprint),
}

/// The JSON shapes. Unknown fields are collected (not refused by serde)
/// so the error can name them in our words.
#[derive(Deserialize)]
struct ManifestJson {
    certificates: Vec<EntryJson>,
    #[serde(flatten)]
    unknown: BTreeMap<String, IgnoredAny>,
}

#[derive(Deserialize)]
struct EntryJson {
    file: Option<String>,
    thumbprint: Option<String>,
    id: Option<u64>,
    uuid: Option<String>,
    #[serde(default)]
    collections: Vec<u64>,
    #[serde(default)]
    containers: Vec<u64>,
    key_policy: Option<KeyPolicyJson>,
    #[serde(flatten)]
    unknown: BTreeMap<String, IgnoredAny>,
}

#[derive(Deserialize)]
struct KeyPolicyJson {
    name: String,
    private_key_access: bool,
    #[serde(flatten)]
    unknown: BTreeMap<String, IgnoredAny>,
}

impl Manifest {
    /// Reads and checks the manifest at `path`.
    pub(super) fn read(path: &Path, bytes: &[u8]) -> Result<Self, ExportError> {
        let bad = |reason: String| ExportError::BadManifest {
            path: path.to_owned(),
            reason,
        };
        let json: ManifestJson = serde_json::from_slice(bytes).map_err(|e| bad(shown(&e.to_string())))?;
        if let Some(key) = json.unknown.keys().next() {
            return Err(bad(format!(
                "unknown field {:?} (only \"certificates\" is allowed)",
                shown(key)
            )));
        }
        let mut manifest = Self {
            path: path.to_owned(),
            ..Self::default()
        };
        let mut ids = HashSet::new();
        let mut uuids = HashSet::new();
        for (i, json) in json.certificates.into_iter().enumerate() {
            let entry = Entry::parse(json).map_err(|reason| bad(format!("certificates[{i}]: {reason}")))?;
            if let Some(id) = entry.id
                && !ids.insert(id)
            {
                return Err(bad(format!("certificates[{i}]: id {id} is given twice")));
            }
            if let Some(uuid) = &entry.uuid
                && !uuids.insert(uuid.clone())
            {
                return Err(bad(format!("certificates[{i}]: uuid {uuid} is given twice")));
            }
            let index = manifest.entries.len();
            match &entry.selector {
                Selector::File(name) => manifest.by_file.entry(name.clone()).or_insert(index),
                Selector::Thumbprint(Thumbprint::Sha1(d)) => manifest.by_sha1.entry(*d).or_insert(index),
                Selector::Thumbprint(Thumbprint::Sha256(d)) => manifest.by_sha256.entry(*d).or_insert(index),
            };
            manifest.entries.push(entry);
        }
        Ok(manifest)
    }

    /// The ids the manifest fixes: automatic numbering skips them.
    pub(super) fn reserved_ids(&self) -> impl Iterator<Item = CertId> + '_ {
        self.entries.iter().filter_map(|e| e.id)
    }

    /// The fixed id of a certificate (`der`) of `file`, which holds `count`
    /// certificates.
    pub(super) fn fixed_id(&mut self, file: &str, count: usize, der: &[u8]) -> Option<CertId> {
        let mut found = None;
        if let Some(&index) = self.by_file.get(file)
            && let Some(id) = self.entries[index].id
        {
            if count == 1 {
                found = Some(id);
            } else if self.deferred.is_none() {
                self.deferred = Some(ExportError::BadManifest {
                    path: self.path.clone(),
                    reason: format!("id {id} is given for {file:?}, which holds {count} certificates"),
                });
            }
        }
        // Hash only when some thumbprint entry could match.
        if !self.by_sha1.is_empty() {
            let sha1: [u8; 20] = sha1::Sha1::digest(der).into();
            if let Some(id) = self.by_sha1.get(&sha1).and_then(|&i| self.entries[i].id) {
                found = Some(id);
            }
        }
        if !self.by_sha256.is_empty() {
            let sha256: [u8; 32] = sha2::Sha256::digest(der).into();
            if let Some(id) = self.by_sha256.get(&sha256).and_then(|&i| self.entries[i].id) {
                found = Some(id);
            }
        }
        found
    }

    /// Fails if an id was given for a file of several certificates.
    pub(super) fn check_fixed_ids(&mut self) -> Result<(), ExportError> {
        self.deferred.take().map_or(Ok(()), Err)
    }

    /// An error about this manifest.
    pub(super) fn error(&self, reason: String) -> ExportError {
        ExportError::BadManifest {
            path: self.path.clone(),
            reason,
        }
    }

    /// Gives the named certificates their `uuId`s, collections, containers
    /// and key policies. `files` maps each file read to its certificates.
    pub(super) fn apply(
        &self,
        store: &mut MemoryStore,
        files: &HashMap<String, Vec<CertId>>,
    ) -> Result<(), ExportError> {
        for (i, entry) in self.entries.iter().enumerate() {
            let ids = match &entry.selector {
                Selector::File(name) => files.get(name).filter(|ids| !ids.is_empty()).cloned(),
                Selector::Thumbprint(t) => store.certificate_by_thumbprint(t)?.map(|c| vec![c.id]),
            };
            let ids = ids.ok_or_else(|| {
                self.error(format!(
                    "certificates[{i}] names {}, which is not in the store",
                    entry.selector
                ))
            })?;
            if let (Some(fixed), [only]) = (entry.id, ids.as_slice())
                && fixed != *only
            {
                return Err(self.error(format!(
                    "certificates[{i}]: the certificate already has id {only}, not {fixed}"
                )));
            }
            if entry.uuid.is_some() && ids.len() != 1 {
                return Err(self.error(format!(
                    "certificates[{i}]: a uuid names one certificate, and {} holds {}",
                    entry.selector,
                    ids.len()
                )));
            }
            if let (Some(uuid), [only]) = (&entry.uuid, ids.as_slice()) {
                store
                    .set_uuid(*only, uuid.clone())
                    .map_err(|e| self.error(format!("certificates[{i}]: {e}")))?;
            }
            for id in ids {
                let Some(metadata) = store.metadata_mut(id) else {
                    continue;
                };
                merge_unique(&mut metadata.collections, &entry.collections);
                merge_unique(&mut metadata.containers, &entry.containers);
                if entry.key_policy.is_some() {
                    metadata.key_policy.clone_from(&entry.key_policy);
                }
            }
        }
        Ok(())
    }
}

impl std::fmt::Display for Selector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Selector::File(name) => write!(f, "file {:?}", shown(name)),
            Selector::Thumbprint(t) => write!(f, "thumbprint {t}"),
        }
    }
}

impl Entry {
    fn parse(json: EntryJson) -> Result<Self, String> {
        if let Some(key) = json.unknown.keys().next() {
            return Err(format!("unknown field {:?}", shown(key)));
        }
        let selector = match (json.file, json.thumbprint) {
            (Some(file), None) => Selector::File(file),
            (None, Some(t)) => Selector::Thumbprint(t.parse().map_err(|e: ExportError| e.to_string())?),
            _ => return Err("give exactly one of \"file\" and \"thumbprint\"".into()),
        };
        let id = match json.id {
            Some(0) => return Err("\"id\" must be a positive integer".into()),
            id => id.map(CertId),
        };
        let uuid = json
            .uuid
            .map(|u| u.parse::<Uuid>())
            .transpose()
            .map_err(|e| e.to_string())?;
        let key_policy = json.key_policy.map(KeyPolicyJson::into_policy).transpose()?;
        Ok(Entry {
            selector,
            id,
            uuid,
            collections: json.collections,
            containers: json.containers,
            key_policy,
        })
    }
}

impl KeyPolicyJson {
    fn into_policy(self) -> Result<KeyPolicy, String> {
        if let Some(key) = self.unknown.keys().next() {
            return Err(format!("unknown field {:?} in \"key_policy\"", shown(key)));
        }
        if self.name.is_empty() {
            return Err("\"key_policy\" needs a \"name\"".into());
        }
        Ok(KeyPolicy {
            name: self.name,
            private_key_access: if self.private_key_access {
                KeyAccess::Allowed
            } else {
                KeyAccess::Restricted
            },
        })
    }
}

/// Appends the ids of `more` that `list` lacks, in linear time.
fn merge_unique(list: &mut Vec<u64>, more: &[u64]) {
    let mut seen: HashSet<u64> = list.iter().copied().collect();
    list.extend(more.iter().copied().filter(|id| seen.insert(*id)));
}
