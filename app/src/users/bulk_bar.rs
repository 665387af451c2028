//! Bulk actions on the users list (admins): tick users on the page, or
//! "Select all N matching" for every page of the view; then Add to segment,
//! Remove from segment, Export (CSV, JSON), Deactivate, Reactivate or
//! Delete (confirmed by typing the number of users). Each action is a job:
//! its progress shows here, and in Audience > Jobs.
//!
//! The bar's code (its form, server calls and a job's progress) is a wasm
//! chunk of its own, loaded the first time something is selected: the
//! users list is the console's first page, and most visits never select.
//! Nothing selected is the state the server renders, so the bar is not in
//! the server's HTML and hydration does not wait for the chunk.

use std::collections::BTreeSet;

use leptos::prelude::*;
use leptos_router::components::A;

use crate::jobs::model::Job;
use crate::jobs::{count_matching, get_job, JobProgress};
use crate::layout::ErrorMessage;
use crate::model::properties::grouped;
use crate::ui::every;
use crate::user_view::ListView;

/// What is selected (ticked users, or every user the view matches), and
/// the job last started from it: kept by the page, so a reloaded list
/// keeps showing the job's outcome.
#[derive(Clone, Copy)]
pub struct Selected {
    pub ticked: RwSignal<BTreeSet<i64>>,
    pub all_matching: RwSignal<bool>,
    pub started: RwSignal<Option<i64>>,
    /// The started job whose end the list has reloaded for (once).
    pub ended: RwSignal<Option<i64>>,
}

impl Selected {
    pub fn new() -> Selected {
        Selected {
            ticked: RwSignal::new(BTreeSet::new()),
            all_matching: RwSignal::new(false),
            started: RwSignal::new(None),
            ended: RwSignal::new(None),
        }
    }

    /// Ticks or unticks one user (a change of ticks ends "all matching").
    pub fn tick(&self, id: i64, on: bool) {
        self.all_matching.set(false);
        self.ticked.update(|ticked| {
            if on {
                ticked.insert(id);
            } else {
                ticked.remove(&id);
            }
        });
    }

    pub fn clear(&self) {
        self.ticked.set(BTreeSet::new());
        self.all_matching.set(false);
    }

    pub(super) fn any(&self) -> bool {
        self.all_matching.get() || !self.ticked.with(BTreeSet::is_empty)
    }

    /// The ticked ids, comma-separated (empty for "all matching").
    fn ids(&self) -> String {
        if self.all_matching.get() {
            return String::new();
        }
        self.ticked.with(|ids| ids.iter().map(i64::to_string).collect::<Vec<_>>().join(","))
    }
}

/// The actions, as the server function names them, with their labels.
const ACTIONS: [(&str, &str); 5] = [
    ("add_to_segment", "Add to segment"),
    ("remove_from_segment", "Remove from segment"),
    ("deactivate", "Deactivate"),
    ("reactivate", "Reactivate"),
    ("delete", "Delete"),
];

/// What the bar shows and acts on: `count` is the page's count of matches
/// (`at_least`: a lower bound); `page_ids` the users on this page; `done`
/// runs when a job ends. One value, as the lazy function takes it.
#[derive(Clone)]
struct BulkInput {
    view: ListView,
    count: i64,
    at_least: bool,
    page_ids: Vec<i64>,
    selected: Selected,
    done: Callback<()>,
}

/// The bar above the list, once anything was selected or a job started
/// from it (then it stays, so its form keeps what was typed). What is
/// selected is announced by a live region that is on the page from the
/// start (empty in the server's HTML): screen readers pass over a region
/// that arrives with its text.
#[component]
pub fn LazyBulkBar(
    view: ListView,
    count: i64,
    at_least: bool,
    page_ids: Vec<i64>,
    selected: Selected,
    done: Callback<()>,
) -> impl IntoView {
    let input = BulkInput { view, count, at_least, page_ids, selected, done };
    let wanted = Memo::new(move |was: Option<&bool>| {
        let now = selected.any() || selected.started.get().is_some();
        was.copied().unwrap_or(false) || now
    });
    let count = StoredValue::new(count_words(input.count, input.at_least));
    let announced =
        move || if wanted.get() { count.with_value(|count| selection_words(selected, count)) } else { String::new() };
    view! {
        <p class="visually-hidden" role="status" aria-live="polite">{announced}</p>
        {move || {
            wanted.get().then(|| {
                let input = input.clone();
                view! {
                    <Suspense fallback=|| view! { <p class="loading">"Loading the bulk actions…"</p> }>
                        {Suspend::new(async move { bulk_bar(input).await })}
                    </Suspense>
                }
            })
        }}
    }
}

