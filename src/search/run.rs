//! [`Exporter::search`] and [`Exporter::detail`]: the store's search
//! behind the same access rules as an export.

use super::{
    CertificateDetail, CertificateQuery, ChainLink, Field, Filter, Operator, SearchResults, StoreQuery, Term, Value,
};
use crate::access::{self, Caller, Scope, ScopeRule};
use crate::chain;
use crate::error::ExportError;
use crate::export::Exporter;
use crate::ids::Thumbprint;
use crate::lookup::{self, Lookup, Resolution};
use crate::store::{Certificate, CertificateStore};

impl<S: CertificateStore> Exporter<S> {
    /// The certificates matching `query` that `caller` could download in
    /// `scope`, with how many there are in all.
    ///
    /// The access rules are an export's (a collection or container scope,
    /// the caller's claims for it): a caller who may read nothing in the
    /// scope gets [`ExportError::AccessDenied`], and a caller who may read
    /// some certificates is answered as if the store held those only —
    /// the total counts nothing else. Relative dates are taken at the
    /// exporter's [`ExportTime`](crate::options::ExportTime).
    ///
    /// ```
    /// use certexport::options::{ExportTime, Scope};
    /// use certexport::search::{CertificateQuery, SortDirection, SortField};
    /// use certexport::store::MemoryStore;
    /// use certexport::{Caller, ExportSettings, Exporter};
    ///
    /// let store = MemoryStore::from_path("tests/data/pki")?;
    /// let settings = ExportSettings::default().with_time(ExportTime::UnixSeconds(1_893_456_000));
    /// let exporter = Exporter::with_settings(store, settings);
    /// let query = CertificateQuery::parse(
    ///     r#"CN -contains "example" AND (KeyType -eq "ECC" OR HasPrivateKey -eq false) AND NotAfter -gt "%TODAY+30%""#,
    /// )?
    /// .with_page_size(20)?
    /// .with_sort(SortField::IssuedCn, SortDirection::Ascending);
    /// let found = exporter.search(&Caller::single_tenant_full_access(), Scope::default(), &query)?;
    /// assert_eq!(found.total, 4); // p256, p384, p521 (ECC) and nokey.example.com
    /// assert_eq!(found.certificates[0].common_name.as_deref(), Some("nokey.example.com"));
    /// # Ok::<(), certexport::ExportError>(())
    /// ```
    pub fn search(
        &self,
        caller: &Caller,
        scope: Scope,
        query: &CertificateQuery,
    ) -> Result<SearchResults, ExportError> {
        let grant = access::authorize(caller, ScopeRule::GivenScope, scope, false)?;
        let filter = match (grant.read_filter(), query.filter.clone()) {
            (None, filter) => filter,
            (Some(reach), None) => Some(reach),
            (Some(reach), Some(filter)) => Some(Filter::And(vec![reach, filter])),
        };
        let store_query = StoreQuery::new(filter, query.page_size, self.settings().time.seconds())
            .with_sort(query.sort, query.direction)
            .with_offset(query.offset());
        let page = self.store().search(&store_query)?;
        let certificates = page
            .hits
            .iter()
            // The store answered the scope's condition; a store that did
            // not still never hands over what the caller may not read.
            .filter(|hit| grant.may_read(&hit.certificate.metadata))
            .map(CertificateDetail::of_hit)
            .collect::<Result<_, _>>()?;
        Ok(SearchResults {
            total: page.total,
            certificates,
        })
    }

    /// The facts of the certificate `lookup` names, if `caller` could
    /// download it in `scope` (the same errors as an export's lookup:
    /// [`ExportError::AccessDenied`] hides whether it exists), with
    /// whether the caller may export its key and the chain an export with
    /// `IncludeChain` would hold.
    pub fn detail(&self, caller: &Caller, scope: Scope, lookup: &Lookup) -> Result<CertificateDetail, ExportError> {
        let grant = access::authorize(caller, ScopeRule::GivenScope, scope, false)?;
        let store: &dyn CertificateStore = self.store();
        let leaf = match lookup::resolve(store, lookup, &[], &|m| grant.may_read(m)).map_err(|e| grant.hide_error(e))? {
            Resolution::Found(certificate) => certificate,
            Resolution::Missed(miss) => return Err(grant.hide(miss)),
        };
        grant.check(&leaf.stored.metadata)?;
        let now = self.settings().time.seconds();
        let id = leaf.stored.id;
        let by_id = Term {
            field: Field::CertId,
            operator: Operator::Eq,
            value: Value::Integer(id.0),
        };
        let page = store.search(&StoreQuery::new(Some(Filter::Term(by_id)), 1, now))?;
        let Some(hit) = page.hits.first() else {
            return Err(ExportError::NotFound {
                lookup: format!("CertID {id}"),
            });
        };
        let mut detail = CertificateDetail::of_hit(hit)?;
        detail.private_key_exportable = Some(hit.has_private_key && self.key_exportable(caller, scope, &leaf));
        detail.chain = chain::build(
            store,
            Certificate::new(leaf.stored.clone()),
            &self.settings().chain,
            now,
            self.caches(),
        )
        .map(|chain| {
            chain
                .iter()
                .map(|c| ChainLink {
                    id: c.stored.id,
                    sha1: Thumbprint::sha1_of(c.der()),
                    subject: c
                        .subject()
                        .ok()
                        .and_then(|s| crate::name::to_rfc4514(s).ok())
                        .unwrap_or_default(),
                })
                .collect()
        });
        Ok(detail)
    }

    /// Whether `caller` may export the key of `leaf` in `scope`: an
    /// export's key checks, without the export.
    fn key_exportable(&self, caller: &Caller, scope: Scope, leaf: &Certificate<'_>) -> bool {
        let Ok(grant) = access::authorize(caller, ScopeRule::GivenScope, scope, true) else {
            return false;
        };
        if grant.check(&leaf.stored.metadata).is_err() {
            return false;
        }
        matches!(self.store().private_key(leaf.stored.id), Ok(Some(key)) if grant.check_key_holders(&key.holder_policies).is_ok())
    }
}
