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

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

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

/// One JSON object of the manifest, its fields taken one by one, so that
/// an unknown field or a value of the wrong type is named in our words.
/// (Read through `serde_json::Value`: the default build has no serde
/// derive. Of a name given twice, the last counts, as in most JSON readers.)
struct Object(serde_json::Map<String, serde_json::Value>);

impl Object {
    fn of(value: serde_json::Value, what: &str) -> Result<Self, String> {
        match value {
            serde_json::Value::Object(map) => Ok(Self(map)),
            _ => Err(format!("{what} must be a JSON object")),
        }
    }

    fn take(&mut self, name: &str) -> Option<serde_json::Value> {
        self.0.remove(name).filter(|v| !v.is_null())
    }

    fn string(&mut self, name: &str) -> Result<Option<String>, String> {
        match self.take(name) {
            None => Ok(None),
            Some(serde_json::Value::String(text)) => Ok(Some(text)),
            Some(_) => Err(format!("\"{name}\" must be a string")),
        }
    }

    fn integer(&mut self, name: &str) -> Result<Option<u64>, String> {
        self.take(name)
            .map(|v| {
                v.as_u64()
                    .ok_or_else(|| format!("\"{name}\" must be a non-negative integer"))
            })
            .transpose()
    }

    fn integers(&mut self, name: &str) -> Result<Vec<u64>, String> {
        match self.take(name) {
            None => Ok(Vec::new()),
            Some(serde_json::Value::Array(items)) => items
                .iter()
                .map(|v| {
                    v.as_u64()
                        .ok_or_else(|| format!("\"{name}\" must list non-negative integers"))
                })
                .collect(),
            Some(_) => Err(format!("\"{name}\" must be an array of integers")),
        }
    }

    /// Fails naming the first field not taken.
    fn finish(self, context: &str) -> Result<(), String> {
        match self.0.keys().next() {
            Some(key) => Err(format!("unknown field {:?}{context}", shown(key))),
            None => Ok(()),
        }
    }
}

impl Manifest {
    /// Reads and checks the manifest at `path`.
    pub(super) fn read(path: &Path, bytes: &[u8]) -> Result<Self, ExportError> {
        let bad = |reason: String| ExportError::BadManifest {
            path: path.to_owned(),
            reason,
        };
        let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| bad(shown(&e.to_string())))?;
        let mut top = Object::of(value, "the manifest").map_err(&bad)?;
        let certificates = match top.take("certificates") {
            Some(serde_json::Value::Array(items)) => items,
            Some(_) => return Err(bad("\"certificates\" must be an array".into())),
            None => return Err(bad("missing field \"certificates\"".into())),
        };
        top.finish(" (only \"certificates\" is allowed)").map_err(&bad)?;
        let mut manifest = Self {
            path: path.to_owned(),
            ..Self::default()
        };
        let mut ids = HashSet::new();
        let mut uuids = HashSet::new();
        for (i, json) in certificates.into_iter().enumerate() {
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
    fn parse(json: serde_json::Value) -> Result<Self, String> {
        let mut json = Object::of(json, "an entry")?;
        let selector = match (json.string("file")?, json.string("thumbprint")?) {
            (Some(file), None) => Selector::File(file),
            (None, Some(t)) => Selector::Thumbprint(t.parse().map_err(|e: ExportError| e.to_string())?),
            _ => return Err("give exactly one of \"file\" and \"thumbprint\"".into()),
        };
        let id = match json.integer("id")? {
            Some(0) => return Err("\"id\" must be a positive integer".into()),
            id => id.map(CertId),
        };
        let uuid = json
            .string("uuid")?
            .map(|u| u.parse::<Uuid>())
            .transpose()
            .map_err(|e| e.to_string())?;
        let collections = json.integers("collections")?;
        let containers = json.integers("containers")?;
        let key_policy = json.take("key_policy").map(key_policy).transpose()?;
        json.finish("")?;
        Ok(Entry {
            selector,
            id,
            uuid,
            collections,
            containers,
            key_policy,
        })
    }
}

/// A `key_policy` object: `name` and `private_key_access`, both required.
fn key_policy(json: serde_json::Value) -> Result<KeyPolicy, String> {
    let mut json = Object::of(json, "\"key_policy\"")?;
    let name = json.string("name")?.unwrap_or_default();
    let access = match json.take("private_key_access") {
        Some(serde_json::Value::Bool(allowed)) => allowed,
        Some(_) => return Err("\"private_key_access\" in \"key_policy\" must be true or false".into()),
        None => return Err("\"key_policy\" needs \"private_key_access\"".into()),
    };
    json.finish(" in \"key_policy\"")?;
    if name.is_empty() {
        return Err("\"key_policy\" needs a \"name\"".into());
    }
    Ok(KeyPolicy {
        name,
        private_key_access: if access {
            KeyAccess::Allowed
        } else {
            KeyAccess::Restricted
        },
    })
}

/// Appends the ids of `more` that `list` lacks, in linear time.
fn merge_unique(list: &mut Vec<u64>, more: &[u64]) {
    let mut seen: HashSet<u64> = list.iter().copied().collect();
    list.extend(more.iter().copied().filter(|id| seen.insert(*id)));
}
