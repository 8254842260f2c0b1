//! Rotating the key-encryption key: every stored key's data key is
//! unwrapped with the old KEK and wrapped with the new one, in one
//! transaction; the encrypted keys themselves are not touched.

use super::kek::Kek;
use super::{PgStore, queries};
use crate::error::ExportError;

/// Rows re-wrapped per `UPDATE`.
const BATCH: usize = 10_000;

impl PgStore {
    /// Re-wraps every stored private key from `old` to `new` and returns
    /// how many were re-wrapped. Keys already under `new` are left as they
    /// are (so an interrupted rotation can be run again); a key under
    /// neither fails with [`ExportError::WrongKek`] and nothing changes.
    /// Keep `old` until the transaction has committed: a key stays
    /// readable with exactly one of the two at any time.
    pub fn rotate_kek(&self, old: &Kek, new: &Kek) -> Result<usize, ExportError> {
        let mut connection = self.servers.primary().get()?;
        let mut tx = connection.client.transaction().map_err(ExportError::backend)?;
        let rows = tx
            .query(
                "SELECT certificate_id, kek_id, wrapped_key FROM private_keys ORDER BY certificate_id FOR UPDATE",
                &[],
            )
            .map_err(ExportError::backend)?;
        let mut rotated = 0;
        let (mut ids, mut wrapped) = (Vec::new(), Vec::new());
        for (i, row) in rows.iter().enumerate() {
            let id: i64 = queries::get(row, 0)?;
            let kek_id: &[u8] = queries::get(row, 1)?;
            if kek_id != new.id() {
                let wrapped_key = queries::get(row, 2)?;
                wrapped.push(old.rewrap(kek_id, wrapped_key, queries::id_of(id)?, new)?);
                ids.push(id);
            }
            if ids.len() == BATCH || (i + 1 == rows.len() && !ids.is_empty()) {
                tx.execute(
                    "UPDATE private_keys k SET kek_id = $1, wrapped_key = v.wrapped_key \
                     FROM unnest($2::int8[], $3::bytea[]) AS v(id, wrapped_key) WHERE k.certificate_id = v.id",
                    &[&&new.id()[..], &ids, &wrapped],
                )
                .map_err(ExportError::backend)?;
                rotated += ids.len();
                ids.clear();
                wrapped.clear();
            }
        }
        tx.commit().map_err(ExportError::backend)?;
        Ok(rotated)
    }
}
