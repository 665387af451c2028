//! Server functions of the devices feature: session check, then one
//! service call. (The profile's devices come with the profile.)

use leptos::prelude::*;

use super::model::DeviceDetail;
use crate::error::AppError;

/// Everything the device page shows. Any signed-in role may read it.
#[server(endpoint = "devices/get", output = crate::codec::Json)]
pub async fn get_device(device_id: i64) -> Result<DeviceDetail, AppError> {
    use crate::auth::session::{fail, Caller};
    let caller = Caller::viewer().await?;
    let detail = super::service::device_detail(&caller.state.store, caller.app.id, device_id).await.or_else(fail)?;
    caller.viewed(detail.user.id, crate::model::profile::Viewed::Device).await.or_else(fail)?;
    Ok(detail)
}
