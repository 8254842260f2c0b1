//! Importing a [`MemoryStore`] into the database: the files are read by
//! the memory store's own loader (PEM, DER, P7B, keys, manifests), then
//! copied in batches (`COPY ... FORMAT binary` for new certificates,
//! multi-row statements for the rest), all in one transaction.
//!
//! **Ids.** A certificate the database holds already (same SHA-256) keeps
//! its id. A new certificate keeps the id the files give it (the id a
//! `MemoryStore` of the same paths gives it, manifest-fixed ids included)
//! when the database never gave that id to anything: ids up to
//! `certexport_state.high_water` count as used even if their certificate
//! was deleted since. Otherwise it gets a fresh id, above every id used and
//! every id of the import, in the files' order. So importing into an empty
//! database gives every certificate the id `--store` would, and an id never
//! comes to name another certificate.
//!
//! **Metadata** is added, never taken away: collections and containers
//! join those a certificate has, and a `uuId` or key policy the files give
//! replaces the stored one; what the files leave unset stays as stored.
//! Importing the same files again changes nothing.
//!
//! **Keys** are sealed under the store's KEK for each certificate the
//! memory store pairs them with; a certificate that has a stored key keeps
//! it.
//!
//! Concurrent imports take turns (a `SHARE ROW EXCLUSIVE` lock on
//! `certificates`, which readers do not wait for).

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use postgres::Transaction;
use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::{ToSql, Type};

use super::kek::Kek;
use super::search::SearchColumns;
use super::{PgStore, queries};
use crate::error::ExportError;
use crate::ids::CertId;
use crate::store::{CertMetadata, CertificateStore, IndexKeys, KeyAccess, KeyPolicy, MemoryStore, StoredCertificate};

/// Certificates per batch: per `COPY` and per multi-row statement.
const BATCH: usize = 10_000;

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ImportReport {
    /// Certificates new to the database.
    pub added: usize,
    /// Certificates the database held already; they keep their ids.
    pub already_stored: usize,
    /// New certificates that got a fresh id, because the database had
    /// used the id the files give them.
    pub renumbered: usize,
    /// Private keys stored.
    pub keys: usize,
}

/// The columns of a certificate row import writes, before its search
/// columns ([`SearchColumns::NAMES`]): one COPY writes them all, so a row
/// is written once.
const COPY_COLUMNS: &str = "id, der, sha1, sha256, subject_key, issuer_key, serial, \
     subject_key_id, authority_key_id, not_before, not_after, public_key, uuid, key_policy_id";

const COPY_TYPES: &[Type] = &[
    Type::INT8,
    Type::BYTEA,
    Type::BYTEA,
    Type::BYTEA,
    Type::BYTEA,
    Type::BYTEA,
    Type::BYTEA,
    Type::BYTEA,
    Type::BYTEA,
    Type::TIMESTAMPTZ,
    Type::TIMESTAMPTZ,
    Type::BYTEA,
    Type::TEXT,
    Type::INT8,
];

impl PgStore {
    /// Copies every certificate, key and metadata of `source` into the
    /// database, in one transaction, calling `progress` with the
    /// certificates done and the total after each batch. Keys need the
    /// store's KEK ([`ExportError::KekRequired`] otherwise, before anything
    /// is written).
    pub fn import(
        &self,
        source: &MemoryStore,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<ImportReport, ExportError> {
        let mut max_source_id = 0;
        let mut any_key = false;
        for (certificate, has_key) in source.iter() {
            max_source_id = max_source_id.max(db_id("CertID", certificate.id.0)?);
            any_key |= has_key;
        }
        let kek = if any_key { Some(self.kek()?) } else { None };

        let mut connection = self.servers.primary().get()?;
        let mut tx = connection.client.transaction().map_err(ExportError::backend)?;
        tx.batch_execute("LOCK TABLE certificates IN SHARE ROW EXCLUSIVE MODE")
            .map_err(ExportError::backend)?;
        let row = tx
            .query_one(
                "SELECT greatest(s.high_water, (SELECT coalesce(max(id), 0) FROM certificates)) \
                 FROM certexport_state s",
                &[],
            )
            .map_err(ExportError::backend)?;
        let used_up_to: i64 = queries::get(&row, 0)?;
        let mut import = Import {
            source,
            kek,
            used_up_to,
            next_fresh: used_up_to.max(max_source_id),
            highest: used_up_to,
            policies: HashMap::new(),
            report: ImportReport::default(),
        };
        let total = source.len();
        let mut batch = Vec::with_capacity(BATCH.min(total));
        let mut done = 0;
        for (certificate, has_key) in source.iter() {
            batch.push((certificate, has_key));
            if batch.len() == BATCH {
                import.batch(&mut tx, &batch)?;
                done += batch.len();
                batch.clear();
                progress(done, total);
            }
        }
        if !batch.is_empty() {
            import.batch(&mut tx, &batch)?;
            progress(total, total);
        }
        tx.execute(
            "UPDATE certexport_state SET high_water = greatest(high_water, $1)",
            &[&import.highest],
        )
        .map_err(ExportError::backend)?;
        tx.commit().map_err(ExportError::backend)?;
        // This store reads what it wrote (other processes within their
        // cache's TTL).
        self.answers.recheck();
        if import.report.added > 0 {
            // As after any bulk load (pg_restore does the same): the
            // planner's statistics and the visibility map for the new rows,
            // so that the first exports neither plan from an empty table's
            // statistics nor race autovacuum. Best effort: the import is
            // committed, and a role that may import but not vacuum (not the
            // tables' owner) leaves this to autovacuum.
            let _ = connection.client.batch_execute(
                "VACUUM (ANALYZE) certificates, certificate_collections, certificate_containers, private_keys",
            );
        }
        Ok(import.report)
    }
}

/// The state of one import.
struct Import<'a> {
    source: &'a MemoryStore,
    kek: Option<&'a Kek>,
    /// Ids up to this one were used by the database before the import.
    used_up_to: i64,
    /// The last fresh id given.
    next_fresh: i64,
    /// The highest id the database holds after the import.
    highest: i64,
    /// Key policy ids by name and access.
    policies: HashMap<(String, bool), i64>,
    report: ImportReport,
}

