//! The door deny list (禁止通行名单): a person on it passes no door or gate of their community,
//! whatever credential or relation they hold, and is taken off the community's terminal
//! libraries so that offline terminals refuse them too. Entries are removed, never deleted.

use crate::{App, AppError, AppResult, Permission, Principal};
use anfang_store::*;
use serde_json::json;

/// Put a person on the deny list.
#[derive(Debug, Clone)]
pub struct AddDenyEntry {
    /// The person.
    pub person_id: i64,
    /// Why (shown to operators, kept in the audit log).
    pub reason: String,
}

/// A deny-list entry with the person's name, for the console.
#[derive(Debug, Clone, PartialEq)]
pub struct DenyEntryView {
    /// The entry.
    pub entry: DenyEntryRow,
    /// The person's name.
    pub person_name: String,
}

impl App {
    /// Puts a person on their community's deny list: from the next decision on, and on every
    /// terminal after its next library sync, they pass nowhere there.
    pub async fn add_to_deny_list(&self, who: &Principal, req: &AddDenyEntry) -> AppResult<DenyEntryView> {
        who.require(Permission::WritePersons)?;
        let reason = crate::registry::text("reason", &req.reason, 200)?;
        let mut tx = self.store.write().await?;
        let person = self.managed_person(&mut tx, who, req.person_id).await?;
        if tx
            .denied_communities(person.id)
            .await?
            .contains(&person.community_id)
        {
            return Err(AppError::Conflict {
                code: "already_deny_listed",
                message: "the person is on the deny list already".into(),
            });
        }
        let id = tx
            .insert_deny_entry(&NewDenyEntry {
                community_id: person.community_id,
                person_id: person.id,
                reason: reason.clone(),
                added_by: who.actor(),
                added_at: self.clock.now_ms(),
            })
            .await?;
        self.library_changed(&mut tx, person.community_id, person.id)
            .await?;
        let audit = self
            .audit(
                &mut tx,
                &who.actor(),
                "deny_list.add",
                &format!("person:{}", person.id),
                json!({"entry": id, "reason": reason}),
            )
            .await?;
        let entry = tx.deny_entry(id).await?.ok_or(AppError::NotFound {
            entity: "deny list entry",
        })?;
        self.commit(tx, Some(&audit)).await?;
        Ok(DenyEntryView {
            entry,
            person_name: person.name,
        })
    }

    /// Takes an entry off the deny list (kept as history).
    pub async fn remove_from_deny_list(&self, who: &Principal, entry_id: i64) -> AppResult<()> {
        who.require(Permission::WritePersons)?;
        let mut tx = self.store.write().await?;
        let entry = tx.deny_entry(entry_id).await?.ok_or(AppError::NotFound {
            entity: "deny list entry",
        })?;
        who.scope
            .check_whole_community(entry.community_id, "deny list entry")?;
        if entry.removed_at.is_some() {
            return Err(AppError::Conflict {
                code: "already_removed",
                message: "this entry was removed already".into(),
            });
        }
        tx.remove_deny_entry(entry_id, self.clock.now_ms(), &who.actor())
            .await?;
        self.library_changed(&mut tx, entry.community_id, entry.person_id)
            .await?;
        let audit = self
            .audit(
                &mut tx,
                &who.actor(),
                "deny_list.remove",
                &format!("person:{}", entry.person_id),
                json!({"entry": entry_id}),
            )
            .await?;
        self.commit(tx, Some(&audit)).await
    }

    /// A community's deny list, newest first; removed entries only when asked.
    pub async fn deny_list(
        &self,
        who: &Principal,
        community_id: i64,
        include_removed: bool,
    ) -> AppResult<Vec<DenyEntryView>> {
        who.require(Permission::ReadPersons)?;
        who.scope.check_whole_community(community_id, "community")?;
        let mut tx = self.store.read().await?;
        let mut out = Vec::new();
        for entry in tx.deny_entries(community_id, !include_removed).await? {
            let person_name = tx
                .person(entry.person_id)
                .await?
                .map(|p| p.name)
                .unwrap_or_default();
            out.push(DenyEntryView { entry, person_name });
        }
        Ok(out)
    }
}
