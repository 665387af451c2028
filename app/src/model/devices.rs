//! What the devices box, the device page and the maps show.

use serde::{Deserialize, Serialize};

use crate::ids::LocationStatus;
use crate::model::activity::ActivityEvent;
use crate::model::UserSummary;

/// One position of a device.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Fix {
    pub latitude: f64,
    pub longitude: f64,
    /// Radius of the circle the device is in, in metres, when it said.
    pub accuracy: Option<f64>,
    /// Epoch milliseconds.
    pub at: i64,
}

/// What a device says about itself when the app registers it: one list of
/// fields carried by the ingest API, the store, the export and the pages.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct DeviceAttributes {
    pub platform: String,
    pub os_version: Option<String>,
    pub app_version: Option<String>,
    pub sdk_version: Option<String>,
    /// The model, e.g. "iPhone15,2".
    pub device_string: Option<String>,
    pub language: Option<String>,
    pub timezone: Option<String>,
    pub transport: Option<String>,
    /// Whether the user allowed notifications to show.
    pub allowed_ui: Option<bool>,
    pub bluetooth_enabled: Option<bool>,
}

/// A device as the console lists it, with its last known position.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Device {
    pub id: i64,
    /// The app's deviceID.
    pub external_id: String,
    pub attributes: DeviceAttributes,
    pub location_status: LocationStatus,
    pub last_active_at: i64,
    pub last_fix: Option<Fix>,
}

impl Device {
    /// How the console names a device: its model, else its platform.
    pub fn name(&self) -> String {
        let attributes = &self.attributes;
        match attributes.device_string.as_deref().filter(|s| !s.trim().is_empty()) {
            Some(model) => format!("{model} ({})", attributes.platform),
            None => attributes.platform.clone(),
        }
    }

    /// Where the maps put it: a fix, from a device that allows location updates.
    pub fn map_fix(&self) -> Option<Fix> {
        self.last_fix.filter(|_| self.location_status.allows_updates())
    }

    /// `/devices/{id}`.
    pub fn href(&self) -> String {
        device_href(self.id)
    }
}

pub fn device_href(id: i64) -> String {
    format!("/devices/{id}")
}

/// Why the profile map leaves devices out, in words ("1 device without
/// location permission"); empty when every device is on the map.
pub fn unmapped_summary(devices: &[Device]) -> Vec<String> {
    let no_permission = devices.iter().filter(|d| !d.location_status.allows_updates()).count();
    let no_fix = devices.iter().filter(|d| d.location_status.allows_updates() && d.last_fix.is_none()).count();
    let plural = |n: usize| if n == 1 { "device" } else { "devices" };
    let mut reasons = Vec::new();
    if no_permission > 0 {
        reasons.push(format!("{no_permission} {} without location permission", plural(no_permission)));
    }
    if no_fix > 0 {
        reasons.push(format!("{no_fix} {} with no location yet", plural(no_fix)));
    }
    reasons
}

/// A device's new position, as the live channel carries it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DeviceMoved {
    pub app_id: i64,
    pub user_id: i64,
    pub device_id: i64,
    pub fix: Fix,
}

/// Everything the device page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceDetail {
    pub device: Device,
    pub user: UserSummary,
    /// The newest [`TRAIL_LIMIT`] positions, oldest first.
    pub trail: Vec<Fix>,
    /// More positions are stored than the trail shows.
    pub trail_truncated: bool,
    /// The device's newest events, newest first.
    pub events: Vec<ActivityEvent>,
    /// Where the page's live stream starts (see `UserProfile::live_after`).
    pub live_after: i64,
}

/// The maps' tile source, from the server's config (`MAP_TILE_URL`,
/// `MAP_ATTRIBUTION`); an empty URL draws maps without tiles.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MapTiles {
    pub url: String,
    pub attribution: String,
}

/// Positions the device page draws at most.
pub const TRAIL_LIMIT: i64 = 1000;
/// Events the device page lists.
pub const DEVICE_EVENTS: i64 = 50;

#[cfg(test)]
mod tests {
    use super::*;

    fn device(status: LocationStatus, fix: bool) -> Device {
        Device {
            id: 1,
            external_id: "d".into(),
            attributes: DeviceAttributes {
                platform: "iOS".into(),
                device_string: Some("iPhone15,2".into()),
                ..Default::default()
            },
            location_status: status,
            last_active_at: 0,
            last_fix: fix.then_some(Fix { latitude: 1.0, longitude: 2.0, accuracy: None, at: 0 }),
        }
    }

    #[test]
    fn only_permitted_fixes_are_mapped_and_the_rest_explained() {
        let devices = [
            device(LocationStatus::Always, true),
            device(LocationStatus::None, true),
            device(LocationStatus::Use, false),
            device(LocationStatus::None, false),
        ];
        assert_eq!(devices.iter().filter(|d| d.map_fix().is_some()).count(), 1);
        assert_eq!(
            unmapped_summary(&devices),
            ["2 devices without location permission", "1 device with no location yet"]
        );
        assert!(unmapped_summary(&devices[..1]).is_empty());
        assert_eq!(devices[0].name(), "iPhone15,2 (iOS)");
    }
}
