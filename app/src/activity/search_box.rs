//! The event search box: a period (presets or from / to), a type and text
//! in `data`; results newest first with "Load more"; the histogram of the
//! period; and the toggle to the unified timeline. The query lives in the
//! URL (`?from=&to=&type=&q=`, `&view=timeline`), so a search can be shared,
//! and the form works without JavaScript (a GET of the profile).

use leptos::html;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use leptos_router::NavigateOptions;
use serde::{Deserialize, Serialize};

use super::event_row::{Clock, EventRow};
use super::histogram::HistogramChart;
use super::model::{ActivityEvent, EventsPage, Histogram, SearchView, TimelinePage, PRESETS};
use super::timeline::TimelineList;
use super::{activity_histogram, activity_timeline, activity_types, search_activity};
use crate::error::AppError;
use crate::ui::LoadMore;

/// What the Activity box shows for a [`SearchView`], loaded in one go.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ActivityData {
    Search { page: Result<EventsPage, AppError>, histogram: Option<Histogram>, types: Vec<String> },
    Timeline(Result<TimelinePage, AppError>),
}

/// Loads the Activity box's data. The profile page creates this resource
/// (with the latest-activity one) up front, not the box: resources created
/// deep inside nested Suspense boundaries were matched to the wrong
/// serialized data now and then, and hydration failed.
pub async fn load_activity(user_id: i64, s: SearchView) -> ActivityData {
    if s.timeline {
        return ActivityData::Timeline(activity_timeline(user_id, None).await);
    }
    let page = search_activity(user_id, s.from.clone(), s.to.clone(), s.event_type.clone(), s.text.clone(), None).await;
    // A bad period is said once, by the results.
    let histogram = activity_histogram(user_id, s.from, s.to, s.event_type, s.text).await.ok();
    let types = activity_types().await.unwrap_or_default();
    ActivityData::Search { page, histogram, types }
}

#[component]
pub fn EventSearch(user_id: i64, search: Memo<SearchView>, data: Resource<ActivityData>) -> impl IntoView {
    let path = format!("/users/{user_id}");
    let events_href = {
        let path = path.clone();
        move || SearchView { timeline: false, ..search.get() }.href(&path)
    };
    let timeline_href = {
        let path = path.clone();
        move || SearchView { timeline: true, ..search.get() }.href(&path)
    };
    view! {
        <section class="box search-box" id="activity-search" aria-labelledby="search-box-title">
            <div class="box-header">
                <h2 id="search-box-title">"Activity"</h2>
                <nav class="toggle" aria-label="Activity view">
                    <a href=events_href aria-current=move || (!search.get().timeline).then_some("page")>"Event search"</a>
                    <a href=timeline_href aria-current=move || search.get().timeline.then_some("page")>"Unified timeline"</a>
                </nav>
            </div>
            <Transition fallback=|| view! { <p class="loading" role="status">"Searching…"</p> }>
                {move || {
                    let path = path.clone();
                    Suspend::new(async move {
                        match data.await {
                            ActivityData::Timeline(Ok(page)) => {
                                view! { <TimelineList user_id entries=page.entries next=page.next_cursor /> }.into_any()
                            }
                            ActivityData::Timeline(Err(error)) => {
                                view! { <p class="error" role="alert">{error.to_string()}</p> }.into_any()
                            }
                            ActivityData::Search { page, histogram, types } => {
                                let search = search.get_untracked();
                                view! { <SearchPanel user_id search path page histogram types /> }.into_any()
                            }
                        }
                    })
                }}
            </Transition>
        </section>
    }
}

