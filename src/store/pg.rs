//! [`PgStore`]: a certificate inventory in PostgreSQL, which
//! many exporters in many processes read at once.
//!
//! - **Schema.** Versioned migrations compiled into the crate
//!   ([`SCHEMA_VERSION`]); [`PgStore::migrate`] (`certexport db migrate`)
//!   applies them, and [`PgStore::connect`] does so first when
//!   [`PgOptions::migrations`] says [`Migrations::Apply`].
//! - **Lookups.** Every method of [`CertificateStore`] is one indexed
//!   query on a prepared statement: by id, SHA-1, SHA-256, `uuId`, issuer +
//!   serial, and a chain step's issuer candidates all at once. Chain steps
//!   are kept in a bounded cache (see `ca_cache.rs` for the invalidation
//!   rule), so a chain costs no round trip per level once its CAs are warm.
//! - **Keys.** Private keys are stored encrypted (AES-256-GCM envelope
//!   encryption under the operator's [`Kek`], the certificate id as
//!   associated data): a dump of the database alone yields no key. Reading
//!   or importing keys needs the KEK ([`PgStore::with_kek`]).
//! - **Import.** [`PgStore::import`] copies a [`MemoryStore`](super::MemoryStore)
//!   in batches in one transaction; ids are kept as the files give them
//!   where the database never used them (see `import.rs`).
//!
//! The driver is the synchronous `postgres` crate, as the trait is
//! synchronous. From async code run exports in
//! `tokio::task::spawn_blocking` (or your runtime's equivalent): calling
//! the driver on a runtime thread panics ("Cannot start a runtime from
//! within a runtime"). Connections are plain TCP or Unix sockets (the
//! driver is used without TLS): keep the database on the same host or a
//! trusted network, or reach it through a TLS tunnel.

mod ca_cache;
mod import;
mod kek;
mod pool;
mod queries;
mod rotate;
mod schema;
mod search;

use std::time::Duration;

use postgres::Statement;
use postgres::types::ToSql;

use super::{CertificateStore, KeyRef, StoredCertificate, StoredKey};
use crate::error::ExportError;
use crate::ids::{CertId, SerialNumber, Thumbprint, Uuid};
use crate::key::PrivateKey;
use crate::name::NameKey;

use ca_cache::CaCache;
use pool::{Connection, Pool};
use queries::Statements;

pub use import::ImportReport;
pub use kek::Kek;
pub use schema::{Migrations, SCHEMA_VERSION};

/// A [`CertificateStore`] over a PostgreSQL database.
///
/// ```no_run
/// use certexport::store::{Kek, PgOptions, PgStore};
/// use certexport::ids::Thumbprint;
/// use certexport::{Caller, ExportRequest, Exporter};
///
/// let kek = Kek::from_file("/etc/certexport/kek.hex".as_ref())?;
/// let store = PgStore::connect("postgresql://certexport@localhost/inventory", &PgOptions::default())?
///     .with_kek(kek);
/// let exporter = Exporter::new(store);
/// let thumbprint: Thumbprint = "5fb7ee0633e259dbad0c4c9ae6d38f1a61c7dc25".parse()?;
/// let artifact = exporter.export(&Caller::single_tenant_full_access(), &ExportRequest::new(thumbprint))?;
/// # Ok::<(), certexport::ExportError>(())
/// ```
pub struct PgStore {
    pool: Pool,
    kek: Option<Kek>,
    ca_cache: CaCache,
}

/// How a [`PgStore`] connects and what it keeps: `PgOptions::default()`
/// and the `with_` methods (new options may come in a minor release).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PgOptions {
    /// The most connections the store opens (default 4). Exports running
    /// at once beyond that wait for a free one.
    pub connections: usize,
    /// How long an export waits for a free connection before failing
    /// (default 30 s).
    pub connection_wait: Duration,
    /// How long opening a connection may take (default 10 s).
    pub connect_timeout: Duration,
    /// Whether opening applies missing migrations (default: it requires
    /// the schema to be current).
    pub migrations: Migrations,
    /// The most issuer-candidate certificates the CA cache holds (default
    /// 4,096: the CAs of any real PKI several times over).
    pub ca_cache_certificates: usize,
}

impl Default for PgOptions {
    fn default() -> Self {
        Self {
            connections: 4,
            connection_wait: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            migrations: Migrations::Require,
            ca_cache_certificates: 4_096,
        }
    }
}

impl PgOptions {
    /// Sets [`connections`](Self::connections).
    #[must_use]
    pub fn with_connections(mut self, connections: usize) -> Self {
        self.connections = connections;
        self
    }

    /// Sets [`connection_wait`](Self::connection_wait).
    #[must_use]
    pub fn with_connection_wait(mut self, wait: Duration) -> Self {
        self.connection_wait = wait;
        self
    }

