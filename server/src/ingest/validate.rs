//! Range and length checks shared by the ingest handlers.

use app::ids::{check_line, ExternalId, TextError};
use chrono::{DateTime, TimeZone, Utc};

use super::error::ApiError;

pub const MAX_TEXT: usize = 255;

fn refused(field: &str, err: TextError) -> ApiError {
    let name = field.rsplit('.').next().unwrap_or(field);
    ApiError::invalid(field, format!("{name} {err}"))
}

/// A userID, deviceID or event id (rules in [`ExternalId`]).
pub fn id(field: &str, value: impl Into<String>) -> Result<ExternalId, ApiError> {
    ExternalId::parse(value).map_err(|err| refused(field, err))
}

/// A required one-line text (an event type, a platform): not blank.
pub fn required(field: &str, value: &str, max: usize) -> Result<(), ApiError> {
    if value.trim().is_empty() {
        return Err(refused(field, TextError::Empty));
    }
    text(field, value, max)
}

/// Free text: at most `max` characters, no control characters.
pub fn text(field: &str, value: &str, max: usize) -> Result<(), ApiError> {
    check_line(value, max).map_err(|err| refused(field, err))
}

pub fn opt_text(field: &str, value: Option<&str>, max: usize) -> Result<(), ApiError> {
    value.map_or(Ok(()), |v| text(field, v, max))
}

/// A plausible email address (the real check is whether mail arrives).
pub fn email(field: &str, value: &str) -> Result<(), ApiError> {
    text(field, value, 320)?;
    if !app::ids::is_plausible_email(value) {
        return Err(ApiError::invalid(field, format!("{field} is not an email address")));
    }
    Ok(())
}

/// A client-supplied time: not before 2000 and not more than a day ahead.
/// Missing means now. Returns epoch milliseconds.
pub fn time(field: &str, value: Option<DateTime<Utc>>, now: i64) -> Result<i64, ApiError> {
    let Some(value) = value else { return Ok(now) };
    let ms = value.timestamp_millis();
    let earliest = Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).unwrap().timestamp_millis();
    if ms < earliest || ms > now + 24 * 3600 * 1000 {
        return Err(ApiError::invalid(field, format!("{field} must be between 2000-01-01 and a day from now")));
    }
    Ok(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_texts() {
        assert_eq!(id("userID", "u-1").unwrap().as_str(), "u-1");
        let blank = id("[3].userID", " ").unwrap_err();
        assert_eq!(blank.field.as_deref(), Some("[3].userID"));
        assert_eq!(blank.error, "userID must not be empty");
        assert!(id("userID", "x".repeat(256)).is_err());
        assert!(required("type", " ", 10).is_err());
        assert!(text("userName", "Ana\u{0007}", 10).is_err());
        assert!(text("userName", "Zoë", 3).is_ok());
    }

    #[test]
    fn emails() {
        assert!(email("email", "ana@example.com").is_ok());
        for bad in ["ana", "@example.com", "ana@localhost", "a b@example.com", "ana@.com"] {
            assert!(email("email", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn times() {
        let now = Utc::now().timestamp_millis();
        assert_eq!(time("time", None, now).unwrap(), now);
        assert!(time("time", Some(Utc.with_ymd_and_hms(1999, 12, 31, 0, 0, 0).unwrap()), now).is_err());
        assert!(time("time", Some(Utc::now() + chrono::Duration::days(2)), now).is_err());
        assert!(time("time", Some(Utc::now() - chrono::Duration::days(2)), now).is_ok());
    }
}
