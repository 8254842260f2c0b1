//! The search index of [`MemoryStore`](crate::store::MemoryStore): every
//! field a query compares, one column per field (text columns in one
//! buffer each, so a scan reads memory in order), and for each sort field
//! the rows in its order, built on first use. A search evaluates the
//! condition over the columns it names, counts the matches and walks the
//! sort order to the page.

use std::sync::OnceLock;

use memchr::memmem::Finder;

use super::facts::Facts;
use super::{DateValue, Field, Filter, Operator, SortDirection, SortField, StoreQuery, Term, Value};
use crate::error::ExportError;
use crate::store::CertMetadata;

/// What the index needs of one certificate.
pub(crate) struct Source<'a> {
    pub(crate) id: u64,
    pub(crate) der: &'a [u8],
    pub(crate) metadata: &'a CertMetadata,
    pub(crate) has_key: bool,
    pub(crate) uuid: Option<&'a str>,
}

/// Text values of each row, in one buffer.
#[derive(Default)]
struct TextColumn {
    text: String,
    /// Where each value ends in `text`, one per value.
    ends: Vec<usize>,
    present: Vec<bool>,
}

impl TextColumn {
    fn push(&mut self, value: Option<&str>) {
        if let Some(value) = value {
            self.text.push_str(value);
        }
        self.ends.push(self.text.len());
        self.present.push(value.is_some());
    }

    fn get(&self, i: usize) -> Option<&str> {
        if !self.present[i] {
            return None;
        }
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        Some(&self.text[start..self.ends[i]])
    }
}

/// Several values per row.
#[derive(Default)]
struct Many<T> {
    values: T,
    /// Row `r`'s values are `starts[r]..starts[r + 1]`.
    starts: Vec<usize>,
}

/// The index over a store's certificates, row `r` being slot `r`.
pub(crate) struct Index {
    ids: Vec<u64>,
    cn: TextColumn,
    dn: TextColumn,
    issuer: TextColumn,
    serial: TextColumn,
    sha1: TextColumn,
    key_type: TextColumn,
    uuid: TextColumn,
    dns: Many<TextColumn>,
    not_before: Vec<i64>,
    not_after: Vec<i64>,
    key_bits: Vec<Option<u32>>,
    has_key: Vec<bool>,
    collections: Many<Vec<u64>>,
    containers: Many<Vec<u64>>,
    orders: [OnceLock<Vec<u32>>; 5],
}

