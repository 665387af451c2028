//! One event as a row: label, device, relative time (exact on hover, in the
//! viewer's time zone once the page runs in the browser), and its data as a
//! compact line that opens to pretty JSON (a native `<details>`: keyboard
//! and no-JavaScript friendly).

use leptos::prelude::*;

use super::model::ActivityEvent;
use crate::time::{format_exact, relative};

/// What the rows read the time from: a clock that ticks in the browser,
/// and whether the viewer's time zone is known (after hydration).
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    pub now: RwSignal<i64>,
    pub local: Signal<bool>,
}

impl Clock {
    /// A clock that ticks every 30 seconds once hydrated.
    pub fn ticking() -> Clock {
        let now = RwSignal::new(crate::time::clock_ms());
        let local = crate::ui::hydrated();
        Effect::new(move |_| {
            now.set(crate::time::clock_ms());
            if let Ok(handle) =
                set_interval_with_handle(move || now.set(crate::time::clock_ms()), std::time::Duration::from_secs(30))
            {
                on_cleanup(move || handle.clear());
            }
        });
        Clock { now, local }
    }
}

/// `data` on one line, and pretty-printed when it is JSON.
fn data_texts(data: &str) -> (String, String) {
    match serde_json::from_str::<serde_json::Value>(data) {
        Ok(value) => (value.to_string(), serde_json::to_string_pretty(&value).unwrap_or_else(|_| data.to_string())),
        Err(_) => (data.to_string(), data.to_string()),
    }
}

/// `user` (id and name) links the row to that user's profile (the Live
/// page's rows are of many users; a profile's are of one).
#[component]
pub fn EventRow(
    event: ActivityEvent,
    clock: Clock,
    #[prop(default = None)] user: Option<(i64, String)>,
) -> impl IntoView {
    let at = event.occurred_at;
    let label = event.label();
    let raw_type = (label != event.event_type).then(|| event.event_type.clone());
    let datetime =
        chrono::DateTime::<chrono::Utc>::from_timestamp_millis(at).map(|t| t.to_rfc3339()).unwrap_or_default();
    let data = event.data.as_deref().filter(|d| !d.is_empty() && *d != "null").map(data_texts);
    view! {
        <li class="event-row">
            <div class="event-head">
                <span class="event-type" title=raw_type.clone()>{label}</span>
                {user.map(|(id, name)| view! { <a class="event-user" href=format!("/users/{id}")>{name}</a> })}
                <span class="event-device">{event.device_name.unwrap_or_else(|| "No device".into())}</span>
                <time
                    datetime=datetime
                    title=move || format_exact(at, clock.local.get())
                >
                    {move || relative(at, clock.now.get())}
                </time>
            </div>
            {data.map(|(line, pretty)| view! {
                <details class="event-data">
                    <summary><code>{line}</code></summary>
                    <pre>{pretty}</pre>
                </details>
            })}
        </li>
    }
}
