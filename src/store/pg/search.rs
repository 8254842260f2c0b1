//! [`PgStore`](super::PgStore)'s search: the query's condition turned
//! into SQL over the search columns of schema version 2.
//!
//! The SQL text is made only from closed enums (fields, operators, sort
//! keys), each mapped to a fixed fragment; every value of the query is a
//! bound parameter (`$n`), LIKE patterns escaped. A search runs three
//! statements in one read-only, repeatable-read transaction (the count,
//! the page's ids, the page's rows), each under [`STATEMENT_TIMEOUT_MS`].

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::{ToSql, Type};
use postgres::{Client, IsolationLevel, Transaction};

use super::queries;
use crate::error::ExportError;
use crate::ids::Uuid;
use crate::search::facts::Facts;
use crate::search::{
    Field, Filter, Operator, SearchHit, SearchPage, SortDirection, SortField, StoreQuery, Term, Value,
};

/// The longest any statement of a search may run (10 s); a query that
/// would run longer fails with the server's "canceling statement due to
/// statement timeout" as a backend error.
pub(super) const STATEMENT_TIMEOUT_MS: u32 = 10_000;

/// Certificates per batch when the search columns are filled.
const FILL_BATCH: i64 = 10_000;

type Param = Box<dyn ToSql + Sync>;

/// SQL text under construction and its parameters.
struct Sql {
    text: String,
    params: Vec<Param>,
}

impl Sql {
    /// Binds `value` and returns its placeholder.
    fn bind(&mut self, value: impl ToSql + Sync + 'static) -> String {
        self.params.push(Box::new(value));
        format!("${}", self.params.len())
    }

    fn refs(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.params.iter().map(|p| &**p as &(dyn ToSql + Sync)).collect()
    }
}

pub(super) fn search(client: &mut Client, query: &StoreQuery) -> Result<SearchPage<'static>, ExportError> {
    let mut tx = client
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .map_err(ExportError::backend)?;
    tx.batch_execute(&format!("SET LOCAL statement_timeout = {STATEMENT_TIMEOUT_MS}"))
        .map_err(ExportError::backend)?;

    let mut sql = Sql {
        text: String::new(),
        params: Vec::new(),
    };
    let condition = match &query.filter {
        Some(filter) => condition(filter, query.now, &mut sql),
        None => "TRUE".to_owned(),
    };
    let count = format!("SELECT count(*) FROM certificates c WHERE {condition}");
    let total: i64 = queries::get(&tx.query_one(&count, &sql.refs()).map_err(ExportError::backend)?, 0)?;

    let limit = sql.bind(i64::from(query.limit));
    let offset = sql.bind(i64::try_from(query.offset).unwrap_or(i64::MAX));
    sql.text = format!(
        "SELECT c.id FROM certificates c WHERE {condition} ORDER BY {} LIMIT {limit} OFFSET {offset}",
        order(query.sort, query.direction)
    );
    let ids: Vec<i64> = tx
        .query(&sql.text, &sql.refs())
        .map_err(ExportError::backend)?
        .iter()
        .map(|row| queries::get(row, 0))
        .collect::<Result<_, _>>()?;
    let hits = if ids.is_empty() {
        Vec::new()
    } else {
        rows(&mut tx, &ids)?
    };
    tx.commit().map_err(ExportError::backend)?;
    Ok(SearchPage::new(u64::try_from(total).unwrap_or(0), hits))
}

/// The certificates of `ids`, in that order.
fn rows(tx: &mut Transaction<'_>, ids: &[i64]) -> Result<Vec<SearchHit<'static>>, ExportError> {
    let text = format!(
        "SELECT w.n, {}, EXISTS (SELECT 1 FROM private_keys k WHERE k.certificate_id = c.id), c.uuid \
         FROM unnest($1::bigint[]) WITH ORDINALITY AS w(id, n) JOIN certificates c ON c.id = w.id \
         LEFT JOIN key_policies p ON p.id = c.key_policy_id ORDER BY w.n",
        queries::COLUMNS
    );
    let mut hits = Vec::with_capacity(ids.len());
    for row in tx.query(&text, &[&ids]).map_err(ExportError::backend)? {
        let Some(certificate) = queries::certificate(&row)? else {
            continue;
        };
        let has_key: bool = queries::get(&row, 8)?;
        let uuid = match queries::get::<Option<String>>(&row, 9)? {
            Some(text) => Some(text.parse::<Uuid>()?),
            None => None,
        };
        hits.push(SearchHit::new(certificate, has_key, uuid));
    }
    Ok(hits)
}

/// The SQL of a condition on `c`.
fn condition(filter: &Filter, now: i64, sql: &mut Sql) -> String {
    match filter {
        Filter::Term(term) => term_sql(term, now, sql),
        Filter::And(parts) => join(parts, " AND ", now, sql),
        Filter::Or(parts) => join(parts, " OR ", now, sql),
    }
}

fn join(parts: &[Filter], with: &str, now: i64, sql: &mut Sql) -> String {
    let parts: Vec<String> = parts.iter().map(|p| condition(p, now, sql)).collect();
    format!("({})", parts.join(with))
}

/// The column of a single-valued text field.
fn text_column(field: Field) -> Option<&'static str> {
    Some(match field {
        Field::IssuedCn => "c.search_cn",
        Field::IssuedDn => "c.search_dn",
        Field::IssuerDn => "c.search_issuer",
        Field::SerialNumber => "c.search_serial",
        Field::Thumbprint => "c.search_sha1",
        Field::KeyType => "c.key_type",
        // uuIds are ASCII: lower() under "C" folds exactly A-Z.
        Field::Uuid => "lower(c.uuid COLLATE \"C\")",
        _ => return None,
    })
}

