//! The profile's Properties box: every property with its value formatted
//! by type, sorted by name, a filter when there are many; admins add, edit
//! (in place: Enter saves, Esc cancels) and remove them.

use leptos::ev::{KeyboardEvent, SubmitEvent};
use leptos::html;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

use super::history::PropertyHistory;
use super::model::{grouped, PropertyChange, PropertyValue, UserProperty, KINDS, MAX_NAME, MAX_STRING};
use super::{RemoveProperty, SetProperty};
use crate::error::AppError;
use crate::layout::ErrorMessage;
use crate::ui::LocalTime;

/// From this many properties on, the box offers a filter by name.
const FILTER_FROM: usize = 8;

/// The box's actions and its history's first page, made by the profile
/// page before its first `Suspend` (resources made inside the grid would
/// get serialization ids the browser does not know).
#[derive(Clone, Copy)]
pub struct PropertiesState {
    pub set: ServerAction<SetProperty>,
    pub remove: ServerAction<RemoveProperty>,
    pub history: Resource<Result<Vec<PropertyChange>, AppError>>,
}

impl PropertiesState {
    pub fn new(user_id: Memo<Option<i64>>) -> PropertiesState {
        let set = ServerAction::<SetProperty>::new();
        let remove = ServerAction::<RemoveProperty>::new();
        let history = Resource::new(
            move || (user_id.get(), set.version().get(), remove.version().get()),
            |(user_id, _, _)| async move {
                match user_id {
                    Some(user_id) => super::property_history(user_id, None).await,
                    None => Ok(Vec::new()),
                }
            },
        );
        PropertiesState { set, remove, history }
    }
}

/// A value as the box shows it: text as is, numbers grouped, booleans as
/// words, dates in the viewer's time zone (UTC on hover).
#[component]
pub fn PropertyValueView(value: PropertyValue) -> impl IntoView {
    match value {
        PropertyValue::String(s) => view! { <span class="value-text">{s}</span> }.into_any(),
        PropertyValue::Number(n) => view! { <span class="value-number">{grouped(n)}</span> }.into_any(),
        PropertyValue::Boolean(b) => {
            view! { <span class="value-boolean">{if b { "Yes" } else { "No" }}</span> }.into_any()
        }
        PropertyValue::Date(ms) => view! { <LocalTime ms /> }.into_any(),
    }
}

#[component]
pub fn PropertiesBox(
    user_id: i64,
    can_edit: bool,
    initial: Vec<UserProperty>,
    state: PropertiesState,
) -> impl IntoView {
    let properties = RwSignal::new(initial);
    let PropertiesState { set, remove, history } = state;
    Effect::new(move |_| {
        if let Some(Ok(list)) = set.value().get() {
            properties.set(list);
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(list)) = remove.value().get() {
            properties.set(list);
        }
    });
    let filter = RwSignal::new(String::new());
    // The property being edited in place, if any.
    let editing = RwSignal::new(None::<String>);
    let shown = move || {
        let needle = filter.get().trim().to_lowercase();
        properties
            .get()
            .into_iter()
            .filter(|p| needle.is_empty() || p.name.to_lowercase().contains(&needle))
            .collect::<Vec<_>>()
    };
    view! {
        <section class="box properties-box" aria-labelledby="properties-box-title">
            <div class="box-header">
                <h2 id="properties-box-title">"Properties"</h2>
            </div>
            {move || (properties.with(Vec::len) >= FILTER_FROM).then(|| view! {
                <input
                    type="search"
                    class="properties-filter"
                    aria-label="Filter properties by name"
                    placeholder="Filter by name"
                    prop:value=move || filter.get()
                    on:input=move |ev| filter.set(event_target_value(&ev))
                />
            })}
            {move || {
                let rows = shown();
                if properties.with(Vec::is_empty) {
                    view! { <p class="empty">"No properties yet."</p> }.into_any()
                } else if rows.is_empty() {
                    view! { <p class="empty" role="status">"No property matches the filter."</p> }.into_any()
                } else {
                    view! {
                        <table class="properties">
                            <caption class="visually-hidden">"Properties of this user"</caption>
                            <tbody>
                                {rows
                                    .into_iter()
                                    .map(|property| view! { <PropertyRow user_id property can_edit editing set remove /> })
                                    .collect_view()}
                            </tbody>
                        </table>
                    }
                    .into_any()
                }
            }}
            {move || remove.value().get().and_then(Result::err).map(|error| view! { <ErrorMessage error /> })}
            {can_edit.then(|| view! {
                <details class="add-property">
                    <summary>"Add a property"</summary>
                    <PropertyForm user_id set existing=None editing />
                </details>
            })}
            <PropertyHistory user_id first=history />
        </section>
    }
}

