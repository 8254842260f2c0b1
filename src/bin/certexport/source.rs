//! Where `list` and `export` read certificates from: store files
//! (`--store PATH`), or, with feature `postgres`, a database (`--database
//! URL`, or `DATABASE_URL` when no `--store` is given).

use certexport::ExportError;
use certexport::ids::{CertId, SerialNumber, Thumbprint, Uuid};
use certexport::name::NameKey;
use certexport::store::{CertificateStore, MemoryStore, StoredCertificate, StoredKey};

use crate::failure::Failure;
use crate::{StoreArgs, load};

/// The store the command reads.
pub(crate) enum Source {
    /// Store files and directories, loaded into memory.
    Files(MemoryStore),
    /// A PostgreSQL database.
    #[cfg(feature = "postgres")]
    Database(certexport::store::PgStore),
}

/// The store `args` name.
pub(crate) fn open(args: &StoreArgs) -> Result<Source, Failure> {
    #[cfg(feature = "postgres")]
    if let Some(store) = crate::db::open(args, 1)? {
        return Ok(Source::Database(store));
    }
    load(args).map(Source::Files)
}

impl Source {
    /// Calls `each` with every certificate's id, DER and whether the store
    /// holds its key: files in load order, a database in id order.
    pub(crate) fn for_each(
        &self,
        mut each: impl FnMut(CertId, &[u8], bool) -> Result<(), Failure>,
    ) -> Result<(), Failure> {
        match self {
            Source::Files(store) => store.iter().try_for_each(|(c, has_key)| each(c.id, &c.der, has_key)),
            #[cfg(feature = "postgres")]
            Source::Database(store) => store.for_each_certificate(each),
        }
    }

    fn store(&self) -> &dyn CertificateStore {
        match self {
            Source::Files(store) => store,
            #[cfg(feature = "postgres")]
            Source::Database(store) => store,
        }
    }
}

impl CertificateStore for Source {
    fn certificate(&self, id: CertId) -> Result<Option<StoredCertificate<'_>>, ExportError> {
        self.store().certificate(id)
    }
    fn certificate_by_thumbprint(&self, thumbprint: &Thumbprint) -> Result<Option<StoredCertificate<'_>>, ExportError> {
        self.store().certificate_by_thumbprint(thumbprint)
    }
    fn certificate_by_uuid(&self, uuid: &Uuid) -> Result<Option<StoredCertificate<'_>>, ExportError> {
        self.store().certificate_by_uuid(uuid)
    }
    fn certificates_by_issuer_serial(
        &self,
        issuer: &NameKey,
        serial: &SerialNumber,
    ) -> Result<Vec<StoredCertificate<'_>>, ExportError> {
        self.store().certificates_by_issuer_serial(issuer, serial)
    }
    fn issuer_candidates(
        &self,
        subject: &NameKey,
        key_id: Option<&[u8]>,
    ) -> Result<Vec<StoredCertificate<'_>>, ExportError> {
        self.store().issuer_candidates(subject, key_id)
    }
    fn private_key(&self, id: CertId) -> Result<Option<StoredKey<'_>>, ExportError> {
        self.store().private_key(id)
    }
    fn contents_are_fixed(&self) -> bool {
        self.store().contents_are_fixed()
    }
}
