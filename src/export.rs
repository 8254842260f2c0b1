//! The entry point: [`Exporter::export`] takes an [`ExportRequest`] and
//! gives an [`ExportArtifact`] or an [`ExportError`].
//!
//! The data flows one way: options checked against the matrix → claims
//! checked → certificate looked up → membership and key policy checked →
//! chain built → bytes encoded → artifact named.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::access::{self, Caller, CspPolicy};
use crate::artifact::{self, ExportArtifact};
use crate::chain::{self, Caches, ChainPolicy};
use crate::encode::{self, Inputs};
use crate::error::ExportError;
use crate::ids::Thumbprint;
use crate::lookup::{self, Resolution};
use crate::matrix::{self, Plan};
use crate::random::{OsRandom, RandomSource};
use crate::request::{ChainOrder, ExportRequest};
use crate::store::{Certificate, CertificateStore, KeyRef};

/// Exporter-wide settings (the reference product's application settings).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExportSettings {
    /// Keep `.` in file names (`www.example.com.cer`); when false every `.`
    /// of the CN becomes `_` (`www_example_com.cer`). Default true.
    pub allow_periods_in_filenames: bool,
    /// How chains are built.
    pub chain: ChainPolicy,
    /// The time validity is judged at when choosing among issuers.
    pub time: ExportTime,
    /// Which Microsoft CSPs a request may name.
    pub csps: CspPolicy,
}

impl Default for ExportSettings {
    fn default() -> Self {
        Self {
            allow_periods_in_filenames: true,
            chain: ChainPolicy::default(),
            time: ExportTime::Now,
            csps: CspPolicy::default(),
        }
    }
}

impl ExportSettings {
    /// The same settings, judging validity at `time`.
    pub fn with_time(mut self, time: ExportTime) -> Self {
        self.time = time;
        self
    }

    /// The same settings, building chains by `chain`.
    pub fn with_chain(mut self, chain: ChainPolicy) -> Self {
        self.chain = chain;
        self
    }

    /// The same settings, allowing the CSPs of `csps`.
    pub fn with_csps(mut self, csps: CspPolicy) -> Self {
        self.csps = csps;
        self
    }

    /// The same settings, keeping (`true`) or replacing `.` in file names.
    pub fn with_periods_in_filenames(mut self, allow: bool) -> Self {
        self.allow_periods_in_filenames = allow;
        self
    }
}

/// The time chain building judges validity at.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExportTime {
    /// The clock at each export (the default).
    #[default]
    Now,
    /// A fixed time, in seconds since the Unix epoch (tests, reproducible jobs).
    UnixSeconds(i64),
}

impl ExportTime {
    pub(crate) fn seconds(self) -> i64 {
        match self {
            ExportTime::Now => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
                .unwrap_or(0),
            ExportTime::UnixSeconds(s) => s,
        }
    }
}

/// Exports certificates and keys from a store.
///
/// An exporter remembers the signature checks of the chains it builds (a
/// bounded cache keyed by the exact bytes checked), and, over a store whose
/// contents are fixed (such as [`MemoryStore`](crate::store::MemoryStore)), the
/// chains themselves for as long as the same chain would be chosen, so
/// exporting the same chain again costs no verification. Create one per store and share it:
/// `export` takes `&self` and the exporter is `Send + Sync`.
///
/// ```
/// use certexport::store::MemoryStore;
/// use certexport::{Caller, CertificateFormat, ExportRequest, Exporter, ids::CertId};
///
/// let exporter = Exporter::new(MemoryStore::from_path("examples/data/demo")?);
/// let mut request = ExportRequest::new(CertId(3));
/// request.format = CertificateFormat::Der;
/// let artifact = exporter.export(&Caller::single_tenant_full_access(), &request)?;
/// assert_eq!(artifact.content_type(), "application/pkix-cert");
/// # Ok::<(), certexport::ExportError>(())
/// ```
pub struct Exporter<S> {
    store: S,
    settings: ExportSettings,
    rng: Arc<dyn RandomSource>,
    caches: Caches,
}

impl<S: CertificateStore> Exporter<S> {
    /// An exporter over `store` with default settings.
    pub fn new(store: S) -> Self {
        Self::with_settings(store, ExportSettings::default())
    }

    /// An exporter over `store` with `settings`.
    pub fn with_settings(store: S, settings: ExportSettings) -> Self {
        Self {
            store,
            settings,
            rng: Arc::new(OsRandom),
            caches: Caches::default(),
        }
    }