fn term_sql(term: &Term, now: i64, sql: &mut Sql) -> String {
    let (operator, negate) = match term.operator.negated() {
        Some(positive) => (positive, true),
        None => (term.operator, false),
    };
    let positive = positive_sql(term.field, operator, &term.value, now, sql);
    // A comparison with an absent value is NULL. Under AND and OR alone a
    // NULL acts as false in WHERE (the condition is monotone), so only a
    // negation needs it made false first; a bare comparison keeps its
    // index (a trigram index serves `LIKE`, not `coalesce(... LIKE ...)`).
    if negate {
        format!("NOT coalesce({positive}, false)")
    } else {
        positive
    }
}

/// The SQL of a term's positive form (`-eq` for `-ne`, `-contains` for `-notcontains`).
fn positive_sql(field: Field, operator: Operator, value: &Value, now: i64, sql: &mut Sql) -> String {
    if let Some(column) = text_column(field) {
        return match operator {
            Operator::IsNull => format!("{column} IS NULL"),
            Operator::NotNull => format!("{column} IS NOT NULL"),
            _ => text_sql(column, operator, value, sql),
        };
    }
    match field {
        Field::DnsName => match operator {
            Operator::IsNull => "cardinality(c.search_dns) = 0".into(),
            Operator::NotNull => "cardinality(c.search_dns) > 0".into(),
            Operator::Eq => {
                let Value::Text(text) = value else {
                    return "FALSE".into();
                };
                format!("c.search_dns @> ARRAY[{}]::text[]", sql.bind(text.clone()))
            }
            _ => format!(
                "EXISTS (SELECT 1 FROM unnest(c.search_dns) AS d(name) WHERE {})",
                text_sql("d.name", operator, value, sql)
            ),
        },
        Field::CertId => integer_sql("c.id", operator, value, sql),
        Field::KeySizeInBits => match operator {
            Operator::IsNull => "c.key_bits IS NULL".into(),
            Operator::NotNull => "c.key_bits IS NOT NULL".into(),
            _ => integer_sql("c.key_bits", operator, value, sql),
        },
        Field::CollectionId => membership("certificate_collections", "collection_id", operator, value, sql),
        Field::ContainerId => membership("certificate_containers", "container_id", operator, value, sql),
        Field::NotBefore => date_sql("c.not_before", operator, value, now, sql),
        Field::NotAfter => date_sql("c.not_after", operator, value, now, sql),
        Field::HasPrivateKey => {
            let Value::Bool(wanted) = value else {
                return "FALSE".into();
            };
            let held = "EXISTS (SELECT 1 FROM private_keys k WHERE k.certificate_id = c.id)";
            if *wanted { held.into() } else { format!("NOT {held}") }
        }
        _ => "FALSE".into(),
    }
}

/// A comparison of a text column with a text value (compared byte for byte).
fn text_sql(column: &str, operator: Operator, value: &Value, sql: &mut Sql) -> String {
    let Value::Text(text) = value else {
        return "FALSE".into();
    };
    let like = |pattern: String, sql: &mut Sql| format!("{column} LIKE {}", sql.bind(pattern));
    match operator {
        Operator::Eq => format!("{column} = {}", sql.bind(text.clone())),
        Operator::Contains => like(format!("%{}%", like_escaped(text)), sql),
        Operator::StartsWith => like(format!("{}%", like_escaped(text)), sql),
        Operator::EndsWith => like(format!("%{}", like_escaped(text)), sql),
        Operator::Gt => format!("{column} COLLATE \"C\" > {}", sql.bind(text.clone())),
        Operator::Ge => format!("{column} COLLATE \"C\" >= {}", sql.bind(text.clone())),
        Operator::Lt => format!("{column} COLLATE \"C\" < {}", sql.bind(text.clone())),
        Operator::Le => format!("{column} COLLATE \"C\" <= {}", sql.bind(text.clone())),
        _ => "FALSE".into(),
    }
}

