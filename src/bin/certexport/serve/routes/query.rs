//! What a Keyfactor call carries outside its body: the
//! `x-certificateformat` header and the `collectionId` / `containerId`
//! query parameters (names in any casing: the reference documents write
//! `CollectionId`, its generated clients send `collectionId`).

use axum::http::HeaderMap;
use certexport::ExportError;
use certexport::options::Scope;
use certexport::wire;

/// The `x-certificateformat` header's value, if given. A value that is not
/// visible ASCII is refused (it names no format).
pub(super) fn format_header(headers: &HeaderMap) -> Result<Option<&str>, ExportError> {
    headers
        .get("x-certificateformat")
        .map(|value| {
            value.to_str().map_err(|_| ExportError::InvalidRequest {
                reason: "the x-certificateformat header must be plain text".into(),
            })
        })
        .transpose()
}

/// The scope of the query's `collectionId` and `containerId` (0 or absent:
/// not given). Other parameters (`gwsource`, a client's own) are ignored.
/// Either given twice, in any casing, is refused rather than one of them
/// picked: a proxy that reads the first and a server that reads the last
/// would check two different scopes.
pub(super) fn scope(query: Option<&str>) -> Result<Scope, ExportError> {
    let (mut collection, mut container) = (None, None);
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let slot = if name.eq_ignore_ascii_case("collectionId") {
            &mut collection
        } else if name.eq_ignore_ascii_case("containerId") {
            &mut container
        } else {
            continue;
        };
        let id = value
            .parse::<u64>()
            .ok()
            .filter(|_| !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| ExportError::InvalidRequest {
                reason: format!("the query parameter {name} must be a whole number"),
            })?;
        if slot.replace(id).is_some() {
            return Err(ExportError::InvalidRequest {
                reason: format!("the query parameter {name} is given twice (names match in any casing)"),
            });
        }
    }
    Ok(wire::query_scope(collection, container))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_ids_in_any_casing_and_zero_as_absent() {
        let s = scope(Some("collectionId=5&ContainerId=2&gwsource=external")).unwrap();
        assert_eq!((s.collection_id, s.container_id), (Some(5), Some(2)));
        let s = scope(Some("collectionId=0")).unwrap();
        assert_eq!((s.collection_id, s.container_id), (None, None));
        assert_eq!(scope(None).unwrap(), Scope::default());
        for bad in ["collectionId=x", "collectionId=", "containerId=-1", "collectionId=+5"] {
            let error = scope(Some(bad)).unwrap_err().to_string();
            assert!(error.contains("whole number"), "{bad}: {error}");
        }
        for twice in [
            "collectionId=5&collectionId=6",
            "containerId=2&ContainerID=2",
            "collectionId=0&collectionid=5",
        ] {
            let error = scope(Some(twice)).unwrap_err().to_string();
            assert!(error.contains("is given twice"), "{twice}: {error}");
        }
    }
}