/// The number of matches as the bar words it.
fn count_words(count: i64, at_least: bool) -> String {
    if at_least {
        format!("at least {}", grouped(count as f64))
    } else {
        grouped(count as f64)
    }
}

/// "12 selected", or "All 1,234 matching users selected".
fn selection_words(selected: Selected, count_words: &str) -> String {
    if selected.all_matching.get() {
        format!("All {count_words} matching users selected")
    } else {
        format!("{} selected", selected.ticked.with(BTreeSet::len))
    }
}

/// The bar's code, in its own chunk (see the module's doc).
#[lazy]
fn bulk_bar(input: BulkInput) -> AnyView {
    view! { <BulkBar input /> }.into_any()
}

/// The bar: the selection, the actions, a started job's progress.
#[component]
fn BulkBar(input: BulkInput) -> impl IntoView {
    let BulkInput { view, count, at_least, page_ids, selected, done } = input;
    let action = RwSignal::new("add_to_segment".to_string());
    let segment = RwSignal::new(String::new());
    let confirmation = RwSignal::new(String::new());
    // A plain action over the server function (not an ActionForm): the
    // form's values are the signals here, and the users page, the first
    // one loaded, carries no form-reading code.
    let start = Action::new(move |(view, ids): &(String, String)| {
        let (action, view, ids) = (action.get_untracked(), Some(view.clone()), Some(ids.clone()));
        let segment = Some(segment.get_untracked()).filter(|_| action.ends_with("segment"));
        let confirmation = Some(confirmation.get_untracked()).filter(|_| action == "delete");
        crate::jobs::start_bulk(action, view, ids, segment, confirmation)
    });
    let started = selected.started;
    Effect::new(move |_| {
        if let Some(Ok(job)) = start.value().get() {
            started.set(Some(job.id));
        }
    });
    let query = view.selection_query();
    let page_count = page_ids.len();
    let more_than_page = count > page_count as i64 || at_least;
    let count_words = StoredValue::new(count_words(count, at_least));
    let selection_words = move || count_words.with_value(|count| selection_words(selected, count));
    let every_on_page = {
        let page_ids = page_ids.clone();
        move || !page_ids.is_empty() && selected.ticked.with(|t| page_ids.iter().all(|id| t.contains(id)))
    };
    let export_href = {
        let query = query.clone();
        let columns = view.columns.join(",");
        move |format: &str| {
            let pairs = [("view", query.clone()), ("ids", selected.ids()), ("cols", columns.clone())];
            let encoded = form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
            format!("/api/users/export.{format}?{encoded}")
        }
    };
    let export_href = StoredValue::new(export_href);
    let query = StoredValue::new(query);
    view! {
        <div class="bulk-bar" role="region" aria-label="Bulk actions" hidden=move || !selected.any() && started.get().is_none()>
            <p class="bulk-selection">{selection_words}</p>
            {move || (every_on_page() && more_than_page && !selected.all_matching.get()).then(|| view! {
                <button type="button" class="link-button" on:click=move |_| selected.all_matching.set(true)>
                    {format!("Select all {} matching", count_words.get_value())}
                </button>
            })}
            <button type="button" class="link-button" on:click=move |_| selected.clear()>"Clear selection"</button>
            <form class="bulk-form" on:submit=move |ev| {
                ev.prevent_default();
                start.dispatch((query.get_value(), selected.ids()));
            }>
                <label for="bulk-action">"Action"</label>
                <select id="bulk-action" name="action" on:change:target=move |ev| action.set(ev.target().value())>
                    {ACTIONS.into_iter().map(|(value, label)| view! { <option value=value>{label}</option> }).collect_view()}
                </select>
                {move || action.with(|a| a.ends_with("segment")).then(|| view! {
                    <label for="bulk-segment">"Segment"</label>
                    <input id="bulk-segment" type="text" name="segment" required maxlength="64" autocomplete="off"
                        placeholder="Name (a new one is created)" on:input:target=move |ev| segment.set(ev.target().value()) />
                })}
                {move || (action.get() == "delete").then(|| view! { <DeleteConfirmation query=query.get_value() selected confirmation /> })}
                <button type="submit" class="primary small" disabled=move || start.pending().get()>"Apply"</button>
            </form>
            <span class="bulk-export">
                "Export: "
                <a href=move || export_href.with_value(|href| href("csv")) download>"CSV"</a>
                " · "
                <a href=move || export_href.with_value(|href| href("json")) download>"JSON"</a>
            </span>
            {move || start.value().get().and_then(Result::err).map(|error| view! { <ErrorMessage error /> })}
            {move || started.get().map(|id| view! { <StartedJob id selected done /> })}
        </div>
    }
}

