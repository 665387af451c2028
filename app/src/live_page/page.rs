//! Audience > Live (`/live`): the figures, the filtered event stream with
//! Pause / Resume, and the live map. The first render comes from the
//! server (complete without JavaScript); after hydration the app's stream
//! keeps every part current. The filters live in the URL.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::params::ParamsMap;

use super::counts::{ActiveNowBox, RateBar, TopEvents};
use super::map::LiveMap;
use super::stream::{open_feed, LivePageFeed};
use super::{load_live_page, LiveView};
use crate::activity::event_row::{Clock, EventRow};
use crate::layout::ErrorMessage;
use crate::model::live::{LiveCounts, LiveOverview};

/// The view a query names (several `type`s, or one comma-separated).
fn view_of(query: &ParamsMap) -> LiveView {
    let mut pairs: Vec<(&'static str, String)> = Vec::new();
    for key in ["type", "segment", "text", "platform"] {
        for value in query.get_all(key).unwrap_or_default() {
            pairs.push((key, value));
        }
    }
    LiveView::from_pairs(pairs.iter().map(|(k, v)| (*k, v.as_str())))
}

#[component]
pub fn LivePage() -> impl IntoView {
    let query = use_query_map();
    let view_state = Memo::new(move |_| query.with(view_of));
    let switched = use_context::<crate::layout::AppSwitch>();
    let first = Resource::new(
        move || (view_state.get(), switched.map(|s| s.version())),
        |(v, _)| load_live_page(v.types, v.segment, v.text, v.platform),
    );
    view! {
        <Title text="Live" />
        <section class="page live-page">
            <header class="page-header">
                <h1>"Live"</h1>
            </header>
            <Suspense fallback=|| view! { <p class="loading" role="status">"Loading live activity…"</p> }>
                {move || Suspend::new(async move {
                    match first.await {
                        Ok((overview, segment)) => {
                            view! { <LiveBody overview segment view=view_state.get_untracked() /> }.into_any()
                        }
                        Err(error) => view! { <ErrorMessage error /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn LiveBody(overview: LiveOverview, segment: Option<i64>, view: LiveView) -> impl IntoView {
    let LiveOverview { active, top, events, positions, after } = overview;
    let feed = open_feed(view.query(segment), after, events, LiveCounts { active, top });
    let active = Signal::derive(move || feed.counts.with(|c| c.active.clone()));
    let top = Signal::derive(move || feed.counts.with(|c| c.top.clone()));
    view! {
        <div class="live-grid">
            <ActiveNowBox active />
            <TopEvents top view=view.clone() />
            <EventStream feed view />
            <section class="box live-map-box" aria-labelledby="live-map-title">
                <h2 id="live-map-title">"Live map"</h2>
                <LiveMap positions feed />
            </section>
        </div>
    }
}

/// The filter form: a plain GET form (it works without JavaScript); with
/// it, submitting navigates in place.
#[component]
fn Filters(view: LiveView) -> impl IntoView {
    let navigate = use_navigate();
    let boxes: [NodeRef<leptos::html::Input>; 4] = std::array::from_fn(|_| NodeRef::new());
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let keys = ["type", "segment", "text", "platform"];
        let pairs: Vec<(&str, String)> =
            keys.into_iter().zip(boxes).filter_map(|(key, node)| Some((key, node.get()?.value()))).collect();
        let next = LiveView::from_pairs(pairs.iter().map(|(k, v)| (*k, v.as_str())));
        navigate(&next.href(), Default::default());
    };
    let filtered = view.is_filtered();
    view! {
        <form class="live-filters" method="get" action="/live" on:submit=on_submit>
            <label>
                "Event types"
                <input type="text" name="type" node_ref=boxes[0] value=view.types.join(", ") placeholder="e.g. purchase, app.open" />
            </label>
            <label>
                "Segment"
                <input type="text" name="segment" node_ref=boxes[1] value=view.segment.clone().unwrap_or_default() />
            </label>
            <label>
                "Text in data"
                <input type="search" name="text" node_ref=boxes[2] value=view.text.clone().unwrap_or_default() />
            </label>
            <label>
                "Platform"
                <input type="text" name="platform" node_ref=boxes[3] value=view.platform.clone().unwrap_or_default() placeholder="e.g. iOS" />
            </label>
            <button type="submit">"Apply"</button>
            {filtered.then(|| view! { <a class="clear-filters" href="/live">"Clear filters"</a> })}
        </form>
    }
}

#[component]
fn EventStream(feed: LivePageFeed, view: LiveView) -> impl IntoView {
    let clock = Clock::ticking();
    let paused = move || feed.rows.with(|r| r.paused);
    let toggle = move |_| {
        feed.rows.update(|rows| if rows.paused { rows.resume() } else { rows.pause() });
    };
    let held = move || feed.rows.with(|r| r.held_count);
    let filtered = view.is_filtered();
    view! {
        <section class="box live-stream" aria-labelledby="live-stream-title">
            <div class="box-header">
                <h2 id="live-stream-title">"Events"</h2>
                <span class="live-state" role="status" class:live=move || feed.state.get() == crate::live::LiveState::Live>
                    {move || feed.state.get().label()}
                </span>
                <button type="button" class="pause" on:click=toggle>
                    {move || if paused() { "Resume" } else { "Pause" }}
                </button>
            </div>
            <Filters view />
            <RateBar rates=feed.rates.into() />
            {move || (paused() && held() > 0).then(|| {
                let n = held();
                view! {
                    <button type="button" class="new-events" on:click=move |_| feed.rows.update(|r| r.resume())>
                        {if n == 1 { "1 new event".to_string() } else { format!("{n} new events") }}
                    </button>
                }
            })}
            <Show when=move || feed.rows.with(|r| r.shown.is_empty())>
                <p class="empty-state">
                    {if filtered {
                        "No recent events match these filters. New ones appear here as they arrive."
                    } else {
                        "No recent events. New ones appear here as they arrive."
                    }}
                </p>
            </Show>
            <ol class="events" aria-label="Events, newest first">
                <For each=move || feed.rows.with(|r| r.shown.clone()) key=|e| e.event.id let:e>
                    {
                        let user = e.event.user_id.zip(e.who().map(String::from));
                        view! { <EventRow event=e.event clock user /> }
                    }
                </For>
            </ol>
        </section>
    }
}
