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

/// Minutes in the viewer's time zone, with its offset.
pub fn format_local(ms: i64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms)
        .map(|t| t.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M (UTC%:z)").to_string())
        .unwrap_or_else(|| "—".into())
}
