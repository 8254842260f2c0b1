//! The reference search call on the wire: `GET /Certificates` with its
//! query parameters in, a JSON array of certificates out (the total goes
//! in the `x-total-count` header); `GET /Certificates/{id}` answers one
//! certificate as the same object with the detail's fields added.
//!
//! Query parameters (names in any casing; unknown ones ignored):
//! `pq.queryString` (the query), `pq.pageReturned` (page, from 1),
//! `pq.returnLimit` (page size, 1 to [`MAX_PAGE_SIZE`]), `SortField`
//! (`CertId`, `IssuedCN`, `IssuedDate`, `NotAfter`, `IssuerDN`),
//! `SortAscending` (`0` ascending, `1` descending, as the reference's
//! integer; `true`/`false` also read), `collectionId` and `containerId`
//! (0: not given). Answers are in the casing of the parameter names (the
//! part after `pq.`): camelCase when most are camelCase, PascalCase
//! otherwise.

use serde_json::{Map, Value as Json};

use super::Casing;
use crate::error::ExportError;
use crate::options::Scope;
use crate::search::{CertificateDetail, CertificateQuery, MAX_PAGE_SIZE, SearchResults, SortDirection, SortField};

/// The parameters of a search call.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SearchParams {
    /// The query, its page, size and order.
    pub query: CertificateQuery,
    /// The scope the access rules are checked at.
    pub scope: Scope,
    /// The casing the answer is written in.
    pub casing: Casing,
}

impl SearchParams {
    /// The parameters of a URL query string (without the `?`), percent-
    /// and `+`-decoded.
    pub fn from_query(raw: Option<&str>) -> Result<Self, ExportError> {
        let mut query_text = String::new();
        let (mut page, mut size, mut sort, mut direction) = (
            1,
            crate::search::DEFAULT_PAGE_SIZE,
            SortField::CertId,
            SortDirection::Ascending,
        );
        let (mut collection, mut container) = (None, None);
        let (mut camel, mut pascal) = (0, 0);
        let mut seen: Vec<&str> = Vec::new();
        for (name, value) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
            let bare = name.strip_prefix("pq.").unwrap_or(&name);
            let known = [
                "queryString",
                "pageReturned",
                "returnLimit",
                "sortField",
                "sortAscending",
                "collectionId",
                "containerId",
            ]
            .into_iter()
            .find(|known| known.eq_ignore_ascii_case(bare));
            let Some(known) = known else { continue };
            // Given twice is refused, not one picked: a proxy reading the
            // first and a server the last would see two queries.
            if seen.contains(&known) {
                return Err(ExportError::InvalidRequest {
                    reason: format!("the query parameter {name} is given twice (names match in any casing)"),
                });
            }
            seen.push(known);
            if bare.starts_with(|c: char| c.is_ascii_lowercase()) {
                camel += 1;
            } else {
                pascal += 1;
            }
            let number = |what: &str| -> Result<u64, ExportError> {
                value
                    .parse::<u64>()
                    .ok()
                    .filter(|_| value.bytes().all(|b| b.is_ascii_digit()))
                    .ok_or_else(|| ExportError::InvalidRequest {
                        reason: format!("the query parameter {what} must be a whole number"),
                    })
            };
            match known {
                "queryString" => query_text = value.into_owned(),
                "pageReturned" => {
                    page = u32::try_from(number("pq.pageReturned")?)
                        .ok()
                        .filter(|&p| p >= 1)
                        .ok_or_else(|| ExportError::InvalidRequest {
                            reason: "the query parameter pq.pageReturned must be between 1 and 4294967295".into(),
                        })?;
                }
                "returnLimit" => {
                    size = u32::try_from(number("pq.returnLimit")?)
                        .ok()
                        .filter(|&s| (1..=MAX_PAGE_SIZE).contains(&s))
                        .ok_or_else(|| ExportError::InvalidRequest {
                            reason: format!("the query parameter pq.returnLimit must be between 1 and {MAX_PAGE_SIZE}"),
                        })?;
                }
                "sortField" => {
                    sort = SortField::from_name(&value).ok_or_else(|| ExportError::InvalidRequest {
                        reason: "the query parameter SortField must be one of CertId, IssuedCN, IssuedDate, NotAfter, IssuerDN".into(),
                    })?;
                }
                "sortAscending" => {
                    direction = match value.trim() {
                        "0" => SortDirection::Ascending,
                        "1" => SortDirection::Descending,
                        v if v.eq_ignore_ascii_case("true") => SortDirection::Ascending,
                        v if v.eq_ignore_ascii_case("false") => SortDirection::Descending,
                        _ => {
                            return Err(ExportError::InvalidRequest {
                                reason: "the query parameter SortAscending must be 0 (ascending) or 1 (descending)"
                                    .into(),
                            });
                        }
                    };
                }
                "collectionId" => collection = Some(number("collectionId")?),
                _ => container = Some(number("containerId")?),
            }
        }
        let query = CertificateQuery::parse(&query_text)?
            .with_page(page)?
            .with_page_size(size)?
            .with_sort(sort, direction);
        Ok(Self {
            query,
            scope: super::query_scope(collection, container),
            casing: if camel > pascal { Casing::Camel } else { Casing::Pascal },
        })
    }
}

