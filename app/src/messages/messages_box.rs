//! The profile's Private messages box: newest first, body on click.

use leptos::prelude::*;

use super::{list_messages, MessageBody};
use crate::layout::ErrorMessage;
use crate::model::MessageSummary;
use crate::time::format_ms;

#[component]
pub fn MessagesBox(user_id: i64) -> impl IntoView {
    let messages = Resource::new(move || user_id, list_messages);
    view! {
        <section class="box messages-box" aria-labelledby="messages-box-title">
            <h2 id="messages-box-title">"Private messages"</h2>
            <Transition fallback=|| view! { <p class="loading" role="status">"Loading messages…"</p> }>
                {move || Suspend::new(async move {
                    match messages.await {
                        Ok(list) if list.is_empty() => {
                            view! { <p class="hint">"No private messages yet."</p> }.into_any()
                        }
                        Ok(list) => view! {
                            <ul class="messages">
                                {list.into_iter().map(|message| view! { <MessageItem user_id message /> }).collect_view()}
                            </ul>
                        }
                        .into_any(),
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
                        {format!("{} · {} · {}", message.sender, message.source, format_ms(message.created_at))}
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
        </li>
    }
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
