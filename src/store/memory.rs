//! [`MemoryStore`]: certificates in memory, indexed so that every lookup
//! and every chain step costs the same whatever the store's size.

mod search;

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::hash::BuildHasher;
use std::path::PathBuf;
use std::sync::OnceLock;

use foldhash::fast::RandomState as FoldHash;
use sha1::Digest;

use super::{CertMetadata, CertificateStore, KeyPolicy, KeyRef, StoredCertificate, StoredKey};
use crate::certificate::CertificateView;
use crate::error::ExportError;
use crate::ids::{CertId, DigestKey, SerialNumber, Thumbprint, Uuid};
use crate::key::{PrivateKey, PublicKeyId};
use crate::name::NameKey;

/// An in-memory certificate store.
///
/// Each certificate's DER is kept exactly as inserted. Indexes: id, SHA-1
/// and SHA-256 thumbprint, `uuId`, issuer + serial, subject, subject + key
/// identifier; all hash maps, so a lookup or a chain step is O(1) in the
/// number of certificates. Name indexes hold 64-bit keyed hashes of
/// [`NameKey`]s (`foldhash` with per-store random seeds, so a hostile
/// store cannot aim collisions); callers re-check names, as the
/// [`CertificateStore`] contract says.
///
/// Ids: [`insert`](Self::insert) gives 1, 2, 3, … in insertion order,
/// skipping ids already taken or [reserved](Self::reserve_ids); a
/// certificate inserted twice keeps its first id.
///
/// ```
/// use certexport::store::{CertificateStore, MemoryStore};
///
/// // A directory (files in byte order of their names), or one file.
/// let store = MemoryStore::from_path("examples/data/demo")?;
/// assert_eq!(store.len(), 5);
///
/// // Or certificates inserted one by one, as DER.
/// let mut mine = MemoryStore::new();
/// let (first, _) = store.iter().next().ok_or("empty")?;
/// let id = mine.insert(&first.der)?;
/// assert!(mine.certificate(id)?.is_some());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct MemoryStore {
    entries: Vec<Entry>,
    /// The SHA-256 of each entry's DER, by slot: beside the entries, not in
    /// them, so that a lookup reads a small entry (with the digest inside,
    /// a lookup among 100,000 certificates took 1.5 times as long:
    /// `benches/store_scale.rs`). Chain building is what reads them.
    digests: Vec<[u8; 32]>,
    by_id: HashMap<CertId, u32, FoldHash>,
    by_sha1: HashMap<DigestKey<20>, u32, FoldHash>,
    by_sha256: HashMap<DigestKey<32>, u32, FoldHash>,
    by_uuid: HashMap<Uuid, u32, FoldHash>,
    uuid_of: HashMap<u32, Uuid, FoldHash>,
    by_issuer_serial: HashMap<u64, Slots, FoldHash>,
    by_subject: HashMap<u64, Slots, FoldHash>,
    by_subject_key_id: HashMap<u64, Slots, FoldHash>,
    by_subject_without_key_id: HashMap<u64, Slots, FoldHash>,
    /// Built when the first key is added: raw SPKI hash → entries.
    by_spki: Option<HashMap<u64, Slots, FoldHash>>,
    keys: Vec<PrivateKey>,
    hasher: FoldHash,
    next_id: u64,
    reserved: HashSet<CertId, FoldHash>,
    /// The first file a load skipped: automatic ids given after it may
    /// have moved ([`ExportError::UnstableId`]).
    skipped: Option<PathBuf>,
    /// Reused while loading: the name key being hashed.
    scratch: Vec<u8>,
    /// The search index, built by the first search after a change.
    search: OnceLock<Box<Result<crate::search::Index, ExportError>>>,
}

static NO_METADATA: CertMetadata = CertMetadata::EMPTY;

struct Entry {
    id: CertId,
    der: Box<[u8]>,
    metadata: Option<Box<CertMetadata>>,
    key: Option<u32>,
    /// An automatic id given after a load skipped a file.
    unstable: bool,
}

