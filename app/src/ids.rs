//! Identifiers and enumerations that come from the customer's app, parsed
//! once at the edge ("parse, don't validate"): a store method that takes an
//! [`ExternalId`] cannot be handed an empty, overlong or control-laden one.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a piece of text from outside was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextError {
    Empty,
    TooLong {
        max: usize,
    },
    ControlCharacters,
    BidiControls,
    /// Zero-width and other invisible characters, in an identifier.
    Invisible,
}

impl fmt::Display for TextError {
    /// Reads after the field's name: "userID must not be empty".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TextError::Empty => write!(f, "must not be empty"),
            TextError::TooLong { max } => write!(f, "is longer than {max} characters"),
            TextError::ControlCharacters => write!(f, "contains control characters"),
            TextError::BidiControls => write!(f, "contains bidirectional control characters"),
            TextError::Invisible => {
                write!(f, "contains invisible characters (zero-width spaces, joiners, direction marks)")
            }
        }
    }
}

impl std::error::Error for TextError {}

/// One line of text from outside: at most `max` characters, no control or
/// bidirectional control characters (they would corrupt logs, headers and
/// what the console shows).
pub fn check_line(value: &str, max: usize) -> Result<(), TextError> {
    if value.chars().count() > max {
        return Err(TextError::TooLong { max });
    }
    if value.chars().any(char::is_control) {
        return Err(TextError::ControlCharacters);
    }
    if value.chars().any(crate::text::is_bidi_control) {
        return Err(TextError::BidiControls);
    }
    Ok(())
}

/// A plausible email address, `local@domain.tld` with no spaces (the real
/// check is whether mail arrives); the ingest API and imports share it.
pub fn is_plausible_email(value: &str) -> bool {
    value.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !value.contains(' ')
    })
}

/// An id the customer's app chose: a userID, a deviceID, an event id.
/// 1 to [`ExternalId::MAX_CHARS`] characters, not blank, one line.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ExternalId(String);

impl ExternalId {
    pub const MAX_CHARS: usize = 255;

    pub fn parse(value: impl Into<String>) -> Result<ExternalId, TextError> {
        let value = value.into();
        if value.trim().is_empty() {
            return Err(TextError::Empty);
        }
        check_line(&value, Self::MAX_CHARS)?;
        if value.chars().any(crate::text::is_invisible) {
            return Err(TextError::Invisible);
        }
        Ok(ExternalId(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ExternalId {
    type Error = TextError;
    fn try_from(value: String) -> Result<Self, TextError> {
        ExternalId::parse(value)
    }
}

impl std::str::FromStr for ExternalId {
    type Err = TextError;
    fn from_str(value: &str) -> Result<Self, TextError> {
        ExternalId::parse(value)
    }
}

impl From<ExternalId> for String {
    fn from(id: ExternalId) -> String {
        id.0
    }
}

impl AsRef<str> for ExternalId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ExternalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A device's location permission, as the SDK reports it
/// (`locationServicesAuthStatus`) and the database stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LocationStatus {
    /// No permission: the device sends no locations.
    #[default]
    None,
    /// Only while the app is in use.
    Use,
    Always,
}

impl LocationStatus {
    pub const ALL: [LocationStatus; 3] = [LocationStatus::None, LocationStatus::Use, LocationStatus::Always];

    /// The wire and database spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            LocationStatus::None => "none",
            LocationStatus::Use => "use",
            LocationStatus::Always => "always",
        }
    }

    /// How the console names it.
    pub fn label(self) -> &'static str {
        match self {
            LocationStatus::None => "No location",
            LocationStatus::Use => "Location when in use",
            LocationStatus::Always => "Location always",
        }
    }

    /// Whether the device may send location updates.
    pub fn allows_updates(self) -> bool {
        self != LocationStatus::None
    }
}

impl TryFrom<String> for LocationStatus {
    type Error = String;
    fn try_from(value: String) -> Result<Self, String> {
        LocationStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == value)
            .ok_or_else(|| format!("unknown location status '{value}'"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn external_ids_are_parsed_once() {
        assert_eq!(ExternalId::parse("u-1").unwrap().as_str(), "u-1");
        assert_eq!(ExternalId::parse(" "), Err(TextError::Empty));
        assert_eq!(ExternalId::parse(""), Err(TextError::Empty));
        assert_eq!(ExternalId::parse("x".repeat(256)), Err(TextError::TooLong { max: 255 }));
        assert!(ExternalId::parse("é".repeat(255)).is_ok(), "characters, not bytes");
        assert_eq!(ExternalId::parse("a\u{0}b"), Err(TextError::ControlCharacters));
        assert_eq!(ExternalId::parse("a\nb"), Err(TextError::ControlCharacters));
        assert_eq!(ExternalId::parse("ab\u{202e}c"), Err(TextError::BidiControls));
        for invisible in
            ['\u{200B}', '\u{200C}', '\u{200D}', '\u{200E}', '\u{200F}', '\u{061C}', '\u{00AD}', '\u{FEFF}']
        {
            assert_eq!(ExternalId::parse(format!("V{invisible}IP")), Err(TextError::Invisible), "{invisible:?}");
        }
        assert!(ExternalId::parse("Ünïcödé-ид-用户").is_ok());
        let from_json: Result<ExternalId, _> = serde_json::from_str("\"\"");
        assert!(from_json.unwrap_err().to_string().contains("must not be empty"));
    }

    #[test]
    fn location_statuses_round_trip() {
        for status in LocationStatus::ALL {
            assert_eq!(LocationStatus::try_from(status.as_str().to_string()), Ok(status));
            let json = serde_json::to_string(&status).unwrap();
            assert_eq!(serde_json::from_str::<LocationStatus>(&json).unwrap(), status);
        }
        assert!(LocationStatus::try_from("sometimes".to_string()).is_err());
        assert!(serde_json::from_str::<LocationStatus>("\"Always\"").is_err());
    }
}