/// One certificate of a batch, as it goes into the database.
struct Entry<'b> {
    certificate: &'b StoredCertificate<'b>,
    has_key: bool,
    id: i64,
    new: bool,
}

impl Import<'_> {
    fn batch<'b>(
        &mut self,
        tx: &mut Transaction<'_>,
        batch: &'b [(StoredCertificate<'b>, bool)],
    ) -> Result<(), ExportError> {
        let existing = self.existing(tx, batch)?;
        let mut entries = Vec::with_capacity(batch.len());
        for (certificate, has_key) in batch {
            let sha256 = certificate.sha256.unwrap_or_else(|| sha256_of(&certificate.der));
            let (id, new) = match existing.get(&sha256) {
                Some(&id) => (id, false),
                None => (self.new_id(certificate.id)?, true),
            };
            self.highest = self.highest.max(id);
            entries.push(Entry {
                certificate,
                has_key: *has_key,
                id,
                new,
            });
        }
        self.check_uuids(tx, &entries)?;
        let mut policy_ids = Vec::with_capacity(entries.len());
        for entry in &entries {
            policy_ids.push(match &entry.certificate.metadata.key_policy {
                Some(policy) => Some(self.policy_id(tx, policy)?),
                None => None,
            });
        }
        self.copy_new(tx, &entries, &policy_ids)?;
        self.update_existing(tx, &entries, &policy_ids)?;
        for membership in &MEMBERSHIPS {
            membership.add(tx, &entries)?;
        }
        self.keys(tx, &entries)
    }

    /// The ids the database holds for certificates of the batch, by SHA-256.
    fn existing(
        &self,
        tx: &mut Transaction<'_>,
        batch: &[(StoredCertificate<'_>, bool)],
    ) -> Result<HashMap<[u8; 32], i64>, ExportError> {
        if self.used_up_to == 0 {
            return Ok(HashMap::new());
        }
        let digests: Vec<Vec<u8>> = batch
            .iter()
            .map(|(c, _)| c.sha256.unwrap_or_else(|| sha256_of(&c.der)).to_vec())
            .collect();
        let rows = tx
            .query(
                "SELECT sha256, id FROM certificates WHERE sha256 = ANY($1)",
                &[&digests],
            )
            .map_err(ExportError::backend)?;
        let mut found = HashMap::with_capacity(rows.len());
        for row in rows {
            let digest: Vec<u8> = queries::get(&row, 0)?;
            if let Ok(digest) = <[u8; 32]>::try_from(digest) {
                found.insert(digest, queries::get(&row, 1)?);
            }
        }
        Ok(found)
    }

    /// The id of a certificate new to the database that the files number `id`.
    fn new_id(&mut self, id: CertId) -> Result<i64, ExportError> {
        let id = db_id("CertID", id.0)?;
        if id > self.used_up_to {
            return Ok(id);
        }
        self.report.renumbered += 1;
        self.next_fresh = self.next_fresh.checked_add(1).ok_or(ExportError::IdOutOfRange {
            what: "CertID",
            id: i64::MAX as u64 + 1,
            max: i64::MAX as u64,
        })?;
        Ok(self.next_fresh)
    }

    /// Refuses a `uuId` the database gives to another certificate.
    fn check_uuids(&self, tx: &mut Transaction<'_>, entries: &[Entry<'_>]) -> Result<(), ExportError> {
        let mut wanted: HashMap<&str, i64> = HashMap::new();
        for entry in entries {
            if let Some(uuid) = self.source.uuid(entry.certificate.id) {
                wanted.insert(uuid.as_str(), entry.id);
            }
        }
        if wanted.is_empty() {
            return Ok(());
        }
        let uuids: Vec<&str> = wanted.keys().copied().collect();
        let rows = tx
            .query("SELECT uuid, id FROM certificates WHERE uuid = ANY($1)", &[&uuids])
            .map_err(ExportError::backend)?;
        for row in rows {
            let uuid: &str = queries::get(&row, 0)?;
            let holder: i64 = queries::get(&row, 1)?;
            if wanted.get(uuid).is_some_and(|&id| id != holder) {
                return Err(ExportError::UuidTaken {
                    uuid: uuid.to_owned(),
                    by: queries::id_of(holder)?.0,
                });
            }
        }
        Ok(())
    }

    /// The id of a key policy, added if the database lacks it.
    fn policy_id(&mut self, tx: &mut Transaction<'_>, policy: &KeyPolicy) -> Result<i64, ExportError> {
        let key = (policy.name.clone(), policy.private_key_access == KeyAccess::Allowed);
        if let Some(&id) = self.policies.get(&key) {
            return Ok(id);
        }
        let found = tx
            .query_opt(
                "SELECT id FROM key_policies WHERE name = $1 AND private_key_access = $2",
                &[&key.0, &key.1],
            )
            .map_err(ExportError::backend)?;
        let row = match found {
            Some(row) => row,
            None => tx
                .query_one(
                    "INSERT INTO key_policies (name, private_key_access) VALUES ($1, $2) RETURNING id",
                    &[&key.0, &key.1],
                )
                .map_err(ExportError::backend)?,
        };
        let id = queries::get(&row, 0)?;
        self.policies.insert(key, id);
        Ok(id)
    }

    /// `COPY` of the batch's new certificates.
    fn copy_new(
        &mut self,
        tx: &mut Transaction<'_>,
        entries: &[Entry<'_>],
        policy_ids: &[Option<i64>],
    ) -> Result<(), ExportError> {
        if !entries.iter().any(|e| e.new) {
            return Ok(());
        }
        let copy = format!(
            "COPY certificates ({COPY_COLUMNS}, {}) FROM STDIN (FORMAT binary)",
            SearchColumns::NAMES
        );
        let sink = tx.copy_in(&copy).map_err(ExportError::backend)?;
        let mut types = COPY_TYPES.to_vec();
        types.extend(SearchColumns::TYPES);
        let mut writer = BinaryCopyInWriter::new(sink, &types);
        for (entry, policy_id) in entries.iter().zip(policy_ids).filter(|(e, _)| e.new) {
            let der = &*entry.certificate.der;
            let keys = IndexKeys::of(der)?;
            let uuid = self.source.uuid(entry.certificate.id).map(|u| u.as_str());
            let search = SearchColumns::of(der)?;
            let (sha1, sha256): (&[u8], &[u8]) = (&keys.sha1, &keys.sha256);
            let (subject, issuer, serial) = (keys.subject.as_bytes(), keys.issuer.as_bytes(), keys.serial.as_bytes());
            let (not_before, not_after) = (time_of(keys.not_before), time_of(keys.not_after));
            let public_key = keys.public_key.as_ref().map(|k| &k.0[..]);
            let mut values: Vec<&(dyn ToSql + Sync)> = vec![
                &entry.id,
                &der,
                &sha1,
                &sha256,
                &subject,
                &issuer,
                &serial,
                &keys.subject_key_id,
                &keys.authority_key_id,
                &not_before,
                &not_after,
                &public_key,
                &uuid,
                policy_id,
            ];
            values.extend(search.values());
            writer.write(&values).map_err(ExportError::backend)?;
            self.report.added += 1;
        }
        writer.finish().map_err(ExportError::backend)?;
        Ok(())
    }

    /// Gives certificates the database held already the `uuId` and key
    /// policy the files give them.
    fn update_existing(
        &mut self,
        tx: &mut Transaction<'_>,
        entries: &[Entry<'_>],
        policy_ids: &[Option<i64>],
    ) -> Result<(), ExportError> {
        let (mut ids, mut uuids, mut policies) = (Vec::new(), Vec::new(), Vec::new());
        for (entry, &policy_id) in entries.iter().zip(policy_ids).filter(|(e, _)| !e.new) {
            self.report.already_stored += 1;
            let uuid = self.source.uuid(entry.certificate.id).map(|u| u.as_str());
            if uuid.is_some() || policy_id.is_some() {
                ids.push(entry.id);
                uuids.push(uuid);
                policies.push(policy_id);
            }
        }
        if ids.is_empty() {
            return Ok(());
        }
        tx.execute(
            "UPDATE certificates c SET uuid = coalesce(v.uuid, c.uuid), \
                 key_policy_id = coalesce(v.policy, c.key_policy_id) \
             FROM unnest($1::int8[], $2::text[], $3::int8[]) AS v(id, uuid, policy) \
             WHERE c.id = v.id AND (c.uuid IS DISTINCT FROM coalesce(v.uuid, c.uuid) \
                 OR c.key_policy_id IS DISTINCT FROM coalesce(v.policy, c.key_policy_id))",
            &[&ids, &uuids, &policies],
        )
        .map_err(ExportError::backend)?;
        Ok(())
    }

    /// Seals and stores the keys of the batch's certificates.
    fn keys(&mut self, tx: &mut Transaction<'_>, entries: &[Entry<'_>]) -> Result<(), ExportError> {
        let Some(kek) = self.kek else { return Ok(()) };
        let (mut ids, mut kek_ids, mut wrapped, mut ciphertexts) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for entry in entries.iter().filter(|e| e.has_key) {
            let Some(key) = self.source.private_key(entry.certificate.id)? else {
                continue;
            };
            let id = queries::id_of(entry.id)?;
            let sealed = kek.seal(key.secret_pkcs8_der(), id)?;
            ids.push(entry.id);
            kek_ids.push(sealed.kek_id);
            wrapped.push(sealed.wrapped_key);
            ciphertexts.push(sealed.ciphertext);
        }
        if ids.is_empty() {
            return Ok(());
        }
        let stored = tx
            .execute(
                "INSERT INTO private_keys (certificate_id, kek_id, wrapped_key, ciphertext) \
                 SELECT * FROM unnest($1::int8[], $2::bytea[], $3::bytea[], $4::bytea[]) \
                 ON CONFLICT (certificate_id) DO NOTHING",
                &[&ids, &kek_ids, &wrapped, &ciphertexts],
            )
            .map_err(ExportError::backend)?;
        self.report.keys += stored as usize;
        Ok(())
    }
}

/// A kind of membership: collections or containers.
struct Membership {
    /// The table of the groups; `certificate_<table>` links certificates to them.
    table: &'static str,
    column: &'static str,
    /// What a group's id is called in errors.
    what: &'static str,
    of: fn(&CertMetadata) -> &[u64],
}

const MEMBERSHIPS: [Membership; 2] = [
    Membership {
        table: "collections",
        column: "collection_id",
        what: "collection id",
        of: |metadata| &metadata.collections,
    },
    Membership {
        table: "containers",
        column: "container_id",
        what: "container id",
        of: |metadata| &metadata.containers,
    },
];

impl Membership {
    /// Adds the batch's memberships of this kind.
    fn add(&self, tx: &mut Transaction<'_>, entries: &[Entry<'_>]) -> Result<(), ExportError> {
        let (mut ids, mut groups) = (Vec::new(), Vec::new());
        for entry in entries {
            for &group in (self.of)(&entry.certificate.metadata) {
                ids.push(entry.id);
                groups.push(db_id(self.what, group)?);
            }
        }
        if ids.is_empty() {
            return Ok(());
        }
        let table = self.table;
        tx.execute(
            &format!("INSERT INTO {table} (id) SELECT DISTINCT unnest($1::int8[]) ON CONFLICT DO NOTHING"),
            &[&groups],
        )
        .map_err(ExportError::backend)?;
        tx.execute(
            &format!(
                "INSERT INTO certificate_{table} (certificate_id, {}) \
                 SELECT * FROM unnest($1::int8[], $2::int8[]) ON CONFLICT DO NOTHING",
                self.column
            ),
            &[&ids, &groups],
        )
        .map_err(ExportError::backend)?;
        Ok(())
    }
}

/// An id as the database's `bigint`.
fn db_id(what: &'static str, id: u64) -> Result<i64, ExportError> {
    i64::try_from(id).map_err(|_| ExportError::IdOutOfRange {
        what,
        id,
        max: i64::MAX as u64,
    })
}

fn sha256_of(der: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(der).into()
}

/// Seconds since the Unix epoch as a time (before 1970 too).
fn time_of(seconds: i64) -> SystemTime {
    let magnitude = Duration::from_secs(seconds.unsigned_abs());
    if seconds >= 0 {
        UNIX_EPOCH + magnitude
    } else {
        UNIX_EPOCH - magnitude
    }
}
