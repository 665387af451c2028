//! An absolute time as people read it: in the viewer's time zone once the
//! page runs in the browser, with UTC on hover.

use leptos::prelude::*;

use crate::time::{format_ms, rfc3339};

/// Renders UTC on the server (which does not know the viewer's zone) and
/// switches to the local time once hydrated; the hover title is always UTC.
#[component]
pub fn LocalTime(ms: i64) -> impl IntoView {
    let local = super::hydrated();
    view! {
        <time datetime=rfc3339(ms) title=format_ms(ms)>
            {move || if local.get() { format_local(ms) } else { format_ms(ms) }}
        </time>
    }
}

/// Minutes in the viewer's time zone, with its offset. Written out (as
/// [`format_ms`] is) so chrono's format-string parser stays out of the
/// wasm of every page that shows a time.
pub fn format_local(ms: i64) -> String {
    use chrono::{Datelike, Offset, TimeZone, Timelike};
    let Some(utc) = chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms) else { return "—".into() };
    let offset = chrono::Local.offset_from_utc_datetime(&utc.naive_utc()).fix().local_minus_utc();
    let t = utc.naive_utc() + chrono::TimeDelta::seconds(offset.into());
    let (sign, minutes) = if offset < 0 { ('-', -offset / 60) } else { ('+', offset / 60) };
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} (UTC{sign}{:02}:{:02})",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        minutes / 60,
        minutes % 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_local_time_names_its_offset() {
        // The test machine's zone is whatever it is: the text has the
        // shape, and agrees with chrono's own formatting of the same zone.
        let ms = 1_767_323_045_000;
        let expected = chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms)
            .unwrap()
            .with_timezone(&chrono::Local)
            .format("%Y-%m-%d %H:%M (UTC%:z)")
            .to_string();
        assert_eq!(super::format_local(ms), expected);
    }
}
