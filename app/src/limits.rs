//! Rate limits: sign-in attempts per client IP and per email, ingest
//! requests per app, and mail per client and per Push Mail address.
//!
//! On PostgreSQL, where several server instances may share the database,
//! the sign-in and ingest limits are kept in it (`rate_limits`), so they
//! hold for the whole deployment; on SQLite (one instance per file) and for
//! mail they are in-process (governor). Should the database fail to answer,
//! a check falls back to this instance's own count rather than refusing.
//!
//! The client IP of a sign-in is the connection's peer, or, when the peer is
//! a proxy the operator named as trusted (`TRUSTED_PROXIES`), the last
//! address in `X-Forwarded-For` that is not itself a trusted proxy.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::store::{SharedQuota, Store};

pub struct RateLimits {
    login_by_ip: DefaultKeyedRateLimiter<IpAddr>,
    login_by_email: DefaultKeyedRateLimiter<String>,
    ingest_by_app: DefaultKeyedRateLimiter<i64>,
    smtp_by_client: DefaultKeyedRateLimiter<IpAddr>,
    smtp_by_recipient: DefaultKeyedRateLimiter<(i64, i64)>,
    quotas: Quotas,
    /// The database that holds the deployment-wide counts (PostgreSQL).
    shared: Option<Store>,
    trusted_proxies: Vec<IpAddr>,
}

/// The sign-in and ingest quotas, as (burst, period).
#[derive(Clone, Copy)]
struct Quotas {
    login_by_ip: (u32, Duration),
    login_by_email: (u32, Duration),
    ingest_by_app: (u32, Duration),
}

fn quota((burst, every): (u32, Duration)) -> Quota {
    Quota::with_period(every).expect("non-zero period").allow_burst(NonZeroU32::new(burst).expect("non-zero burst"))
}

fn shared((burst, every): (u32, Duration)) -> SharedQuota {
    SharedQuota { period_us: (every.as_micros() as i64).max(1), burst: i64::from(burst) }
}

/// `Err(wait)` when the key is over its limit.
fn check<K: std::hash::Hash + Eq + Clone>(limiter: &DefaultKeyedRateLimiter<K>, key: &K) -> Result<(), Duration> {
    limiter.check_key(key).map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
}

fn now_us() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_micros() as i64).unwrap_or(0)
}

impl RateLimits {
    /// `ingest_per_second` requests per second per app, with bursts of twice
    /// that; `shared`: the database that keeps the counts for every instance.
    pub fn new(ingest_per_second: u32, shared: Option<Store>, trusted_proxies: Vec<IpAddr>) -> RateLimits {
        let ingest = ingest_per_second.max(1);
        let quotas = Quotas {
            // 20 attempts at once from one address, then one every 3 s.
            login_by_ip: (20, Duration::from_secs(3)),
            // 5 attempts at once for one account, then one every 12 s.
            login_by_email: (5, Duration::from_secs(12)),
            ingest_by_app: (ingest * 2, Duration::from_secs(1) / ingest),
        };
        RateLimits {
            login_by_ip: RateLimiter::keyed(quota(quotas.login_by_ip)),
            login_by_email: RateLimiter::keyed(quota(quotas.login_by_email)),
            ingest_by_app: RateLimiter::keyed(quota(quotas.ingest_by_app)),
            // Mail: 60 messages at once from one client, then one a second;
            // 20 at once to one Push Mail address, then one every 10 s.
            smtp_by_client: RateLimiter::keyed(quota((60, Duration::from_secs(1)))),
            smtp_by_recipient: RateLimiter::keyed(quota((20, Duration::from_secs(10)))),
            quotas,
            shared,
            trusted_proxies,
        }
    }

    /// In-process limits only (tests, tools).
    pub fn local(ingest_per_second: u32) -> RateLimits {
        RateLimits::new(ingest_per_second, None, Vec::new())
    }

    /// True when the sign-in and ingest limits are counted in the database.
    pub fn is_shared(&self) -> bool {
        self.shared.is_some()
    }

    /// Asks the database first (deployment-wide), this process if it cannot.
    async fn take<K: std::hash::Hash + Eq + Clone>(
        &self,
        key: &str,
        quota: (u32, Duration),
        local: &DefaultKeyedRateLimiter<K>,
        local_key: &K,
    ) -> Result<(), Duration> {
        if let Some(store) = &self.shared {
            match store.take_rate_token(key, shared(quota), now_us()).await {
                Ok(None) => return Ok(()),
                Ok(Some(wait_us)) => return Err(Duration::from_micros(wait_us as u64)),
                Err(err) => tracing::warn!(%err, "shared rate limit unavailable; counting in this process"),
            }
        }
        check(local, local_key)
    }

