//! Finding certificates: the reference product's certificate search
//! (`GET /Certificates` with its `pq.queryString` query language) and
//! detail (`GET /Certificates/{id}`).
//!
//! A [`CertificateQuery`] is parsed from the query language
//! ([`CertificateQuery::parse`]): terms `FIELD -op "value"` joined by `AND`
//! and `OR` (AND binds tighter), with parentheses. Field names, operators
//! and `AND`/`OR` are case-insensitive; so are text comparisons
//! (certificate names are): both sides are compared in Unicode lower case.
//! Values are double-quoted (`\"` or `""` inside), or bare words without
//! white space or parentheses. Dates are ISO 8601 (`2027-01-15`, or
//! `2027-01-15T10:00:00Z` with a time, UTC unless an offset is given) or
//! relative to today, `%TODAY%`, `%TODAY+30%`, `%TODAY-7%` (days, from
//! midnight UTC of the day the exporter's [`ExportTime`](crate::options::ExportTime)
//! falls on). A date without a time is the whole day: `-eq` matches the
//! day, `-le` its end, `-gt` after it.
//!
//! [`Exporter::search`](crate::Exporter::search) runs a query for a caller
//! with the same access rules as an export: only certificates the caller
//! could download in the same collection or container scope are counted
//! or returned. The store answers through [`CertificateStore::search`](crate::store::CertificateStore::search).
//!
//! Limits (hostile queries cost a bounded amount): a query is at most
//! [`MAX_QUERY_BYTES`] bytes, [`MAX_TERMS`] terms and [`MAX_NESTING`]
//! parentheses deep; a page holds at most [`MAX_PAGE_SIZE`] certificates.
//! A query the grammar refuses is [`ExportError::InvalidQuery`](crate::ExportError::InvalidQuery), naming the
//! byte where it went wrong.

mod detail;
mod eval;
pub(crate) mod facts;
mod parse;
mod run;

use std::fmt;

pub use detail::{CertificateDetail, ChainLink, SubjectAltName};
pub(crate) use eval::{Index, Source};

use crate::ids::Uuid;
use crate::store::StoredCertificate;

/// The longest query text accepted, in bytes.
pub const MAX_QUERY_BYTES: usize = 4_096;
/// The most terms (`FIELD -op value`) a query may hold.
pub const MAX_TERMS: usize = 64;
/// The deepest parentheses may nest.
pub const MAX_NESTING: usize = 16;
/// The largest page size accepted.
pub const MAX_PAGE_SIZE: u32 = 1_000;
/// The page size when none is given (the reference clients ask for 50).
pub const DEFAULT_PAGE_SIZE: u32 = 50;
/// The farthest a relative date (`%TODAY+N%`) may reach, in days.
pub const MAX_RELATIVE_DAYS: i64 = 3_650_000;

/// A search: which certificates, in which order, which page.
///
/// ```
/// use certexport::search::{CertificateQuery, SortDirection, SortField};
/// let query = CertificateQuery::parse(r#"CN -contains "example" AND NotAfter -le "%TODAY+30%""#)?
///     .with_page(2)?
///     .with_page_size(20)?
///     .with_sort(SortField::NotAfter, SortDirection::Descending);
/// assert_eq!(query.page, 2);
/// # Ok::<(), certexport::ExportError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CertificateQuery {
    /// The condition; `None` matches every certificate.
    pub filter: Option<Filter>,
    /// The page, from 1.
    pub page: u32,
    /// Certificates per page, 1 to [`MAX_PAGE_SIZE`].
    pub page_size: u32,
    /// The sort key (ties are broken by `CertId` in the same direction).
    pub sort: SortField,
    /// The sort direction.
    pub direction: SortDirection,
}

impl Default for CertificateQuery {
    fn default() -> Self {
        Self {
            filter: None,
            page: 1,
            page_size: DEFAULT_PAGE_SIZE,
            sort: SortField::CertId,
            direction: SortDirection::Ascending,
        }
    }
}