/// `text` with LIKE's `%`, `_` and escape character `\` escaped.
fn like_escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A comparison of an integer column; values past `bigint` compare as
/// larger than any stored.
fn integer_sql(column: &str, operator: Operator, value: &Value, sql: &mut Sql) -> String {
    let Value::Integer(wanted) = *value else {
        return "FALSE".into();
    };
    let symbol = match operator {
        Operator::Eq => "=",
        Operator::Gt => ">",
        Operator::Ge => ">=",
        Operator::Lt => "<",
        Operator::Le => "<=",
        _ => return "FALSE".into(),
    };
    match i64::try_from(wanted) {
        Ok(wanted) => format!("{column} {symbol} {}::bigint", sql.bind(wanted)),
        Err(_) if matches!(operator, Operator::Lt | Operator::Le) => format!("{column} IS NOT NULL"),
        Err(_) => "FALSE".into(),
    }
}

/// A term on collection or container membership.
fn membership(table: &str, column: &str, operator: Operator, value: &Value, sql: &mut Sql) -> String {
    match operator {
        Operator::IsNull => format!("NOT EXISTS (SELECT 1 FROM {table} m WHERE m.certificate_id = c.id)"),
        Operator::NotNull => format!("EXISTS (SELECT 1 FROM {table} m WHERE m.certificate_id = c.id)"),
        _ => format!(
            "c.id IN (SELECT m.certificate_id FROM {table} m WHERE {})",
            integer_sql(&format!("m.{column}"), operator, value, sql)
        ),
    }
}

/// A comparison of a date column with a date's `[start, end)`.
fn date_sql(column: &str, operator: Operator, value: &Value, now: i64, sql: &mut Sql) -> String {
    let Value::Date(date) = *value else {
        return match operator {
            Operator::NotNull => "TRUE".into(),
            _ => "FALSE".into(),
        };
    };
    let (start, end) = date.interval(now);
    match operator {
        Operator::Eq => format!(
            "({column} >= {} AND {column} < {})",
            sql.bind(time(start)),
            sql.bind(time(end))
        ),
        Operator::Gt => format!("{column} >= {}", sql.bind(time(end))),
        Operator::Ge => format!("{column} >= {}", sql.bind(time(start))),
        Operator::Lt => format!("{column} < {}", sql.bind(time(start))),
        Operator::Le => format!("{column} < {}", sql.bind(time(end))),
        _ => "FALSE".into(),
    }
}

fn time(seconds: i64) -> SystemTime {
    if seconds >= 0 {
        UNIX_EPOCH + Duration::from_secs(seconds.unsigned_abs())
    } else {
        UNIX_EPOCH - Duration::from_secs(seconds.unsigned_abs())
    }
}

/// The ORDER BY of a sort, ties by id in the same direction; absent
/// values first when ascending (as `None` sorts before `Some`).
fn order(sort: SortField, direction: SortDirection) -> String {
    let key = match sort {
        SortField::CertId => None,
        SortField::IssuedCn => Some("c.search_cn COLLATE \"C\""),
        SortField::IssuedDate => Some("c.not_before"),
        SortField::NotAfter => Some("c.not_after"),
        SortField::IssuerDn => Some("c.search_issuer COLLATE \"C\""),
    };
    let (way, nulls) = match direction {
        SortDirection::Ascending => ("ASC", "NULLS FIRST"),
        SortDirection::Descending => ("DESC", "NULLS LAST"),
    };
    match key {
        Some(key) => format!("{key} {way} {nulls}, c.id {way}"),
        None => format!("c.id {way}"),
    }
}

/// The search columns of one certificate, as import writes them and the
/// migration fills them in: texts lower-cased, since every text
/// comparison of a query is case-insensitive.
pub(super) struct SearchColumns {
    cn: Option<String>,
    dn: String,
    issuer: String,
    serial: String,
    sha1: String,
    dns: Vec<String>,
    key_type: Option<String>,
    key_bits: Option<i32>,
}

impl SearchColumns {
    /// The column names, in the order of [`SearchColumns::values`].
    pub(super) const NAMES: &'static str =
        "search_cn, search_dn, search_issuer, search_serial, search_sha1, search_dns, key_type, key_bits";

