//! User properties: typed attributes of a user, sent by the app or edited
//! by an admin, with the history of their changes. The rules here (names,
//! types, limits) are the API's and the console's alike.

use serde::{Deserialize, Serialize};

/// Properties a user holds at most.
pub const MAX_PROPERTIES: usize = 100;
/// Characters of a property's name at most.
pub const MAX_NAME: usize = 64;
/// Characters of a string value at most.
pub const MAX_STRING: usize = 1_000;
/// Users one batch of the ingest API's properties route names at most.
pub const MAX_BATCH_USERS: usize = 1_000;
/// Changes one page of a user's property history lists.
pub const HISTORY_PAGE: i64 = 20;
/// Who the ingest API's changes are recorded as.
pub const BY_API: &str = "api";

/// A property's value. A string in RFC 3339 form sent by the app becomes a
/// date; a date is kept as epoch milliseconds (UTC).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "lowercase")]
pub enum PropertyValue {
    String(String),
    Number(f64),
    Boolean(bool),
    Date(i64),
}

impl PropertyValue {
    /// The value's kind as stored and shown (`string`, `number`, …).
    pub fn kind(&self) -> &'static str {
        match self {
            PropertyValue::String(_) => "string",
            PropertyValue::Number(_) => "number",
            PropertyValue::Boolean(_) => "boolean",
            PropertyValue::Date(_) => "date",
        }
    }

    /// The value the app sent for `name` (`null`: remove the property), or
    /// why it is refused.
    pub fn from_json(name: &str, value: &serde_json::Value) -> Result<Option<PropertyValue>, String> {
        use serde_json::Value;
        match value {
            Value::Null => Ok(None),
            Value::Bool(b) => Ok(Some(PropertyValue::Boolean(*b))),
            Value::Number(n) => n
                .as_f64()
                .filter(|n| n.is_finite())
                .map(|n| Some(PropertyValue::Number(n)))
                .ok_or_else(|| format!("property `{name}`: the number is out of range")),
            Value::String(s) => Ok(Some(PropertyValue::from_text(name, s)?)),
            Value::Array(_) | Value::Object(_) => {
                Err(format!("property `{name}`: objects and arrays are not allowed (string, number, boolean or date)"))
            }
        }
    }

    /// A string value: a date when it reads as RFC 3339, else the string
    /// (at most [`MAX_STRING`] characters).
    pub fn from_text(name: &str, text: &str) -> Result<PropertyValue, String> {
        if let Ok(at) = chrono::DateTime::parse_from_rfc3339(text.trim()) {
            return Ok(PropertyValue::Date(at.timestamp_millis()));
        }
        if text.chars().count() > MAX_STRING {
            return Err(format!("property `{name}`: a string is at most {MAX_STRING} characters"));
        }
        Ok(PropertyValue::String(text.to_string()))
    }
}

/// The kinds an admin picks from, with their labels.
pub const KINDS: [(&str, &str); 4] =
    [("string", "Text"), ("number", "Number"), ("boolean", "Yes / no"), ("date", "Date")];

/// A value an admin typed for a kind they picked (a date as RFC 3339: the
/// browser converts its local date-time input), or why it is refused.
pub fn parse_admin_value(kind: &str, text: &str) -> Result<PropertyValue, String> {
    match kind {
        "string" if text.chars().count() > MAX_STRING => Err(format!("A text is at most {MAX_STRING} characters.")),
        "string" => Ok(PropertyValue::String(text.to_string())),
        "number" => text
            .trim()
            .replace(',', "")
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite())
            .map(PropertyValue::Number)
            .ok_or_else(|| format!("“{}” is not a number.", text.trim())),
        "boolean" => match text.trim() {
            "true" | "yes" => Ok(PropertyValue::Boolean(true)),
            "false" | "no" => Ok(PropertyValue::Boolean(false)),
            other => Err(format!("“{other}” is neither yes nor no.")),
        },
        // The browser sends RFC 3339 with the viewer's offset; a form sent
        // without JavaScript sends the date-time field as typed, read as UTC.
        "date" => chrono::DateTime::parse_from_rfc3339(text.trim())
            .map(|at| at.timestamp_millis())
            .or_else(|_| {
                chrono::NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%dT%H:%M")
                    .map(|at| at.and_utc().timestamp_millis())
            })
            .map(PropertyValue::Date)
            .map_err(|_| "Pick a date and time.".to_string()),
        other => Err(format!("“{other}” is not a kind of property.")),
    }
}

/// A number with its thousands grouped (`1,234,567.5`).
pub fn grouped(n: f64) -> String {
    let text = n.to_string();
    let (sign, digits) = text.strip_prefix('-').map_or(("", text.as_str()), |d| ("-", d));
    let (whole, fraction) = digits.split_once('.').map_or((digits, None), |(w, f)| (w, Some(f)));
    let mut out = String::with_capacity(text.len() + whole.len() / 3);
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    match fraction {
        Some(f) => format!("{sign}{out}.{f}"),
        None => format!("{sign}{out}"),
    }
}

