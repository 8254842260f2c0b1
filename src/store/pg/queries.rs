//! The statements a [`PgStore`](super::PgStore) answers the trait with,
//! each one indexed query, prepared once per connection.
//!
//! Every certificate query also reads `certexport_state.generation`, in the
//! same round trip: the answer cache learns of a change with any lookup.
//! Each joins the certificates onto the state's one row, so the generation
//! comes back even when none matches (the cache keeps empty answers too).

use std::borrow::Cow;

use postgres::types::ToSql;
use postgres::{Client, Row, Statement};

use super::PgStoreError;
use super::kek::SealedKey;
use crate::error::ExportError;
use crate::ids::CertId;
use crate::store::{CertMetadata, KeyAccess, KeyPolicy, StoredCertificate};

/// The columns of a certificate with its metadata, after the generation.
/// (Memberships come unsorted: a sort node in each subquery would cost
/// more than the rest of the query.)
pub(super) const COLUMNS: &str = "c.id, c.der, c.sha256, p.name, p.private_key_access, \
     ARRAY(SELECT m.collection_id FROM certificate_collections m WHERE m.certificate_id = c.id), \
     ARRAY(SELECT m.container_id FROM certificate_containers m WHERE m.certificate_id = c.id)";

/// The certificates matching `condition` (on `c`), in id order, joined
/// onto the state's one row so that the generation comes back even when
/// none matches (the CA cache keeps empty answers too).
fn certificates_where(condition: &str) -> String {
    format!(
        "SELECT s.generation, {COLUMNS} FROM certexport_state s \
         LEFT JOIN certificates c ON {condition} \
         LEFT JOIN key_policies p ON p.id = c.key_policy_id ORDER BY c.id"
    )
}

/// The encrypted key of a certificate, its public-key fingerprint, and the
/// key policies of every certificate holding that public key, by id.
const PRIVATE_KEY: &str = "SELECT k.kek_id, k.wrapped_key, k.ciphertext, c.public_key, \
     ARRAY(SELECT p.name FROM certificates h JOIN key_policies p ON p.id = h.key_policy_id \
           WHERE h.public_key = c.public_key OR h.id = c.id ORDER BY h.id), \
     ARRAY(SELECT p.private_key_access FROM certificates h JOIN key_policies p ON p.id = h.key_policy_id \
           WHERE h.public_key = c.public_key OR h.id = c.id ORDER BY h.id) \
     FROM private_keys k JOIN certificates c ON c.id = k.certificate_id WHERE k.certificate_id = $1";

/// The change counter alone: how the answer cache checks it is current.
const GENERATION: &str = "SELECT generation FROM certexport_state";

/// The statements of one connection.
pub(super) struct Statements {
    pub(super) by_id: Statement,
    pub(super) by_sha1: Statement,
    pub(super) by_sha256: Statement,
    pub(super) by_uuid: Statement,
    pub(super) by_issuer_serial: Statement,
    pub(super) by_subject: Statement,
    pub(super) by_subject_key_id: Statement,
    pub(super) private_key: Statement,
    pub(super) generation: Statement,
}

impl Statements {
    pub(super) fn prepare(client: &mut Client) -> Result<Self, postgres::Error> {
        let mut several = |condition: &str| client.prepare(&certificates_where(condition));
        Ok(Self {
            by_id: several("c.id = $1")?,
            by_sha1: several("c.sha1 = $1")?,
            by_sha256: several("c.sha256 = $1")?,
            by_uuid: several("c.uuid = $1")?,
            by_issuer_serial: several("c.issuer_key = $1 AND c.serial = $2")?,
            by_subject: several("c.subject_key = $1")?,
            // Narrowed by key identifier: the candidate's SKI is the AKI, or absent.
            by_subject_key_id: several("c.subject_key = $1 AND (c.subject_key_id = $2 OR c.subject_key_id IS NULL)")?,
            private_key: client.prepare(PRIVATE_KEY)?,
            generation: client.prepare(GENERATION)?,
        })
    }
}

/// What one certificate query found.
pub(super) struct Fetched {
    /// `certexport_state.generation` as the query saw it.
    pub(super) generation: i64,
    pub(super) certificates: Vec<StoredCertificate<'static>>,
}

