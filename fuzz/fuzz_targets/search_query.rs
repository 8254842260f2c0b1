//! Certificate search (`certexport::search`): the query parser, then the
//! search over a `MemoryStore` of generated certificates.
//!
//! Input: byte 0 picks the sort (low 3 bits, of the 5 sort fields) and
//! the direction (bit 3); byte 1 the page size (low 4 bits, 1 to 16) and
//! the page (high bits, 1 to 16); the rest is the query text (UTF-8,
//! lossy).
//!
//! Oracles:
//! - never a panic; an error is `InvalidQuery`, its text bounded and its
//!   position inside the text;
//! - a query that parses gives, over the `MemoryStore` (its index and
//!   sort orders), the same total and the same ids in the same order as
//!   the brute-force model of tests/common/search_pki.rs (what the
//!   generator put into each certificate, filtered by the query
//!   language's rules written out independently). The same model holds
//!   `PgStore` to these answers in tests/search.rs.
#![no_main]

#[path = "../../tests/common/search_pki.rs"]
mod search_pki;

use std::sync::OnceLock;

use certexport::options::{ExportTime, Scope};
use certexport::search::{CertificateQuery, SortDirection, SortField};
use certexport::store::MemoryStore;
use certexport::{Caller, ExportError, ExportSettings, Exporter};
use certexport_fuzz::checked_text;
use libfuzzer_sys::fuzz_target;

/// The generated store and its model, made once per process.
fn fixture() -> &'static (Exporter<MemoryStore>, Vec<search_pki::Model>) {
    static FIXTURE: OnceLock<(Exporter<MemoryStore>, Vec<search_pki::Model>)> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let (store, models) = search_pki::store(60);
        let settings = ExportSettings::default().with_time(ExportTime::UnixSeconds(search_pki::NOW));
        (Exporter::with_settings(store, settings), models)
    })
}

fuzz_target!(|data: &[u8]| {
    let [shape, window, text @ ..] = data else { return };
    let text = String::from_utf8_lossy(text);
    let sorts = [
        SortField::CertId,
        SortField::IssuedCn,
        SortField::IssuedDate,
        SortField::NotAfter,
        SortField::IssuerDn,
    ];
    let sort = sorts[usize::from(shape & 7) % sorts.len()];
    let direction = if shape & 8 == 0 {
        SortDirection::Ascending
    } else {
        SortDirection::Descending
    };
    let page_size = u32::from(window & 15) + 1;
    let page = u32::from(window >> 4) + 1;
    let query = match CertificateQuery::parse(&text) {
        Ok(query) => query,
        Err(error) => {
            checked_text(&error);
            match error {
                ExportError::InvalidQuery(e) => assert!(e.position() <= text.len(), "{e} in {} bytes", text.len()),
                other => panic!("not a query error: {other:?}"),
            }
            return;
        }
    };
    let query = query
        .with_page(page)
        .and_then(|q| q.with_page_size(page_size))
        .expect("page and size in range")
        .with_sort(sort, direction);
    let (exporter, models) = fixture();
    let results = exporter
        .search(&Caller::single_tenant_full_access(), Scope::default(), &query)
        .expect("a parsed query runs");
    let got: Vec<u64> = results.certificates.iter().map(|c| c.id.0).collect();
    let expected = search_pki::answer(
        models,
        query.filter.as_ref(),
        sort,
        direction,
        query.offset(),
        page_size,
        search_pki::NOW,
    );
    assert_eq!((results.total, got), expected, "query {text:?}");
});