    /// Sets [`connect_timeout`](Self::connect_timeout).
    #[must_use]
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sets [`migrations`](Self::migrations).
    #[must_use]
    pub fn with_migrations(mut self, migrations: Migrations) -> Self {
        self.migrations = migrations;
        self
    }

    /// Sets [`ca_cache_certificates`](Self::ca_cache_certificates).
    #[must_use]
    pub fn with_ca_cache_certificates(mut self, certificates: usize) -> Self {
        self.ca_cache_certificates = certificates;
        self
    }
}

/// Failures of a [`PgStore`] that are not the driver's own; reached through
/// [`ExportError::Backend`] and [`BackendError::get_ref`](crate::BackendError::get_ref).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PgStoreError {
    /// Every connection stayed busy for the whole wait.
    #[error("no database connection came free within {waited:?} (all {size} in use)")]
    PoolTimeout {
        /// The pool's size.
        size: usize,
        /// How long the caller waited.
        waited: Duration,
    },
    /// A row holds a value certexport never writes (a database edited by
    /// hand, or damaged).
    #[error("the database holds an unexpected value in {column}")]
    UnexpectedValue {
        /// The column or table.
        column: &'static str,
    },
}

impl From<PgStoreError> for ExportError {
    fn from(error: PgStoreError) -> Self {
        ExportError::backend(error)
    }
}

impl PgStore {
    /// Connects to the database at `url` (`postgresql://user@host:port/db`
    /// or `host=... dbname=...`), checks its schema (or migrates it, as
    /// `options` say) and prepares the pool. Without a
    /// [KEK](Self::with_kek) the store serves certificates, and asking for
    /// a stored key fails with [`ExportError::KekRequired`].
    pub fn connect(url: &str, options: &PgOptions) -> Result<Self, ExportError> {
        let mut config: postgres::Config = url.parse().map_err(ExportError::backend)?;
        config
            .application_name("certexport")
            .connect_timeout(options.connect_timeout);
        let pool = Pool::new(config, options.connections, options.connection_wait);
        let mut client = pool.connect()?;
        match options.migrations {
            Migrations::Apply => {
                schema::migrate(&mut client)?;
            }
            Migrations::Require => schema::check(&mut client)?,
        }
        Ok(Self {
            pool,
            kek: None,
            ca_cache: CaCache::new(options.ca_cache_certificates),
        })
    }

    /// Applies the migrations the database at `url` lacks, creating the
    /// schema in an empty database, and returns how many were applied.
    /// Refuses a schema newer than this build ([`ExportError::SchemaTooNew`]).
    pub fn migrate(url: &str) -> Result<usize, ExportError> {
        let mut client = url
            .parse::<postgres::Config>()
            .and_then(|config| config.connect(postgres::NoTls))
            .map_err(ExportError::backend)?;
        schema::migrate(&mut client)
    }

    /// The same store, reading and writing private keys under `kek`.
    pub fn with_kek(mut self, kek: Kek) -> Self {
        self.kek = Some(kek);
        self
    }

    /// Calls `each` with every certificate's id, DER and whether the store
    /// holds its key, in id order, reading the table in batches (so memory
    /// stays flat however large it is). Stops at the first error `each`
    /// returns.
    pub fn for_each_certificate<E: From<ExportError>>(
        &self,
        mut each: impl FnMut(CertId, &[u8], bool) -> Result<(), E>,
    ) -> Result<(), E> {
        const BATCH: i32 = 1_000;
        let mut connection = self.pool.get()?;
        let mut tx = connection.client.transaction().map_err(ExportError::backend)?;
        let portal = tx
            .bind(
                "SELECT c.id, c.der, EXISTS (SELECT 1 FROM private_keys k WHERE k.certificate_id = c.id) \
                 FROM certificates c ORDER BY c.id",
                &[],
            )
            .map_err(ExportError::backend)?;
        loop {
            let rows = tx.query_portal(&portal, BATCH).map_err(ExportError::backend)?;
            for row in &rows {
                let id = queries::id_of(queries::get(row, 0)?)?;
                let der: &[u8] = queries::get(row, 1)?;
                each(id, der, queries::get(row, 2)?)?;
            }
            if rows.len() < BATCH as usize {
                return Ok(());
            }
        }
    }

    /// Runs `query` on a pooled connection. A connection that served
    /// before and turns out closed (the server restarted) is replaced, with
    /// the other idle ones, and the query runs once more: the store's
    /// queries only read.
    fn run<T>(&self, query: impl Fn(&mut Connection) -> Result<T, ExportError>) -> Result<T, ExportError> {
        let mut connection = self.pool.get()?;
        match query(&mut connection) {
            Err(e) if connection.reused && (connection.client.is_closed() || connection_lost(&e)) => {
                drop(connection);
                self.pool.discard_idle();
                query(&mut *self.pool.get()?)
            }
            result => result,
        }
    }

