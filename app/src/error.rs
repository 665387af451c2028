//! The one error type server functions return. Its messages are written for
//! the person at the console: raw database errors are logged on the server
//! and never serialised to the browser. Each variant carries its HTTP status
//! ([`AppError::status_code`]), applied in one place: when a server function
//! encodes the error (`ser`), and when a page renders it (`layout::ErrorMessage`).

use crate::codec::JsonText;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(into = "WireError", from = "WireError")]
pub enum AppError {
    #[error("{0}")]
    NotFound(String),
    #[error("{message}")]
    Invalid { field: Option<String>, message: String },
    /// The request itself could not be read (bad arguments, not a form).
    #[error("{0}")]
    BadRequest(String),
    #[error("The request is too large.")]
    PayloadTooLarge,
    #[error("{0}")]
    Conflict(String),
    #[error("Please sign in.")]
    Unauthorized,
    #[error("Wrong email or password.")]
    BadCredentials,
    #[error("You don't have permission to do that.")]
    Forbidden,
    #[error("{0}")]
    TooManyRequests(String),
    /// The database stayed busy through every retry; nothing was changed and
    /// the same request can simply be sent again.
    #[error("The server is busy right now and nothing was changed. Please try again in a moment.")]
    Busy,
    #[error("Something went wrong on our side. Please try again.")]
    Internal,
    /// The request never reached the server function, or its answer could not be read.
    #[error("Could not reach the server ({0}). Please try again.")]
    Transport(String),
}

/// How an error travels: `{"error": message, "kind": variant, "field"?}`,
/// the same shape as the ingest API's errors, readable by any client.
#[derive(Serialize, Deserialize)]
struct WireError {
    error: String,
    kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    field: Option<String>,
}

impl From<AppError> for WireError {
    fn from(err: AppError) -> Self {
        let error = err.to_string();
        let (kind, field) = match err {
            AppError::NotFound(_) => ("NotFound", None),
            AppError::Invalid { field, .. } => ("Invalid", field),
            AppError::BadRequest(_) => ("BadRequest", None),
            AppError::PayloadTooLarge => ("PayloadTooLarge", None),
            AppError::Conflict(_) => ("Conflict", None),
            AppError::Unauthorized => ("Unauthorized", None),
            AppError::BadCredentials => ("BadCredentials", None),
            AppError::Forbidden => ("Forbidden", None),
            AppError::TooManyRequests(_) => ("TooManyRequests", None),
            AppError::Busy => ("Busy", None),
            AppError::Internal => ("Internal", None),
            AppError::Transport(_) => ("Transport", None),
        };
        WireError { error, kind: kind.into(), field }
    }
}

impl From<WireError> for AppError {
    fn from(wire: WireError) -> Self {
        let WireError { error, kind, field } = wire;
        match kind.as_str() {
            "NotFound" => AppError::NotFound(error),
            "Invalid" => AppError::Invalid { field, message: error },
            "BadRequest" => AppError::BadRequest(error),
            "PayloadTooLarge" => AppError::PayloadTooLarge,
            "Conflict" => AppError::Conflict(error),
            "Unauthorized" => AppError::Unauthorized,
            "BadCredentials" => AppError::BadCredentials,
            "Forbidden" => AppError::Forbidden,
            "TooManyRequests" => AppError::TooManyRequests(error),
            "Busy" => AppError::Busy,
            "Transport" => AppError::Transport(error),
            _ => AppError::Internal,
        }
    }
}

impl AppError {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        AppError::Invalid { field: Some(field.to_string()), message: message.into() }
    }

    /// The HTTP status this error answers with.
    pub fn status_code(&self) -> u16 {
        match self {
            AppError::BadRequest(_) => 400,
            AppError::Unauthorized | AppError::BadCredentials => 401,
            AppError::Forbidden => 403,
            AppError::NotFound(_) => 404,
            AppError::Conflict(_) => 409,
            AppError::PayloadTooLarge => 413,
            AppError::Invalid { .. } => 422,
            AppError::TooManyRequests(_) => 429,
            AppError::Internal | AppError::Transport(_) => 500,
            AppError::Busy => 503,
        }
    }
}