#[component]
fn SearchPanel(
    user_id: i64,
    search: SearchView,
    path: String,
    page: Result<EventsPage, AppError>,
    histogram: Option<Histogram>,
    types: Vec<String>,
) -> impl IntoView {
    let presets = PRESETS
        .into_iter()
        .map(|(value, label)| {
            let href = SearchView { from: Some(value.into()), to: None, ..search.clone() }.href(&path);
            let current = (search.from.as_deref() == Some(value) && search.to.is_none()).then_some("true");
            view! { <a class="preset" href=href aria-current=current>{label}</a> }
        })
        .collect_view();
    let chosen_type = search.event_type.clone().unwrap_or_default();
    let (from_value, to_value) = (SearchView::input_value(&search.from), SearchView::input_value(&search.to));
    let text_value = search.text.clone().unwrap_or_default();
    // Without JavaScript the form GETs the profile; with it, the router
    // navigates to the same URL in place.
    let (from_input, to_input) = (NodeRef::<html::Input>::new(), NodeRef::<html::Input>::new());
    let (type_input, text_input) = (NodeRef::<html::Input>::new(), NodeRef::<html::Input>::new());
    let navigate = use_navigate();
    let submit_path = path.clone();
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let value = |input: Option<String>| input.filter(|v| !v.trim().is_empty());
        let next = SearchView {
            from: value(from_input.get_untracked().map(|i| i.value())),
            to: value(to_input.get_untracked().map(|i| i.value())),
            event_type: value(type_input.get_untracked().map(|i| i.value())),
            text: value(text_input.get_untracked().map(|i| i.value())),
            timeline: false,
        };
        navigate(&next.href(&submit_path), NavigateOptions { scroll: false, ..Default::default() });
    };
    let histogram = histogram.map(|histogram| {
        let (search, path) = (search.clone(), path.clone());
        view! { <HistogramChart histogram search path /> }
    });
    let results = match page {
        Ok(page) => view! { <Results user_id first=page search /> }.into_any(),
        Err(error) => view! { <p class="error" role="alert">{error.to_string()}</p> }.into_any(),
    };
    // Set once this panel runs in the browser (tests wait for it).
    let ready = crate::ui::hydrated();
    view! {
        <div class="presets" role="group" aria-label="Period presets" data-ready=move || ready.get().then_some("true")>
            {presets}
        </div>
        <form method="get" action=path.clone() on:submit=on_submit>
            <div class="search-fields">
                <label>
                    "From (UTC)"
                    <input type="datetime-local" name="from" step="1" value=from_value node_ref=from_input />
                </label>
                <label>
                    "To (UTC)"
                    <input type="datetime-local" name="to" step="1" value=to_value node_ref=to_input />
                </label>
                <TypeSelect types chosen=chosen_type node_ref=type_input />
                <label>
                    "Text in data"
                    <input type="search" name="q" maxlength="200" value=text_value node_ref=text_input />
                </label>
                <button type="submit" class="primary small">"Search"</button>
            </div>
        </form>
        {histogram}
        {results}
    }
}

/// The type filter: a text input suggesting every type seen in the app
/// (a `<datalist>`). The value is the exact type; the suggestions show labels.
#[component]
fn TypeSelect(types: Vec<String>, chosen: String, node_ref: NodeRef<html::Input>) -> impl IntoView {
    let options = types
        .into_iter()
        .map(|t| {
            let label = super::model::type_label(&t);
            view! { <option value=t>{label}</option> }
        })
        .collect_view();
    view! {
        <label>
            "Type"
            <input
                type="text"
                name="type"
                list="event-types"
                placeholder="All types"
                autocomplete="off"
                maxlength="255"
                value=chosen
                node_ref=node_ref
            />
            <datalist id="event-types">{options}</datalist>
        </label>
    }
}

/// The search's results: the first page, then "Load more" appends the
/// next ones (keyset pages: no duplicates or gaps while events arrive).
#[component]
fn Results(user_id: i64, first: EventsPage, search: SearchView) -> impl IntoView {
    let clock = Clock::ticking();
    let events = RwSignal::new(first.events);
    let cursor = RwSignal::new(first.next_cursor);
    let partial = RwSignal::new(first.partial);
    let more = Action::new(move |cursor: &String| {
        let (s, cursor) = (search.clone(), cursor.clone());
        async move { search_activity(user_id, s.from, s.to, s.event_type, s.text, Some(cursor)).await }
    });
    Effect::new(move |_| {
        if let Some(Ok(page)) = more.value().get() {
            events.update(|list: &mut Vec<ActivityEvent>| {
                for event in page.events {
                    if !list.iter().any(|e| e.id == event.id) {
                        list.push(event);
                    }
                }
            });
            cursor.set(page.next_cursor);
            partial.set(page.partial);
        }
    });
    view! {
        <Show
            when=move || events.with(|list| !list.is_empty()) || cursor.with(Option::is_some)
            fallback=|| view! { <p class="empty-state">"No events match this search."</p> }
        >
            <ul class="events" aria-label="Events found">
                <For each=move || events.get() key=|e| e.id let:event>
                    <EventRow event clock />
                </For>
            </ul>
        </Show>
        {move || partial.get().then(|| view! {
            <p class="partial" role="status">"Searched part of the period for this text; “Load more” searches further back."</p>
        })}
        <LoadMore cursor more />
    }
}

#[cfg(test)]
mod tests {
    use super::SearchView;

    #[test]
    fn the_url_carries_the_search_and_inputs_keep_seconds() {
        let view = SearchView { from: Some("7d".into()), text: Some("a b&c".into()), ..Default::default() };
        assert_eq!(view.href("/users/4"), "/users/4?from=7d&q=a%20b%26c#activity-search");
        let timeline = SearchView { timeline: true, ..Default::default() };
        assert_eq!(timeline.href("/users/4"), "/users/4?view=timeline#activity-search");
        assert_eq!(SearchView::input_value(&Some("2026-11-29T14:17:08Z".into())), "2026-11-29T14:17:08");
        assert_eq!(SearchView::input_value(&Some("2026-11-29T14:17".into())), "2026-11-29T14:17");
        assert_eq!(SearchView::input_value(&Some("24h".into())), "");
    }
}
