//! The profile's Private messages box: newest first, body on click, and
//! where each device is with each message (queued, delivered, opened). It
//! reloads when the live channel says the user's messages changed.

use leptos::prelude::*;

use super::model::{Delivery, DeliveryStatus, MessagesPage, MAX_MESSAGES_SHOWN, MESSAGES_PAGE};
use super::{list_messages, MessageBody};
use crate::error::AppError;
use crate::layout::ErrorMessage;
use crate::live::use_live;
use crate::model::MessageSummary;
use crate::time::format_ms;
use crate::ui::LocalTime;

/// The Private messages box's list and what it is keyed on. The profile page
/// makes it before its first `Suspend`, not the box (see
/// `activity::load_activity`): a profile grid rendered twice on the server
/// made a second list with a new serialization id, and the browser, which
/// renders the grid once, hydrated the page's HTML with the first one's
/// data (a hydration panic: an inert page).
#[derive(Clone, Copy)]
pub struct MessagesState {
    pub list: Resource<Result<MessagesPage, AppError>>,
    /// How many are shown; "Load more" raises it a page at a time (the list
    /// is read again whole, so every shown message's deliveries stay live).
    pub shown: RwSignal<i64>,
    /// The live channel's count of changes to the user's messages (0 on the
    /// server and at hydration), copied in by the box: a new message or
    /// delivery reloads the list.
    pub changes: RwSignal<u64>,
}

impl MessagesState {
    pub fn new(user_id: Memo<Option<i64>>) -> Self {
        let shown = RwSignal::new(MESSAGES_PAGE);
        let changes = RwSignal::new(0);
        let list = Resource::new(
            move || (user_id.get(), changes.get(), shown.get()),
            |(user_id, _, limit)| async move {
                match user_id {
                    Some(user_id) => list_messages(user_id, limit).await,
                    None => Ok(MessagesPage { messages: Vec::new(), more: false }),
                }
            },
        );
        // Another profile (the page stays when only its id changes) starts
        // at the first page again. Effects run in the browser only.
        Effect::new(move |previous: Option<Option<i64>>| {
            let user = user_id.get();
            if previous.is_some_and(|previous| previous != user) {
                shown.set(MESSAGES_PAGE);
            }
            user
        });
        MessagesState { list, shown, changes }
    }
}

#[component]
pub fn MessagesBox(user_id: i64, state: MessagesState) -> impl IntoView {
    let MessagesState { list: messages, shown, changes } = state;
    if let Some(feed) = use_live() {
        // Effects run in the browser only, after hydration.
        Effect::new(move |_| {
            let count = feed.messages.get();
            if count != changes.get_untracked() {
                changes.set(count);
            }
        });
    }
    view! {
        <section class="box messages-box" aria-labelledby="messages-box-title">
            <h2 id="messages-box-title">"Private messages"</h2>
            <Transition fallback=|| view! { <p class="loading" role="status">"Loading messages…"</p> }>
                {move || Suspend::new(async move {
                    match messages.await {
                        Ok(page) if page.messages.is_empty() => {
                            view! { <p class="hint">"No private messages yet."</p> }.into_any()
                        }
                        Ok(page) => {
                            let count = page.messages.len() as i64;
                            let can_load = page.more && count < MAX_MESSAGES_SHOWN;
                            view! {
                                <ul class="messages">
                                    {page
                                        .messages
                                        .into_iter()
                                        .map(|message| view! { <MessageItem user_id message /> })
                                        .collect_view()}
                                </ul>
                                {can_load.then(|| view! {
                                    <button
                                        type="button"
                                        class="load-more"
                                        on:click=move |_| shown.update(|n| *n = (count + MESSAGES_PAGE).min(MAX_MESSAGES_SHOWN))
                                    >
                                        "Load more"
                                    </button>
                                })}
                                {(page.more && !can_load).then(|| view! {
                                    <p class="hint">{format!("Showing the newest {MAX_MESSAGES_SHOWN}; Options › Export has them all.")}</p>
                                })}
                            }
                            .into_any()
                        }
                        Err(error) => view! { <ErrorMessage error /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn MessageItem(user_id: i64, message: MessageSummary) -> impl IntoView {
    view! {
        <li class="message">
            <details>
                <summary>
                    <span class="message-title">{message.title}</span>
                    <span class="message-meta">
                        {format!("{} · {} · ", message.sender, message.source)}
                        <LocalTime ms=message.created_at />
                    </span>
                </summary>
                <MessageText user_id message_id=message.id preview=message.preview truncated=message.truncated />
                {(!message.attachments.is_empty()).then(|| view! {
                    <ul class="attachments" aria-label="Attachments">
                        {message
                            .attachments
                            .into_iter()
                            .map(|a| view! { <li>{format!("📎 {} ({} bytes)", a.name, a.size)}</li> })
                            .collect_view()}
                    </ul>
                })}
            </details>
            <Deliveries deliveries=message.deliveries />
        </li>
    }
}

fn status_text(delivery: &Delivery) -> String {
    match delivery.status {
        DeliveryStatus::Queued => "Queued".into(),
        DeliveryStatus::Delivered => {
            format!("Delivered {}", delivery.delivered_at.map(format_ms).unwrap_or_default())
        }
        DeliveryStatus::Opened => format!("Opened {}", delivery.opened_at.map(format_ms).unwrap_or_default()),
    }
}

/// Where each device is with the message, in words.
#[component]
fn Deliveries(deliveries: Vec<Delivery>) -> impl IntoView {
    if deliveries.is_empty() {
        return view! { <p class="hint deliveries-none">"Not sent to any device (the user had none)."</p> }.into_any();
    }
    view! {
        <ul class="deliveries" aria-label="Deliveries">
            {deliveries
                .into_iter()
                .map(|delivery| {
                    let status = delivery.status.as_str();
                    let text = status_text(&delivery);
                    view! {
                        <li data-status=status>
                            <span class="delivery-device">{delivery.device_name}</span>
                            ": "
                            <span class="delivery-status">{text}</span>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
    .into_any()
}

/// A message's text: the preview, and for a long one a button that loads the rest.
#[component]
fn MessageText(user_id: i64, message_id: i64, preview: String, truncated: bool) -> impl IntoView {
    let load = ServerAction::<MessageBody>::new();
    let whole = move || load.value().get().and_then(Result::ok);
    let error = move || load.value().get().and_then(Result::err);
    view! {
        <div class="message-body">{move || whole().unwrap_or_else(|| preview.clone())}</div>
        {truncated.then(|| view! {
            <Show when=move || whole().is_none()>
                <button
                    type="button"
                    class="link-button"
                    disabled=move || load.pending().get()
                    on:click=move |_| {
                        load.dispatch(MessageBody { user_id, message_id });
                    }
                >
                    {move || if load.pending().get() { "Loading…" } else { "Show the whole message" }}
                </button>
            </Show>
        })}
        {move || error().map(|error| view! { <ErrorMessage error /> })}
    }
}
