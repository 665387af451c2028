//! `PUT /api/v1/devices/{deviceID}` and `POST /api/v1/devices/{deviceID}/locations`

use app::ids::LocationStatus;
use app::model::devices::DeviceAttributes;
use app::state::AppState;
use app::store::{DeviceInput, LocationInput};
use app::time::now_ms;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::{from_value, ApiError, ApiJson};
use super::{validate, ApiApp};

/// The request body: the API's own names for [`DeviceAttributes`]' fields
/// (camelCase, `allowedUI`). Written out rather than flattened, because
/// serde cannot refuse unknown fields of a struct with a flattened part.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeviceBody {
    #[serde(rename = "userID")]
    user_id: Option<String>,
    platform: String,
    os_version: Option<String>,
    app_version: Option<String>,
    sdk_version: Option<String>,
    device_string: Option<String>,
    language: Option<String>,
    timezone: Option<String>,
    transport: Option<String>,
    #[serde(rename = "allowedUI")]
    allowed_ui: Option<bool>,
    location_services_auth_status: Option<LocationStatus>,
    bluetooth_enabled: Option<bool>,
}

const MAX_LOCATIONS: usize = 1000;

#[tracing::instrument(skip(state, app, body), fields(app = app.0.id))]
pub async fn put_device(
    State(state): State<AppState>,
    app: ApiApp,
    Path(device_id): Path<String>,
    ApiJson(body): ApiJson<DeviceBody>,
) -> Result<Json<Value>, ApiError> {
    let device_id = validate::id("deviceID", device_id)?;
    let user_id = body.user_id.map(|user| validate::id("userID", user)).transpose()?;
    validate::required("platform", &body.platform, 32)?;
    for (field, value) in [
        ("osVersion", &body.os_version),
        ("appVersion", &body.app_version),
        ("sdkVersion", &body.sdk_version),
        ("deviceString", &body.device_string),
        ("language", &body.language),
        ("timezone", &body.timezone),
        ("transport", &body.transport),
    ] {
        validate::opt_text(field, value.as_deref(), validate::MAX_TEXT)?;
    }
    let input = DeviceInput {
        user_external_id: user_id.clone(),
        location_status: body.location_services_auth_status,
        attributes: DeviceAttributes {
            platform: body.platform,
            os_version: body.os_version,
            app_version: body.app_version,
            sdk_version: body.sdk_version,
            device_string: body.device_string,
            language: body.language,
            timezone: body.timezone,
            transport: body.transport,
            allowed_ui: body.allowed_ui,
            bluetooth_enabled: body.bluetooth_enabled,
        },
    };
    state.store.upsert_device(app.0.id, &device_id, &input, now_ms()).await?;
    Ok(Json(json!({ "deviceID": device_id, "userID": user_id })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LocationBody {
    latitude: f64,
    longitude: f64,
    accuracy: Option<f64>,
    time: Option<DateTime<Utc>>,
}

/// Accepts one location object or an array of them.
#[tracing::instrument(skip(state, app, body), fields(app = app.0.id))]
pub async fn post_locations(
    State(state): State<AppState>,
    app: ApiApp,
    Path(device_id): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let raw: Vec<Value> = match body {
        Value::Array(items) => items,
        single => vec![single],
    };
    if raw.len() > MAX_LOCATIONS {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("at most {MAX_LOCATIONS} locations per request"),
        ));
    }
    let now = now_ms();
    let mut points = Vec::with_capacity(raw.len());
    for (index, item) in raw.into_iter().enumerate() {
        let prefix = format!("[{index}].");
        let location: LocationBody = from_value(item, &prefix)?;
        let field = |name: &str| format!("{prefix}{name}");
        if !(-90.0..=90.0).contains(&location.latitude) {
            return Err(ApiError::invalid(field("latitude"), "latitude must be between -90 and 90"));
        }
        if !(-180.0..=180.0).contains(&location.longitude) {
            return Err(ApiError::invalid(field("longitude"), "longitude must be between -180 and 180"));
        }
        if let Some(accuracy) = location.accuracy {
            if !(0.0..=1.0e7).contains(&accuracy) {
                return Err(ApiError::invalid(field("accuracy"), "accuracy must be between 0 and 10000000 metres"));
            }
        }
        let recorded_at = validate::time(&field("time"), location.time, now)?;
        points.push(LocationInput {
            latitude: location.latitude,
            longitude: location.longitude,
            accuracy: location.accuracy,
            recorded_at,
        });
    }
    let device = state
        .store
        .device_id_by_external_id(app.0.id, &device_id)
        .await?
        .ok_or_else(|| ApiError::not_found("deviceID", format!("unknown deviceID '{device_id}'")))?;
    if state.store.add_locations(app.0.id, device, &points).await? {
        state.live.moved(device);
    }
    Ok((StatusCode::CREATED, Json(json!({ "accepted": points.len() }))))
}
