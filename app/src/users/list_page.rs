//! Audience > Users: search as you type, sort, show deactivated, a segment
//! filter, keyset pages. The URL holds the whole view
//! (`?segment=&q=&sort=&deactivated=1&after=`), so it can be shared and
//! survives a reload.
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;

use super::{list_users, take_deleted_notice};
use crate::layout::ErrorMessage;
use crate::model::{UserSort, UserSummary, UsersPage as Page};
use crate::time::format_ms;
use crate::ui::{debounced, TYPING_PAUSE};

/// The view the URL describes.
#[derive(Debug, Clone, PartialEq, Default)]
struct ListView {
    search: String,
    sort: UserSort,
    deactivated: bool,
    /// Only the members of this segment (by name).
    segment: Option<String>,
    after: Option<String>,
}

/// The users list filtered to the members of the segment `name` (where a
/// segment chip leads).
pub fn segment_members_href(name: &str) -> String {
    ListView { segment: Some(name.to_string()), ..Default::default() }.href()
}

impl ListView {
    fn href(&self) -> String {
        let mut params: Vec<(&str, String)> = Vec::new();
        if let Some(segment) = &self.segment {
            params.push(("segment", segment.clone()));
        }
        if !self.search.is_empty() {
            params.push(("q", self.search.clone()));
        }
        if self.sort != UserSort::default() {
            params.push(("sort", self.sort.as_param().to_string()));
        }
        if self.deactivated {
            params.push(("deactivated", "1".into()));
        }
        if let Some(after) = &self.after {
            params.push(("after", after.clone()));
        }
        if params.is_empty() {
            return "/users".into();
        }
        // Spaces as %20: the router decodes percent-escapes but not `+`.
        let query = form_urlencoded::Serializer::new(String::new()).extend_pairs(params).finish().replace('+', "%20");
        format!("/users?{query}")
    }
}

