//! [`PgStore`]: a certificate inventory in PostgreSQL, which
//! many exporters in many processes read at once.
//!
//! - **Schema.** Versioned migrations compiled into the crate
//!   ([`SCHEMA_VERSION`]); [`PgStore::migrate`] (`certexport db migrate`)
//!   applies them, and [`PgStore::connect`] does so first when
//!   [`PgOptions::migrations`] says [`Migrations::Apply`].
//! - **Lookups.** Every method of [`CertificateStore`] is one indexed
//!   query on a prepared statement: by id, SHA-1, SHA-256, `uuId`, issuer +
//!   serial, and a chain step's issuer candidates all at once. Their
//!   answers (empty ones too) are kept in a cache bounded in bytes
//!   ([`PgOptions::cache_bytes`]) and trusted for at most
//!   [`PgOptions::cache_ttl`] (default 1 s) after the database's change
//!   counter was last read: a claim removed or a certificate deleted in
//!   the database stops being served within that time, by every process
//!   (see `answers.rs`). A lookup asked again costs no round trip, and a
//!   certificate of another collection costs a caller what an absent one
//!   costs.
//! - **Replicas.** [`PgStore::with_replica`] adds read replicas (streaming
//!   standbys): lookups go to them in turn, writes stay on the primary, and
//!   a replica that cannot be reached is skipped for 2 s, then tried again
//!   (see `servers.rs`).
//! - **Outages.** A database that cannot be reached gives
//!   [`ExportError::StoreUnavailable`] (a server's 503), never an old
//!   answer past the TTL; connections are opened again as soon as it
//!   answers, with no restart.
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

mod answers;
mod cache_only;
mod import;
mod kek;
mod pool;
mod queries;
mod rotate;
mod schema;
mod search;
mod servers;

use std::time::Duration;

use postgres::Statement;
use postgres::types::ToSql;

use super::{CertificateStore, KeyRef, StoredCertificate, StoredKey};
use crate::error::ExportError;
use crate::ids::{CertId, SerialNumber, Thumbprint, Uuid};
use crate::key::PrivateKey;
use crate::name::NameKey;

use answers::{Answers, Query};
use pool::Pool;
use queries::Statements;
use servers::Servers;

pub use cache_only::cached_answers_only;
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
    servers: Servers,
    options: PgOptions,
    kek: Option<Kek>,
    answers: Answers,
}

/// How a [`PgStore`] connects and what it keeps: `PgOptions::default()`
/// and the `with_` methods (new options may come in a minor release).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PgOptions {
    /// The most connections the store opens to the primary, and to each
    /// replica (default 4). Exports running at once beyond that wait for a
    /// free one.
    pub connections: usize,
    /// How long an export waits for a free connection before failing
    /// (default 30 s).
    pub connection_wait: Duration,
    /// How long opening a connection may take (default 10 s).
    pub connect_timeout: Duration,
    /// Whether opening applies missing migrations (default: it requires
    /// the schema to be current).
    pub migrations: Migrations,
    /// The most bytes the answer cache holds (default 64 MiB: some 40,000
    /// lookups of 1.5 KB certificates); 0 keeps nothing. Each answer
    /// weighs its certificates' DER and metadata plus a fixed overhead.
    pub cache_bytes: u64,
    /// How long a cached answer is trusted after the database's change
    /// counter was last read (default 1 s): the most time a change
    /// (a claim removed, a certificate deleted) may go unseen. Zero reads
    /// the counter before every answer.
    pub cache_ttl: Duration,
}

impl Default for PgOptions {
    fn default() -> Self {
        Self {
            connections: 4,
            connection_wait: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            migrations: Migrations::Require,
            cache_bytes: 64 << 20,
            cache_ttl: Duration::from_secs(1),
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

    /// Sets [`cache_bytes`](Self::cache_bytes).
    #[must_use]
    pub fn with_cache_bytes(mut self, bytes: u64) -> Self {
        self.cache_bytes = bytes;
        self
    }

    /// Sets [`cache_ttl`](Self::cache_ttl).
    #[must_use]
    pub fn with_cache_ttl(mut self, ttl: Duration) -> Self {
        self.cache_ttl = ttl;
        self
    }
}

/// Failures of a [`PgStore`] that are not the driver's own; reached through
/// [`ExportError::Backend`] (or, for [`PgStoreError::PoolTimeout`],
/// [`ExportError::StoreUnavailable`]) and [`BackendError::get_ref`](crate::BackendError::get_ref).
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
    /// An answer was asked for inside [`cached_answers_only`] that the
    /// answer cache could not give without a round trip.
    #[error("the answer is not in the cache, and asking the database was not allowed")]
    NotCached,
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
        let pool = Self::pool(url, options)?;
        let mut client = pool.connect()?;
        match options.migrations {
            Migrations::Apply => {
                schema::migrate(&mut client)?;
            }
            Migrations::Require => schema::check(&mut client)?,
        }
        Ok(Self {
            servers: Servers::new(pool),
            options: options.clone(),
            kek: None,
            answers: Answers::new(options.cache_bytes, options.cache_ttl),
        })
    }

    /// The same store, also reading from the replica at `url` (a streaming
    /// standby of the primary, with the same options). Lookups go to the
    /// replicas in turn; writes (import, migrations, KEK rotation) and
    /// listing stay on the primary. The replica is connected when first
    /// used: one that cannot be reached now is skipped until it can (it
    /// is tried again every 2 s), and reads go to the others or the
    /// primary meanwhile. What a replica serves lags the primary by its
    /// replay delay.
    pub fn with_replica(mut self, url: &str) -> Result<Self, ExportError> {
        let pool = Self::pool(url, &self.options)?;
        self.servers.add_replica(pool);
        Ok(self)
    }

