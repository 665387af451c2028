//! The Audience > Users list page.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

use super::list_users;
use crate::layout::ErrorMessage;
use crate::model::{UserSummary, UsersPage as Page};
use crate::time::format_ms;

#[component]
pub fn UsersPage() -> impl IntoView {
    let query = use_query_map();
    let cursor = move || query.read().get("after");
    let page = Resource::new(cursor, list_users);

    view! {
        <Title text="Users" />
        <section class="page users-page">
            <header class="page-header">
                <h1>"Users"</h1>
            </header>
            <Transition fallback=|| {
                view! { <p class="loading" role="status">"Loading users…"</p> }
            }>
                {move || Suspend::new(async move {
                    match page.await {
                        Ok(page) => view! { <UsersTable page /> }.into_any(),
                        Err(error) => view! { <ErrorMessage error /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn UsersTable(page: Page) -> impl IntoView {
    if page.users.is_empty() {
        return view! {
            <div class="empty-state">
                <p>"No users yet."</p>
                <p class="hint">"Users appear here as soon as your app registers them through the ingest API."</p>
            </div>
        }
        .into_any();
    }
    let total = page.total;
    let next = page.next_cursor.map(|cursor| format!("/users?after={cursor}"));
    view! {
        <p class="count" aria-live="polite">
            {format!("{total} {}", if total == 1 { "user" } else { "users" })}
        </p>
        <table class="users-table">
            <thead>
                <tr>
                    <th scope="col">"User"</th>
                    <th scope="col">"userID"</th>
                    <th scope="col">"Email"</th>
                    <th scope="col">"Last seen"</th>
                    <th scope="col">"Created"</th>
                </tr>
            </thead>
            <tbody>
                {page.users.into_iter().map(|user| view! { <UserRow user /> }).collect_view()}
            </tbody>
        </table>
        <nav class="pager" aria-label="Pages">
            <A href="/users">"First page"</A>
            {next.map(|href| view! { <A href=href>"Next page"</A> })}
        </nav>
    }
    .into_any()
}

#[component]
fn UserRow(user: UserSummary) -> impl IntoView {
    let name = user.display_name().to_string();
    view! {
        <tr>
            <td class="user-name">{name}</td>
            <td class="mono">{user.external_id}</td>
            <td>{user.email.unwrap_or_default()}</td>
            <td>{user.last_seen_at.map(format_ms).unwrap_or_else(|| "never".into())}</td>
            <td>{format_ms(user.created_at)}</td>
        </tr>
    }
}