#[component]
pub fn UsersPage() -> impl IntoView {
    let query = use_query_map();
    let view_state = Memo::new(move |_| {
        query.with(|q| ListView {
            // A plain form (no JavaScript) sends spaces as `+`, which the
            // router leaves as is; a typed `+` only separates words anyway.
            search: q.get("q").unwrap_or_default().replace('+', " "),
            sort: UserSort::from_param(&q.get("sort").unwrap_or_default()),
            deactivated: q.get("deactivated").is_some_and(|v| v == "1"),
            segment: q.get("segment").map(|s| s.replace('+', " ")).filter(|s| !s.trim().is_empty()),
            after: q.get("after").filter(|a| !a.is_empty()),
        })
    });
    // Reloads when the view changes or another app is chosen.
    let switched = use_context::<crate::layout::AppSwitch>();
    let page = Resource::new(
        move || (view_state.get(), switched.map(|s| s.version())),
        |(v, _)| list_users(Some(v.search), Some(v.sort), Some(v.deactivated), v.segment, v.after, None),
    );
    let navigate = use_navigate();
    let go = move |next: ListView, replace: bool| {
        navigate(&next.href(), NavigateOptions { replace, scroll: false, ..Default::default() });
    };
    let go = StoredValue::new(go);

    // Typing updates the box at once and the URL (and results) after a pause.
    let typed = RwSignal::new(view_state.get_untracked().search);
    let search_after_pause = debounced(TYPING_PAUSE, move |text: String| {
        let next = ListView { search: text.trim().to_string(), after: None, ..view_state.get_untracked() };
        go.with_value(|go| go(next, true));
    });
    let on_search = move |text: String| {
        typed.set(text.clone());
        search_after_pause(text);
    };
    let (pending, set_pending) = signal(false);
    let deleted = Resource::new(|| (), |_| take_deleted_notice());

    view! {
        <Title text="Users" />
        <section class="page users-page">
            <header class="page-header">
                <h1>"Users"</h1>
            </header>
            // After Options > Delete on a profile: what this session deleted,
            // kept in the session and shown once (never text from the URL).
            <Suspense>
                {move || Suspend::new(async move {
                    deleted.await.ok().flatten().map(|id| view! {
                        <p class="notice" role="status">
                            "Deleted user " <span class="mono">{id}</span> " and everything about them."
                        </p>
                    })
                })}
            </Suspense>
            {move || view_state.get().segment.map(|name| view! { <SegmentFilter name view=view_state.get() /> })}
            // A plain GET form: without JavaScript, Enter (or "Search") reloads
            // the list with the view in the URL; with it, typing does that live.
            <form
                class="list-controls"
                role="search"
                method="get"
                action="/users"
                on:submit=move |ev| {
                    ev.prevent_default();
                    let next = ListView { search: typed.get_untracked().trim().to_string(), after: None, ..view_state.get_untracked() };
                    go.with_value(|go| go(next, false));
                }
            >
                <label class="search">
                    <span class="visually-hidden">"Search users"</span>
                    <input
                        type="search"
                        placeholder="Search by userID, name or email"
                        name="q"
                        value=view_state.get_untracked().search
                        prop:value=move || typed.get()
                        on:input:target=move |ev| on_search(ev.target().value())
                    />
                </label>
                <label>
                    "Sort by "
                    <select name="sort" on:change:target=move |ev| {
                        let sort = UserSort::from_param(&ev.target().value());
                        go.with_value(|go| go(ListView { sort, after: None, ..view_state.get_untracked() }, false));
                    }>
                        {UserSort::ALL
                            .into_iter()
                            .map(|sort| {
                                view! {
                                    <option value=sort.as_param() selected=move || view_state.get().sort == sort>
                                        {sort.label()}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                </label>
                <label class="checkbox">
                    <input
                        type="checkbox"
                        name="deactivated"
                        value="1"
                        checked=view_state.get_untracked().deactivated
                        prop:checked=move || view_state.get().deactivated
                        on:change:target=move |ev| {
                            let deactivated = ev.target().checked();
                            go.with_value(|go| go(ListView { deactivated, after: None, ..view_state.get_untracked() }, false));
                        }
                    />
                    " Show deactivated"
                </label>
                // Without JavaScript the form keeps the segment filter too.
                {move || view_state.get().segment.map(|segment| view! { <input type="hidden" name="segment" value=segment /> })}
                <noscript>
                    <button type="submit">"Search"</button>
                </noscript>
                <span class="busy" role="status" aria-live="polite">{move || pending.get().then_some("Loading…")}</span>
            </form>
            <Transition
                fallback=|| view! { <p class="loading" role="status">"Loading users…"</p> }
                set_pending=set_pending
            >
                {move || Suspend::new(async move {
                    match page.await {
                        Ok(page) => view! { <UsersTable page view=view_state.get_untracked() /> }.into_any(),
                        Err(error) => view! { <ErrorMessage error /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// The segment filter as a chip whose cross (a plain link) removes it.
#[component]
fn SegmentFilter(name: String, view: ListView) -> impl IntoView {
    let without = ListView { segment: None, after: None, ..view }.href();
    let label = format!("Remove the filter segment {name}");
    view! {
        <p class="active-filters">
            "Members of segment "
            <span class="chip filter-chip">
                <span class="chip-name">{name}</span>
                <a class="chip-remove" href=without aria-label=label.clone() title=label>
                    <span aria-hidden="true">"×"</span>
                </a>
            </span>
        </p>
    }
}

#[component]
fn UsersTable(page: Page, view: ListView) -> impl IntoView {
    if page.users.is_empty() && !page.partial {
        let message = match (&view.segment, view.search.is_empty()) {
            (None, true) => {
                "No users yet. Users appear here as soon as your app registers them through the ingest API.".to_string()
            }
            (None, false) => format!("No users match “{}”.", view.search),
            (Some(segment), true) => format!("No users in segment “{segment}”."),
            (Some(segment), false) => format!("No users in segment “{segment}” match “{}”.", view.search),
        };
        return view! { <div class="empty-state"><p>{message}</p></div> }.into_any();
    }
    let count = page.count_label();
    let rows = RwSignal::new(page.users);
    let next_cursor = RwSignal::new(page.next_cursor);
    let searching = RwSignal::new(page.partial);
    let failed = RwSignal::new(None::<crate::error::AppError>);
    if page.partial {
        // The server answered what it found within its rounds, in order:
        // the browser asks for the rest until the page is full.
        fill_in(view.clone(), rows, next_cursor, searching, failed);
    }
    let status = move || {
        let found = rows.with(Vec::len);
        searching.get().then(|| {
            let words = match found {
                0 => "Still searching: no matches yet.".to_string(),
                1 => "Still searching: the first match so far.".to_string(),
                n => format!("Still searching: the first {n} matches so far."),
            };
            view! { <p class="partial" role="status">{words}</p> }
        })
    };
    let continue_link = {
        let view = view.clone();
        move || {
            // Without JavaScript nothing fills in: a link goes on instead.
            searching.get().then(|| next_cursor.get()).flatten().map(|cursor| {
                let href = ListView { after: Some(cursor), ..view.clone() }.href();
                view! { <noscript><a href=href>"Continue searching"</a></noscript> }
            })
        }
    };
    let next = {
        let view = view.clone();
        move || {
            (!searching.get()).then(|| next_cursor.get()).flatten().map(|cursor| {
                let href = ListView { after: Some(cursor), ..view.clone() }.href();
                view! { <a href=href>"Next page"</a> }
            })
        }
    };
    let first = view.after.is_some().then(|| ListView { after: None, ..view.clone() }.href());
    view! {
        {count.map(|count| view! { <p class="count">{count}</p> })}
        {status}
        {move || failed.get().map(|error| view! { <ErrorMessage error /> })}
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
            <tbody>{move || rows.get().into_iter().map(|user| view! { <UserRow user /> }).collect_view()}</tbody>
        </table>
        <nav class="pager" aria-label="Pages">
            // Plain links (the router still navigates in place): `<A>` would
            // mark them aria-current, as they share the list's path.
            {first.map(|href| view! { <a href=href>"First page"</a> })}
            {next}
            {continue_link}
        </nav>
    }
    .into_any()
}

/// Asks for the rest of a partial page (in the browser, once hydrated)
/// until it holds a page of users or the search reaches the end; stops
/// when the view goes away.
fn fill_in(
    view: ListView,
    rows: RwSignal<Vec<UserSummary>>,
    next_cursor: RwSignal<Option<String>>,
    searching: RwSignal<bool>,
    failed: RwSignal<Option<crate::error::AppError>>,
) {
    // An effect runs only in the browser, after hydration.
    Effect::new(move |_| {
        let view = view.clone();
        leptos::task::spawn_local(async move {
            while searching.try_get_untracked() == Some(true) {
                let (Some(have), Some(Some(cursor))) =
                    (rows.try_with_untracked(Vec::len), next_cursor.try_get_untracked())
                else {
                    let _ = searching.try_set(false);
                    break;
                };
                let wanted = Page::PAGE_SIZE - have as i64;
                let answer = list_users(
                    Some(view.search.clone()),
                    Some(view.sort),
                    Some(view.deactivated),
                    view.segment.clone(),
                    Some(cursor),
                    Some(wanted),
                )
                .await;
                match answer {
                    Ok(more) => {
                        let done = !more.partial;
                        let _ = rows.try_update(|rows| rows.extend(more.users));
                        let _ = next_cursor.try_set(more.next_cursor);
                        if done {
                            let _ = searching.try_set(false);
                        }
                    }
                    Err(error) => {
                        let _ = failed.try_set(Some(error));
                        let _ = searching.try_set(false);
                    }
                }
            }
        });
    });
}

#[component]
fn UserRow(user: UserSummary) -> impl IntoView {
    let name = user.display_name().to_string();
    let href = format!("/users/{}", user.id);
    view! {
        <tr class:deactivated=!user.active>
            <td class="user-name">
                <A href=href>{name}</A>
                {(!user.active).then(|| view! { <span class="badge">"Deactivated"</span> })}
            </td>
            <td class="mono">{user.external_id}</td>
            <td>{user.email.unwrap_or_default()}</td>
            <td>{user.last_seen_at.map(format_ms).unwrap_or_else(|| "never".into())}</td>
            <td>{format_ms(user.created_at)}</td>
        </tr>
    }
}