impl CertificateQuery {
    /// Every certificate, first page, [`DEFAULT_PAGE_SIZE`] per page, by `CertId`.
    pub fn all() -> Self {
        Self::default()
    }

    /// A query parsed from the query language; empty text (or only white
    /// space) matches every certificate.
    pub fn parse(text: &str) -> Result<Self, crate::ExportError> {
        Ok(Self {
            filter: parse::parse(text)?,
            ..Self::default()
        })
    }

    /// The same query, on page `page` (from 1).
    pub fn with_page(mut self, page: u32) -> Result<Self, crate::ExportError> {
        if page == 0 {
            return Err(QueryError::new(0, "pages count from 1").into());
        }
        self.page = page;
        Ok(self)
    }

    /// The same query, `page_size` certificates per page (1 to [`MAX_PAGE_SIZE`]).
    pub fn with_page_size(mut self, page_size: u32) -> Result<Self, crate::ExportError> {
        if page_size == 0 || page_size > MAX_PAGE_SIZE {
            return Err(QueryError::new(0, format!("the page size must be between 1 and {MAX_PAGE_SIZE}")).into());
        }
        self.page_size = page_size;
        Ok(self)
    }

    /// The same query, sorted by `sort` in `direction`.
    pub fn with_sort(mut self, sort: SortField, direction: SortDirection) -> Self {
        self.sort = sort;
        self.direction = direction;
        self
    }

    /// The same query, with `filter` as its condition.
    pub fn with_filter(mut self, filter: Option<Filter>) -> Self {
        self.filter = filter;
        self
    }

    /// How many certificates the pages before this one hold.
    pub fn offset(&self) -> u64 {
        u64::from(self.page.saturating_sub(1)) * u64::from(self.page_size)
    }
}

/// A condition on certificates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    /// One comparison.
    Term(Term),
    /// Every part holds (never empty).
    And(Vec<Filter>),
    /// At least one part holds (never empty).
    Or(Vec<Filter>),
}

/// One comparison, `FIELD -op value`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Term {
    /// The field compared.
    pub field: Field,
    /// The operator.
    pub operator: Operator,
    /// The value, of the field's kind ([`Value::None`] for `-isnull` and `-notnull`).
    pub value: Value,
}

impl Term {
    /// A term; the value must be of the field's kind and the operator one
    /// the field takes ([`ExportError::InvalidQuery`](crate::ExportError::InvalidQuery) otherwise).
    pub fn new(field: Field, operator: Operator, value: Value) -> Result<Self, crate::ExportError> {
        parse::check_term(field, operator, &value).map_err(|message| QueryError::new(0, message))?;
        Ok(Self { field, operator, value })
    }
}

/// A field a query can compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Field {
    /// The store id (`CertId`, `Id`): a whole number.
    CertId,
    /// The subject's most specific common name (`CN`, `IssuedCN`): text, may be absent.
    IssuedCn,
    /// The subject, RFC 4514 (`DN`, `IssuedDN`): text.
    IssuedDn,
    /// The issuer, RFC 4514 (`IssuerDN`): text.
    IssuerDn,
    /// The serial number as lower-case hex without separators or leading
    /// zero bytes (`SerialNumber`): text.
    SerialNumber,
    /// The SHA-1 thumbprint, lower-case hex (`Thumbprint`): text.
    Thumbprint,
    /// The DNS names of the subject alternative names (`DNSName`, `SAN`):
    /// text, several or none; a comparison holds if it holds for one of
    /// them, and its negation (`-ne`, `-notcontains`) if it holds for none.
    DnsName,
    /// `notBefore` (`NotBefore`, `IssuedDate`): a date.
    NotBefore,
    /// `notAfter` (`NotAfter`, `ExpirationDate`): a date.
    NotAfter,
    /// The key type (`KeyType`): `RSA`, `ECC` or `Ed25519`; absent for others.
    KeyType,
    /// The key size in bits (`KeySizeInBits`): a whole number; absent for
    /// key types not read.
    KeySizeInBits,
    /// Whether the store holds the private key (`HasPrivateKey`): `true` or `false`.
    HasPrivateKey,
    /// The `uuId` (`Uuid`): text, may be absent.
    Uuid,
    /// The collections it belongs to (`CollectionId`): whole numbers, several or none.
    CollectionId,
    /// The containers it sits in (`ContainerId`): whole numbers, several or none.
    ContainerId,
}

