//! The unified timeline: events, private messages, Push Mail changes,
//! segment changes and admin actions on this user in one stream, newest
//! first, with "Load more".

use leptos::prelude::*;

use super::activity_timeline;
use super::event_row::Clock;
use super::model::{TimelineEntry, TimelineKind};
use crate::time::{format_exact, relative};
use crate::ui::LoadMore;

fn kind_label(kind: TimelineKind) -> &'static str {
    match kind {
        TimelineKind::Event => "Event",
        TimelineKind::Message => "Message",
        TimelineKind::Audit => "Change",
        TimelineKind::Property => "Property",
        TimelineKind::Note => "Note",
    }
}

#[component]
pub fn TimelineList(user_id: i64, entries: Vec<TimelineEntry>, next: Option<String>) -> impl IntoView {
    let clock = Clock::ticking();
    let entries = RwSignal::new(entries);
    let cursor = RwSignal::new(next);
    let interactive = crate::ui::hydrated();
    let more = Action::new(move |cursor: &String| activity_timeline(user_id, Some(cursor.clone())));
    Effect::new(move |_| {
        if let Some(Ok(page)) = more.value().get() {
            entries.update(|list| {
                for entry in page.entries {
                    if !list.iter().any(|e| e.kind == entry.kind && e.id == entry.id) {
                        list.push(entry);
                    }
                }
            });
            cursor.set(page.next_cursor);
        }
    });
    view! {
        <Show
            when=move || entries.with(|list| !list.is_empty())
            fallback=|| view! { <p class="empty-state">"Nothing has happened to this user yet."</p> }
        >
            <ol class="timeline" aria-label="Unified timeline" data-ready=move || interactive.get().then_some("true")>
                <For each=move || entries.get() key=|e| (e.kind.rank(), e.id) let:entry>
                    <li class="timeline-entry" data-kind=kind_label(entry.kind)>
                        <span class="kind-badge">{kind_label(entry.kind)}</span>
                        <span class="timeline-title">{entry.title.clone()}</span>
                        {(!entry.detail.is_empty()).then(|| view! { <span class="timeline-detail">{entry.detail.clone()}</span> })}
                        {entry.actor.clone().map(|actor| view! { <span class="timeline-actor">{format!("by {actor}")}</span> })}
                        <time title=move || format_exact(entry.at, clock.local.get())>
                            {move || relative(entry.at, clock.now.get())}
                        </time>
                    </li>
                </For>
            </ol>
        </Show>
        <LoadMore cursor more />
    }
}
