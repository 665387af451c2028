//! Ingest API errors: always JSON `{"error": "...", "field": "..."}` with a 4xx
//! status for the client's mistakes; internal details stay in the log.

use app::error::AppError;
use app::store::StoreError;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// An error: what went wrong, and the value to blame when there is one.
/// The request stored nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(example = json!({"error": "userID must not be empty", "field": "[3].userID"}))]
pub struct ApiError {
    #[serde(skip)]
    pub status: StatusCode,
    /// What went wrong, in words.
    pub error: String,
    /// The offending value, when there is one: a body field, an array
    /// element's field (`[3].userID`, `[0].latitude`), or a path parameter
    /// (`userID`, `deviceID`, `name`, `messageId`, `to`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String, required = false)]
    pub field: Option<String>,
    /// Seconds for a `Retry-After` header (429, 503).
    #[serde(skip)]
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, error: impl Into<String>) -> Self {
        ApiError { status, error: error.into(), field: None, retry_after: None }
    }

    /// 422: the request was well-formed JSON but a value is not acceptable.
    pub fn invalid(field: impl Into<String>, error: impl Into<String>) -> Self {
        ApiError { field: Some(field.into()), ..ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, error) }
    }

    pub fn not_found(field: impl Into<String>, error: impl Into<String>) -> Self {
        ApiError { field: Some(field.into()), ..ApiError::new(StatusCode::NOT_FOUND, error) }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(&self)).into_response();
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::UnknownReference { field, value } => {
                let name = field.rsplit('.').next().unwrap_or(&field).to_string();
                ApiError::invalid(field, format!("unknown {name} '{value}'"))
            }
            StoreError::Invalid { field, message } => ApiError::invalid(field, message),
            StoreError::NotFound(what) => ApiError::new(StatusCode::NOT_FOUND, format!("{what} not found")),
            StoreError::Conflict(what) => ApiError::new(StatusCode::CONFLICT, format!("{what} already exists")),
            StoreError::Busy(cause) => {
                tracing::warn!(%cause, "ingest: database busy");
                ApiError {
                    retry_after: Some(1),
                    ..ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "database busy; nothing was stored, retry in 1 s")
                }
            }
            unavailable if unavailable.is_unavailable() => {
                tracing::warn!(cause = %unavailable, "ingest: database unavailable");
                ApiError {
                    retry_after: Some(5),
                    ..ApiError::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "database unavailable; nothing was stored, retry later",
                    )
                }
            }
            other => {
                tracing::error!(error = %other, "ingest store error");
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error; nothing was stored")
            }
        }
    }
}

/// A service's error (the console's wording) as an API error with the same status.
impl From<AppError> for ApiError {
    fn from(err: AppError) -> Self {
        let status = StatusCode::from_u16(err.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        match err {
            AppError::Invalid { field, message } => ApiError { field, ..ApiError::new(status, message) },
            AppError::Busy => ApiError {
                retry_after: Some(1),
                ..ApiError::new(status, "database busy; nothing was stored, retry in 1 s")
            },
            AppError::Internal => ApiError::new(status, "internal error; nothing was stored"),
            other => ApiError::new(status, other.to_string()),
        }
    }
}

/// A JSON body whose errors are API errors: malformed JSON is 400, a value
/// of the wrong shape is 422 naming the field, too large a body is 413.
/// The Content-Type is not required (SDKs and curl often omit it).
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            let status = rejection.status();
            if status == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(status, format!("request body too large (limit {} KiB)", super::BODY_LIMIT / 1024))
            } else {
                ApiError::new(status, rejection.body_text())
            }
        })?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Parses JSON, reporting the path of a bad value (e.g. `[2].time`).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let deserializer = &mut serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut *deserializer).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => ApiError::invalid(path, inner.to_string()),
            _ => ApiError::new(StatusCode::BAD_REQUEST, format!("malformed JSON: {inner}")),
        }
    })?;
    // One JSON value and nothing after it but whitespace: a second value or
    // stray text would otherwise be dropped without a word.
    deserializer.end().map_err(|err| {
        ApiError::new(StatusCode::BAD_REQUEST, format!("malformed JSON: unexpected data after the JSON value ({err})"))
    })?;
    Ok(value)
}

/// Deserialises an already-parsed JSON value, reporting the bad value's path.
pub fn from_value<T: DeserializeOwned>(value: serde_json::Value, prefix: &str) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(value).map_err(|err| {
        let path = format!("{prefix}{}", err.path()).trim_start_matches('.').to_string();
        ApiError::invalid(if path.is_empty() { "body".into() } else { path }, err.into_inner().to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_data_after_the_json_value_is_a_400() {
        for body in [&b"[1][2]"[..], b"{\"a\":1} xyz", b"[] []", b"{} {}"] {
            let err = parse_json::<serde_json::Value>(body).unwrap_err();
            assert_eq!(err.status, StatusCode::BAD_REQUEST, "{}", String::from_utf8_lossy(body));
        }
        assert!(parse_json::<serde_json::Value>(b"  [1, 2]\n\t ").is_ok(), "trailing whitespace is fine");
    }
}