/// What values a field holds, which decides the operators it takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Text,
    Integer,
    Date,
    Bool,
}

impl Field {
    /// Every field with the names the query language knows it by (the
    /// first is the one printed).
    pub const NAMES: &'static [(Field, &'static [&'static str])] = &[
        (Field::CertId, &["CertId", "Id"]),
        (Field::IssuedCn, &["CN", "IssuedCN"]),
        (Field::IssuedDn, &["DN", "IssuedDN"]),
        (Field::IssuerDn, &["IssuerDN"]),
        (Field::SerialNumber, &["SerialNumber"]),
        (Field::Thumbprint, &["Thumbprint"]),
        (Field::DnsName, &["DNSName", "SAN"]),
        (Field::NotBefore, &["NotBefore", "IssuedDate"]),
        (Field::NotAfter, &["NotAfter", "ExpirationDate"]),
        (Field::KeyType, &["KeyType"]),
        (Field::KeySizeInBits, &["KeySizeInBits", "KeySize"]),
        (Field::HasPrivateKey, &["HasPrivateKey"]),
        (Field::Uuid, &["Uuid"]),
        (Field::CollectionId, &["CollectionId"]),
        (Field::ContainerId, &["ContainerId"]),
    ];

    /// The field a name (any casing) stands for.
    pub fn from_name(name: &str) -> Option<Field> {
        Self::NAMES
            .iter()
            .find(|(_, names)| names.iter().any(|n| n.eq_ignore_ascii_case(name)))
            .map(|(field, _)| *field)
    }

    /// The field's name as the query language prints it.
    pub fn name(self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(field, _)| *field == self)
            .map_or("?", |(_, names)| names[0])
    }

    pub(crate) fn kind(self) -> Kind {
        match self {
            Field::CertId | Field::KeySizeInBits | Field::CollectionId | Field::ContainerId => Kind::Integer,
            Field::NotBefore | Field::NotAfter => Kind::Date,
            Field::HasPrivateKey => Kind::Bool,
            Field::IssuedCn
            | Field::IssuedDn
            | Field::IssuerDn
            | Field::SerialNumber
            | Field::Thumbprint
            | Field::DnsName
            | Field::KeyType
            | Field::Uuid => Kind::Text,
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Operator {
    /// `-eq`
    Eq,
    /// `-ne`: not `-eq` (true where the field is absent).
    Ne,
    /// `-contains` (text)
    Contains,
    /// `-notcontains` (text): not `-contains`.
    NotContains,
    /// `-startswith` (text)
    StartsWith,
    /// `-endswith` (text)
    EndsWith,
    /// `-gt`
    Gt,
    /// `-ge`
    Ge,
    /// `-lt`
    Lt,
    /// `-le`
    Le,
    /// `-isnull`: the field is absent (no value for a field of several).
    IsNull,
    /// `-notnull`: the field is present.
    NotNull,
}

impl Operator {
    /// Every operator with its name.
    pub const NAMES: &'static [(Operator, &'static str)] = &[
        (Operator::Eq, "-eq"),
        (Operator::Ne, "-ne"),
        (Operator::Contains, "-contains"),
        (Operator::NotContains, "-notcontains"),
        (Operator::StartsWith, "-startswith"),
        (Operator::EndsWith, "-endswith"),
        (Operator::Gt, "-gt"),
        (Operator::Ge, "-ge"),
        (Operator::Lt, "-lt"),
        (Operator::Le, "-le"),
        (Operator::IsNull, "-isnull"),
        (Operator::NotNull, "-notnull"),
    ];

    /// The operator's name, e.g. `-eq`.
    pub fn name(self) -> &'static str {
        Self::NAMES.iter().find(|(op, _)| *op == self).map_or("?", |(_, n)| n)
    }

    /// For `-ne` and `-notcontains`, the operator they negate.
    pub fn negated(self) -> Option<Operator> {
        match self {
            Operator::Ne => Some(Operator::Eq),
            Operator::NotContains => Some(Operator::Contains),
            _ => None,
        }
    }
}