/// A value in one line of words (a date in UTC).
pub fn value_words(value: Option<&PropertyValue>) -> String {
    match value {
        None => "(none)".into(),
        Some(PropertyValue::String(s)) => format!("“{s}”"),
        Some(PropertyValue::Number(n)) => grouped(*n),
        Some(PropertyValue::Boolean(b)) => if *b { "yes" } else { "no" }.into(),
        Some(PropertyValue::Date(ms)) => crate::time::format_ms(*ms),
    }
}

/// Why a property's name is refused, if it is.
pub fn name_problem(name: &str) -> Option<String> {
    let length = name.chars().count();
    if name.starts_with('$') {
        return Some(format!("property `{name}`: names starting with `$` are reserved"));
    }
    if length == 0 || length > MAX_NAME {
        return Some(format!("property names are 1–{MAX_NAME} characters (`{name}` has {length})"));
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')) {
        return Some(format!("property `{name}`: names use letters, digits, `_`, `-` and `.` only"));
    }
    None
}

/// One requested change: set `name` to `value`, or remove it (`None`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PropertySet {
    pub name: String,
    pub value: Option<PropertyValue>,
}

/// A property as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserProperty {
    pub name: String,
    pub value: PropertyValue,
    pub updated_at: i64,
}

/// One change of a property: before (`None`: absent), after (`None`:
/// removed), who (`api` or an admin's email) and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PropertyChange {
    pub id: i64,
    pub name: String,
    pub old: Option<PropertyValue>,
    pub new: Option<PropertyValue>,
    pub by: String,
    pub at: i64,
}

/// Why a set of changes was refused as a whole (nothing was written).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PropertiesRefused {
    #[error("{0}")]
    Invalid(String),
    #[error("a user holds at most {MAX_PROPERTIES} properties ({0} after these changes)")]
    TooMany(usize),
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_are_typed_and_objects_refused() {
        let v = |j| PropertyValue::from_json("p", &j);
        assert_eq!(v(json!("pro")), Ok(Some(PropertyValue::String("pro".into()))));
        assert_eq!(v(json!(3.5)), Ok(Some(PropertyValue::Number(3.5))));
        assert_eq!(v(json!(true)), Ok(Some(PropertyValue::Boolean(true))));
        assert_eq!(v(json!("2026-01-02T03:04:05Z")), Ok(Some(PropertyValue::Date(1_767_323_045_000))));
        assert_eq!(v(json!(null)), Ok(None));
        assert!(v(json!({"a": 1})).unwrap_err().contains("property `p`"));
        assert!(v(json!([1])).is_err());
        assert!(v(json!("x".repeat(MAX_STRING))).is_ok());
        assert!(v(json!("x".repeat(MAX_STRING + 1))).is_err());
    }

    #[test]
    fn names_follow_the_rules_at_their_edges() {
        assert_eq!(name_problem("plan"), None);
        assert_eq!(name_problem("a.b-c_9"), None);
        assert_eq!(name_problem(&"n".repeat(MAX_NAME)), None);
        assert!(name_problem(&"n".repeat(MAX_NAME + 1)).is_some());
        assert!(name_problem("").is_some());
        assert!(name_problem("$plan").unwrap().contains("reserved"));
        assert!(name_problem("pl an").is_some());
        assert!(name_problem("plañ").is_some());
    }

    #[test]
    fn admins_values_are_read_by_their_kind() {
        assert_eq!(parse_admin_value("number", " 1,234.5 "), Ok(PropertyValue::Number(1234.5)));
        assert!(parse_admin_value("number", "NaN").is_err());
        assert!(parse_admin_value("number", "ten").is_err());
        assert_eq!(parse_admin_value("boolean", "false"), Ok(PropertyValue::Boolean(false)));
        assert_eq!(
            parse_admin_value("string", "2026-01-02T03:04:05Z"),
            Ok(PropertyValue::String("2026-01-02T03:04:05Z".into()))
        );
        assert_eq!(parse_admin_value("date", "2026-01-02T04:04:05+01:00"), Ok(PropertyValue::Date(1_767_323_045_000)));
        assert!(parse_admin_value("date", "tomorrow").is_err());
        assert_eq!(parse_admin_value("date", "2026-01-02T03:04"), Ok(PropertyValue::Date(1_767_323_040_000)));
        assert!(parse_admin_value("object", "{}").is_err());
    }

    #[test]
    fn numbers_are_grouped() {
        assert_eq!(grouped(1234567.5), "1,234,567.5");
        assert_eq!(grouped(-1000.0), "-1,000");
        assert_eq!(grouped(999.0), "999");
        assert_eq!(grouped(0.25), "0.25");
    }

    #[test]
    fn values_travel_as_kind_and_value() {
        let json = serde_json::to_value(PropertyValue::Date(5)).unwrap();
        assert_eq!(json, json!({"kind": "date", "value": 5}));
        assert_eq!(serde_json::from_value::<PropertyValue>(json).unwrap(), PropertyValue::Date(5));
    }
}