    /// A pool of connections to `url`, none opened yet.
    fn pool(url: &str, options: &PgOptions) -> Result<Pool, ExportError> {
        let mut config: postgres::Config = url.parse().map_err(ExportError::backend)?;
        config
            .application_name("certexport")
            .connect_timeout(options.connect_timeout);
        Ok(Pool::new(config, options.connections, options.connection_wait))
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
        let mut connection = self.servers.primary().get()?;
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

    /// What the prepared certificate query `statement` finds for `params`,
    /// from the answer cache when it may be trusted, else from a server
    /// (and then remembered). `query` and `params` make the cache key.
    fn fetch(
        &self,
        query: Query,
        statement: fn(&Statements) -> &Statement,
        params: &[&(dyn ToSql + Sync)],
        key_params: &[&[u8]],
    ) -> Result<Vec<StoredCertificate<'_>>, ExportError> {
        let key = Answers::key(query, key_params);
        let check = || {
            if cache_only::active() {
                Err(cache_only::miss())
            } else {
                self.generation()
            }
        };
        if let Some(answer) = self.answers.get(&key, check) {
            return Ok(answer);
        }
        if cache_only::active() {
            return Err(cache_only::miss());
        }
        let fetched = self
            .servers
            .read(|c| queries::fetch(&mut c.client, statement(&c.statements), params))?;
        self.answers.insert(key, fetched.generation, &fetched.certificates);
        Ok(fetched.certificates)
    }

    /// The one certificate a unique lookup finds.
    fn fetch_one(
        &self,
        query: Query,
        statement: fn(&Statements) -> &Statement,
        params: &[&(dyn ToSql + Sync)],
        key_params: &[&[u8]],
    ) -> Result<Option<StoredCertificate<'_>>, ExportError> {
        Ok(self.fetch(query, statement, params, key_params)?.pop())
    }

    /// The database's change counter, as a server that takes reads sees it.
    fn generation(&self) -> Result<i64, ExportError> {
        self.servers.read(|c| {
            let row = c
                .client
                .query_one(&c.statements.generation, &[])
                .map_err(ExportError::backend)?;
            queries::get(&row, 0)
        })
    }

    fn kek(&self) -> Result<&Kek, ExportError> {
        self.kek.as_ref().ok_or(ExportError::KekRequired)
    }
}

impl CertificateStore for PgStore {
    fn certificate(&self, id: CertId) -> Result<Option<StoredCertificate<'_>>, ExportError> {
        let Ok(id) = i64::try_from(id.0) else { return Ok(None) };
        self.fetch_one(Query::Id, |s| &s.by_id, &[&id], &[&id.to_be_bytes()])
    }

    fn certificate_by_thumbprint(&self, thumbprint: &Thumbprint) -> Result<Option<StoredCertificate<'_>>, ExportError> {
        match thumbprint {
            Thumbprint::Sha1(digest) => self.fetch_one(Query::Sha1, |s| &s.by_sha1, &[&&digest[..]], &[digest]),
            Thumbprint::Sha256(digest) => self.fetch_one(Query::Sha256, |s| &s.by_sha256, &[&&digest[..]], &[digest]),
        }
    }

    fn certificate_by_uuid(&self, uuid: &Uuid) -> Result<Option<StoredCertificate<'_>>, ExportError> {
        let uuid = uuid.as_str();
        self.fetch_one(Query::Uuid, |s| &s.by_uuid, &[&uuid], &[uuid.as_bytes()])
    }

    fn certificates_by_issuer_serial(
        &self,
        issuer: &NameKey,
        serial: &SerialNumber,
    ) -> Result<Vec<StoredCertificate<'_>>, ExportError> {
        let (issuer, serial) = (issuer.as_bytes(), serial.as_bytes());
        let params: [&(dyn ToSql + Sync); 2] = [&issuer, &serial];
        self.fetch(Query::IssuerSerial, |s| &s.by_issuer_serial, &params, &[issuer, serial])
    }

    fn issuer_candidates(
        &self,
        subject: &NameKey,
        key_id: Option<&[u8]>,
    ) -> Result<Vec<StoredCertificate<'_>>, ExportError> {
        let subject = subject.as_bytes();
        match key_id {
            Some(key_id) => self.fetch(
                Query::SubjectKeyId,
                |s| &s.by_subject_key_id,
                &[&subject, &key_id],
                &[subject, key_id],
            ),
            None => self.fetch(Query::Subject, |s| &s.by_subject, &[&subject], &[subject]),
        }
    }

    /// The database's change counter while the answer cache may be
    /// trusted without a round trip (see [`PgOptions::cache_ttl`]): chains
    /// an exporter remembers hold as long as the cached answers do.
    fn contents_version(&self) -> Option<u64> {
        self.answers.version()
    }

    fn private_key(&self, id: CertId) -> Result<Option<StoredKey<'_>>, ExportError> {
        let Ok(db_id) = i64::try_from(id.0) else {
            return Ok(None);
        };
        if cache_only::active() {
            return Err(cache_only::miss());
        }
        let Some(row) = self
            .servers
            .read(|c| queries::private_key(&mut c.client, &c.statements.private_key, db_id))?
        else {
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
    /// read-only snapshot, under a statement timeout (see `pg/search.rs`),
    /// on a read replica when there are any, as lookups are. Never cached:
    /// which certificates match changes with every import.
    fn search(&self, query: &crate::search::StoreQuery) -> Result<crate::search::SearchPage<'_>, ExportError> {
        self.servers.read(|c| search::search(&mut c.client, query))
    }
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("servers", &self.servers)
            .field("options", &self.options)
            .field("kek", &self.kek)
            .finish_non_exhaustive()
    }
}