#[component]
fn PropertyRow(
    user_id: i64,
    property: UserProperty,
    can_edit: bool,
    editing: RwSignal<Option<String>>,
    set: ServerAction<SetProperty>,
    remove: ServerAction<RemoveProperty>,
) -> impl IntoView {
    let interactive = crate::ui::hydrated();
    let name = property.name.clone();
    let is_editing = {
        let name = name.clone();
        move || editing.get().as_deref() == Some(name.as_str())
    };
    let edit_label = format!("Edit property {name}");
    let remove_label = format!("Remove property {name}");
    view! {
        <tr>
            <th scope="row" class="mono">{name.clone()}</th>
            {move || if is_editing() {
                view! {
                    <td colspan="2">
                        <PropertyForm user_id set existing=Some(property.clone()) editing />
                    </td>
                }
                .into_any()
            } else {
                let (edit_name, remove_name) = (name.clone(), name.clone());
                view! {
                    <td><PropertyValueView value=property.value.clone() /></td>
                    <td class="row-actions">
                        {can_edit.then(|| view! {
                            <button
                                type="button"
                                class="small"
                                aria-label=edit_label.clone()
                                disabled=move || !interactive.get()
                                on:click=move |_| editing.set(Some(edit_name.clone()))
                            >
                                "Edit"
                            </button>
                            <button
                                type="button"
                                class="small danger"
                                aria-label=remove_label.clone()
                                disabled=move || !interactive.get() || remove.pending().get()
                                on:click=move |_| {
                                    remove.dispatch(RemoveProperty { user_id, name: remove_name.clone() });
                                }
                            >
                                "Remove"
                            </button>
                        })}
                    </td>
                }
                .into_any()
            }}
        </tr>
    }
}

/// The value's text as a form field holds it.
fn field_text(value: &PropertyValue) -> String {
    match value {
        PropertyValue::String(s) => s.clone(),
        PropertyValue::Number(n) => n.to_string(),
        PropertyValue::Boolean(b) => b.to_string(),
        PropertyValue::Date(ms) => chrono::DateTime::<chrono::Utc>::from_timestamp_millis(*ms)
            .map(|t| t.with_timezone(&chrono::Local).format("%Y-%m-%dT%H:%M").to_string())
            .unwrap_or_default(),
    }
}

/// A date-time field's local value as RFC 3339 with the viewer's offset at
/// that date (a form sent without JavaScript sends it as typed: UTC).
fn local_to_rfc3339(text: &str) -> Option<String> {
    use chrono::TimeZone;
    let naive = chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M").ok()?;
    chrono::Local.from_local_datetime(&naive).earliest().map(|t| t.to_rfc3339())
}

