//! The external status check at entry — the documents' health-code docking (健康码核验),
//! generalised: when a person is about to be let in at a community entrance, a configured
//! status service is asked about them, by a **keyed hash** of their ID number (HMAC-SHA256
//! with a key shared with the service; the number itself never leaves), and its answer can
//! let them in, let them in with a warning, or keep them out.
//!
//! The service is outside our control, so the door must not wait on it for long: the call has
//! a short timeout, and what happens without an answer (open or closed) is configured per
//! deployment. Answers are cached per person and community for a while, so a resident going in
//! and out does not ask each time; after the service fails to answer it is left alone for
//! [`REST_MS`] (the fallback applies meanwhile), so an outage does not make every door — and the
//! pipeline's workers — wait out the timeout in turn. Only openings at entrances are checked
//! (not unit doors, not refusals); the decision's reason records the check's effect, so the
//! access record and the live feed show it.
//!
//! The service's wire format is the binary's (an HTTP client); here is the trait it implements.

use crate::{App, AppResult};
use anfang_domain::access::{AccessDecision, CheckVerdict, Door};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

/// A status service: answers for a person by the keyed hash of their ID number.
#[async_trait::async_trait]
pub trait StatusService: Send + Sync + std::fmt::Debug {
    /// The verdict for `id_hash` entering community `community_code`; an error is no answer.
    async fn status(&self, id_hash: &str, community_code: &str) -> Result<CheckVerdict, String>;
}

/// How the check behaves.
#[derive(Clone)]
pub struct EntryCheckSettings {
    /// The key of the ID hash, shared with the service.
    pub hash_key: Vec<u8>,
    /// Without an answer in time: open (`true`) or keep out.
    pub fail_open: bool,
    /// How long the door waits for the service.
    pub timeout: Duration,
    /// How long an answer is reused for the same person.
    pub cache_ttl: Duration,
}

impl std::fmt::Debug for EntryCheckSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EntryCheckSettings")
            .field("fail_open", &self.fail_open)
            .field("timeout", &self.timeout)
            .field("cache_ttl", &self.cache_ttl)
            .finish_non_exhaustive()
    }
}

/// The configured check with its answer cache.
#[derive(Debug)]
pub struct EntryCheck {
    service: Arc<dyn StatusService>,
    settings: EntryCheckSettings,
    answers: moka::sync::Cache<(i64, i64), CheckVerdict>,
    /// After a failure, the service is not asked again before this time (ms).
    resting_until: AtomicI64,
}

/// How long the service rests after failing to answer.
pub const REST_MS: i64 = 30_000;

impl EntryCheck {
    /// A check against `service`.
    pub fn new(service: Arc<dyn StatusService>, settings: EntryCheckSettings) -> EntryCheck {
        let answers = moka::sync::Cache::builder()
            .max_capacity(200_000)
            .time_to_live(settings.cache_ttl)
            .build();
        EntryCheck {
            service,
            settings,
            answers,
            resting_until: AtomicI64::new(0),
        }
    }
}

/// The keyed hash of an ID number as the service receives it: lowercase hex of
/// HMAC-SHA256(`key`, the number in upper case, trimmed).
pub fn id_hash(key: &[u8], id_number: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(id_number.trim().to_ascii_uppercase().as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

impl App {
    /// Adds the status check at entry (the composition root does this when it is configured).
    pub fn with_entry_check(mut self, check: EntryCheck) -> App {
        self.entry_check = Some(Arc::new(check));
        self
    }

    /// `decision` for `person_id` at `door` after the status check, when one is configured and
    /// applies; otherwise `decision` unchanged.
    pub(crate) async fn checked_at_entry(
        &self,
        person_id: i64,
        door: &Door,
        decision: AccessDecision,
    ) -> AppResult<AccessDecision> {
        let Some(check) = &self.entry_check else {
            return Ok(decision);
        };
        if decision.outcome != anfang_domain::access::Outcome::Open
            || !anfang_domain::access::entry_checked(door)
        {
            return Ok(decision);
        }
        let key = (person_id, door.community_id);
        let now = self.clock.now_ms();
        let verdict = match check.answers.get(&key) {
            Some(cached) => {
                metrics::counter!("anfang_entry_checks_total", "answer" => "cached").increment(1);
                cached
            }
            // The service just failed to answer: doors do not each wait out its timeout again
            // (the pipeline's workers would all be waiting); the fallback applies until it is
            // tried again.
            None if now < check.resting_until.load(Ordering::Relaxed) => {
                metrics::counter!("anfang_entry_checks_total", "answer" => "resting").increment(1);
                CheckVerdict::Unavailable
            }
            None => {
                let verdict = self.ask(check, person_id, door.community_id).await?;
                if verdict == CheckVerdict::Unavailable {
                    check.resting_until.store(now + REST_MS, Ordering::Relaxed);
                } else {
                    check.answers.insert(key, verdict);
                }
                verdict
            }
        };
        Ok(anfang_domain::access::apply_check(
            decision,
            verdict,
            check.settings.fail_open,
        ))
    }

    async fn ask(&self, check: &EntryCheck, person_id: i64, community_id: i64) -> AppResult<CheckVerdict> {
        let (id_number, community_code) = {
            let mut tx = self.store.read().await?;
            let Some(person) = tx.person(person_id).await? else {
                return Ok(CheckVerdict::Unavailable);
            };
            let code = tx
                .community(community_id)
                .await?
                .map(|c| c.code)
                .unwrap_or_default();
            (self.vault.decrypt("id_number", &person.id_number_enc)?, code)
        };
        let hash = id_hash(&check.settings.hash_key, &id_number);
        let answer = tokio::time::timeout(
            check.settings.timeout,
            check.service.status(&hash, &community_code),
        )
        .await;
        let (verdict, label) = match answer {
            Ok(Ok(verdict)) => (verdict, "answered"),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "the entry status service failed");
                (CheckVerdict::Unavailable, "failed")
            }
            Err(_) => {
                tracing::warn!(
                    timeout_ms = check.settings.timeout.as_millis() as u64,
                    "the entry status service did not answer in time"
                );
                (CheckVerdict::Unavailable, "timeout")
            }
        };
        metrics::counter!("anfang_entry_checks_total", "answer" => label).increment(1);
        Ok(verdict)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_is_keyed_and_ignores_case_and_spaces() {
        let a = id_hash(b"k1", "37032319400101001x ");
        assert_eq!(a, id_hash(b"k1", "37032319400101001X"));
        assert_ne!(a, id_hash(b"k2", "37032319400101001X"));
        assert_eq!(a.len(), 64);
        assert!(!a.contains("370323"));
    }
}