/// Runs a certificate query.
pub(super) fn fetch(
    client: &mut Client,
    statement: &Statement,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Fetched, ExportError> {
    let rows = client.query(statement, params).map_err(ExportError::backend)?;
    let mut generation = None;
    let mut certificates = Vec::with_capacity(rows.len());
    for row in rows {
        generation = Some(get::<i64>(&row, 0)?);
        if let Some(certificate) = certificate(&row)? {
            certificates.push(certificate);
        }
    }
    // The state's one row is always there: without it, the schema is damaged.
    let generation = generation.ok_or(PgStoreError::UnexpectedValue {
        column: "certexport_state",
    })?;
    Ok(Fetched {
        generation,
        certificates,
    })
}

/// The certificate of a row of [`COLUMNS`] (after the generation), if the
/// row has one.
pub(super) fn certificate(row: &Row) -> Result<Option<StoredCertificate<'static>>, ExportError> {
    let Some(id) = get::<Option<i64>>(row, 1)? else {
        return Ok(None);
    };
    let id = id_of(id)?;
    let der: Vec<u8> = get(row, 2)?;
    let sha256: [u8; 32] = get::<Vec<u8>>(row, 3)?
        .try_into()
        .map_err(|_| PgStoreError::UnexpectedValue { column: "sha256" })?;
    let key_policy = match (get::<Option<String>>(row, 4)?, get::<Option<bool>>(row, 5)?) {
        (Some(name), Some(access)) => Some(KeyPolicy {
            name,
            private_key_access: access_of(access),
        }),
        _ => None,
    };
    let metadata = CertMetadata {
        collections: sorted(get(row, 6)?, "collection_id")?,
        containers: sorted(get(row, 7)?, "container_id")?,
        key_policy,
    };
    Ok(Some(
        StoredCertificate::new(id, der, Cow::Owned(metadata)).with_sha256(sha256),
    ))
}

/// A certificate's encrypted key, public-key fingerprint and holders' policies.
pub(super) struct KeyRow {
    pub(super) sealed: SealedKey,
    pub(super) public_key: Option<Vec<u8>>,
    pub(super) holder_policies: Vec<KeyPolicy>,
}

pub(super) fn private_key(client: &mut Client, statement: &Statement, id: i64) -> Result<Option<KeyRow>, ExportError> {
    let Some(row) = client.query_opt(statement, &[&id]).map_err(ExportError::backend)? else {
        return Ok(None);
    };
    let names: Vec<String> = get(&row, 4)?;
    let access: Vec<bool> = get(&row, 5)?;
    let holder_policies = names
        .into_iter()
        .zip(access)
        .map(|(name, access)| KeyPolicy {
            name,
            private_key_access: access_of(access),
        })
        .collect();
    Ok(Some(KeyRow {
        sealed: SealedKey {
            kek_id: get(&row, 0)?,
            wrapped_key: get(&row, 1)?,
            ciphertext: get(&row, 2)?,
        },
        public_key: get(&row, 3)?,
        holder_policies,
    }))
}

pub(super) fn access_of(allowed: bool) -> KeyAccess {
    if allowed {
        KeyAccess::Allowed
    } else {
        KeyAccess::Restricted
    }
}

/// Column `index` of `row`, a driver error if it is not a `T`.
pub(super) fn get<'a, T: postgres::types::FromSql<'a>>(row: &'a Row, index: usize) -> Result<T, ExportError> {
    row.try_get(index).map_err(ExportError::backend)
}

/// A certificate id read from the database (where the schema keeps it positive).
pub(super) fn id_of(id: i64) -> Result<CertId, ExportError> {
    u64::try_from(id)
        .map(CertId)
        .map_err(|_| PgStoreError::UnexpectedValue { column: "id" }.into())
}

/// Group ids as the metadata holds them: unsigned, in order.
fn sorted(values: Vec<i64>, column: &'static str) -> Result<Vec<u64>, ExportError> {
    let mut ids = values
        .into_iter()
        .map(|v| u64::try_from(v).map_err(|_| ExportError::from(PgStoreError::UnexpectedValue { column })))
        .collect::<Result<Vec<u64>, ExportError>>()?;
    ids.sort_unstable();
    Ok(ids)
}
