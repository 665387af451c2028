//! Audience > Users: search as you type, sort, show deactivated, segment,
//! activity and property filters, property columns, keyset pages. The URL
//! holds the whole view ([`ListView`]), so it can be shared and survives a
//! reload.
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;

use super::bulk_bar::{LazyBulkBar, Selected};
use super::property_filters::{ColumnHeader, ColumnPicker, PropertyFilterChips, PropertyFilterForm};
use super::{list_users, take_deleted_notice};
use crate::error::AppError;
use crate::layout::{ErrorMessage, MeResource};
use crate::model::users::ActiveWithin;
use crate::model::users::ColumnValue;
use crate::model::{UserSort, UserSummary, UsersPage as Page};
use crate::ui::LocalTime;
use crate::ui::{debounced, TYPING_PAUSE};
use crate::user_view::ListView;

#[component]
pub fn UsersPage() -> impl IntoView {
    let query = use_query_map();
    let view_state =
        Memo::new(move |_| query.with(|q| ListView::from_pairs(q.into_iter().map(|(k, v)| (k.as_ref(), v)))));
    // Reloads when the view changes or another app is chosen.
    let switched = use_context::<crate::layout::AppSwitch>();
    let page = Resource::new(move || (view_state.get(), switched.map(|s| s.version())), |(v, _)| fetch_page(v));
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
    let me = expect_context::<MeResource>();
    // A new view starts with nothing selected.
    let selected = Selected::new();
    Effect::new(move |_| {
        view_state.track();
        selected.ticked.set(Default::default());
        selected.all_matching.set(false);
    });
    let reload = Callback::new(move |()| page.refetch());

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
            {move || view_state.get().active.map(|window| view! { <ActiveFilter window view=view_state.get() /> })}
            {move || view! { <PropertyFilterChips view=view_state.get() /> }}
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
                {move || view_state.get().active.map(|w| view! { <input type="hidden" name="active" value=w.as_param() /> })}
                {move || {
                    let v = view_state.get();
                    let columns = (!v.columns.is_empty()).then(|| v.columns.join(","));
                    v.properties
                        .iter()
                        .map(|f| f.to_param())
                        .chain(columns.map(|c| ("cols".to_string(), c)))
                        .map(|(name, value)| view! { <input type="hidden" name=name value=value /> })
                        .collect_view()
                }}
                <noscript>
                    <button type="submit">"Search"</button>
                </noscript>
                <span class="busy" role="status" aria-live="polite">{move || pending.get().then_some("Loading…")}</span>
            </form>
            <div class="list-tools">
                {move || view! { <PropertyFilterForm view=view_state.get() /> }}
                {move || view! { <ColumnPicker view=view_state.get() /> }}
            </div>
            <Transition
                fallback=|| view! { <p class="loading" role="status">"Loading users…"</p> }
                set_pending=set_pending
            >
                {move || Suspend::new(async move {
                    let can_edit = me.await.is_ok_and(|me| me.can_edit());
                    match page.await {
                        Ok(page) => {
                            let bulk = can_edit.then_some((selected, reload));
                            view! { <UsersTable page view=view_state.get_untracked() bulk /> }.into_any()
                        }
                        Err(error) => view! { <ErrorMessage error /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// The view's page, complete: while an answer says its search is not
/// finished (it ran out of rounds before the page filled), the rest is asked
/// for from where it stopped. On the server this runs before the page is
/// sent, so a page without JavaScript is complete too.
async fn fetch_page(v: ListView) -> Result<Page, AppError> {
    if let Some(message) = &v.bad_property {
        return Err(AppError::invalid("properties", message.clone()));
    }
    let properties = v.properties_query();
    let columns = v.columns.join(",");
    let ask = |cursor: Option<String>, limit: Option<i64>| {
        let active = v.active.map(|w| w.as_param().to_string());
        let (search, segment) = (Some(v.search.clone()), v.segment.clone());
        let (properties, columns) = (Some(properties.clone()), Some(columns.clone()));
        list_users(search, Some(v.sort), Some(v.deactivated), segment, active, cursor, limit, properties, columns)
    };
    let mut page = ask(v.after.clone(), None).await?;
    while page.partial {
        let Some(cursor) = page.next_cursor.clone() else { break };
        let more = ask(Some(cursor), Some(Page::PAGE_SIZE - page.users.len() as i64)).await?;
        page.users.extend(more.users);
        page.column_values.extend(more.column_values);
        (page.partial, page.next_cursor) = (more.partial, more.next_cursor);
    }
    Ok(page)
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

/// The activity filter as a chip whose cross (a plain link) removes it.
#[component]
fn ActiveFilter(window: ActiveWithin, view: ListView) -> impl IntoView {
    let without = ListView { active: None, after: None, ..view }.href();
    let label = format!("Remove the filter active in {}", window.label());
    view! {
        <p class="active-filters">
            "Active in "
            <span class="chip filter-chip">
                <span class="chip-name">{window.label()}</span>
                <a class="chip-remove" href=without aria-label=label.clone() title=label>
                    <span aria-hidden="true">"×"</span>
                </a>
            </span>
        </p>
    }
}

/// The page's users; with `bulk` (admins), a column of checkboxes and the
/// bulk actions' bar.
#[component]
fn UsersTable(page: Page, view: ListView, bulk: Option<(Selected, Callback<()>)>) -> impl IntoView {
    if page.users.is_empty() && !page.partial {
        let message = match (&view.segment, view.search.is_empty()) {
            _ if !view.properties.is_empty() => "No users match these property filters in this view.".to_string(),
            _ if view.active.is_some() => {
                format!("No users active in {} match this view.", view.active.map_or("", ActiveWithin::label))
            }
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
    // The fetch goes on until the page is full, so a partial page is one
    // whose rest could not be read (an error): it says so, and its link
    // goes on from where the search stopped.
    let partial = page.partial.then(|| {
        view! { <p class="partial" role="status">"The search is not finished: these are its first matches, in order."</p> }
    });
    let next = page.next_cursor.map(|cursor| ListView { after: Some(cursor), ..view.clone() }.href());
    let first = view.after.is_some().then(|| ListView { after: None, ..view.clone() }.href());
    let page_ids: Vec<i64> = page.users.iter().map(|u| u.id).collect();
    let ready = crate::ui::hydrated();
    let bar = bulk.map(|(selected, done)| {
        view! { <LazyBulkBar view=view.clone() count=page.total at_least=page.total_is_more page_ids=page_ids.clone() selected done /> }
    });
    let selected = bulk.map(|(selected, _)| selected);
    let tick_page = selected.map(|selected| {
        let ids = page_ids.clone();
        let all_ticked = {
            let ids = ids.clone();
            move || !ids.is_empty() && selected.ticked.with(|t| ids.iter().all(|id| t.contains(id)))
        };
        view! {
            <th scope="col" class="select">
                <input
                    type="checkbox"
                    aria-label="Select every user on this page"
                    disabled=move || !ready.get()
                    prop:checked=all_ticked
                    on:change:target=move |ev| {
                        let on = ev.target().checked();
                        for id in &ids {
                            selected.tick(*id, on);
                        }
                    }
                />
            </th>
        }
    });
    let rows = (!page.users.is_empty()).then(|| {
        view! {
            <table class="users-table" class:selectable=selected.is_some()>
                <thead>
                    <tr>
                        {tick_page}
                        <th scope="col">"User"</th>
                        <th scope="col">"userID"</th>
                        <th scope="col">"Email"</th>
                        <th scope="col">"Last seen"</th>
                        <th scope="col">"Created"</th>
                        {view.columns.iter().map(|name| view! { <ColumnHeader name=name.clone() view=view.clone() /> }).collect_view()}
                    </tr>
                </thead>
                <tbody>
                    {page
                        .users
                        .into_iter()
                        .enumerate()
                        .map(|(i, user)| {
                            let values = page.column_values.get(i).cloned().unwrap_or_default();
                            view! { <UserRow user values selected ready /> }
                        })
                        .collect_view()}
                </tbody>
            </table>
        }
    });
    view! {
        {count.map(|count| view! { <p class="count">{count}</p> })}
        {bar}
        {partial}
        {rows}
        <nav class="pager" aria-label="Pages">
            // Plain links (the router still navigates in place): `<A>` would
            // mark them aria-current, as they share the list's path.
            {first.map(|href| view! { <a href=href>"First page"</a> })}
            {next.map(|href| {
                let label = if page.partial { "Continue searching" } else { "Next page" };
                view! { <a href=href>{label}</a> }
            })}
        </nav>
    }
    .into_any()
}

#[component]
fn UserRow(
    user: UserSummary,
    values: Vec<Option<ColumnValue>>,
    selected: Option<Selected>,
    ready: Signal<bool>,
) -> impl IntoView {
    let name = user.display_name().to_string();
    let href = format!("/users/{}", user.id);
    let id = user.id;
    let tick = selected.map(|selected| {
        let label = format!("Select {name}");
        view! {
            <td class="select">
                <input
                    type="checkbox"
                    aria-label=label
                    disabled=move || !ready.get()
                    prop:checked=move || selected.all_matching.get() || selected.ticked.with(|t| t.contains(&id))
                    on:change:target=move |ev| selected.tick(id, ev.target().checked())
                />
            </td>
        }
    });
    view! {
        <tr class:deactivated=!user.active>
            {tick}
            <td class="user-name">
                <A href=href>{name}</A>
                {(!user.active).then(|| view! { <span class="badge">"Deactivated"</span> })}
            </td>
            <td class="mono">{user.external_id}</td>
            <td>{user.email.unwrap_or_default()}</td>
            <td>
                {match user.last_seen_at {
                    Some(ms) => view! { <LocalTime ms /> }.into_any(),
                    None => "never".into_any(),
                }}
            </td>
            <td><LocalTime ms=user.created_at /></td>
            {values
                .into_iter()
                .map(|value| {
                    let shown = match value {
                        Some(ColumnValue::Words(words)) => words.into_any(),
                        Some(ColumnValue::Date(ms)) => view! { <LocalTime ms /> }.into_any(),
                        None => ().into_any(),
                    };
                    view! { <td>{shown}</td> }
                })
                .collect_view()}
        </tr>
    }
}