impl Index {
    /// The index of `rows`, in slot order.
    pub(crate) fn build<'a>(rows: impl ExactSizeIterator<Item = Source<'a>>) -> Result<Self, ExportError> {
        let mut index = Index {
            ids: Vec::with_capacity(rows.len()),
            cn: TextColumn::default(),
            dn: TextColumn::default(),
            issuer: TextColumn::default(),
            serial: TextColumn::default(),
            sha1: TextColumn::default(),
            key_type: TextColumn::default(),
            uuid: TextColumn::default(),
            dns: Many::default(),
            not_before: Vec::with_capacity(rows.len()),
            not_after: Vec::with_capacity(rows.len()),
            key_bits: Vec::with_capacity(rows.len()),
            has_key: Vec::with_capacity(rows.len()),
            collections: Many::default(),
            containers: Many::default(),
            orders: Default::default(),
        };
        index.dns.starts.push(0);
        index.collections.starts.push(0);
        index.containers.starts.push(0);
        for row in rows {
            let facts = Facts::of(row.der)?;
            index.ids.push(row.id);
            index
                .cn
                .push(facts.common_name.as_deref().map(str::to_lowercase).as_deref());
            index.dn.push(Some(&facts.subject.to_lowercase()));
            index.issuer.push(Some(&facts.issuer.to_lowercase()));
            index.serial.push(Some(&facts.serial));
            index.sha1.push(Some(&facts.sha1));
            index.key_type.push(facts.key_type.map(str::to_lowercase).as_deref());
            index.uuid.push(row.uuid.map(str::to_lowercase).as_deref());
            for name in facts.dns_names() {
                index.dns.values.push(Some(&name.to_lowercase()));
            }
            index.dns.starts.push(index.dns.values.ends.len());
            index.not_before.push(facts.not_before);
            index.not_after.push(facts.not_after);
            index.key_bits.push(facts.key_bits);
            index.has_key.push(row.has_key);
            index.collections.values.extend(&row.metadata.collections);
            index.collections.starts.push(index.collections.values.len());
            index.containers.values.extend(&row.metadata.containers);
            index.containers.starts.push(index.containers.values.len());
        }
        Ok(index)
    }

    /// The rows a query's page holds, in order, and how many match in all.
    pub(crate) fn search(&self, query: &StoreQuery) -> (u64, Vec<u32>) {
        let rows = self.ids.len();
        let filter = query.filter.as_ref().map(|f| Compiled::new(f, query.now));
        let matched: Vec<bool> = match &filter {
            None => vec![true; rows],
            Some(filter) => (0..rows).map(|r| filter.matches(self, r)).collect(),
        };
        let total = matched.iter().filter(|&&m| m).count() as u64;
        let order = self.order(query.sort);
        let wanted = |r: &&u32| matched[**r as usize];
        let page: Vec<u32> = match query.direction {
            SortDirection::Ascending => order
                .iter()
                .filter(wanted)
                .skip(usize::try_from(query.offset).unwrap_or(usize::MAX))
                .take(query.limit as usize)
                .copied()
                .collect(),
            SortDirection::Descending => order
                .iter()
                .rev()
                .filter(wanted)
                .skip(usize::try_from(query.offset).unwrap_or(usize::MAX))
                .take(query.limit as usize)
                .copied()
                .collect(),
        };
        (total, page)
    }

    /// The rows sorted by `field`, ties by id, ascending.
    fn order(&self, field: SortField) -> &[u32] {
        let slot = match field {
            SortField::CertId => 0,
            SortField::IssuedCn => 1,
            SortField::IssuedDate => 2,
            SortField::NotAfter => 3,
            SortField::IssuerDn => 4,
        };
        self.orders[slot].get_or_init(|| {
            let mut rows: Vec<u32> = (0..self.ids.len() as u32).collect();
            let id = |r: &u32| self.ids[*r as usize];
            match field {
                SortField::CertId => rows.sort_unstable_by_key(id),
                SortField::IssuedCn => rows.sort_unstable_by_key(|r| (self.cn.get(*r as usize), id(r))),
                SortField::IssuedDate => rows.sort_unstable_by_key(|r| (self.not_before[*r as usize], id(r))),
                SortField::NotAfter => rows.sort_unstable_by_key(|r| (self.not_after[*r as usize], id(r))),
                SortField::IssuerDn => rows.sort_unstable_by_key(|r| (self.issuer.get(*r as usize), id(r))),
            }
            rows
        })
    }

    fn text(&self, field: Field) -> Option<&TextColumn> {
        Some(match field {
            Field::IssuedCn => &self.cn,
            Field::IssuedDn => &self.dn,
            Field::IssuerDn => &self.issuer,
            Field::SerialNumber => &self.serial,
            Field::Thumbprint => &self.sha1,
            Field::KeyType => &self.key_type,
            Field::Uuid => &self.uuid,
            _ => return None,
        })
    }
}

/// A filter ready to run: substring finders built, dates resolved.
enum Compiled {
    Term(Box<CompiledTerm>),
    And(Vec<Compiled>),
    Or(Vec<Compiled>),
}

struct CompiledTerm {
    field: Field,
    /// The operator, negations turned into their positive form.
    operator: Operator,
    negate: bool,
    value: Value,
    finder: Option<Finder<'static>>,
    /// A date value's `[start, end)`.
    interval: (i64, i64),
}

impl Compiled {
    fn new(filter: &Filter, now: i64) -> Self {
        match filter {
            Filter::Term(term) => Compiled::Term(Box::new(CompiledTerm::new(term, now))),
            Filter::And(parts) => Compiled::And(parts.iter().map(|p| Compiled::new(p, now)).collect()),
            Filter::Or(parts) => Compiled::Or(parts.iter().map(|p| Compiled::new(p, now)).collect()),
        }
    }

