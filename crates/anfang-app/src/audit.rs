//! The audit chain: every entry's hash covers the previous entry's hash, so changing or
//! deleting an entry breaks the chain; the head is also checkpointed outside the database, so
//! deleting the last N entries (which leaves a valid, shorter chain) is detected too.

use crate::{App, AppResult, Permission, Principal};
use anfang_store::{AuditRow, NewAudit, Page, Paged};
use sha2::{Digest, Sha256};

/// The hash of the chain before its first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Where the chain head is remembered outside the database (a file next to it, by default).
pub trait Checkpoint: Send + Sync + std::fmt::Debug {
    /// Records that the chain now reaches `seq` with `hash`; never moves backwards.
    fn advance(&self, seq: i64, hash: &str);
    /// The last recorded head, if any.
    fn load(&self) -> Option<(i64, String)>;
}

/// A checkpoint kept in memory only (tests; verification then cannot see truncation across
/// restarts).
#[derive(Debug, Default)]
pub struct MemoryCheckpoint(std::sync::Mutex<Option<(i64, String)>>);

impl Checkpoint for MemoryCheckpoint {
    fn advance(&self, seq: i64, hash: &str) {
        let mut head = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if head.as_ref().is_none_or(|(s, _)| *s < seq) {
            *head = Some((seq, hash.to_string()));
        }
    }
    fn load(&self) -> Option<(i64, String)> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// SHA-256 over the previous hash, the sequence number and every field, each length-prefixed
/// so that no two different entries serialize the same.
pub fn entry_hash(prev_hash: &str, seq: i64, entry: &NewAudit) -> String {
    let mut h = Sha256::new();
    for part in [
        prev_hash,
        &seq.to_string(),
        &entry.at.to_string(),
        &entry.actor,
        &entry.action,
        &entry.target,
        &entry.detail,
    ] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

/// What verification found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Entries checked.
    pub entries: i64,
    /// The last sequence number in the log.
    pub last_seq: i64,
    /// The checkpoint's sequence number, if one exists.
    pub checkpoint_seq: Option<i64>,
    /// Problems found; empty means the chain is intact.
    pub problems: Vec<String>,
}

impl VerifyReport {
    /// Whether the chain is intact.
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

impl App {
    /// Walks the whole chain and compares its end with the external checkpoint.
    pub async fn verify_audit(&self) -> AppResult<VerifyReport> {
        let mut tx = self.store.read().await?;
        let mut problems = Vec::new();
        let mut expected_seq = 1;
        let mut prev_hash = GENESIS_HASH.to_string();
        let mut entries = 0;
        let mut by_seq_hash: Option<(i64, String)> = None;
        let checkpoint = self.checkpoint.load();
        loop {
            let batch = tx.audit_after(expected_seq - 1, 1000).await?;
            if batch.is_empty() {
                break;
            }
            for row in batch {
                if row.seq != expected_seq {
                    problems.push(format!(
                        "entries {expected_seq}..{} are missing (deleted)",
                        row.seq - 1
                    ));
                }
                if row.prev_hash != prev_hash {
                    problems.push(format!("entry {} does not link to the entry before it", row.seq));
                }
                if entry_hash(&row.prev_hash, row.seq, &row.content()) != row.hash {
                    problems.push(format!("entry {} was changed after it was written", row.seq));
                }
                if let Some((seq, _)) = &checkpoint
                    && row.seq == *seq
                {
                    by_seq_hash = Some((row.seq, row.hash.clone()));
                }
                prev_hash = row.hash.clone();
                expected_seq = row.seq + 1;
                entries += 1;
            }
        }
        let last_seq = expected_seq - 1;
        if let Some((seq, hash)) = &checkpoint {
            if *seq > last_seq {
                problems.push(format!(
                    "the log ends at entry {last_seq} but the checkpoint records entry {seq}: the last {} entries were deleted",
                    seq - last_seq
                ));
            } else if by_seq_hash.as_ref().is_some_and(|(_, h)| h != hash) {
                problems.push(format!("entry {seq} differs from the checkpointed head"));
            }
        }
        Ok(VerifyReport {
            entries,
            last_seq,
            checkpoint_seq: checkpoint.map(|(s, _)| s),
            problems,
        })
    }

    /// Lists audit entries, newest first (auditors and district admins).
    pub async fn list_audit(&self, who: &Principal, page: Page) -> AppResult<Paged<AuditRow>> {
        who.require(Permission::ReadAudit)?;
        let mut tx = self.store.read().await?;
        Ok(tx.list_audit(page).await?)
    }

    /// Verifies the chain on behalf of a user (auditors and district admins).
    pub async fn verify_audit_as(&self, who: &Principal) -> AppResult<VerifyReport> {
        who.require(Permission::ReadAudit)?;
        self.verify_audit().await
    }
}
