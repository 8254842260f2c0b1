//! The store manifest, `certexport-store.json`: fixed ids, collections,
//! containers and key policies for the certificates of a store directory.
//!
//! ```json
//! {
//!   "certificates": [
//!     { "file": "www.example.com.pem", "id": 100, "collections": [5],
//!       "containers": [2], "key_policy": { "name": "Production", "private_key_access": false } },
//!     { "thumbprint": "5fb7ee0633e259dbad0c4c9ae6d38f1a61c7dc25", "collections": [5, 6] }
//!   ]
//! }
//! ```
//!
//! Each entry names certificates by `file` (a file of the directory: all
//! its certificates) or by `thumbprint` (SHA-1 or SHA-256, any spelling
//! [`Thumbprint`] parses). `id` is allowed only where the entry names one
//! certificate. An entry that names nothing in the store, an unknown field
//! and an id given twice are errors.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::memory::MemoryStore;
use super::{CertificateStore, KeyAccess, KeyPolicy};
use crate::{CertId, ExportError, Thumbprint};

#[derive(Debug, Default)]
pub(super) struct Manifest {
    path: PathBuf,
    entries: Vec<Entry>,
    /// An id problem found while files were read, reported once they are.
    deferred: Option<ExportError>,
}

#[derive(Debug)]
struct Entry {
    selector: Selector,
    id: Option<CertId>,
    collections: Vec<u64>,
    containers: Vec<u64>,
    key_policy: Option<KeyPolicy>,
}

#[derive(Debug)]
enum Selector {
    File(String),
    Thumbprint(Thumbprint),
}

impl Manifest {
    pub(super) fn read(path: &Path) -> Result<Self, ExportError> {
        let bad = |reason: String| ExportError::BadManifest {
            path: path.to_owned(),
            reason,
        };
        let text = std::fs::read(path).map_err(|e| ExportError::Io {
            path: path.to_owned(),
            kind: e.kind(),
        })?;
        let json: Value = serde_json::from_slice(&text).map_err(|e| bad(format!("not JSON: {e}")))?;
        let top = object(&json, "the manifest").map_err(&bad)?;
        if let Some(key) = top.keys().find(|k| *k != "certificates") {
            return Err(bad(format!("unknown field {key:?} (only \"certificates\" is allowed)")));
        }
        let list = top
            .get("certificates")
            .and_then(Value::as_array)
            .ok_or_else(|| bad("\"certificates\" must be an array".into()))?;
        let mut entries = Vec::with_capacity(list.len());
        let mut ids = HashSet::new();
        for (i, value) in list.iter().enumerate() {
            let entry = Entry::parse(value).map_err(|reason| bad(format!("certificates[{i}]: {reason}")))?;
            if let Some(id) = entry.id {
                if !ids.insert(id) {
                    return Err(bad(format!("certificates[{i}]: id {id} is given twice")));
                }
            }
            entries.push(entry);
        }
        Ok(Self {
            path: path.to_owned(),
            entries,
            deferred: None,
        })
    }

    /// The ids the manifest fixes: automatic numbering skips them.
    pub(super) fn reserved_ids(&self) -> HashSet<CertId> {
        self.entries.iter().filter_map(|e| e.id).collect()
    }

    /// The fixed id of a certificate (`der`) of `file`, which holds `count`
    /// certificates.
    pub(super) fn fixed_id(&mut self, file: &str, count: usize, der: &[u8]) -> Option<CertId> {
        let mut found = None;
        for entry in &self.entries {
            let Some(id) = entry.id else { continue };
            let names = match &entry.selector {
                Selector::File(name) if name == file => {
                    if count != 1 && self.deferred.is_none() {
                        self.deferred = Some(ExportError::BadManifest {
                            path: self.path.clone(),
                            reason: format!("id {id} is given for {file:?}, which holds {count} certificates"),
                        });
                    }
                    count == 1
                }
                Selector::File(_) => false,
                Selector::Thumbprint(t @ Thumbprint::Sha1(_)) => *t == Thumbprint::sha1_of(der),
                Selector::Thumbprint(t @ Thumbprint::Sha256(_)) => *t == Thumbprint::sha256_of(der),
            };
            if names {
                found = Some(id);
            }
        }
        found
    }

    /// Fails if an id was given for a file of several certificates.
    pub(super) fn check_fixed_ids(&mut self) -> Result<(), ExportError> {
        self.deferred.take().map_or(Ok(()), Err)
    }