    fn matches(&self, index: &Index, row: usize) -> bool {
        match self {
            Compiled::Term(term) => term.matches(index, row) != term.negate,
            Compiled::And(parts) => parts.iter().all(|p| p.matches(index, row)),
            Compiled::Or(parts) => parts.iter().any(|p| p.matches(index, row)),
        }
    }
}

impl CompiledTerm {
    fn new(term: &Term, now: i64) -> Self {
        let (operator, negate) = match term.operator.negated() {
            Some(positive) => (positive, true),
            None => (term.operator, false),
        };
        let finder = match (&term.value, operator) {
            (Value::Text(text), Operator::Contains) => Some(Finder::new(text.as_bytes()).into_owned()),
            _ => None,
        };
        let interval = match term.value {
            Value::Date(date) => date.interval(now),
            _ => DateValue::At(0).interval(now),
        };
        Self {
            field: term.field,
            operator,
            negate,
            value: term.value.clone(),
            finder,
            interval,
        }
    }

    /// Whether the positive form of the term holds for `row`.
    fn matches(&self, index: &Index, row: usize) -> bool {
        match self.field {
            Field::DnsName => {
                let (start, end) = (index.dns.starts[row], index.dns.starts[row + 1]);
                match self.operator {
                    Operator::IsNull => start == end,
                    Operator::NotNull => start != end,
                    _ => (start..end).any(|i| index.dns.values.get(i).is_some_and(|v| self.text(v))),
                }
            }
            Field::CollectionId | Field::ContainerId => {
                let many = if self.field == Field::CollectionId {
                    &index.collections
                } else {
                    &index.containers
                };
                let values = &many.values[many.starts[row]..many.starts[row + 1]];
                match self.operator {
                    Operator::IsNull => values.is_empty(),
                    Operator::NotNull => !values.is_empty(),
                    _ => values.iter().any(|&v| self.integer(v)),
                }
            }
            Field::CertId => self.optional(Some(index.ids[row]), |v| self.integer(v)),
            Field::KeySizeInBits => self.optional(index.key_bits[row], |v| self.integer(u64::from(v))),
            Field::NotBefore => self.date(index.not_before[row]),
            Field::NotAfter => self.date(index.not_after[row]),
            Field::HasPrivateKey => self.value == Value::Bool(index.has_key[row]),
            field => match index.text(field) {
                Some(column) => self.optional(column.get(row), |v| self.text(v)),
                None => false,
            },
        }
    }

    /// The term on a field that may be absent.
    fn optional<T>(&self, value: Option<T>, test: impl FnOnce(T) -> bool) -> bool {
        match self.operator {
            Operator::IsNull => value.is_none(),
            Operator::NotNull => value.is_some(),
            _ => value.is_some_and(test),
        }
    }

    fn text(&self, value: &str) -> bool {
        let Value::Text(wanted) = &self.value else { return false };
        let wanted = wanted.as_str();
        match self.operator {
            Operator::Eq => value == wanted,
            Operator::Contains => self.finder.as_ref().is_some_and(|f| f.find(value.as_bytes()).is_some()),
            Operator::StartsWith => value.starts_with(wanted),
            Operator::EndsWith => value.ends_with(wanted),
            Operator::Gt => value > wanted,
            Operator::Ge => value >= wanted,
            Operator::Lt => value < wanted,
            Operator::Le => value <= wanted,
            _ => false,
        }
    }

    fn integer(&self, value: u64) -> bool {
        let Value::Integer(wanted) = self.value else {
            return false;
        };
        match self.operator {
            Operator::Eq => value == wanted,
            Operator::Gt => value > wanted,
            Operator::Ge => value >= wanted,
            Operator::Lt => value < wanted,
            Operator::Le => value <= wanted,
            _ => false,
        }
    }

    fn date(&self, value: i64) -> bool {
        let (start, end) = self.interval;
        match self.operator {
            Operator::Eq => start <= value && value < end,
            Operator::Gt => value >= end,
            Operator::Ge => value >= start,
            Operator::Lt => value < start,
            Operator::Le => value < end,
            Operator::IsNull => false,
            Operator::NotNull => true,
            _ => false,
        }
    }
}
