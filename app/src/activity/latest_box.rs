//! The Latest activity box: the user's last hour, newest first, kept live
//! by the profile's stream, with Pause / Resume.

use leptos::prelude::*;

use super::event_row::{Clock, EventRow};
use super::model::ActivityEvent;
use crate::layout::ErrorMessage;
use crate::live::{use_live, LiveState};

/// The box shows at most this many events (the last hour of a busy user
/// can hold thousands; the search box reaches them all).
const SHOWN: usize = 100;
const HOUR_MS: i64 = 3_600_000;

/// The box's first load (the profile page creates it up front; see
/// [`super::search_box::load_activity`]).
pub type RecentResource = Resource<Result<Vec<ActivityEvent>, crate::error::AppError>>;

#[component]
pub fn LatestActivity(recent: RecentResource) -> impl IntoView {
    view! {
        <section class="box activity-box" aria-labelledby="activity-box-title">
            <Suspense fallback=|| view! { <p class="loading" role="status">"Loading activity…"</p> }>
                {move || Suspend::new(async move {
                    match recent.await {
                        Ok(events) => view! { <LiveList initial=events /> }.into_any(),
                        Err(error) => view! {
                            <h2 id="activity-box-title">"Latest activity"</h2>
                            <ErrorMessage error />
                        }
                        .into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// Puts `fresh` events into `list` (newest first), each once, within the
/// last hour of `now`, at most [`SHOWN`].
fn merge(list: &mut Vec<ActivityEvent>, fresh: Vec<ActivityEvent>, now: i64) {
    for event in fresh {
        if !list.iter().any(|e| e.id == event.id) {
            list.push(event);
        }
    }
    list.retain(|e| e.occurred_at >= now - HOUR_MS);
    list.sort_by_key(|e| std::cmp::Reverse((e.occurred_at, e.id)));
    list.truncate(SHOWN);
}

#[component]
fn LiveList(initial: Vec<ActivityEvent>) -> impl IntoView {
    let clock = Clock::ticking();
    let shown = RwSignal::new(initial);
    let waiting = RwSignal::new(Vec::<ActivityEvent>::new());
    let paused = RwSignal::new(false);
    let live = use_live();
    let interactive = crate::ui::hydrated();
    // Follows the stream's log from where it last read.
    let read_to = StoredValue::new(0usize);
    Effect::new(move |_| {
        let Some(feed) = live else { return };
        let (fresh, next) = feed.activity.with(|log| log.since(read_to.get_value()));
        read_to.set_value(next);
        if fresh.is_empty() {
            return;
        }
        if paused.get_untracked() {
            waiting.update(|w| {
                let known: Vec<i64> = shown.with_untracked(|s| s.iter().map(|e| e.id).collect());
                w.extend(fresh.into_iter().filter(|e| !known.contains(&e.id)));
                w.dedup_by_key(|e| e.id);
            });
        } else {
            let now = crate::time::clock_ms();
            shown.update(|list| merge(list, fresh, now));
        }
    });
    let resume = move || {
        let now = crate::time::clock_ms();
        let held = waiting.try_update(std::mem::take).unwrap_or_default();
        shown.update(|list| merge(list, held, now));
        paused.set(false);
    };
    let state = move || live.map(|feed| feed.state.get()).unwrap_or(LiveState::Connecting);
    let waiting_label = move || match waiting.with(Vec::len) {
        0 => String::new(),
        1 => "1 new event".into(),
        n => format!("{n} new events"),
    };

    view! {
        <div class="box-header">
            <h2 id="activity-box-title">"Latest activity"</h2>
            <div class="live-controls">
                <span
                    class="live-state"
                    class:live=move || state() == LiveState::Live
                    role="status"
                >
                    {move || state().label()}
                </span>
                <span class="live-waiting" role="status">{waiting_label}</span>
                <button
                    type="button"
                    class="small"
                    disabled=move || !interactive.get()
                    on:click=move |_| if paused.get_untracked() { resume() } else { paused.set(true) }
                >
                    {move || if paused.get() { "Resume" } else { "Pause" }}
                </button>
            </div>
        </div>
        <p class="hint">"The last hour, newest first."</p>
        <Show
            when=move || shown.with(|list| !list.is_empty())
            fallback=|| view! { <p class="empty-state">"No activity in the last hour."</p> }
        >
            <ul class="events" aria-label="Latest events">
                <For each=move || shown.get() key=|e| e.id let:event>
                    <EventRow event clock />
                </For>
            </ul>
        </Show>
    }
}
