//! The profile's Private messages box: newest first, body on click.

use leptos::prelude::*;

use super::list_messages;
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
                                {list.into_iter().map(|message| view! { <MessageItem message /> }).collect_view()}
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
fn MessageItem(message: MessageSummary) -> impl IntoView {
    view! {
        <li class="message">
            <details>
                <summary>
                    <span class="message-title">{message.title}</span>
                    <span class="message-meta">
                        {format!("{} · {} · {}", message.sender, message.source, format_ms(message.created_at))}
                    </span>
                </summary>
                <div class="message-body">{message.body}</div>
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