impl fmt::Display for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The value a term compares with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// No value (`-isnull`, `-notnull`).
    None,
    /// Text, as compared: in lower case (and for `SerialNumber` and
    /// `Thumbprint` without `:` or spaces).
    Text(String),
    /// A whole number (at most `i64::MAX`, the largest a database store holds).
    Integer(u64),
    /// A date.
    Date(DateValue),
    /// `true` or `false`.
    Bool(bool),
}

/// A date as a query gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateValue {
    /// A day (days since 1970-01-01, UTC): the whole day.
    Day(i64),
    /// An instant, in seconds since the Unix epoch: that second.
    At(i64),
    /// `%TODAY±N%`: the day N days from today (UTC) at the time of the search.
    Today(i64),
}

impl DateValue {
    /// The seconds the value covers, `[start, end)`, with `now` as the
    /// time `%TODAY%` is taken at.
    pub fn interval(self, now: i64) -> (i64, i64) {
        const DAY: i64 = 86_400;
        match self {
            DateValue::Day(day) => (day * DAY, (day + 1) * DAY),
            DateValue::At(seconds) => (seconds, seconds + 1),
            DateValue::Today(offset) => {
                let day = now.div_euclid(DAY) + offset;
                (day * DAY, (day + 1) * DAY)
            }
        }
    }
}

/// The sort keys of a search.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SortField {
    /// `CertId` (the default).
    #[default]
    CertId,
    /// `IssuedCN`, compared in lower case; certificates without one first.
    IssuedCn,
    /// `IssuedDate`: `notBefore`.
    IssuedDate,
    /// `NotAfter`.
    NotAfter,
    /// `IssuerDN`, compared in lower case.
    IssuerDn,
}

impl SortField {
    /// Every sort field with the names it is known by (any casing).
    pub const NAMES: &'static [(SortField, &'static [&'static str])] = &[
        (SortField::CertId, &["CertId", "Id"]),
        (SortField::IssuedCn, &["IssuedCN", "CN"]),
        (SortField::IssuedDate, &["IssuedDate", "NotBefore"]),
        (SortField::NotAfter, &["NotAfter", "ExpirationDate"]),
        (SortField::IssuerDn, &["IssuerDN"]),
    ];

    /// The sort field a name stands for.
    pub fn from_name(name: &str) -> Option<SortField> {
        Self::NAMES
            .iter()
            .find(|(_, names)| names.iter().any(|n| n.eq_ignore_ascii_case(name.trim())))
            .map(|(field, _)| *field)
    }
}

/// Which way a search is sorted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum SortDirection {
    /// Smallest first (the default).
    #[default]
    Ascending,
    /// Largest first.
    Descending,
}

/// A query the grammar refuses, or a page request out of bounds: where
/// and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError {
    position: usize,
    message: String,
}

impl QueryError {
    pub(crate) fn new(position: usize, message: impl Into<String>) -> Self {
        Self {
            position,
            message: message.into(),
        }
    }

    /// The byte offset in the query text where the problem is.
    pub fn position(&self) -> usize {
        self.position
    }

