//! Demo data: a seeded app for trying the console, and a simulator that keeps
//! live data flowing through the real ingest API.

pub mod seed;
#[cfg(feature = "bench")]
pub mod simulate;

/// External ids of demo users and their first device; the simulator relies on them.
pub fn user_external_id(index: usize) -> String {
    format!("demo-user-{index:04}")
}

pub fn device_external_id(user: usize, device: usize) -> String {
    format!("demo-device-{user:04}-{device}")
}

/// Event types the demo and the simulator produce.
pub const EVENT_TYPES: &[&str] = &[
    "re.notifica.event.application.Open",
    "re.notifica.event.application.Close",
    "re.notifica.event.notification.Open",
    "custom.view_product",
    "custom.add_to_cart",
    "custom.purchase",
    "custom.search",
];
