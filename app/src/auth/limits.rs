//! Rate limits: sign-in attempts per client IP and per email, and ingest
//! requests per app. In-process (governor); each server instance counts its own.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

pub struct RateLimits {
    login_by_ip: DefaultKeyedRateLimiter<IpAddr>,
    login_by_email: DefaultKeyedRateLimiter<String>,
    ingest_by_app: DefaultKeyedRateLimiter<i64>,
    smtp_by_client: DefaultKeyedRateLimiter<IpAddr>,
    smtp_by_recipient: DefaultKeyedRateLimiter<(i64, i64)>,
}

fn quota(burst: u32, every: Duration) -> Quota {
    Quota::with_period(every).expect("non-zero period").allow_burst(NonZeroU32::new(burst).expect("non-zero burst"))
}

/// `Err(wait)` when the key is over its limit.
fn check<K: std::hash::Hash + Eq + Clone>(limiter: &DefaultKeyedRateLimiter<K>, key: &K) -> Result<(), Duration> {
    limiter.check_key(key).map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
}

impl RateLimits {
    /// `ingest_per_second` requests per second per app, with bursts of twice that.
    pub fn new(ingest_per_second: u32) -> RateLimits {
        let ingest = ingest_per_second.max(1);
        RateLimits {
            // 20 attempts at once from one address, then one every 3 s.
            login_by_ip: RateLimiter::keyed(quota(20, Duration::from_secs(3))),
            // 5 attempts at once for one account, then one every 12 s.
            login_by_email: RateLimiter::keyed(quota(5, Duration::from_secs(12))),
            ingest_by_app: RateLimiter::keyed(quota(ingest * 2, Duration::from_secs(1) / ingest)),
            // Mail: 60 messages at once from one client, then one a second;
            // 20 at once to one Push Mail address, then one every 10 s.
            smtp_by_client: RateLimiter::keyed(quota(60, Duration::from_secs(1))),
            smtp_by_recipient: RateLimiter::keyed(quota(20, Duration::from_secs(10))),
        }
    }

    pub fn check_login(&self, ip: Option<IpAddr>, email: &str) -> Result<(), Duration> {
        if let Some(ip) = ip {
            check(&self.login_by_ip, &ip)?;
        }
        check(&self.login_by_email, &email.trim().to_lowercase())
    }

    pub fn check_ingest(&self, app_id: i64) -> Result<(), Duration> {
        check(&self.ingest_by_app, &app_id)
    }

    /// One SMTP transaction (MAIL FROM) from the client at `ip`.
    pub fn check_smtp_client(&self, ip: IpAddr) -> Result<(), Duration> {
        check(&self.smtp_by_client, &ip)
    }

    /// One message for the Push Mail address of `(app id, user id)`.
    pub fn check_smtp_recipient(&self, user: (i64, i64)) -> Result<(), Duration> {
        check(&self.smtp_by_recipient, &user)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_attempts_are_limited_per_email_ignoring_case() {
        let limits = RateLimits::new(10);
        for _ in 0..5 {
            assert!(limits.check_login(None, "ana@example.com").is_ok());
        }
        let wait = limits.check_login(None, " ANA@example.com").unwrap_err();
        assert!(wait > Duration::ZERO && wait <= Duration::from_secs(12));
        assert!(limits.check_login(None, "bob@example.com").is_ok(), "other accounts are not affected");
    }

    #[test]
    fn mail_is_limited_per_client_and_per_address() {
        let limits = RateLimits::new(1);
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        assert_eq!((0..60).filter(|_| limits.check_smtp_client(ip).is_ok()).count(), 60);
        assert!(limits.check_smtp_client(ip).is_err());
        assert!(limits.check_smtp_client("192.0.2.2".parse().unwrap()).is_ok());
        assert_eq!((0..20).filter(|_| limits.check_smtp_recipient((1, 7)).is_ok()).count(), 20);
        assert!(limits.check_smtp_recipient((1, 7)).is_err());
        assert!(limits.check_smtp_recipient((1, 8)).is_ok());
    }

    #[test]
    fn ingest_is_limited_per_app() {
        let limits = RateLimits::new(1);
        assert!(limits.check_ingest(1).is_ok());
        assert!(limits.check_ingest(1).is_ok());
        assert!(limits.check_ingest(1).is_err());
        assert!(limits.check_ingest(2).is_ok());
    }
}
