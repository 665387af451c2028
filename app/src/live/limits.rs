//! What one account may hold of the live channel: a few open streams per
//! profile and a bounded number in all, and a replay budget over time. A
//! stream costs a task, a queue and (on connect) a replay read from the
//! database; without a cap one session could open thousands, or reconnect
//! in a loop replaying thousands of events each time, and slow every other
//! page of the console.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Open streams per account and profile: more than the tabs anyone keeps
/// on one person (and a browser holds at most six connections per host
/// over HTTP/1.1, the stream's own included).
pub const STREAMS_PER_PROFILE: usize = 6;
/// Open streams per account, all profiles together.
pub const STREAMS_PER_ACCOUNT: usize = 30;
/// Events an account may have replayed per minute, in bursts of as many:
/// four full reconnects' worth (`REPLAY_MAX` is 5,000 per stream). A
/// replay is charged a page (500) before each read, so a resume with
/// nothing to replay costs a page too: 40 of them a minute.
pub const REPLAYS_PER_MINUTE: u32 = 20_000;

/// Why a stream was not opened (or its replay cut short).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamRefused {
    /// The account has [`STREAMS_PER_PROFILE`] streams of this profile open.
    ProfileFull,
    /// The account has [`STREAMS_PER_ACCOUNT`] streams open.
    AccountFull,
    /// The account's replay budget is spent; try again after this long.
    ReplaysSpent(Duration),
}

impl StreamRefused {
    /// What the 429 says.
    pub fn message(self) -> String {
        match self {
            StreamRefused::ProfileFull => {
                format!("This account already has {STREAMS_PER_PROFILE} live streams of this user open.")
            }
            StreamRefused::AccountFull => format!("This account already has {STREAMS_PER_ACCOUNT} live streams open."),
            StreamRefused::ReplaysSpent(_) => "Too many live-stream reconnects; try again shortly.".to_string(),
        }
    }

    /// When to try again (`Retry-After`, whole seconds).
    pub fn retry_after_secs(self) -> u64 {
        match self {
            StreamRefused::ReplaysSpent(wait) => wait.as_secs().max(1),
            // A slot frees when a stream closes; the browser retries in seconds.
            _ => 5,
        }
    }
}

/// Open streams by account, and each account's replay budget.
pub struct StreamLimits {
    open: Mutex<HashMap<i64, AccountStreams>>,
    replays: DefaultKeyedRateLimiter<i64>,
}

#[derive(Default)]
struct AccountStreams {
    total: usize,
    per_profile: HashMap<i64, usize>,
}

impl Default for StreamLimits {
    fn default() -> Self {
        let burst = NonZeroU32::new(REPLAYS_PER_MINUTE).expect("non-zero");
        StreamLimits { open: Mutex::default(), replays: RateLimiter::keyed(Quota::per_minute(burst)) }
    }
}

/// One open stream's place in its account's count; given back on drop.
pub struct StreamSlot {
    limits: Arc<StreamLimits>,
    account: i64,
    user: i64,
}

impl StreamLimits {
    fn accounts(&self) -> std::sync::MutexGuard<'_, HashMap<i64, AccountStreams>> {
        // Each change is a few integer updates: consistent after a panic.
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A slot for `account`'s stream of `user`, if it has room.
    pub fn open(self: &Arc<Self>, account: i64, user: i64) -> Result<StreamSlot, StreamRefused> {
        let mut accounts = self.accounts();
        let streams = accounts.entry(account).or_default();
        if streams.total >= STREAMS_PER_ACCOUNT {
            return Err(StreamRefused::AccountFull);
        }
        let of_profile = streams.per_profile.entry(user).or_default();
        if *of_profile >= STREAMS_PER_PROFILE {
            return Err(StreamRefused::ProfileFull);
        }
        *of_profile += 1;
        streams.total += 1;
        metrics::gauge!(crate::metrics::LIVE_STREAMS_OPEN).increment(1);
        Ok(StreamSlot { limits: self.clone(), account, user })
    }

    /// Takes `events` from the account's replay budget, or says how long
    /// until that many are available.
    pub fn take_replay(&self, account: i64, events: u32) -> Result<(), StreamRefused> {
        let Some(events) = NonZeroU32::new(events) else { return Ok(()) };
        match self.replays.check_key_n(&account, events) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(not_until)) => {
                Err(StreamRefused::ReplaysSpent(not_until.wait_time_from(DefaultClock::default().now())))
            }
            // More than a whole budget at once: never, so a minute.
            Err(_) => Err(StreamRefused::ReplaysSpent(Duration::from_secs(60))),
        }
    }

    /// Open streams of `account` (tests, metrics).
    pub fn open_streams(&self, account: i64) -> usize {
        self.accounts().get(&account).map_or(0, |s| s.total)
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        metrics::gauge!(crate::metrics::LIVE_STREAMS_OPEN).decrement(1);
        let mut accounts = self.limits.accounts();
        let Some(streams) = accounts.get_mut(&self.account) else { return };
        streams.total = streams.total.saturating_sub(1);
        if let Some(open) = streams.per_profile.get_mut(&self.user) {
            *open -= 1;
            if *open == 0 {
                streams.per_profile.remove(&self.user);
            }
        }
        if streams.total == 0 {
            accounts.remove(&self.account);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_capped_per_profile_and_account_and_given_back() {
        let limits = Arc::new(StreamLimits::default());
        let mut held: Vec<StreamSlot> = (0..STREAMS_PER_PROFILE).map(|_| limits.open(1, 10).unwrap()).collect();
        assert_eq!(limits.open(1, 10).err(), Some(StreamRefused::ProfileFull));
        assert!(limits.open(2, 10).is_ok(), "another account is not affected");
        held.pop();
        held.push(limits.open(1, 10).expect("a closed stream gives its slot back"));
        let mut user = 11;
        while held.len() < STREAMS_PER_ACCOUNT {
            held.push(limits.open(1, user).unwrap());
            user += 1;
        }
        assert_eq!(limits.open(1, 999).err(), Some(StreamRefused::AccountFull));
        drop(held);
        assert_eq!(limits.open_streams(1), 0);
        assert!(limits.accounts().is_empty(), "nothing is kept for accounts without streams");
    }

    #[test]
    fn replays_are_budgeted_per_account() {
        let limits = StreamLimits::default();
        for _ in 0..REPLAYS_PER_MINUTE / 500 {
            limits.take_replay(1, 500).unwrap();
        }
        assert!(matches!(limits.take_replay(1, 500), Err(StreamRefused::ReplaysSpent(wait)) if wait > Duration::ZERO));
        assert!(limits.take_replay(2, 500).is_ok(), "another account has its own budget");
        assert!(limits.take_replay(1, 0).is_ok(), "nothing to replay costs nothing");
    }
}