/// What [`MemoryStore::add`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Added {
    /// The certificate's id.
    pub id: CertId,
    /// False when the store already held the certificate (it keeps its id).
    pub new: bool,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self {
            entries: Vec::new(),
            digests: Vec::new(),
            by_id: HashMap::default(),
            by_sha1: HashMap::default(),
            by_sha256: HashMap::default(),
            by_uuid: HashMap::default(),
            uuid_of: HashMap::default(),
            by_issuer_serial: HashMap::default(),
            by_subject: HashMap::default(),
            by_subject_key_id: HashMap::default(),
            by_subject_without_key_id: HashMap::default(),
            by_spki: None,
            keys: Vec::new(),
            hasher: FoldHash::default(),
            next_id: 1,
            reserved: HashSet::default(),
            skipped: None,
            scratch: Vec::new(),
            search: OnceLock::new(),
        }
    }

    /// Adds a DER certificate (a `Vec<u8>`, a slice, rustls'
    /// `CertificateDer`) and returns its id (its existing id if the store
    /// already holds it).
    pub fn insert(&mut self, der: impl AsRef<[u8]>) -> Result<CertId, ExportError> {
        self.add(der.as_ref(), None).map(|added| added.id)
    }

    /// Adds a DER certificate under a chosen id. Fails if the id is taken
    /// by another certificate ([`ExportError::IdTaken`]), or the
    /// certificate is already stored under another id
    /// ([`ExportError::AlreadyStored`]).
    pub fn insert_with_id(&mut self, der: impl AsRef<[u8]>, id: CertId) -> Result<CertId, ExportError> {
        self.add(der.as_ref(), Some(id)).map(|added| added.id)
    }

    /// Keeps `ids` out of automatic numbering (ids a manifest gives to
    /// certificates that are inserted later).
    pub fn reserve_ids(&mut self, ids: impl IntoIterator<Item = CertId>) {
        self.reserved.extend(ids);
    }

    /// Marks every automatic id given from now on as unstable: a load
    /// skipped `file`, so those ids may differ from the ones a complete
    /// load gives. Looking such an id up fails with
    /// [`ExportError::UnstableId`] rather than risk naming another
    /// certificate than the caller means; thumbprints and fixed ids still
    /// work.
    pub fn mark_later_ids_unstable(&mut self, file: PathBuf) {
        self.skipped.get_or_insert(file);
    }

    /// Attaches `key` to every certificate whose public key is the key's,
    /// and returns their ids — empty if none matches, in which case the key
    /// is dropped (and wiped).
    pub fn insert_private_key(&mut self, key: PrivateKey) -> Vec<CertId> {
        self.search.take();
        let matches = self.certificates_of_key(&key);
        if !matches.is_empty() {
            let index = self.keys.len() as u32;
            self.keys.push(key);
            for &slot in &matches {
                self.entries[slot as usize].key = Some(index);
            }
        }
        matches.iter().map(|&slot| self.entries[slot as usize].id).collect()
    }

    /// Attaches `key` to the certificate `id` only, which must hold the
    /// key's public key ([`ExportError::KeyMismatch`] otherwise).
    pub fn attach_private_key(&mut self, id: CertId, key: PrivateKey) -> Result<(), ExportError> {
        self.search.take();
        let slot = self.slot(id).ok_or_else(|| ExportError::NotFound {
            lookup: format!("CertID {id}"),
        })?;
        let view = CertificateView::parse(&self.entries[slot].der)
            .map_err(ExportError::malformed(|| format!("CertID {id}")))?;
        if !key.matches_public_key(view.spki) {
            return Err(ExportError::KeyMismatch {
                key: "key".into(),
                certificate: format!("CertID {id}"),
            });
        }
        self.spki_index();
        self.entries[slot].key = Some(self.keys.len() as u32);
        self.keys.push(key);
        Ok(())
    }

    /// The metadata of certificate `id`.
    pub fn metadata(&self, id: CertId) -> Option<&CertMetadata> {
        let slot = self.slot(id)?;
        Some(self.entries[slot].metadata.as_deref().unwrap_or(&NO_METADATA))
    }

    /// The metadata of certificate `id`, to change it.
    pub fn metadata_mut(&mut self, id: CertId) -> Option<&mut CertMetadata> {
        self.search.take();
        let slot = self.slot(id)?;
        Some(self.entries[slot].metadata.get_or_insert_with(Default::default))
    }

    /// Gives certificate `id` the `uuId` `uuid` (replacing the one it
    /// had). A `uuId` names one certificate: one that another certificate
    /// has is refused ([`ExportError::UuidTaken`]).
    pub fn set_uuid(&mut self, id: CertId, uuid: Uuid) -> Result<(), ExportError> {
        self.search.take();
        let slot = self.slot(id).ok_or_else(|| ExportError::NotFound {
            lookup: format!("CertID {id}"),
        })? as u32;
        match self.by_uuid.get(&uuid) {
            Some(&other) if other == slot => return Ok(()),
            Some(&other) => {
                return Err(ExportError::UuidTaken {
                    uuid: uuid.to_string(),
                    by: self.entries[other as usize].id.0,
                });
            }
            None => {}
        }
        if let Some(old) = self.uuid_of.insert(slot, uuid.clone()) {
            self.by_uuid.remove(&old);
        }
        self.by_uuid.insert(uuid, slot);
        Ok(())
    }

    /// The `uuId` of certificate `id`, if it has one.
    pub fn uuid(&self, id: CertId) -> Option<&Uuid> {
        self.uuid_of.get(&(self.slot(id)? as u32))
    }

    /// How many certificates the store holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the store holds no certificate.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Every certificate in insertion order, with whether it has a key.
    pub fn iter(&self) -> impl Iterator<Item = (StoredCertificate<'_>, bool)> {
        self.entries.iter().map(|e| (e.stored(), e.key.is_some()))
    }

    /// The certificate under `id`, even if the id is
    /// [unstable](Self::mark_later_ids_unstable). Lookups on behalf of
    /// others go through [`CertificateStore::certificate`], which refuses
    /// unstable ids.
    pub fn get(&self, id: CertId) -> Option<StoredCertificate<'_>> {
        self.slot(id).map(|slot| self.entries[slot].stored())
    }

    fn slot(&self, id: CertId) -> Option<usize> {
        self.by_id.get(&id).map(|&s| s as usize)
    }

    /// Adds a DER certificate under `fixed` or the next free id, and says
    /// whether it was new: what [`insert`](Self::insert) and
    /// [`insert_with_id`](Self::insert_with_id) do, for loaders that count.
    pub fn add(&mut self, der: impl Into<Vec<u8>>, fixed: Option<CertId>) -> Result<Added, ExportError> {
        self.search.take();
        let der = der.into().into_boxed_slice();
        let sha1: [u8; 20] = sha1::Sha1::digest(&der).into();
        if let Some(&slot) = self.by_sha1.get(&DigestKey(sha1)) {
            let id = self.entries[slot as usize].id;
            return match fixed {
                Some(wanted) if wanted != id => Err(ExportError::AlreadyStored {
                    certificate: Thumbprint::Sha1(sha1).to_string(),
                    stored: id.0,
                    wanted: wanted.0,
                }),
                _ => Ok(Added { id, new: false }),
            };
        }
        let bad = ExportError::malformed(|| Thumbprint::Sha1(sha1).to_string());
        let view = CertificateView::parse(&der).map_err(&bad)?;
        let subject = self.name_hash_of_der(view.subject).map_err(&bad)?;
        let issuer = self.name_hash_of_der(view.issuer).map_err(&bad)?;

        let id = match fixed {
            Some(id) => {
                if let Some(slot) = self.slot(id) {
                    return Err(ExportError::IdTaken {
                        id: id.0,
                        by: Thumbprint::sha1_of(&self.entries[slot].der).to_string(),
                    });
                }
                id
            }
            None => self.next_free_id(),
        };
        let slot = u32::try_from(self.entries.len()).map_err(|_| ExportError::StoreFull {
            limit: u32::MAX as usize,
        })?;
        let sha256: [u8; 32] = sha2::Sha256::digest(&der).into();
        self.by_id.insert(id, slot);
        self.by_sha1.insert(DigestKey(sha1), slot);
        self.by_sha256.insert(DigestKey(sha256), slot);
        let serial_key = self.hasher.hash_one((issuer, view.serial_magnitude()));
        self.by_issuer_serial.entry(serial_key).or_default().push(slot);
        self.by_subject.entry(subject).or_default().push(slot);
        match view.subject_key_id {
            Some(ski) => {
                let key = self.hasher.hash_one((subject, ski));
                self.by_subject_key_id.entry(key).or_default().push(slot);
            }
            None => self.by_subject_without_key_id.entry(subject).or_default().push(slot),
        }
        if let Some(by_spki) = &mut self.by_spki {
            by_spki.entry(self.hasher.hash_one(view.spki)).or_default().push(slot);
        }
        self.digests.push(sha256);
        self.entries.push(Entry {
            id,
            der,
            metadata: None,
            key: None,
            unstable: fixed.is_none() && self.skipped.is_some(),
        });
        Ok(Added { id, new: true })
    }

    fn next_free_id(&mut self) -> CertId {
        while self.by_id.contains_key(&CertId(self.next_id)) || self.reserved.contains(&CertId(self.next_id)) {
            self.next_id += 1;
        }
        let id = CertId(self.next_id);
        self.next_id += 1;
        id
    }

    fn name_hash(&self, key: &NameKey) -> u64 {
        self.hasher.hash_one(key.as_bytes())
    }

    /// [`name_hash`](Self::name_hash) of a DER name's key, built in a
    /// buffer the store keeps so loading allocates nothing for it.
    fn name_hash_of_der(&mut self, name: &[u8]) -> der::Result<u64> {
        self.scratch.clear();
        crate::name::write_der_key(name, &mut self.scratch)?;
        Ok(self.hasher.hash_one(self.scratch.as_slice()))
    }

    /// Builds the SPKI index if it is not there yet.
    fn spki_index(&mut self) {
        if self.by_spki.is_some() {
            return;
        }
        let mut index: HashMap<u64, Slots, FoldHash> = HashMap::default();
        for (slot, entry) in self.entries.iter().enumerate() {
            if let Ok(view) = CertificateView::parse(&entry.der) {
                index
                    .entry(self.hasher.hash_one(view.spki))
                    .or_default()
                    .push(slot as u32);
            }
        }
        self.by_spki = Some(index);
    }

    /// Slots of the certificates holding `key`'s public key.
    fn certificates_of_key(&mut self, key: &PrivateKey) -> Vec<u32> {
        self.spki_index();
        self.holders(key)
    }

    /// Slots of the certificates holding `key`'s public key, in order
    /// (the SPKI index exists once any key was added).
    fn holders(&self, key: &PrivateKey) -> Vec<u32> {
        let Some(by_spki) = &self.by_spki else {
            return Vec::new();
        };
        let mut found = Vec::new();
        for spki in key.public_key_id().spki_encodings() {
            for &slot in by_spki
                .get(&self.hasher.hash_one(spki.as_slice()))
                .map(Slots::as_slice)
                .unwrap_or_default()
            {
                let entry = &self.entries[slot as usize];
                let matches = CertificateView::parse(&entry.der)
                    .is_ok_and(|view| PublicKeyId::from_spki(view.spki).as_ref() == Some(key.public_key_id()));
                if matches && !found.contains(&slot) {
                    found.push(slot);
                }
            }
        }
        found.sort_unstable();
        found
    }

    fn stored(&self, slots: Option<&Slots>) -> Vec<StoredCertificate<'_>> {
        slots
            .map(Slots::as_slice)
            .unwrap_or_default()
            .iter()
            .map(|&s| self.stored_at(s as usize))
            .collect()
    }

    /// The certificate in `slot`, with its SHA-256.
    fn stored_at(&self, slot: usize) -> StoredCertificate<'_> {
        StoredCertificate {
            sha256: self.digests.get(slot).copied(),
            ..self.entries[slot].stored()
        }
    }
}

