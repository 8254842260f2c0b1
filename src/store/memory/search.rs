//! [`MemoryStore`]'s search: the index of `search::Index`, built from the
//! entries on the first search after a change.

use super::MemoryStore;
use crate::error::ExportError;
use crate::search::{Index, SearchHit, SearchPage, Source, StoreQuery};

impl MemoryStore {
    pub(super) fn search_page(&self, query: &StoreQuery) -> Result<SearchPage<'_>, ExportError> {
        let index = self
            .search
            .get_or_init(|| {
                Box::new(Index::build(self.entries.iter().enumerate().map(|(slot, entry)| {
                    Source {
                        id: entry.id.0,
                        der: &entry.der,
                        metadata: entry.metadata.as_deref().unwrap_or(&super::NO_METADATA),
                        has_key: entry.key.is_some(),
                        uuid: self.uuid_of.get(&(slot as u32)).map(|u| u.as_str()),
                    }
                })))
            })
            .as_ref()
            .as_ref()
            .map_err(Clone::clone)?;
        let (total, rows) = index.search(query);
        let hits = rows
            .into_iter()
            .map(|slot| {
                let entry = &self.entries[slot as usize];
                SearchHit::new(
                    self.stored_at(slot as usize),
                    entry.key.is_some(),
                    self.uuid_of.get(&slot).cloned(),
                )
            })
            .collect();
        Ok(SearchPage::new(total, hits))
    }
}
