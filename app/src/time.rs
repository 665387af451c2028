//! Time at the edges: the store keeps epoch milliseconds, people read dates.

use chrono::{DateTime, Datelike, Timelike, Utc};

/// Formats epoch milliseconds the same way on the server and in the browser
/// (UTC, so server-rendered HTML and hydration agree). Written out rather
/// than with `format("%Y-…")`: the users list is the only date this page
/// shows, and chrono's format-string parser would be in its wasm for it.
pub fn format_ms(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .map(|t| {
            let (y, mo, d, h, mi) = (t.year(), t.month(), t.day(), t.hour(), t.minute());
            format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02} UTC")
        })
        .unwrap_or_else(|| "—".to_string())
}

/// The current time in epoch milliseconds (server side only: the browser's
/// clock is not trusted for anything stored).
#[cfg(feature = "ssr")]
pub fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// The clock for display only (relative times), on either side.
pub fn clock_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// Seconds-exact time in the viewer's time zone (in the browser; UTC on
/// the server, which does not know it), for hover titles.
pub fn format_exact(ms: i64, local: bool) -> String {
    let Some(utc) = DateTime::<Utc>::from_timestamp_millis(ms) else { return "—".into() };
    if local {
        utc.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M:%S %:z").to_string()
    } else {
        utc.format("%Y-%m-%d %H:%M:%S UTC").to_string()
    }
}

/// RFC 3339 in UTC with milliseconds, as the ingest API writes times.
pub fn rfc3339(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

/// "just now", "5 min ago", "3 h ago", "2 d ago" from `now` (epoch ms).
pub fn relative(ms: i64, now: i64) -> String {
    let seconds = (now - ms) / 1000;
    match seconds {
        s if s < 45 => "just now".into(),
        s if s < 3600 => format!("{} min ago", (s + 30) / 60),
        s if s < 86_400 => format!("{} h ago", s / 3600),
        s => format!("{} d ago", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_times_round_to_what_people_say() {
        let now = 10_000_000_000;
        assert_eq!(relative(now - 10_000, now), "just now");
        assert_eq!(relative(now + 5_000, now), "just now", "a clock a little ahead");
        assert_eq!(relative(now - 60_000, now), "1 min ago");
        assert_eq!(relative(now - 59 * 60_000, now), "59 min ago");
        assert_eq!(relative(now - 3 * 3_600_000, now), "3 h ago");
        assert_eq!(relative(now - 49 * 3_600_000, now), "2 d ago");
        assert_eq!(format_exact(1_700_000_000_123, false), "2023-11-14 22:13:20 UTC");
    }

    #[test]
    fn formats_epoch_ms_in_utc() {
        assert_eq!(format_ms(0), "1970-01-01 00:00 UTC");
        assert_eq!(format_ms(1_700_000_000_000), "2023-11-14 22:13 UTC");
    }
}