    pub async fn check_login(&self, ip: Option<IpAddr>, email: &str) -> Result<(), Duration> {
        if let Some(ip) = ip {
            self.take(&format!("login-ip:{ip}"), self.quotas.login_by_ip, &self.login_by_ip, &ip).await?;
        }
        let email = email.trim().to_lowercase();
        self.take(&format!("login-email:{email}"), self.quotas.login_by_email, &self.login_by_email, &email).await
    }

    pub async fn check_ingest(&self, app_id: i64) -> Result<(), Duration> {
        self.take(&format!("ingest:{app_id}"), self.quotas.ingest_by_app, &self.ingest_by_app, &app_id).await
    }

    /// One SMTP transaction (MAIL FROM) from the client at `ip`.
    pub fn check_smtp_client(&self, ip: IpAddr) -> Result<(), Duration> {
        check(&self.smtp_by_client, &ip)
    }

    /// One message for the Push Mail address of `(app id, user id)`.
    pub fn check_smtp_recipient(&self, user: (i64, i64)) -> Result<(), Duration> {
        check(&self.smtp_by_recipient, &user)
    }

    /// The client's address: `peer`, or behind a trusted proxy the last
    /// `X-Forwarded-For` address that is not a trusted proxy.
    /// True when `peer` is a proxy the operator named (`TRUSTED_PROXIES`).
    pub fn is_trusted_proxy(&self, peer: IpAddr) -> bool {
        self.trusted_proxies.contains(&peer)
    }

    pub fn client_ip(&self, peer: IpAddr, forwarded_for: Option<&str>) -> IpAddr {
        if !self.trusted_proxies.contains(&peer) {
            return peer;
        }
        let Some(header) = forwarded_for else { return peer };
        let hops: Vec<&str> = header.split(',').map(str::trim).collect();
        for hop in hops.iter().rev() {
            match hop.parse::<IpAddr>() {
                Ok(ip) if self.trusted_proxies.contains(&ip) => continue,
                Ok(ip) => return ip,
                // A hop that is not an address: trust nothing further left.
                Err(_) => return peer,
            }
        }
        peer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn login_attempts_are_limited_per_email_ignoring_case() {
        let limits = RateLimits::local(10);
        for _ in 0..5 {
            assert!(limits.check_login(None, "ana@example.com").await.is_ok());
        }
        let wait = limits.check_login(None, " ANA@example.com").await.unwrap_err();
        assert!(wait > Duration::ZERO && wait <= Duration::from_secs(12));
        assert!(limits.check_login(None, "bob@example.com").await.is_ok(), "other accounts are not affected");
    }

    #[test]
    fn forwarded_addresses_count_only_behind_a_trusted_proxy() {
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let client: IpAddr = "203.0.113.7".parse().unwrap();
        let untrusted = RateLimits::local(1);
        assert_eq!(untrusted.client_ip(proxy, Some("203.0.113.7")), proxy, "off by default");
        let trusting = RateLimits::new(1, None, vec![proxy, "10.0.0.2".parse().unwrap()]);
        assert_eq!(trusting.client_ip(proxy, Some("203.0.113.7")), client);
        assert_eq!(
            trusting.client_ip(proxy, Some("198.51.100.1, 203.0.113.7, 10.0.0.2")),
            client,
            "spoofed left part ignored"
        );
        assert_eq!(trusting.client_ip(proxy, Some("garbage, 203.0.113.7")), client);
        assert_eq!(trusting.client_ip(proxy, Some("203.0.113.7, garbage")), proxy, "nothing left of a bad hop");
        assert_eq!(trusting.client_ip(proxy, None), proxy);
        assert_eq!(trusting.client_ip(client, Some("1.2.3.4")), client, "only the proxy may say who forwarded");
    }

    #[test]
    fn mail_is_limited_per_client_and_per_address() {
        let limits = RateLimits::local(1);
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        assert_eq!((0..60).filter(|_| limits.check_smtp_client(ip).is_ok()).count(), 60);
        assert!(limits.check_smtp_client(ip).is_err());
        assert!(limits.check_smtp_client("192.0.2.2".parse().unwrap()).is_ok());
        assert_eq!((0..20).filter(|_| limits.check_smtp_recipient((1, 7)).is_ok()).count(), 20);
        assert!(limits.check_smtp_recipient((1, 7)).is_err());
        assert!(limits.check_smtp_recipient((1, 8)).is_ok());
    }

    #[tokio::test]
    async fn ingest_is_limited_per_app() {
        let limits = RateLimits::local(1);
        assert!(limits.check_ingest(1).await.is_ok());
        assert!(limits.check_ingest(1).await.is_ok());
        assert!(limits.check_ingest(1).await.is_err());
        assert!(limits.check_ingest(2).await.is_ok());
    }
}