/// Sets the HTTP status of the server function's (or page's) response,
/// unless it redirects already (a merged user's page leads to the kept
/// user's; the error shown meanwhile must not turn the 302 into a 404).
#[cfg(feature = "ssr")]
pub fn set_status(status: u16) {
    use leptos::prelude::use_context;
    if let (Some(response), Ok(status)) =
        (use_context::<leptos_axum::ResponseOptions>(), axum::http::StatusCode::from_u16(status))
    {
        let redirecting = response.0.read().map(|parts| parts.status.is_some_and(|s| s.is_redirection()));
        if !redirecting.unwrap_or(false) {
            response.set_status(status);
        }
    }
}

/// Fails with `error`, setting its HTTP status at once (for pages rendered
/// on the server, which call server functions as plain functions).
#[cfg(feature = "ssr")]
pub fn fail<T>(error: AppError) -> Result<T, AppError> {
    set_status(error.status_code());
    Err(error)
}

impl FromServerFnError for AppError {
    type Encoder = JsonText;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        // On the server these describe the incoming request (a client's
        // mistake); in the browser, the way to the server.
        if cfg!(feature = "ssr") {
            match value {
                // The body is read while the arguments are: a body over the
                // server's limit shows up here as "length limit exceeded".
                ServerFnErrorErr::Args(message)
                | ServerFnErrorErr::Request(message)
                | ServerFnErrorErr::Deserialization(message)
                    if message.contains("length limit") =>
                {
                    AppError::PayloadTooLarge
                }
                ServerFnErrorErr::Args(message) | ServerFnErrorErr::Deserialization(message) => {
                    AppError::BadRequest(format!("The request was not understood: {message}"))
                }
                ServerFnErrorErr::Request(message) => AppError::BadRequest(format!("Bad request: {message}")),
                other => {
                    #[cfg(feature = "ssr")]
                    tracing::error!(error = %other, "server function failed");
                    let _ = other;
                    AppError::Internal
                }
            }
        } else {
            AppError::Transport(value.to_string())
        }
    }

    /// Encoding an error is the one place every server function's failure
    /// passes on the server: its status is set here.
    fn ser(&self) -> leptos::server_fn::Bytes {
        #[cfg(feature = "ssr")]
        set_status(self.status_code());
        use leptos::server_fn::Encodes;
        <JsonText as Encodes<AppError>>::encode(self).unwrap_or_else(|_| {
            leptos::server_fn::Bytes::from_static(br#"{"error":"Internal error","kind":"Internal"}"#)
        })
    }
}

#[cfg(feature = "ssr")]
impl From<crate::store::StoreError> for AppError {
    fn from(err: crate::store::StoreError) -> Self {
        use crate::store::StoreError;
        match err {
            StoreError::NotFound(what) => AppError::NotFound(format!("{what} not found")),
            StoreError::Conflict(what) => AppError::Conflict(format!("{what} already exists")),
            StoreError::UnknownReference { field, value } => {
                AppError::invalid(&field, format!("unknown {field} '{value}'"))
            }
            StoreError::Invalid { field, message } => AppError::invalid(&field, message),
            StoreError::Busy(cause) => {
                tracing::warn!(%cause, "database busy");
                AppError::Busy
            }
            unavailable if unavailable.is_unavailable() => {
                tracing::warn!(cause = %unavailable, "database unavailable");
                AppError::Busy
            }
            other => {
                tracing::error!(error = %other, "store error");
                AppError::Internal
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::AppError;

    #[test]
    fn errors_travel_as_json_with_their_message_and_come_back_whole() {
        let cases = [
            AppError::invalid("search", "Search for at most 200 characters."),
            AppError::NotFound("This user does not exist in this app.".into()),
            AppError::BadCredentials,
            AppError::Busy,
            AppError::TooManyRequests("Wait 3 s".into()),
        ];
        for err in cases {
            let json = serde_json::to_value(&err).unwrap();
            assert_eq!(json["error"], err.to_string());
            assert_eq!(serde_json::from_value::<AppError>(json).unwrap(), err);
        }
        assert_eq!(serde_json::to_value(AppError::invalid("cursor", "x")).unwrap()["field"], "cursor");
    }
}
