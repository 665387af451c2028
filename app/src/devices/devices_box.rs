//! The profile's Devices box (one row per device, each a link to its page)
//! and its Map box (one marker per device that allows location updates and
//! has a fix, and in words which devices are not shown and why).

use leptos::prelude::*;

use super::map::{follow_moves, DeviceMap, MapDevice};
use super::model::{unmapped_summary, Device, Fix};
use crate::activity::event_row::Clock;
use crate::ids::LocationStatus;
use crate::time::{format_exact, relative};

#[component]
pub fn DevicesBox(devices: Vec<Device>) -> impl IntoView {
    let clock = Clock::ticking();
    let body = if devices.is_empty() {
        view! { <p class="empty">"No devices registered for this user."</p> }.into_any()
    } else {
        view! {
            <ul class="device-list">
                {devices.into_iter().map(|device| view! { <DeviceRow device clock /> }).collect_view()}
            </ul>
        }
        .into_any()
    };
    view! {
        <section class="box devices-box" aria-labelledby="devices-box-title">
            <h2 id="devices-box-title">"Devices"</h2>
            {body}
        </section>
    }
}

/// "iOS 17.2 · app 3.1.0 · SDK 3.0.1" and the like, skipping what is unknown.
fn versions(device: &Device) -> String {
    let mut parts = vec![match &device.attributes.os_version {
        Some(os) => format!("{} {os}", device.attributes.platform),
        None => device.attributes.platform.clone(),
    }];
    if let Some(app) = &device.attributes.app_version {
        parts.push(format!("app {app}"));
    }
    if let Some(sdk) = &device.attributes.sdk_version {
        parts.push(format!("SDK {sdk}"));
    }
    parts.join(" · ")
}

fn locale(device: &Device) -> String {
    [
        device.attributes.transport.as_deref(),
        device.attributes.language.as_deref(),
        device.attributes.timezone.as_deref(),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" · ")
}

/// The permission badges, each with its words (never colour alone).
#[component]
pub fn DeviceBadges(allowed_ui: Option<bool>, location: LocationStatus, bluetooth: Option<bool>) -> impl IntoView {
    let (notify_class, notify_text) = match allowed_ui {
        Some(true) => ("device-badge on", "Notifications allowed"),
        Some(false) => ("device-badge off", "Notifications off"),
        None => ("device-badge unknown", "Notifications unknown"),
    };
    let location_class = if location.allows_updates() { "device-badge on" } else { "device-badge off" };
    let bluetooth =
        bluetooth
            .map(|on| if on { ("device-badge on", "Bluetooth on") } else { ("device-badge off", "Bluetooth off") });
    view! {
        <span class="device-badges">
            <span class=notify_class>{notify_text}</span>
            <span class=location_class>{location.label()}</span>
            {bluetooth.map(|(class, text)| view! { <span class=class>{text}</span> })}
        </span>
    }
}

#[component]
fn DeviceRow(device: Device, clock: Clock) -> impl IntoView {
    let at = device.last_active_at;
    let datetime =
        chrono::DateTime::<chrono::Utc>::from_timestamp_millis(at).map(|t| t.to_rfc3339()).unwrap_or_default();
    let locale = locale(&device);
    view! {
        <li class="device-row">
            <a href=device.href() class="device-link">
                <span class="device-name">{device.name()}</span>
                <span class="device-versions">{versions(&device)}</span>
            </a>
            {(!locale.is_empty()).then(|| view! { <span class="device-locale">{locale}</span> })}
            <DeviceBadges allowed_ui=device.attributes.allowed_ui location=device.location_status bluetooth=device.attributes.bluetooth_enabled />
            <span class="device-active">
                "Last active "
                <time datetime=datetime title=move || format_exact(at, clock.local.get())>
                    {move || relative(at, clock.now.get())}
                </time>
            </span>
        </li>
    }
}

/// The devices a map shows, with live positions.
pub fn map_devices(devices: &[Device]) -> Vec<MapDevice> {
    devices
        .iter()
        .filter_map(|device| {
            device.map_fix().map(|fix| MapDevice {
                id: device.id,
                name: StoredValue::new(device.name()),
                platform: StoredValue::new(device.attributes.platform.clone()),
                fix: RwSignal::new(fix),
            })
        })
        .collect()
}

#[component]
pub fn MapBox(devices: Vec<Device>) -> impl IntoView {
    let located = map_devices(&devices);
    follow_moves(located.clone(), None);
    let unmapped = unmapped_summary(&devices);
    let count = located.len();
    let map = if located.is_empty() {
        let text =
            if devices.is_empty() { "No devices, so nothing to show." } else { "No device has a location to show." };
        view! { <p class="empty">{text}</p> }.into_any()
    } else {
        view! {
            <DeviceMap label="Map of the user's devices".to_string() devices=located.clone() />
            <PositionList devices=located />
        }
        .into_any()
    };
    view! {
        <section class="box map-box" aria-labelledby="map-box-title" data-markers=count>
            <h2 id="map-box-title">"Map"</h2>
            {map}
            {(!unmapped.is_empty()).then(|| view! {
                <p class="map-unmapped">"Not shown: " {unmapped.join("; ")} "."</p>
            })}
        </section>
    }
}

/// "52.37000, 4.89000 (± 25 m)".
pub fn position_text(fix: &Fix) -> String {
    let (lat, lng) = (fixed(fix.latitude, 5), fixed(fix.longitude, 5));
    match fix.accuracy {
        Some(accuracy) => format!("{lat}, {lng} (± {} m)", accuracy.round() as i64),
        None => format!("{lat}, {lng}"),
    }
}

/// `value` with `places` decimals. Integer arithmetic: precision float
/// formatting (`{:.5}`) would add its sizeable exact-decimal code to the wasm.
fn fixed(value: f64, places: u32) -> String {
    let scale = 10_i64.pow(places);
    let scaled = (value * scale as f64).round() as i64;
    let sign = if scaled < 0 { "-" } else { "" };
    let scaled = scaled.unsigned_abs();
    let scale = scale as u64;
    format!("{sign}{}.{:0width$}", scaled / scale, scaled % scale, width = places as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_read_with_five_decimals_and_whole_metres() {
        let fix = Fix { latitude: 50.85, longitude: -0.1234567, accuracy: Some(14.6), at: 0 };
        assert_eq!(position_text(&fix), "50.85000, -0.12346 (± 15 m)");
        assert_eq!(position_text(&Fix { accuracy: None, latitude: -0.000001, ..fix }), "0.00000, -0.12346");
        assert_eq!(fixed(-33.868820, 5), "-33.86882");
    }
}

/// The map's positions as text: for screen readers, for keyboard users,
/// and before (or without) the map.
#[component]
pub fn PositionList(devices: Vec<MapDevice>) -> impl IntoView {
    view! {
        <ul class="position-list">
            {devices
                .into_iter()
                .map(|device| {
                    view! {
                        <li data-device=device.id>
                            <span class="position-name">{device.name.get_value()}</span>
                            ": "
                            <span class="position">{move || position_text(&device.fix.get())}</span>
                            ", "
                            <span class="position-time">{move || format_exact(device.fix.get().at, false)}</span>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}