/// Deleting asks for the number of users, typed: counted exactly for "all
/// matching" (the list's own count stops at a bound).
#[component]
fn DeleteConfirmation(query: String, selected: Selected, confirmation: RwSignal<String>) -> impl IntoView {
    let exact = Resource::new(
        move || selected.all_matching.get(),
        move |all| {
            let query = query.clone();
            async move {
                if all {
                    count_matching(query).await.map(Some)
                } else {
                    Ok(None)
                }
            }
        },
    );
    let number = move || match exact.get() {
        Some(Ok(Some(n))) => Some(n),
        _ if !selected.all_matching.get() => Some(selected.ticked.with(BTreeSet::len) as i64),
        _ => None,
    };
    view! {
        <label class="danger-confirm" for="bulk-confirmation">
            {move || match number() {
                Some(n) => format!("Deleting erases these users and everything about them. Type {} to confirm", grouped(n as f64)),
                None => "Counting the users to delete…".to_string(),
            }}
        </label>
        <input id="bulk-confirmation" type="text" name="confirmation" required inputmode="numeric" autocomplete="off"
            on:input:target=move |ev| confirmation.set(ev.target().value()) />
    }
}

/// A started job's progress, asked for every second until it ends; then
/// the list reloads.
#[component]
fn StartedJob(id: i64, selected: Selected, done: Callback<()>) -> impl IntoView {
    let tick = RwSignal::new(0u64);
    let job = Resource::new(move || tick.get(), move |_| get_job(id));
    let finished = RwSignal::new(false);
    every(std::time::Duration::from_secs(1), move || {
        if !finished.get_untracked() {
            tick.update(|t| *t += 1);
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(detail)) = job.get() {
            if detail.job.status.is_finished() && !finished.get_untracked() {
                finished.set(true);
                // The reloaded list shows this again: reload once per job.
                if selected.ended.get_untracked() != Some(id) {
                    selected.ended.set(Some(id));
                    selected.clear();
                    done.run(());
                }
            }
        }
    });
    let show = move |job: Job, now: i64| {
        let href = format!("/jobs/{}", job.id);
        view! {
            <div class="bulk-job">
                <p><strong>{job.description.clone()}</strong> " · " <A href=href>"Open in Jobs"</A></p>
                <JobProgress job=job.clone() now />
                {job.status.is_finished().then(|| view! { <p class="job-outcome">{job.outcome_words()}</p> })}
                {job.error.clone().map(|error| view! { <p class="error" role="alert">{error}</p> })}
            </div>
        }
    };
    view! {
        <Transition fallback=|| view! { <p class="loading" role="status">"Starting…"</p> }>
            {move || Suspend::new(async move {
                match job.await {
                    Ok(detail) => show(detail.job, detail.now).into_any(),
                    Err(error) => view! { <ErrorMessage error /> }.into_any(),
                }
            })}
        </Transition>
    }
}