/// Adds a property (`existing` none) or edits one in place. A plain form
/// to the server function, so it works without JavaScript; with it, the
/// action runs in place, a date is sent with the viewer's offset, and Esc
/// cancels an edit.
#[component]
fn PropertyForm(
    user_id: i64,
    set: ServerAction<SetProperty>,
    existing: Option<UserProperty>,
    editing: RwSignal<Option<String>>,
) -> impl IntoView {
    let interactive = crate::ui::hydrated();
    let is_edit = existing.is_some();
    let start_kind = existing.as_ref().map_or("string", |p| p.value.kind());
    let kind = RwSignal::new(start_kind.to_string());
    let start_value = existing.as_ref().map(|p| field_text(&p.value)).unwrap_or_default();
    let fixed_name = existing.map(|p| p.name);
    let prefix = fixed_name.as_deref().map_or("new-property".to_string(), |n| format!("property-{n}"));
    // An edit's fields name their property: several forms may be on the page.
    let (kind_label, value_label) = match fixed_name.as_deref() {
        Some(name) => (format!("Type of {name}"), format!("Value of {name}")),
        None => ("Type".to_string(), "Value".to_string()),
    };
    let (name_id, kind_id, value_id) = (format!("{prefix}-name"), format!("{prefix}-kind"), format!("{prefix}-value"));
    let name_input = NodeRef::<html::Input>::new();
    let value_text = RwSignal::new(start_value);
    let error = RwSignal::new(None::<AppError>);
    let sent_name = RwSignal::new(None::<String>);
    // This form's own answer: a success closes the edit (or clears the add).
    Effect::new(move |_| match (set.value().get(), sent_name.get_untracked()) {
        (Some(Ok(_)), Some(_)) => {
            sent_name.set(None);
            error.set(None);
            if is_edit {
                editing.set(None);
            } else {
                value_text.set(String::new());
                if let Some(input) = name_input.get_untracked() {
                    input.set_value("");
                }
            }
        }
        (Some(Err(e)), Some(_)) => {
            sent_name.set(None);
            error.set(Some(e));
        }
        _ => {}
    });
    let fixed = fixed_name.clone();
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let name = match &fixed {
            Some(name) => name.clone(),
            None => name_input.get_untracked().map(|i| i.value()).unwrap_or_default(),
        };
        let kind_now = kind.get_untracked();
        let typed = value_text.get_untracked();
        let value = if kind_now == "date" { local_to_rfc3339(&typed).unwrap_or(typed) } else { typed };
        sent_name.set(Some(name.clone()));
        set.dispatch(SetProperty { user_id, name, kind: kind_now, value });
    };
    let on_keydown = move |ev: KeyboardEvent| {
        if is_edit && ev.key() == "Escape" {
            ev.prevent_default();
            editing.set(None);
        }
    };
    let value_field = {
        let value_id = value_id.clone();
        move || {
            let id = value_id.clone();
            match kind.get().as_str() {
                "boolean" => view! {
                    <select id=id name="value" on:change=move |ev| value_text.set(event_target_value(&ev))>
                        <option value="true" selected=value_text.get_untracked() == "true">"Yes"</option>
                        <option value="false" selected=value_text.get_untracked() != "true">"No"</option>
                    </select>
                }
                .into_any(),
                "date" => view! {
                    <input id=id name="value" type="datetime-local" required
                        value=value_text.get_untracked()
                        on:input=move |ev| value_text.set(event_target_value(&ev)) />
                }
                .into_any(),
                "number" => view! {
                    <input id=id name="value" type="text" inputmode="decimal" required
                        value=value_text.get_untracked()
                        on:input=move |ev| value_text.set(event_target_value(&ev)) />
                }
                .into_any(),
                _ => view! {
                    <input id=id name="value" type="text" maxlength=MAX_STRING
                        value=value_text.get_untracked()
                        on:input=move |ev| value_text.set(event_target_value(&ev)) />
                }
                .into_any(),
            }
        }
    };
    let label = if is_edit { "Save" } else { "Add" };
    view! {
        <form
            class="property-form"
            method="post"
            action=SetProperty::url()
            on:submit=on_submit
            on:keydown=on_keydown
        >
            <input type="hidden" name="user_id" value=user_id.to_string() />
            {match fixed_name {
                Some(name) => view! { <input type="hidden" name="name" value=name /> }.into_any(),
                None => view! {
                    <label for=name_id.clone()>"Name"</label>
                    <input id=name_id name="name" type="text" required maxlength=MAX_NAME
                        pattern="[A-Za-z0-9_.\\-]+" autocomplete="off" node_ref=name_input />
                }
                .into_any(),
            }}
            <label for=kind_id.clone()>{kind_label}</label>
            <select id=kind_id name="kind" on:change=move |ev| kind.set(event_target_value(&ev))>
                {KINDS
                    .iter()
                    .map(|(value, text)| view! { <option value=*value selected=*value == start_kind>{*text}</option> })
                    .collect_view()}
            </select>
            <label for=value_id>{value_label}</label>
            {value_field}
            <button type="submit" class="primary small" disabled=move || set.pending().get()>{label}</button>
            {is_edit.then(|| view! {
                <button type="button" class="small" disabled=move || !interactive.get() on:click=move |_| editing.set(None)>
                    "Cancel"
                </button>
            })}
            {move || error.get().map(|error| view! { <ErrorMessage error /> })}
        </form>
    }
}