    /// What is wrong there, as a sentence fragment.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid query at byte {}: {}", self.position, self.message)
    }
}

impl std::error::Error for QueryError {}

impl From<QueryError> for crate::ExportError {
    fn from(error: QueryError) -> Self {
        crate::ExportError::InvalidQuery(error)
    }
}

/// What a store is asked by [`CertificateStore::search`](crate::store::CertificateStore::search):
/// the condition (the caller's access rules already folded in), the order,
/// the window, and the time relative dates are taken at.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoreQuery {
    /// The condition; `None` matches every certificate.
    pub filter: Option<Filter>,
    /// The sort key; ties are broken by id in the same direction.
    pub sort: SortField,
    /// The sort direction.
    pub direction: SortDirection,
    /// How many matching certificates to pass over.
    pub offset: u64,
    /// The most certificates to return.
    pub limit: u32,
    /// The time `%TODAY%` is taken at, seconds since the Unix epoch.
    pub now: i64,
}

impl StoreQuery {
    /// A store query: `filter`, first `limit` certificates by id, relative
    /// dates taken at `now`.
    pub fn new(filter: Option<Filter>, limit: u32, now: i64) -> Self {
        Self {
            filter,
            sort: SortField::CertId,
            direction: SortDirection::Ascending,
            offset: 0,
            limit,
            now,
        }
    }

    /// The same, sorted by `sort` in `direction`.
    pub fn with_sort(mut self, sort: SortField, direction: SortDirection) -> Self {
        self.sort = sort;
        self.direction = direction;
        self
    }

    /// The same, passing over the first `offset` matches.
    pub fn with_offset(mut self, offset: u64) -> Self {
        self.offset = offset;
        self
    }
}

/// One certificate a store found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SearchHit<'s> {
    /// The certificate.
    pub certificate: StoredCertificate<'s>,
    /// Whether the store holds its private key.
    pub has_private_key: bool,
    /// Its `uuId`, if it has one.
    pub uuid: Option<Uuid>,
}

impl<'s> SearchHit<'s> {
    /// A hit.
    pub fn new(certificate: StoredCertificate<'s>, has_private_key: bool, uuid: Option<Uuid>) -> Self {
        Self {
            certificate,
            has_private_key,
            uuid,
        }
    }
}

/// What a store found: how many match in all, and the window asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SearchPage<'s> {
    /// How many certificates match, over every page.
    pub total: u64,
    /// The certificates of the window, in order.
    pub hits: Vec<SearchHit<'s>>,
}

impl<'s> SearchPage<'s> {
    /// A page.
    pub fn new(total: u64, hits: Vec<SearchHit<'s>>) -> Self {
        Self { total, hits }
    }
}

/// What [`Exporter::search`](crate::Exporter::search) answers: the total
/// the caller may see and the page's certificates.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SearchResults {
    /// How many certificates the caller may see match, over every page.
    pub total: u64,
    /// The page's certificates, in order (their `chain` is not built).
    pub certificates: Vec<CertificateDetail>,
}

/// `YYYY-MM-DDTHH:MM:SSZ` of Unix seconds (UTC), as search answers and
/// the command line write dates.
pub fn iso8601(seconds: i64) -> String {
    let days = seconds.div_euclid(86_400);
    let rest = seconds.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3_600,
        rest % 3_600 / 60,
        rest % 60
    )
}

/// The error of a [`CertificateStore`](crate::store::CertificateStore)
/// that does not implement search (the trait's default), reached through
/// [`ExportError::Backend`](crate::ExportError::Backend).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchUnsupported;

impl fmt::Display for SearchUnsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("this certificate store does not implement search (CertificateStore::search)")
    }
}

impl std::error::Error for SearchUnsupported {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_iso_dates() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso8601(4_102_444_799), "2099-12-31T23:59:59Z");
        assert_eq!(iso8601(951_825_600), "2000-02-29T12:00:00Z");
    }
}
