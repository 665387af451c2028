//! Devices as plain async functions over the store: the server functions
//! wrap these; tests call them directly.

use super::model::{DeviceDetail, DEVICE_EVENTS, TRAIL_LIMIT};
use crate::error::AppError;
use crate::store::Store;

fn not_found() -> AppError {
    AppError::NotFound("There is no such device in this app.".into())
}

/// The device page: the device, its user, its trail and newest events.
/// Another app's device, a device without a user and a deactivated user's
/// device are all "not found".
#[tracing::instrument(skip(store))]
pub async fn device_detail(store: &Store, app_id: i64, device_id: i64) -> Result<DeviceDetail, AppError> {
    // Read first: the page's live stream replays anything newer.
    let live_after = store.last_event_id().await?;
    let (device, user_id) = store.device_with_user(app_id, device_id).await?.ok_or_else(not_found)?;
    let user = store.user_by_id(app_id, user_id).await?.ok_or_else(not_found)?;
    let (trail, trail_truncated) = store.trail(app_id, device_id, TRAIL_LIMIT).await?;
    let events = store.device_events(app_id, device_id, DEVICE_EVENTS).await?;
    Ok(DeviceDetail { device, user, trail, trail_truncated, events, live_after })
}