/// The answer of a search: a JSON array with one object per certificate
/// ([`certificate_json`] without the detail's fields). The total goes in
/// the `x-total-count` header.
pub fn search_json(results: &SearchResults, casing: Casing) -> String {
    Json::Array(results.certificates.iter().map(|c| object(c, casing)).collect()).to_string()
}

/// One certificate's answer, `GET /Certificates/{id}`: the search fields
/// and, when known, `PrivateKeyExportable`, `Thumbprint256`, `Chain` (or
/// `ChainError`).
pub fn certificate_json(detail: &CertificateDetail, casing: Casing) -> String {
    let mut object = object(detail, casing);
    let map = object.as_object_mut();
    if let Some(map) = map {
        let name = |n: &str| casing.name(n).into_owned();
        map.insert(name("Thumbprint256"), Json::from(hex_upper(detail.sha256.as_bytes())));
        if let Some(exportable) = detail.private_key_exportable {
            map.insert(name("PrivateKeyExportable"), Json::from(exportable));
        }
        match &detail.chain {
            Ok(chain) => {
                let links = chain
                    .iter()
                    .map(|link| {
                        let mut m = Map::new();
                        m.insert(name("Id"), Json::from(link.id.0));
                        m.insert(name("Thumbprint"), Json::from(hex_upper(link.sha1.as_bytes())));
                        m.insert(name("IssuedDN"), Json::from(link.subject.clone()));
                        Json::Object(m)
                    })
                    .collect();
                map.insert(name("Chain"), Json::Array(links));
            }
            Err(error) => {
                map.insert(name("ChainError"), Json::from(error.to_string()));
            }
        }
    }
    object.to_string()
}

/// The search answer's fields of one certificate.
fn object(detail: &CertificateDetail, casing: Casing) -> Json {
    let name = |n: &str| casing.name(n).into_owned();
    let mut m = Map::new();
    m.insert(name("Id"), Json::from(detail.id.0));
    m.insert(name("Thumbprint"), Json::from(hex_upper(detail.sha1.as_bytes())));
    m.insert(name("SerialNumber"), Json::from(detail.serial.to_ascii_uppercase()));
    m.insert(name("IssuedDN"), Json::from(detail.subject.clone()));
    m.insert(
        name("IssuedCN"),
        detail.common_name.clone().map_or(Json::Null, Json::from),
    );
    m.insert(name("IssuerDN"), Json::from(detail.issuer.clone()));
    m.insert(name("NotBefore"), Json::from(crate::search::iso8601(detail.not_before)));
    m.insert(name("NotAfter"), Json::from(crate::search::iso8601(detail.not_after)));
    m.insert(name("KeyType"), detail.key_type.map_or(Json::Null, Json::from));
    m.insert(name("KeySizeInBits"), detail.key_bits.map_or(Json::Null, Json::from));
    m.insert(name("SigningAlgorithm"), Json::from(detail.signature_algorithm.clone()));
    let sans = detail
        .subject_alt_names
        .iter()
        .map(|san| {
            let mut e = Map::new();
            e.insert(name("Value"), Json::from(san.value()));
            e.insert(name("Type"), Json::from(san.type_code()));
            Json::Object(e)
        })
        .collect();
    m.insert(name("SubjectAltNameElements"), Json::Array(sans));
    m.insert(name("HasPrivateKey"), Json::from(detail.has_private_key));
    m.insert(
        name("Uuid"),
        detail.uuid.as_ref().map_or(Json::Null, |u| Json::from(u.as_str())),
    );
    m.insert(name("Collections"), Json::from(detail.collections.clone()));
    Json::Object(m)
}

fn hex_upper(bytes: &[u8]) -> String {
    crate::ids::hex(bytes).to_ascii_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_reference_parameters() {
        let params = SearchParams::from_query(Some(
            "pq.queryString=CN%20-contains%20%22web%22+AND+KeyType+-eq+RSA&pq.pageReturned=2&pq.returnLimit=10\
             &sortField=NotAfter&sortAscending=1&collectionId=5&includeMetadata=true&verbose=1",
        ))
        .unwrap();
        assert_eq!(params.query.page, 2);
        assert_eq!(params.query.page_size, 10);
        assert_eq!(
            (params.query.sort, params.query.direction),
            (SortField::NotAfter, SortDirection::Descending)
        );
        assert_eq!(params.scope.collection_id, Some(5));
        assert_eq!(params.casing, Casing::Camel);
        assert!(params.query.filter.is_some());
        let pascal = SearchParams::from_query(Some("pq.QueryString=&SortField=CertId&CollectionId=0")).unwrap();
        assert_eq!((pascal.casing, pascal.scope.collection_id), (Casing::Pascal, None));
        for bad in [
            "pq.returnLimit=1001",
            "pq.pageReturned=0",
            "SortField=Color",
            "pq.queryString=CN+-eq",
        ] {
            let error = SearchParams::from_query(Some(bad)).unwrap_err();
            assert!(error.is_malformed_request(), "{bad}: {error}");
        }
    }
}