    /// Gives the named certificates their collections, containers and key
    /// policies. `files` maps each file read to its certificates.
    pub(super) fn apply(
        &self,
        store: &mut MemoryStore,
        files: &HashMap<String, Vec<CertId>>,
    ) -> Result<(), ExportError> {
        for (i, entry) in self.entries.iter().enumerate() {
            let ids = match &entry.selector {
                Selector::File(name) => files.get(name).filter(|ids| !ids.is_empty()).cloned(),
                Selector::Thumbprint(t) => store.find_by_thumbprint(t)?.map(|id| vec![id]),
            };
            let ids = ids.ok_or_else(|| ExportError::BadManifest {
                path: self.path.clone(),
                reason: format!("certificates[{i}] names {}, which is not in the store", entry.selector),
            })?;
            if let (Some(fixed), [only]) = (entry.id, ids.as_slice()) {
                if fixed != *only {
                    return Err(ExportError::BadManifest {
                        path: self.path.clone(),
                        reason: format!("certificates[{i}]: the certificate already has id {only}, not {fixed}"),
                    });
                }
            }
            for id in ids {
                let Some(metadata) = store.metadata_mut(id) else {
                    continue;
                };
                extend_unique(&mut metadata.collections, &entry.collections);
                extend_unique(&mut metadata.containers, &entry.containers);
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
            Selector::File(name) => write!(f, "file {name:?}"),
            Selector::Thumbprint(t) => write!(f, "thumbprint {t}"),
        }
    }
}

impl Entry {
    fn parse(value: &Value) -> Result<Self, String> {
        let fields = object(value, "an entry")?;
        const KNOWN: &[&str] = &["file", "thumbprint", "id", "collections", "containers", "key_policy"];
        if let Some(key) = fields.keys().find(|k| !KNOWN.contains(&k.as_str())) {
            return Err(format!("unknown field {key:?}"));
        }
        let selector = match (fields.get("file"), fields.get("thumbprint")) {
            (Some(file), None) => Selector::File(file.as_str().ok_or("\"file\" must be a string")?.to_owned()),
            (None, Some(t)) => {
                let text = t.as_str().ok_or("\"thumbprint\" must be a string")?;
                Selector::Thumbprint(text.parse().map_err(|e: ExportError| e.to_string())?)
            }
            _ => return Err("give exactly one of \"file\" and \"thumbprint\"".into()),
        };
        let id = fields
            .get("id")
            .map(|v| {
                v.as_u64()
                    .filter(|&n| n > 0)
                    .map(CertId)
                    .ok_or("\"id\" must be a positive integer")
            })
            .transpose()?;
        let key_policy = fields.get("key_policy").map(key_policy).transpose()?;
        Ok(Entry {
            selector,
            id,
            collections: ids(fields.get("collections"), "collections")?,
            containers: ids(fields.get("containers"), "containers")?,
            key_policy,
        })
    }
}

fn object<'a>(value: &'a Value, what: &str) -> Result<&'a Map<String, Value>, String> {
    value.as_object().ok_or_else(|| format!("{what} must be a JSON object"))
}

fn ids(value: Option<&Value>, what: &str) -> Result<Vec<u64>, String> {
    let Some(value) = value else { return Ok(Vec::new()) };
    let error = || format!("\"{what}\" must be an array of non-negative integers");
    value
        .as_array()
        .ok_or_else(error)?
        .iter()
        .map(|v| v.as_u64().ok_or_else(error))
        .collect()
}

fn key_policy(value: &Value) -> Result<KeyPolicy, String> {
    let fields = object(value, "\"key_policy\"")?;
    if let Some(key) = fields.keys().find(|k| *k != "name" && *k != "private_key_access") {
        return Err(format!("unknown field {key:?} in \"key_policy\""));
    }
    let name = fields
        .get("name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
        .ok_or("\"key_policy\" needs a \"name\"")?;
    let access = fields
        .get("private_key_access")
        .and_then(Value::as_bool)
        .ok_or("\"key_policy\" needs \"private_key_access\": true or false")?;
    Ok(KeyPolicy {
        name: name.to_owned(),
        private_key_access: if access {
            KeyAccess::Allowed
        } else {
            KeyAccess::Restricted
        },
    })
}

fn extend_unique(list: &mut Vec<u64>, more: &[u64]) {
    for &id in more {
        if !list.contains(&id) {
            list.push(id);
        }
    }
}
