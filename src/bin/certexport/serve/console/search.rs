//! The search page (`GET /`): the API's search with a form.
//!
//! - "Common name contains" makes the term `CN -contains "<text>"`; the
//!   query field takes the whole Keyfactor query language (`NotAfter -lt
//!   "%TODAY+30%" AND KeyType -eq "RSA"`); given both, they are joined with
//!   `AND`. A query the grammar refuses is shown with its position.
//! - Scope: the caller's claims decide the choices, as the API's
//!   `collectionId` / `containerId` do: "every certificate" for a caller
//!   with a system-wide read claim, and one choice per collection or store
//!   container the caller holds a read claim for.
//! - [`PAGE_SIZE`] certificates a page, sorted by id, common name, issue
//!   date, expiry or issuer; the total over every page is shown.
//!
//! Search parameters go in the URL (a search is a GET, so it can be
//! bookmarked); nothing secret is ever part of one.

use std::fmt::Write as _;

use certexport::options::Scope;
use certexport::search::{CertificateQuery, SearchResults, SortDirection, SortField};
use certexport::{Caller, Claim, ExportError};
use serde::Deserialize;

use super::certificate::validity_days;
use super::page::{common_name, esc, utc};

/// Certificates a page.
pub(crate) const PAGE_SIZE: u32 = 25;

/// The form's fields, as the URL carries them.
#[derive(Deserialize, Default)]
pub(crate) struct SearchForm {
    #[serde(default)]
    cn: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    sort: String,
    #[serde(default)]
    desc: Option<String>,
    page: Option<u32>,
}

/// A scope the caller may search in: its form value, label and scope.
struct ScopeChoice {
    value: String,
    label: String,
    scope: Scope,
}

fn scope_choices(caller: &Caller) -> Vec<ScopeChoice> {
    let mut choices = Vec::new();
    let claims = caller.claims();
    if claims.contains(&Claim::ReadAllCollections) || claims.contains(&Claim::ReadAllStores) {
        choices.push(ScopeChoice {
            value: "all".into(),
            label: "Every certificate".into(),
            scope: Scope::default(),
        });
    }
    for claim in claims {
        match *claim {
            Claim::ReadCollection(c) => choices.push(ScopeChoice {
                value: format!("collection-{c}"),
                label: format!("Collection {c}"),
                scope: Scope::collection(c),
            }),
            Claim::ReadStoreContainer(k) => choices.push(ScopeChoice {
                value: format!("container-{k}"),
                label: format!("Store container {k}"),
                scope: Scope::container(k),
            }),
            _ => {}
        }
    }
    choices
}

const SORTS: [(&str, &str); 5] = [
    ("CertId", "Id"),
    ("IssuedCN", "Common name"),
    ("IssuedDate", "Issued"),
    ("NotAfter", "Expires"),
    ("IssuerDN", "Issuer"),
];

/// What to run: the query and the scope, or why the form cannot be run.
pub(crate) struct Planned {
    pub(crate) query: CertificateQuery,
    pub(crate) scope: Scope,
}

impl SearchForm {
    /// Whether the form asks for a search (any field given).
    pub(crate) fn asked(&self) -> bool {
        !self.cn.trim().is_empty() || !self.q.trim().is_empty() || !self.scope.is_empty() || self.page.is_some()
    }

    /// The search this form asks `caller` for.
    pub(crate) fn plan(&self, caller: &Caller) -> Result<Planned, ExportError> {
        let choices = scope_choices(caller);
        let scope = choices
            .iter()
            .find(|c| c.value == self.scope)
            .or_else(|| choices.first())
            .map(|c| c.scope)
            .ok_or(ExportError::AccessDenied)?;
        let mut text = String::new();
        let cn = self.cn.trim();
        if !cn.is_empty() {
            // Quoted as the query language reads it: `\` and `"` escaped,
            // so the name box holds a name, never query syntax.
            text = format!("CN -contains \"{}\"", cn.replace('\\', "\\\\").replace('"', "\"\""));
        }
        let q = self.q.trim();
        if !q.is_empty() {
            text = if text.is_empty() {
                q.to_owned()
            } else {
                format!("{text} AND ({q})")
            };
        }
        let mut query = CertificateQuery::parse(&text)?;
        query.page = self.page.unwrap_or(1).max(1);
        query.page_size = PAGE_SIZE;
        query.sort = SortField::from_name(&self.sort).unwrap_or_default();
        query.direction = if self.desc.is_some() {
            SortDirection::Descending
        } else {
            SortDirection::Ascending
        };
        Ok(Planned { query, scope })
    }

