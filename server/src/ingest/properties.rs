//! User properties through the ingest API: the `properties` object of
//! `PUT /api/v1/users/{userID}`, and `POST /api/v1/users/properties` for
//! backfilling many users at once.

use std::collections::BTreeMap;

use app::model::properties::{name_problem, PropertySet, PropertyValue, BY_API, MAX_BATCH_USERS, MAX_PROPERTIES};
use app::state::AppState;
use app::time::now_ms;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::{ApiError, ApiJson};
use super::openapi as doc;
use super::{validate, ApiApp};

/// A user's property changes as sent: name → value (`null` removes it).
pub type PropertiesBody = BTreeMap<String, serde_json::Value>;

/// The changes `properties` asks for, or the first refused one (its field
/// named under `field`, e.g. `properties.plan`).
pub fn changes(field: &str, properties: &PropertiesBody) -> Result<Vec<PropertySet>, ApiError> {
    if properties.len() > MAX_PROPERTIES {
        return Err(ApiError::invalid(field, format!("at most {MAX_PROPERTIES} properties per user")));
    }
    properties
        .iter()
        .map(|(name, value)| {
            let named = format!("{field}.{name}");
            if let Some(problem) = name_problem(name) {
                return Err(ApiError::invalid(named, problem));
            }
            let value = PropertyValue::from_json(name, value).map_err(|problem| ApiError::invalid(&named, problem))?;
            Ok(PropertySet { name: name.clone(), value })
        })
        .collect()
}

/// One user's properties in a batch.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserProperties {
    /// The app's id for the user; a new one is created (as by `PUT /api/v1/users/{userID}`).
    #[serde(rename = "userID")]
    user_id: String,
    /// Name → value: a string (≤ 1,000 characters; one in RFC 3339 form
    /// becomes a date), a finite number, a boolean, or `null` to remove
    /// the property. Absent names keep their value.
    #[schema(value_type = Object)]
    properties: PropertiesBody,
}

/// What a batch did.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"users": 2, "changed": 3}))]
pub struct PropertiesAccepted {
    /// Users in the batch (each created if new).
    users: usize,
    /// Property values that changed (an unchanged value is not a change).
    changed: usize,
}

/// Sets the properties of many users at once (backfills).
///
/// At most 1,000 users per request; the batch is stored whole or not at
/// all (a refused user refuses it, with the field naming which).
#[utoipa::path(
    post,
    path = "/api/v1/users/properties",
    tag = "users",
    request_body = Vec<UserProperties>,
    responses(
        (status = 200, description = "The batch is stored.", body = PropertiesAccepted),
        (status = 400, response = doc::Malformed),
        (status = 401, response = doc::Unauthorized),
        (status = 413, response = doc::TooLarge),
        (status = 422, response = doc::Invalid),
        (status = 429, response = doc::RateLimited),
        (status = 503, response = doc::Unavailable),
    ),
    security(("api_key" = [])),
)]
#[tracing::instrument(skip(state, app, body), fields(app = app.0.id, users = body.len()))]
pub async fn post_properties(
    State(state): State<AppState>,
    app: ApiApp,
    ApiJson(body): ApiJson<Vec<UserProperties>>,
) -> Result<Json<PropertiesAccepted>, ApiError> {
    if body.len() > MAX_BATCH_USERS {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("at most {MAX_BATCH_USERS} users per request"),
        ));
    }
    let mut batch = Vec::with_capacity(body.len());
    for (index, user) in body.iter().enumerate() {
        let user_id = validate::id(&format!("[{index}].userID"), user.user_id.clone())?;
        batch.push((user_id, changes(&format!("[{index}].properties"), &user.properties)?));
    }
    let done = state.store.set_properties_of_many(app.0.id, &batch, BY_API, now_ms()).await?;
    Ok(Json(PropertiesAccepted { users: done.len(), changed: done.iter().map(|(_, n)| n).sum() }))
}