impl Entry {
    /// The certificate, without its SHA-256 (which lives beside the entries).
    fn stored(&self) -> StoredCertificate<'_> {
        StoredCertificate {
            id: self.id,
            der: Cow::Borrowed(&self.der),
            metadata: Cow::Borrowed(self.metadata.as_deref().unwrap_or(&NO_METADATA)),
            sha256: None,
        }
    }
}

impl CertificateStore for MemoryStore {
    fn certificate(&self, id: CertId) -> Result<Option<StoredCertificate<'_>>, ExportError> {
        let Some(slot) = self.slot(id) else { return Ok(None) };
        let entry = &self.entries[slot];
        match (&self.skipped, entry.unstable) {
            (Some(skipped), true) => Err(ExportError::UnstableId {
                id: id.0,
                skipped: skipped.clone(),
            }),
            _ => Ok(Some(self.stored_at(slot))),
        }
    }

    fn certificate_by_thumbprint(&self, thumbprint: &Thumbprint) -> Result<Option<StoredCertificate<'_>>, ExportError> {
        // The lookup's own digest is the only one at hand: the slot's
        // SHA-256 is read only where chain building needs it.
        Ok(match thumbprint {
            Thumbprint::Sha1(d) => self
                .by_sha1
                .get(&DigestKey(*d))
                .map(|&s| self.entries[s as usize].stored()),
            Thumbprint::Sha256(d) => self.by_sha256.get(&DigestKey(*d)).map(|&s| StoredCertificate {
                sha256: Some(*d),
                ..self.entries[s as usize].stored()
            }),
        })
    }

    fn certificate_by_uuid(&self, uuid: &Uuid) -> Result<Option<StoredCertificate<'_>>, ExportError> {
        Ok(self.by_uuid.get(uuid).map(|&s| self.entries[s as usize].stored()))
    }

    fn certificates_by_issuer_serial(
        &self,
        issuer: &NameKey,
        serial: &SerialNumber,
    ) -> Result<Vec<StoredCertificate<'_>>, ExportError> {
        let key = self.hasher.hash_one((self.name_hash(issuer), serial.as_bytes()));
        Ok(self.stored(self.by_issuer_serial.get(&key)))
    }

    fn issuer_candidates(
        &self,
        subject: &NameKey,
        key_id: Option<&[u8]>,
    ) -> Result<Vec<StoredCertificate<'_>>, ExportError> {
        let subject = self.name_hash(subject);
        Ok(match key_id {
            None => self.stored(self.by_subject.get(&subject)),
            Some(key_id) => {
                let mut found = self.stored(self.by_subject_key_id.get(&self.hasher.hash_one((subject, key_id))));
                found.extend(self.stored(self.by_subject_without_key_id.get(&subject)));
                found
            }
        })
    }

    fn private_key(&self, id: CertId) -> Result<Option<StoredKey<'_>>, ExportError> {
        let Some(key) = self.slot(id).and_then(|slot| self.entries[slot].key) else {
            return Ok(None);
        };
        let key = &self.keys[key as usize];
        let holder_policies: Vec<KeyPolicy> = self
            .holders(key)
            .into_iter()
            .filter_map(|slot| self.entries[slot as usize].metadata.as_ref()?.key_policy.clone())
            .collect();
        Ok(Some(StoredKey::new(KeyRef::Borrowed(key), holder_policies)))
    }

    /// A `MemoryStore` changes only through `&mut self`, so never while an
    /// exporter borrows it.
    fn contents_are_fixed(&self) -> bool {
        true
    }

    /// Answered from the search index (built on the first search after a
    /// change): a scan of the columns the condition names, then the page
    /// from the sort order.
    fn search(&self, query: &crate::search::StoreQuery) -> Result<crate::search::SearchPage<'_>, ExportError> {
        self.search_page(query)
    }
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore")
            .field("certificates", &self.entries.len())
            .field("keys", &self.keys.len())
            .finish_non_exhaustive()
    }
}

/// The slots under one index key: almost always one, so no allocation then.
#[derive(Debug, Clone, Default)]
enum Slots {
    #[default]
    Empty,
    One(u32),
    Many(Vec<u32>),
}

impl Slots {
    fn push(&mut self, slot: u32) {
        match self {
            Slots::Empty => *self = Slots::One(slot),
            Slots::One(first) => *self = Slots::Many(vec![*first, slot]),
            Slots::Many(v) => v.push(slot),
        }
    }

    fn as_slice(&self) -> &[u32] {
        match self {
            Slots::Empty => &[],
            Slots::One(slot) => std::slice::from_ref(slot),
            Slots::Many(v) => v,
        }
    }
}