    /// The certificates a prepared certificate query finds.
    fn fetch(
        &self,
        statement: fn(&Statements) -> &Statement,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<queries::Fetched, ExportError> {
        let fetched = self.run(|c| queries::fetch(&mut c.client, statement(&c.statements), params))?;
        if let Some(generation) = fetched.generation {
            self.ca_cache.observe(generation);
        }
        Ok(fetched)
    }

    /// The one certificate a unique lookup finds.
    fn fetch_one(
        &self,
        statement: fn(&Statements) -> &Statement,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<StoredCertificate<'_>>, ExportError> {
        Ok(self.fetch(statement, params)?.certificates.pop())
    }

    fn kek(&self) -> Result<&Kek, ExportError> {
        self.kek.as_ref().ok_or(ExportError::KekRequired)
    }
}

/// Whether `error` says the connection is gone: closed, or ended by the
/// server (SQLSTATE class 57P: shutdown, crash, termination by an operator).
fn connection_lost(error: &ExportError) -> bool {
    let ExportError::Backend(backend) = error else {
        return false;
    };
    backend
        .get_ref()
        .downcast_ref::<postgres::Error>()
        .is_some_and(|e| e.is_closed() || e.code().is_some_and(|code| code.code().starts_with("57P")))
}

impl CertificateStore for PgStore {
    fn certificate(&self, id: CertId) -> Result<Option<StoredCertificate<'_>>, ExportError> {
        let Ok(id) = i64::try_from(id.0) else { return Ok(None) };
        self.fetch_one(|s| &s.by_id, &[&id])
    }

    fn certificate_by_thumbprint(&self, thumbprint: &Thumbprint) -> Result<Option<StoredCertificate<'_>>, ExportError> {
        match thumbprint {
            Thumbprint::Sha1(digest) => self.fetch_one(|s| &s.by_sha1, &[&&digest[..]]),
            Thumbprint::Sha256(digest) => self.fetch_one(|s| &s.by_sha256, &[&&digest[..]]),
        }
    }

    fn certificate_by_uuid(&self, uuid: &Uuid) -> Result<Option<StoredCertificate<'_>>, ExportError> {
        self.fetch_one(|s| &s.by_uuid, &[&uuid.as_str()])
    }

    fn certificates_by_issuer_serial(
        &self,
        issuer: &NameKey,
        serial: &SerialNumber,
    ) -> Result<Vec<StoredCertificate<'_>>, ExportError> {
        let params: [&(dyn ToSql + Sync); 2] = [&issuer.as_bytes(), &serial.as_bytes()];
        Ok(self.fetch(|s| &s.by_issuer_serial, &params)?.certificates)
    }

    fn issuer_candidates(
        &self,
        subject: &NameKey,
        key_id: Option<&[u8]>,
    ) -> Result<Vec<StoredCertificate<'_>>, ExportError> {
        let cache_key = CaCache::key(subject, key_id);
        if let Some(candidates) = self.ca_cache.get(&cache_key) {
            return Ok(candidates);
        }
        let subject = subject.as_bytes();
        let fetched = match key_id {
            Some(key_id) => self.fetch(|s| &s.by_subject_key_id, &[&subject, &key_id])?,
            None => self.fetch(|s| &s.by_subject, &[&subject])?,
        };
        if let Some(generation) = fetched.generation {
            self.ca_cache.insert(cache_key, generation, &fetched.certificates);
        }
        Ok(fetched.certificates)
    }

    fn private_key(&self, id: CertId) -> Result<Option<StoredKey<'_>>, ExportError> {
        let Ok(db_id) = i64::try_from(id.0) else {
            return Ok(None);
        };
        let Some(row) = self.run(|c| queries::private_key(&mut c.client, &c.statements.private_key, db_id))? else {
            return Ok(None);
        };
        let pkcs8 = self.kek()?.open(&row.sealed, id)?;
        let key = PrivateKey::from_pkcs8_der(&pkcs8)?;
        // Only a holder of the KEK could have sealed another certificate's
        // key under this id; still, a key is never paired by trust alone.
        if row.public_key.as_deref() != Some(&key.public_key_fingerprint().0[..]) {
            return Err(ExportError::KeyMismatch {
                key: "stored key".into(),
                certificate: format!("CertID {id}"),
            });
        }
        Ok(Some(StoredKey::new(KeyRef::Owned(key), row.holder_policies)))
    }

    /// One parameterized statement per step (count, page, rows) in a
    /// read-only snapshot, under a statement timeout (see `pg/search.rs`).
    fn search(&self, query: &crate::search::StoreQuery) -> Result<crate::search::SearchPage<'_>, ExportError> {
        self.run(|c| search::search(&mut c.client, query))
    }
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("pool", &self.pool)
            .field("kek", &self.kek)
            .finish_non_exhaustive()
    }
}
