//! Resolving a user's scope entries to the ids every query is filtered by.

use crate::{App, AppError, AppResult};
use anfang_domain::scope::ScopeEntry;
use anfang_store::{Filter, Tx};
use std::collections::BTreeSet;

/// A scope resolved to ids. `all` means the whole district.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResolvedScope {
    /// The whole district.
    pub all: bool,
    /// Communities in scope (for `all`, empty and ignored).
    pub communities: BTreeSet<i64>,
    /// When set, only these houses (residents): their communities are in `communities` for
    /// reading the tree, but persons and vehicles are limited to these houses.
    pub houses: Option<BTreeSet<i64>>,
}

impl ResolvedScope {
    /// A filter restricted to this scope.
    pub fn filter(&self) -> Filter {
        Filter {
            community_ids: (!self.all).then(|| self.communities.iter().copied().collect()),
            house_ids: self.houses.as_ref().map(|h| h.iter().copied().collect()),
            ..Filter::default()
        }
    }

    /// Whether the community is in scope.
    pub fn has_community(&self, id: i64) -> bool {
        self.all || self.communities.contains(&id)
    }

    /// Whether the house (in `community_id`) is in scope.
    pub fn has_house(&self, community_id: i64, house_id: i64) -> bool {
        match &self.houses {
            Some(houses) => houses.contains(&house_id),
            None => self.has_community(community_id),
        }
    }

    /// Fails with `not_found` (not `forbidden`: existence is not revealed) unless the
    /// community is in scope.
    pub fn check_community(&self, id: i64, entity: &'static str) -> AppResult<()> {
        if self.has_community(id) {
            Ok(())
        } else {
            Err(AppError::NotFound { entity })
        }
    }

    /// Fails unless the whole community may be acted on (a resident's house scope may read
    /// its community's tree, but not write to it or list its people).
    pub fn check_whole_community(&self, id: i64, entity: &'static str) -> AppResult<()> {
        if self.houses.is_some() {
            return Err(AppError::NotFound { entity });
        }
        self.check_community(id, entity)
    }
}

impl App {
    /// Resolves scope entries to ids (unknown codes resolve to nothing rather than failing, so
    /// a renamed community never widens a scope).
    pub(crate) async fn resolve_scope(
        tx: &mut Box<dyn Tx>,
        entries: &[ScopeEntry],
    ) -> AppResult<ResolvedScope> {
        let mut scope = ResolvedScope::default();
        let mut houses = BTreeSet::new();
        let mut only_houses = true;
        for entry in entries {
            match entry {
                ScopeEntry::District => {
                    scope.all = true;
                    only_houses = false;
                }
                ScopeEntry::Street(code) => {
                    only_houses = false;
                    scope.communities.extend(tx.community_ids_of_street(code).await?);
                }
                ScopeEntry::Community(code) => {
                    only_houses = false;
                    if let Some(c) = tx.community_by_code(code).await? {
                        scope.communities.insert(c.id);
                    }
                }
                ScopeEntry::House(id) => {
                    if let Some(house) = tx.house(*id).await? {
                        houses.insert(house.id);
                        scope.communities.insert(house.community_id);
                    }
                }
            }
        }
        if only_houses {
            scope.houses = Some(houses);
        }
        Ok(scope)
    }
}
