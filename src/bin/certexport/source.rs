//! Where `list` and `export` read certificates from: store files
//! (`--store PATH`), or, with feature `postgres`, a database (`--database
//! URL`, or `DATABASE_URL` when no `--store` is given).

use certexport::ids::CertId;
use certexport::store::{CertificateStore, MemoryStore};

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

    /// The store itself, for an `Exporter`.
    pub(crate) fn into_store(self) -> Box<dyn CertificateStore> {
        match self {
            Source::Files(store) => Box::new(store),
            #[cfg(feature = "postgres")]
            Source::Database(store) => Box::new(store),
        }
    }
}
