//! Time as an injected dependency: [`SystemClock`] in production, [`SimClock`] in tests and
//! simulations, so that rules, tenancy expiry and lockouts are tested deterministically.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// Milliseconds since the Unix epoch, UTC. The one time representation stored and compared
/// everywhere; conversions to calendar dates happen at the edges.
pub type Timestamp = i64;

/// A source of the current time.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Now, in milliseconds since the Unix epoch.
    fn now_ms(&self) -> Timestamp;

    /// Now, as a UTC date-time.
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::from_timestamp_millis(self.now_ms()).unwrap_or_default()
    }

    /// Today's date in China Standard Time (UTC+8), the calendar every document here uses.
    fn today_cst(&self) -> chrono::NaiveDate {
        self.now_cst().date()
    }

    /// The local (UTC+8) date and time, for schedules.
    fn now_cst(&self) -> chrono::NaiveDateTime {
        let cst = chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset");
        self.now().with_timezone(&cst).naive_local()
    }
}

/// The real wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> Timestamp {
        chrono::Utc::now().timestamp_millis()
    }
}

/// A clock that only moves when told to. Clones share the same time.
#[derive(Debug, Clone)]
pub struct SimClock {
    /// Current simulated time in ms since the epoch, shared by all clones.
    now: Arc<AtomicI64>,
}

impl SimClock {
    /// A clock standing at `start_ms`.
    pub fn new(start_ms: Timestamp) -> Self {
        Self {
            now: Arc::new(AtomicI64::new(start_ms)),
        }
    }

    /// Moves the clock forward by `ms` milliseconds.
    pub fn advance_ms(&self, ms: i64) {
        self.now.fetch_add(ms, Ordering::SeqCst);
    }

    /// Sets the clock to `ms`.
    pub fn set_ms(&self, ms: Timestamp) {
        self.now.store(ms, Ordering::SeqCst);
    }
}

impl Clock for SimClock {
    fn now_ms(&self) -> Timestamp {
        self.now.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sim_clock_moves_only_when_told() {
        let clock = SimClock::new(1_600_000_000_000);
        let other = clock.clone();
        assert_eq!(clock.now_ms(), 1_600_000_000_000);
        other.advance_ms(1_000);
        assert_eq!(clock.now_ms(), 1_600_000_001_000);
        // 2020-09-13 12:26:40 UTC is 20:26 in UTC+8, the same calendar day.
        assert_eq!(clock.today_cst().to_string(), "2020-09-13");
    }
}
