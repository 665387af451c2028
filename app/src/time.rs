//! Time at the edges: the store keeps epoch milliseconds, people read dates.

use chrono::{DateTime, Utc};

/// Formats epoch milliseconds the same way on the server and in the browser
/// (UTC, so server-rendered HTML and hydration agree).
pub fn format_ms(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| "—".to_string())
}

/// The current time in epoch milliseconds (server side only: the browser's
/// clock is not trusted for anything stored).
#[cfg(feature = "ssr")]
pub fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_epoch_ms_in_utc() {
        assert_eq!(format_ms(0), "1970-01-01 00:00 UTC");
        assert_eq!(format_ms(1_700_000_000_000), "2023-11-14 22:13 UTC");
    }
}
