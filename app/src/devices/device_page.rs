//! `/devices/{id}`: one device: every field and badge, its location trail
//! on its own map (moving live), its newest events, and the way back to
//! its user.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use super::devices_box::{DeviceBadges, PositionList};
use super::get_device;
use super::map::{follow_moves, DeviceMap, MapDevice};
use super::model::DeviceDetail;
use crate::activity::event_row::{Clock, EventRow};
use crate::error::AppError;
use crate::layout::ErrorMessage;
use crate::live::{provide_live, use_live};
use crate::ui::LocalTime;

#[component]
pub fn DevicePage() -> impl IntoView {
    let params = use_params_map();
    let device_id = Memo::new(move |_| params.with(|p| p.get("id").and_then(|id| id.parse::<i64>().ok())));
    let detail = Resource::new(
        move || device_id.get(),
        |id| async move {
            match id {
                Some(id) => get_device(id).await,
                None => Err(AppError::NotFound("There is no device at this address.".into())),
            }
        },
    );
    view! {
        <section class="page device-page">
            <Transition fallback=|| view! { <p class="loading" role="status">"Loading device…"</p> }>
                {move || Suspend::new(async move {
                    match detail.await {
                        Ok(detail) => view! { <DeviceView detail /> }.into_any(),
                        Err(error) => view! {
                            <nav class="breadcrumbs" aria-label="Breadcrumb"><A href="/users">"Users"</A></nav>
                            <Title text="Device not found" />
                            <ErrorMessage error />
                        }
                        .into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

fn text(value: &Option<String>) -> String {
    value.clone().unwrap_or_else(|| "—".into())
}

fn yes_no(value: Option<bool>) -> &'static str {
    match value {
        Some(true) => "Yes",
        Some(false) => "No",
        None => "—",
    }
}

#[component]
fn DeviceView(detail: DeviceDetail) -> impl IntoView {
    let DeviceDetail { device, user, trail, trail_truncated, events, live_after } = detail;
    provide_live(user.id, live_after);
    let name = device.name();
    let user_name = user.display_name().to_string();
    let crumb_name = user_name.clone();
    let user_href = format!("/users/{}", user.id);
    let trail = RwSignal::new(trail);
    let located = device.last_fix.map(|fix| MapDevice {
        id: device.id,
        name: StoredValue::new(name.clone()),
        platform: StoredValue::new(device.attributes.platform.clone()),
        fix: RwSignal::new(fix),
    });
    follow_moves(located.into_iter().collect(), Some(trail));
    let events = RwSignal::new(events);
    follow_device_events(device.id, events);
    let clock = Clock::ticking();
    let map = match located {
        Some(marker) => view! {
            <DeviceMap label=format!("Location trail of {name}") devices=vec![marker] trail />
            <p class="trail-count">
                {move || format!("{} recorded positions", trail.with(Vec::len))}
                {trail_truncated.then_some(" (the newest are drawn)")}
            </p>
            <PositionList devices=vec![marker] />
        }
        .into_any(),
        None => view! { <p class="empty">"This device has not reported a location."</p> }.into_any(),
    };
    view! {
        <Title text=name.clone() />
        <nav class="breadcrumbs" aria-label="Breadcrumb">
            <A href="/users">"Users"</A>
            " › "
            <A href=user_href.clone()>{crumb_name}</A>
        </nav>
        <header class="page-header">
            <h1>{name.clone()}</h1>
            <p>"Device of " <A href=user_href>{user_name}</A></p>
        </header>
        <div class="profile-grid">
            <section class="box device-facts" aria-labelledby="device-facts-title">
                <h2 id="device-facts-title">"Device"</h2>
                <DeviceBadges allowed_ui=device.attributes.allowed_ui location=device.location_status bluetooth=device.attributes.bluetooth_enabled />
                <dl class="facts">
                    <dt>"deviceID"</dt><dd class="mono">{device.external_id.clone()}</dd>
                    <dt>"Platform"</dt><dd>{device.attributes.platform.clone()}</dd>
                    <dt>"Model"</dt><dd>{text(&device.attributes.device_string)}</dd>
                    <dt>"OS version"</dt><dd>{text(&device.attributes.os_version)}</dd>
                    <dt>"App version"</dt><dd>{text(&device.attributes.app_version)}</dd>
                    <dt>"SDK version"</dt><dd>{text(&device.attributes.sdk_version)}</dd>
                    <dt>"Transport"</dt><dd>{text(&device.attributes.transport)}</dd>
                    <dt>"Language"</dt><dd>{text(&device.attributes.language)}</dd>
                    <dt>"Time zone"</dt><dd>{text(&device.attributes.timezone)}</dd>
                    <dt>"Notifications allowed"</dt><dd>{yes_no(device.attributes.allowed_ui)}</dd>
                    <dt>"Location permission"</dt><dd>{device.location_status.label()}</dd>
                    <dt>"Bluetooth"</dt><dd>{yes_no(device.attributes.bluetooth_enabled)}</dd>
                    <dt>"Last active"</dt><dd><LocalTime ms=device.last_active_at /></dd>
                </dl>
            </section>
            <section class="box map-box" aria-labelledby="trail-title" data-markers=located.map_or(0, |_| 1)>
                <h2 id="trail-title">"Location trail"</h2>
                {map}
            </section>
            <section class="box device-events" aria-labelledby="device-events-title">
                <h2 id="device-events-title">"Recent events"</h2>
                {move || {
                    if events.with(Vec::is_empty) {
                        view! { <p class="empty">"No events from this device."</p> }.into_any()
                    } else {
                        view! {
                            <ul class="event-list">
                                <For each=move || events.get() key=|event| event.id let:event>
                                    <EventRow event clock />
                                </For>
                            </ul>
                        }
                        .into_any()
                    }
                }}
            </section>
        </div>
    }
}

/// Puts this device's new events from the live channel at the top.
fn follow_device_events(device_id: i64, events: RwSignal<Vec<crate::activity::model::ActivityEvent>>) {
    let Some(feed) = use_live() else { return };
    let start = feed.activity.with_untracked(|log| log.first + log.events.len());
    Effect::new(move |read: Option<usize>| {
        let (arrived, next) = feed.activity.with(|log| log.since(read.unwrap_or(start)));
        let mine: Vec<_> = arrived.into_iter().filter(|e| e.device_id == Some(device_id)).collect();
        if !mine.is_empty() {
            events.update(|list| {
                for event in mine {
                    if !list.iter().any(|e| e.id == event.id) {
                        list.insert(0, event);
                    }
                }
                list.truncate(super::model::DEVICE_EVENTS as usize);
            });
        }
        next
    });
}
