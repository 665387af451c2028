//! Devices: the profile's Devices and Map boxes, the device page with its
//! location trail, and the Leaflet maps, which move with the live channel.

mod api;
mod device_page;
mod devices_box;
#[cfg(feature = "hydrate")]
pub(crate) mod leaflet;
mod map;
pub use crate::model::devices as model;
#[cfg(feature = "ssr")]
pub mod service;

pub use api::*;
pub use device_page::DevicePage;
pub use devices_box::{DevicesBox, MapBox};