    /// The URL of page `page` of this search.
    fn page_url(&self, page: u32) -> String {
        let mut url = form_urlencoded::Serializer::new(String::from("/?"));
        url.append_pair("cn", &self.cn)
            .append_pair("q", &self.q)
            .append_pair("scope", &self.scope)
            .append_pair("sort", &self.sort);
        if self.desc.is_some() {
            url.append_pair("desc", "1");
        }
        url.append_pair("page", &page.to_string());
        url.finish()
    }
}

/// The page's main part: the form, then the results or the reason there
/// are none.
pub(crate) fn render(
    form: &SearchForm,
    caller: &Caller,
    outcome: Option<Result<SearchResults, ExportError>>,
    now: i64,
) -> String {
    let mut html = String::from("<h1>Certificates</h1>");
    let _ = write!(
        html,
        "<form method=\"get\" action=\"/\" class=\"search\" role=\"search\">\
         <div class=\"field\"><label for=\"cn\">Common name contains</label>\
         <input id=\"cn\" name=\"cn\" value=\"{}\" autocomplete=\"off\"></div>\
         <div class=\"field wide\"><label for=\"q\">Query</label>\
         <input id=\"q\" name=\"q\" value=\"{}\" autocomplete=\"off\" aria-describedby=\"q-help\" \
         placeholder='NotAfter -lt \"%TODAY+30%\" AND KeyType -eq \"RSA\"'>\
         <small id=\"q-help\">Fields: CN, DN, IssuerDN, SerialNumber, Thumbprint, DNSName, NotBefore, NotAfter, \
         KeyType, KeySizeInBits, HasPrivateKey, CertId, Uuid. Operators: -eq -ne -contains -startswith -endswith \
         -gt -ge -lt -le -isnull -notnull; AND, OR, parentheses.</small></div>\
         <div class=\"field\"><label for=\"scope\">Scope</label><select id=\"scope\" name=\"scope\">",
        esc(&form.cn),
        esc(&form.q)
    );
    for choice in scope_choices(caller) {
        let selected = if choice.value == form.scope { " selected" } else { "" };
        let _ = write!(
            html,
            "<option value=\"{}\"{selected}>{}</option>",
            esc(&choice.value),
            esc(&choice.label)
        );
    }
    html.push_str(
        "</select></div><div class=\"field\"><label for=\"sort\">Sort by</label><select id=\"sort\" name=\"sort\">",
    );
    for (value, label) in SORTS {
        let selected = if value == form.sort { " selected" } else { "" };
        let _ = write!(html, "<option value=\"{value}\"{selected}>{label}</option>");
    }
    let _ = write!(
        html,
        "</select></div><div class=\"check\"><input type=\"checkbox\" id=\"desc\" name=\"desc\" value=\"1\"{}>\
         <label for=\"desc\">Descending</label></div><button type=\"submit\">Search</button></form>\
         <form method=\"get\" action=\"/\" class=\"search open\"><label for=\"id\">Or open a certificate by id</label>\
         <input id=\"id\" name=\"id\" inputmode=\"numeric\" required><button type=\"submit\" class=\"secondary\">Open</button></form>",
        if form.desc.is_some() { " checked" } else { "" }
    );
    match outcome {
        None => {}
        Some(Err(ExportError::AccessDenied)) => {
            html.push_str("<p class=\"badge bad\" role=\"alert\">You may not search in this scope.</p>");
        }
        Some(Err(e)) => {
            let message = certexport::wire::keyfactor_status(&e).message;
            let _ = write!(html, "<p class=\"badge bad\" role=\"alert\">{}</p>", esc(&message));
        }
        Some(Ok(results)) => results_table(&mut html, form, &results, now),
    }
    html
}