    /// Replaces the source of salts and IVs (the OS generator by default).
    pub fn with_random_source(mut self, rng: Arc<dyn RandomSource>) -> Self {
        self.rng = rng;
        self
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The settings.
    pub fn settings(&self) -> &ExportSettings {
        &self.settings
    }

    /// The caches chain building keeps (`search::run` builds chains too).
    pub(crate) fn caches(&self) -> &Caches {
        &self.caches
    }

    /// Exports what `request` asks for, if `caller` may have it.
    pub fn export(&self, caller: &Caller, request: &ExportRequest) -> Result<ExportArtifact, ExportError> {
        let prepared = self.prepare(caller, request)?;
        let inputs = Inputs {
            certificates: &prepared.chain,
            end_entity: prepared.end_entity,
            key: prepared.key.as_deref(),
            stem: &prepared.stem,
        };
        let output = &prepared.plan.output;
        let bytes = encode::encode(output, &inputs, &*self.rng)?;
        Ok(ExportArtifact {
            bytes,
            certificate_id: prepared.chain[prepared.end_entity].stored.id,
            file_name: [prepared.stem.as_str(), ".", prepared.plan.extension.as_str()].concat(),
            format: request.format,
            extension: prepared.plan.extension,
            content_type: output.content_type(),
            certificates: if output.certificates() { prepared.chain.len() } else { 0 },
            contains_private_key: output.needs_key(),
        })
    }

    /// The certificates an export of `request` would hold, in its order,
    /// as their stored DER, with the same checks as [`export`](Self::export)
    /// — for a program that wants the chain itself (a TLS server's, say:
    /// ask for `include_chain`, and set the exporter's
    /// [`ChainPolicy`](crate::options::ChainPolicy) to leave the root out).
    /// A key-only request holds none.
    pub fn certificates(&self, caller: &Caller, request: &ExportRequest) -> Result<Vec<Vec<u8>>, ExportError> {
        let prepared = self.prepare(caller, request)?;
        if !prepared.plan.output.certificates() {
            return Ok(Vec::new());
        }
        Ok(prepared.chain.iter().map(|c| c.der().to_vec()).collect())
    }

    /// [`certificates`](Self::certificates) as rustls holds them (feature
    /// `pki-types`).
    #[cfg(feature = "pki-types")]
    #[cfg_attr(docsrs, doc(cfg(feature = "pki-types")))]
    pub fn certificate_ders(
        &self,
        caller: &Caller,
        request: &ExportRequest,
    ) -> Result<Vec<rustls_pki_types::CertificateDer<'static>>, ExportError> {
        Ok(self
            .certificates(caller, request)?
            .into_iter()
            .map(rustls_pki_types::CertificateDer::from)
            .collect())
    }

    /// Everything up to the bytes: the plan, the access checks in their
    /// order, the lookup, the key, the chain in output order, the name.
    fn prepare<'s, 'r>(&'s self, caller: &Caller, request: &'r ExportRequest) -> Result<Prepared<'s, 'r>, ExportError> {
        let plan = matrix::plan(request)?;
        access::check_csp(&self.settings.csps, request.pfx.target_csp.as_deref())?;
        let grant = access::authorize(caller, request.scope_rule, request.scope, plan.output.needs_key())?;

        let store: &dyn CertificateStore = &self.store;
        let leaf = match lookup::resolve(store, &request.lookup, &request.also_matching, &|m| grant.may_read(m))
            .map_err(|e| grant.hide_error(e))?
        {
            Resolution::Found(certificate) => certificate,
            Resolution::Missed(miss) => return Err(grant.hide(miss)),
        };
        grant.check(&leaf.stored.metadata)?;

        let key = if plan.output.needs_key() {
            let Some(stored) = store.private_key(leaf.stored.id)? else {
                return Err(ExportError::NoPrivateKey {
                    certificate: Thumbprint::sha1_of(leaf.der()).to_string(),
                });
            };
            grant.check_key_holders(&stored.holder_policies)?;
            Some(stored.key)
        } else {
            None
        };

        let stem = artifact::file_stem(
            leaf.subject()?,
            || Thumbprint::sha1_of(leaf.der()).to_string(),
            self.settings.allow_periods_in_filenames,
        );
        let mut chain = if plan.output.chain() {
            chain::build(
                store,
                leaf,
                &self.settings.chain,
                self.settings.time.seconds(),
                &self.caches,
            )?
        } else {
            vec![leaf]
        };
        let mut end_entity = 0;
        if request.chain_order == ChainOrder::RootFirst {
            chain.reverse();
            end_entity = chain.len() - 1;
        }
        Ok(Prepared {
            plan,
            chain,
            end_entity,
            key,
            stem,
        })
    }

    /// Exports every request of a batch, in order, each with its own
    /// result. With the `parallel` feature the batch is spread over every
    /// core (rayon); without it, requests run one after the other.
    pub fn export_batch(
        &self,
        caller: &Caller,
        requests: &[ExportRequest],
    ) -> Vec<Result<ExportArtifact, ExportError>> {
        #[cfg(feature = "parallel")]
        {
            use rayon::prelude::*;
            requests.par_iter().map(|r| self.export(caller, r)).collect()
        }
        #[cfg(not(feature = "parallel"))]
        {
            requests.iter().map(|r| self.export(caller, r)).collect()
        }
    }
}

/// What an export has found before it writes anything.
struct Prepared<'s, 'r> {
    plan: Plan<'r>,
    chain: Vec<Certificate<'s>>,
    end_entity: usize,
    key: Option<KeyRef<'s>>,
    stem: String,
}

impl<S> std::fmt::Debug for Exporter<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Exporter")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}
