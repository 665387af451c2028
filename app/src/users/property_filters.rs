//! The users list's property filters and columns: the chips of the view's
//! filters (each removed by a plain link), the filter builder and the
//! column picker. Both are plain GET forms that work without JavaScript
//! (see [`super::list_view`]); with it they navigate in place, and names
//! and seen values are suggested while typing.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use leptos_router::NavigateOptions;

use crate::model::property_filter::{PropertyFilter, PropertyOp, MAX_COLUMNS, MAX_PROPERTY_FILTERS};
use crate::properties::suggest_properties;
use crate::ui::{debounced, TYPING_PAUSE};
use crate::user_view::ListView;

/// The view's property filters as chips whose cross (a plain link) removes one.
#[component]
pub fn PropertyFilterChips(view: ListView) -> impl IntoView {
    (!view.properties.is_empty()).then(|| {
        let chips = view
            .properties
            .iter()
            .map(|filter| {
                let rest = view.properties.iter().filter(|f| *f != filter).cloned().collect();
                let without = ListView { properties: rest, ..view.clone() }.restarted().href();
                let label = format!("Remove the filter {}", filter.label());
                view! {
                    <span class="chip filter-chip">
                        <span class="chip-name">{filter.label()}</span>
                        <a class="chip-remove" href=without aria-label=label.clone() title=label>
                            <span aria-hidden="true">"×"</span>
                        </a>
                    </span>
                }
            })
            .collect_view();
        view! { <p class="active-filters">"Properties: " {chips}</p> }
    })
}

/// Hidden fields carrying the rest of the view through a plain form.
fn kept_fields(view: &ListView) -> impl IntoView {
    view.clone()
        .restarted()
        .params()
        .into_iter()
        .map(|(name, value)| view! { <input type="hidden" name=name value=value /> })
        .collect_view()
}

/// Suggested names (or, with `for_name`, seen values of that property) for
/// what is typed in a field, refreshed after a typing pause.
fn suggestions(for_name: Option<Signal<String>>) -> (impl Fn(String) + Copy, Resource<Vec<String>>) {
    let typed = RwSignal::new(None::<String>);
    let after_pause = debounced(TYPING_PAUSE, move |text: String| typed.set(Some(text)));
    let found = Resource::new(
        move || (typed.get(), for_name.map(|n| n.get())),
        |(typed, name)| async move {
            // Nothing is asked before the field is used.
            let Some(typed) = typed else { return Vec::new() };
            match name {
                Some(name) if name.trim().is_empty() => Vec::new(),
                Some(name) => suggest_properties(name, Some(typed)).await.unwrap_or_default(),
                None => suggest_properties(typed, None).await.unwrap_or_default(),
            }
        },
    );
    (after_pause, found)
}

fn datalist(id: &'static str, found: Resource<Vec<String>>) -> impl IntoView {
    view! {
        <datalist id=id>
            <Transition>
                {move || Suspend::new(async move {
                    found.await.into_iter().map(|v| view! { <option value=v.clone()></option> }).collect_view()
                })}
            </Transition>
        </datalist>
    }
}

/// A property name's field, with the app's names suggested while typing.
#[component]
fn NameField(label: String, field: &'static str, list: &'static str, name: RwSignal<String>) -> impl IntoView {
    let (after_pause, names) = suggestions(None);
    view! {
        <label>
            {label}
            <input
                name=field
                required
                autocomplete="off"
                list=list
                maxlength="64"
                on:input:target=move |ev| {
                    name.set(ev.target().value());
                    after_pause(ev.target().value());
                }
                on:focus=move |_| after_pause(name.get_untracked())
            />
        </label>
        {datalist(list, names)}
    }
}

/// "Filter by property": a property, a condition and a value, added to the view.
#[component]
pub fn PropertyFilterForm(view: ListView) -> impl IntoView {
    if view.properties.len() >= MAX_PROPERTY_FILTERS {
        return None;
    }
    let navigate = use_navigate();
    let name = RwSignal::new(String::new());
    let op = RwSignal::new(PropertyOp::Is);
    let value = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<String>);
    let (values_after_pause, values) = suggestions(Some(name.into()));
    let kept = kept_fields(&view);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let op = op.get_untracked();
        let value = if op.takes_value() { value.get_untracked() } else { String::new() };
        match (PropertyFilter { name: name.get_untracked().trim().to_string(), op, value }).named() {
            Ok(filter) => {
                problem.set(None);
                let mut next = view.clone().restarted();
                if !next.properties.contains(&filter) {
                    next.properties.push(filter);
                }
                navigate(&next.href(), NavigateOptions { scroll: false, ..Default::default() });
            }
            Err(message) => problem.set(Some(message)),
        }
    };
    Some(view! {
        <details class="list-tool">
            <summary>"Filter by property"</summary>
            <form class="property-filter-form" method="get" action="/users" on:submit=on_submit>
                {kept}
                <NameField label="Property".into() field="pf.name" list="property-names" name />
                <label>
                    "Condition"
                    <select name="pf.op" on:change:target=move |ev| {
                        op.set(PropertyOp::from_param(&ev.target().value()).unwrap_or_default())
                    }>
                        {PropertyOp::ALL
                            .into_iter()
                            .map(|o| view! { <option value=o.as_param()>{o.label()}</option> })
                            .collect_view()}
                    </select>
                </label>
                <label class:hidden-field=move || !op.get().takes_value()>
                    "Value"
                    <input
                        name="pf.value"
                        autocomplete="off"
                        list="property-values"
                        on:input:target=move |ev| {
                            value.set(ev.target().value());
                            values_after_pause(ev.target().value());
                        }
                        on:focus=move |_| values_after_pause(value.get_untracked())
                    />
                </label>
                <button type="submit" class="small">"Add"</button>
                {datalist("property-values", values)}
                {move || problem.get().map(|message| view! { <p class="form-error" role="alert">{message}</p> })}
            </form>
        </details>
    })
}

/// "Columns": a property shown as one more column (at most [`MAX_COLUMNS`]).
#[component]
pub fn ColumnPicker(view: ListView) -> impl IntoView {
    if !view.has_room_for_a_column() {
        return None;
    }
    let navigate = use_navigate();
    let name = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<String>);
    let kept = kept_fields(&view);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let column = name.get_untracked().trim().to_string();
        if let Some(message) = crate::model::properties::name_problem(&column) {
            problem.set(Some(message));
            return;
        }
        problem.set(None);
        let mut next = view.clone();
        if !next.columns.contains(&column) {
            next.columns.push(column);
        }
        navigate(&next.href(), NavigateOptions { scroll: false, ..Default::default() });
    };
    Some(view! {
        <details class="list-tool">
            <summary>"Columns"</summary>
            <form class="column-form" method="get" action="/users" on:submit=on_submit>
                {kept}
                <NameField label=format!("Show a property (up to {MAX_COLUMNS})") field="col.add" list="column-names" name />
                <button type="submit" class="small">"Add"</button>
                {move || problem.get().map(|message| view! { <p class="form-error" role="alert">{message}</p> })}
            </form>
        </details>
    })
}

/// A property column's header, with a plain link that removes the column.
#[component]
pub fn ColumnHeader(name: String, view: ListView) -> impl IntoView {
    let rest = view.columns.iter().filter(|c| **c != name).cloned().collect();
    let without = ListView { columns: rest, ..view }.href();
    let label = format!("Remove the column {name}");
    view! {
        <th scope="col" class="property-column">
            <span class="mono">{name}</span>
            " "
            <a class="column-remove" href=without aria-label=label.clone() title=label>
                <span aria-hidden="true">"×"</span>
            </a>
        </th>
    }
}