fn results_table(html: &mut String, form: &SearchForm, results: &SearchResults, now: i64) {
    let page = form.page.unwrap_or(1).max(1);
    let first = u64::from(page - 1) * u64::from(PAGE_SIZE);
    let shown = results.certificates.len() as u64;
    if results.total == 0 {
        html.push_str("<p role=\"status\">No certificate you may see matches.</p>");
        return;
    }
    let _ = write!(
        html,
        "<p role=\"status\" id=\"count\">{}–{} of {} certificates</p><div class=\"scroll\"><table id=\"results\" class=\"stack\">\
         <thead><tr><th scope=\"col\">Id</th><th scope=\"col\">Common name</th><th scope=\"col\">Issuer</th>\
         <th scope=\"col\">Expires</th><th scope=\"col\">Key in store</th></tr></thead><tbody>",
        first + 1,
        first + shown,
        results.total
    );
    for c in &results.certificates {
        let (class, sentence) = validity_days(c.not_before, c.not_after, now);
        let name = c.common_name.clone().unwrap_or_else(|| c.subject.clone());
        let _ = write!(
            html,
            "<tr><td data-label=\"Id\">{id}</td><td data-label=\"Common name\">\
             <a href=\"/console/certificates/{id}\">{}</a></td><td data-label=\"Issuer\">{}</td>\
             <td data-label=\"Expires\">{}<br><span class=\"badge {class}\">{}</span></td>\
             <td data-label=\"Key in store\">{}</td></tr>",
            esc(&name),
            esc(common_name(&c.issuer)),
            utc(c.not_after),
            esc(&sentence),
            if c.has_private_key { "yes" } else { "no" },
            id = c.id.0,
        );
    }
    html.push_str("</tbody></table></div><nav class=\"pages\" aria-label=\"Pages\">");
    if page > 1 {
        let _ = write!(
            html,
            "<a href=\"{}\" rel=\"prev\">Previous page</a>",
            esc(&form.page_url(page - 1))
        );
    }
    if first + shown < results.total {
        let _ = write!(
            html,
            "<a href=\"{}\" rel=\"next\">Next page</a>",
            esc(&form.page_url(page + 1))
        );
    }
    html.push_str("</nav>");
}

#[cfg(test)]
mod tests {
    use certexport::search::{Filter, Value};

    use super::*;

    fn form(query: &str) -> SearchForm {
        serde_urlencoded::from_str(query).unwrap()
    }

    #[test]
    fn the_name_field_and_the_query_are_joined() {
        let caller = Caller::with_claims([Claim::ReadAllCollections]);
        let planned = form("cn=a%22b&q=KeyType+-eq+%22RSA%22&sort=NotAfter&desc=1&page=2")
            .plan(&caller)
            .ok()
            .unwrap();
        let expected = CertificateQuery::parse("CN -contains \"a\"\"b\" AND (KeyType -eq \"RSA\")").unwrap();
        assert_eq!(planned.query.filter, expected.filter);
        assert_eq!((planned.query.page, planned.query.sort), (2, SortField::NotAfter));
        assert_eq!(planned.query.direction, SortDirection::Descending);
        assert_eq!(planned.scope, Scope::default());
    }

    #[test]
    fn the_name_box_holds_a_name_never_query_syntax() {
        let caller = Caller::with_claims([Claim::ReadAllCollections]);
        for name in [r"a\", r"a\\b", r#"x\" OR CN -contains ""#] {
            let query = format!("cn={}", name.replace('\\', "%5C").replace('"', "%22").replace(' ', "+"));
            let planned = form(&query).plan(&caller).ok().unwrap();
            let Some(Filter::Term(term)) = planned.query.filter else {
                panic!("{name:?} became more than one term");
            };
            assert_eq!(term.value, Value::Text(name.to_lowercase()), "{name:?}");
        }
    }

    #[test]
    fn a_scoped_caller_searches_in_its_own_collections_only() {
        let caller = Caller::with_claims([Claim::ReadCollection(5), Claim::ReadStoreContainer(2)]);
        assert_eq!(form("").plan(&caller).ok().unwrap().scope.collection_id, Some(5));
        let planned = form("scope=container-2").plan(&caller).ok().unwrap();
        assert_eq!(planned.scope.container_id, Some(2));
        // A scope the caller holds no claim for falls back to its first.
        let planned = form("scope=collection-6").plan(&caller).ok().unwrap();
        assert_eq!(planned.scope.collection_id, Some(5));
        assert!(matches!(
            form("").plan(&Caller::with_claims([])),
            Err(ExportError::AccessDenied)
        ));
    }

    #[test]
    fn a_refused_query_names_its_position() {
        let caller = Caller::with_claims([Claim::ReadAllCollections]);
        let Err(error) = form("q=CN+-eq").plan(&caller) else {
            panic!("a query without a value was taken");
        };
        assert!(error.is_malformed_request(), "{error}");
    }
}
