//! `PUT /api/v1/devices/{deviceID}` and `POST /api/v1/devices/{deviceID}/locations`

use app::ids::{ExternalId, LocationStatus};
use app::model::devices::DeviceAttributes;
use app::state::AppState;
use app::store::{DeviceInput, LocationInput};
use app::time::now_ms;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::error::{from_value, ApiError, ApiJson};
use super::openapi as doc;
use super::{validate, ApiApp};

// The request body: the API's own names for [`DeviceAttributes`]' fields
// (camelCase, `allowedUI`). Written out rather than flattened, because
// serde cannot refuse unknown fields of a struct with a flattened part.
/// A device of the app. Absent optional fields keep their stored value;
/// text fields hold at most 255 characters on one line.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({"userID": "u-42", "platform": "iOS", "deviceString": "iPhone15,2",
    "locationServicesAuthStatus": "use"}))]
pub struct DeviceBody {
    /// The user the device belongs to: a `userID` the app has registered.
    #[serde(rename = "userID")]
    user_id: Option<String>,
    /// The platform (`iOS`, `Android`, `Web`, …): 1–32 characters.
    platform: String,
    /// The operating system's version.
    os_version: Option<String>,
    /// The app's version.
    app_version: Option<String>,
    /// The SDK's version.
    sdk_version: Option<String>,
    /// The device model (`iPhone15,2`).
    device_string: Option<String>,
    /// The device's language (`en`, `pt-PT`).
    language: Option<String>,
    /// The device's time zone (`Europe/Lisbon`).
    timezone: Option<String>,
    /// How the device receives messages.
    transport: Option<String>,
    /// Whether the user allowed the app's notifications UI.
    #[serde(rename = "allowedUI")]
    allowed_ui: Option<bool>,
    /// The device's location permission; a new device without it: `none`.
    #[schema(schema_with = location_status_schema)]
    location_services_auth_status: Option<LocationStatus>,
    /// Whether Bluetooth is on.
    bluetooth_enabled: Option<bool>,
}

/// `locationServicesAuthStatus`: the spellings [`LocationStatus`] accepts.
fn location_status_schema() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(LocationStatus::ALL.map(LocationStatus::as_str)))
        .description(Some("`none`: no permission; `use`: while the app is in use; `always`."))
        .build()
}

/// The device as linked.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"deviceID": "d-1", "userID": "u-42"}))]
pub struct DeviceResponse {
    /// The app's id for the device.
    #[serde(rename = "deviceID")]
    #[schema(value_type = String)]
    device_id: ExternalId,
    /// The user the body named; null when it named none.
    #[serde(rename = "userID")]
    #[schema(value_type = Option<String>, required = true)]
    user_id: Option<ExternalId>,
}

const MAX_LOCATIONS: usize = 1000;

/// Registers or updates a device and links it to a user.
///
/// Absent optional fields keep their stored value; `platform` is required.
#[utoipa::path(
    put,
    path = "/api/v1/devices/{device_id}",
    tag = "devices",
    params(("device_id" = String, Path, description = "The app's id for the device (`deviceID`): 1–255 characters, one line.")),
    request_body = DeviceBody,
    responses(
        (status = 200, description = "The device, registered or updated.", body = DeviceResponse),
        (status = 400, response = doc::Malformed),
        (status = 401, response = doc::Unauthorized),
        (status = 413, response = doc::TooLarge),
        (status = 422, response = doc::Invalid),
        (status = 429, response = doc::RateLimited),
        (status = 503, response = doc::Unavailable),
    ),
    security(("api_key" = [])),
)]
#[tracing::instrument(skip(state, app, body), fields(app = app.0.id))]
pub async fn put_device(
    State(state): State<AppState>,
    app: ApiApp,
    Path(device_id): Path<String>,
    ApiJson(body): ApiJson<DeviceBody>,
) -> Result<Json<DeviceResponse>, ApiError> {
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
    Ok(Json(DeviceResponse { device_id, user_id }))
}

/// One point of the device's trail.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"latitude": 38.72, "longitude": -9.14, "accuracy": 10, "time": "2026-11-28T10:00:00Z"}))]
struct LocationBody {
    /// Degrees, −90 to 90.
    #[schema(minimum = -90.0, maximum = 90.0)]
    latitude: f64,
    /// Degrees, −180 to 180.
    #[schema(minimum = -180.0, maximum = 180.0)]
    longitude: f64,
    /// The fix's accuracy in metres, 0 to 10,000,000.
    #[schema(minimum = 0.0, maximum = 10_000_000.0)]
    accuracy: Option<f64>,
    /// When the device was there (RFC 3339, between 2000-01-01 and a day
    /// from now); absent means now.
    time: Option<DateTime<Utc>>,
}

// Documentation only: the handler reads the elements one by one, so that an
// error names the element, as in `[2].latitude`.
/// One location, or an array of up to 1,000.
#[derive(ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum Locations {
    One(LocationBody),
    Many(Vec<LocationBody>),
}

/// How many points were stored.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"accepted": 1}))]
pub struct LocationsAccepted {
    /// The points stored (all of the request's).
    accepted: usize,
}

/// Adds one location or an array of up to 1,000 to the device's trail.
///
/// A point newer than the device's last fix becomes its position and moves
/// its marker on open console pages at once.
#[utoipa::path(
    post,
    path = "/api/v1/devices/{device_id}/locations",
    tag = "devices",
    params(("device_id" = String, Path, description = "The app's id for the device (`deviceID`).")),
    request_body = Locations,
    responses(
        (status = 201, description = "The points are stored.", body = LocationsAccepted),
        (status = 400, response = doc::Malformed),
        (status = 401, response = doc::Unauthorized),
        (status = 404, description = "Unknown `deviceID`.", body = ApiError),
        (status = 413, description = "The body is over 2 MiB, or holds more than 1,000 locations.", body = ApiError),
        (status = 422, response = doc::Invalid),
        (status = 429, response = doc::RateLimited),
        (status = 503, response = doc::Unavailable),
    ),
    security(("api_key" = [])),
)]
#[tracing::instrument(skip(state, app, body), fields(app = app.0.id))]
pub async fn post_locations(
    State(state): State<AppState>,
    app: ApiApp,
    Path(device_id): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<(StatusCode, Json<LocationsAccepted>), ApiError> {
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
    Ok((StatusCode::CREATED, Json(LocationsAccepted { accepted: points.len() })))
}