    /// The columns' types for a binary COPY, in the same order.
    pub(super) const TYPES: [Type; 8] = [
        Type::TEXT,
        Type::TEXT,
        Type::TEXT,
        Type::TEXT,
        Type::TEXT,
        Type::TEXT_ARRAY,
        Type::TEXT,
        Type::INT4,
    ];

    /// The columns of a DER certificate.
    pub(super) fn of(der: &[u8]) -> Result<Self, ExportError> {
        let facts = Facts::of(der)?;
        Ok(Self {
            cn: facts.common_name.as_deref().map(str::to_lowercase),
            dn: facts.subject.to_lowercase(),
            issuer: facts.issuer.to_lowercase(),
            dns: facts.dns_names().map(str::to_lowercase).collect(),
            key_type: facts.key_type.map(str::to_lowercase),
            key_bits: facts.key_bits.and_then(|b| i32::try_from(b).ok()),
            serial: facts.serial,
            sha1: facts.sha1,
        })
    }

    /// The values, in the order of [`SearchColumns::NAMES`].
    pub(super) fn values(&self) -> [&(dyn ToSql + Sync); 8] {
        [
            &self.cn,
            &self.dn,
            &self.issuer,
            &self.serial,
            &self.sha1,
            &self.dns,
            &self.key_type,
            &self.key_bits,
        ]
    }
}

/// Fills the search columns of the certificates `rows` names, from their
/// DER (the rows a database held before schema version 2; import writes
/// the columns with the row).
fn fill(tx: &mut Transaction<'_>, rows: &[(i64, &[u8])]) -> Result<(), ExportError> {
    if rows.is_empty() {
        return Ok(());
    }
    tx.batch_execute(
        "CREATE TEMP TABLE IF NOT EXISTS certexport_search_fill (id bigint, cn text, dn text, issuer text, \
         serial text, sha1 text, dns text[], key_type text, key_bits integer) ON COMMIT DROP",
    )
    .map_err(ExportError::backend)?;
    let sink = tx
        .copy_in("COPY certexport_search_fill FROM STDIN (FORMAT binary)")
        .map_err(ExportError::backend)?;
    let mut types = vec![Type::INT8];
    types.extend(SearchColumns::TYPES);
    let mut writer = BinaryCopyInWriter::new(sink, &types);
    for &(id, der) in rows {
        let columns = SearchColumns::of(der)?;
        let mut values: Vec<&(dyn ToSql + Sync)> = vec![&id];
        values.extend(columns.values());
        writer.write(&values).map_err(ExportError::backend)?;
    }
    writer.finish().map_err(ExportError::backend)?;
    tx.batch_execute(
        "UPDATE certificates c SET search_cn = f.cn, search_dn = f.dn, search_issuer = f.issuer, \
         search_serial = f.serial, search_sha1 = f.sha1, search_dns = f.dns, key_type = f.key_type, \
         key_bits = f.key_bits FROM certexport_search_fill f WHERE c.id = f.id; \
         TRUNCATE certexport_search_fill",
    )
    .map_err(ExportError::backend)
}

/// Fills the search columns of every row that lacks them (the rows a
/// database held before schema version 2), in batches.
pub(super) fn backfill(tx: &mut Transaction<'_>) -> Result<(), ExportError> {
    loop {
        let rows = tx
            .query(
                "SELECT id, der FROM certificates WHERE search_dn IS NULL ORDER BY id LIMIT $1",
                &[&FILL_BATCH],
            )
            .map_err(ExportError::backend)?;
        if rows.is_empty() {
            return Ok(());
        }
        let batch: Vec<(i64, Vec<u8>)> = rows
            .iter()
            .map(|row| Ok((queries::get(row, 0)?, queries::get(row, 1)?)))
            .collect::<Result<_, ExportError>>()?;
        let refs: Vec<(i64, &[u8])> = batch.iter().map(|(id, der)| (*id, der.as_slice())).collect();
        fill(tx, &refs)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_never_reach_the_text() {
        let filter = crate::search::CertificateQuery::parse(
            r#"CN -contains "'; DROP TABLE certificates; --" OR DNSName -startswith "50%_off" OR KeySizeInBits -gt 1"#,
        )
        .unwrap()
        .filter
        .unwrap();
        let mut sql = Sql {
            text: String::new(),
            params: Vec::new(),
        };
        let text = condition(&filter, 0, &mut sql);
        assert!(!text.contains("DROP") && !text.contains("50"), "{text}");
        assert_eq!(sql.params.len(), 3);
        assert_eq!(like_escaped(r"50%_off\"), r"50\%\_off\\");
    }
}
