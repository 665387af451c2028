//! The Properties box's history: each change ("plan: free → pro, by api,
//! 3 d ago"), newest first, paged with "Load more".

use leptos::prelude::*;

use super::model::{value_words, PropertyChange, PropertyValue, HISTORY_PAGE};
use crate::activity::event_row::Clock;
use crate::error::AppError;
use crate::layout::ErrorMessage;
use crate::time::{format_exact, relative};
use crate::ui::{format_local, LoadMore};

/// A value in one line of words, a date in the viewer's zone once known.
fn words(value: &Option<PropertyValue>, local: bool) -> String {
    match value {
        Some(PropertyValue::Date(ms)) if local => format_local(*ms),
        other => value_words(other.as_ref()),
    }
}

#[component]
pub fn PropertyHistory(user_id: i64, first: Resource<Result<Vec<PropertyChange>, AppError>>) -> impl IntoView {
    view! {
        <details class="property-history">
            <summary>"History"</summary>
            <Transition fallback=|| view! { <p class="loading" role="status">"Loading the history…"</p> }>
                {move || Suspend::new(async move {
                    match first.await {
                        Ok(changes) if changes.is_empty() => {
                            view! { <p class="empty">"No property has changed yet."</p> }.into_any()
                        }
                        Ok(changes) => view! { <HistoryList user_id first=changes /> }.into_any(),
                        Err(error) => view! { <ErrorMessage error /> }.into_any(),
                    }
                })}
            </Transition>
        </details>
    }
}

#[component]
fn HistoryList(user_id: i64, first: Vec<PropertyChange>) -> impl IntoView {
    let page = HISTORY_PAGE as usize;
    let cursor = RwSignal::new(next_cursor(&first, page));
    let changes = RwSignal::new(first);
    let more = Action::new(move |before: &String| {
        let before = before.parse::<i64>().ok();
        async move { super::property_history(user_id, before).await }
    });
    Effect::new(move |_| {
        if let Some(Ok(next)) = more.value().get() {
            cursor.set(next_cursor(&next, page));
            changes.update(|list| list.extend(next));
        }
    });
    let clock = Clock::ticking();
    view! {
        <ol class="history" aria-label="Property changes, newest first">
            <For each=move || changes.get() key=|change| change.id let:change>
                <li>
                    <span class="mono">{change.name.clone()}</span>
                    ": "
                    {
                        let (old, new) = (change.old.clone(), change.new.clone());
                        move || format!("{} → {}", words(&old, clock.local.get()), words(&new, clock.local.get()))
                    }
                    ", by "
                    <span class="actor">{change.by.clone()}</span>
                    ", "
                    <time title=move || format_exact(change.at, clock.local.get())>
                        {move || relative(change.at, clock.now.get())}
                    </time>
                </li>
            </For>
        </ol>
        <LoadMore cursor more />
    }
}

/// The next page's cursor: the last id shown, when the page was full.
fn next_cursor(changes: &[PropertyChange], page: usize) -> Option<String> {
    (changes.len() >= page).then(|| changes.last().map(|c| c.id.to_string())).flatten()
}
