//! The users list's property filters and columns, and their URL form:
//! `prop.<name>=<value>` (is), `prop.<name>:not=<value>`, `prop.<name>:exists`,
//! `prop.<name>:missing`, `prop.<name>:lt=<value>`, `prop.<name>:gt=<value>`;
//! `cols=<name>,<name>` for the property columns. A name never holds `:` or
//! `,` (see [`super::properties::name_problem`]), so both forms are
//! unambiguous.

use serde::{Deserialize, Serialize};

use super::properties::name_problem;

/// Property filters one view holds at most.
pub const MAX_PROPERTY_FILTERS: usize = 5;
/// Property columns one view shows at most.
pub const MAX_COLUMNS: usize = 5;
/// The URL parameter prefix of a property filter.
pub const PARAM_PREFIX: &str = "prop.";
/// The URL parameter of the property columns.
pub const COLUMNS_PARAM: &str = "cols";

/// How a property filter compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum PropertyOp {
    /// The property has this value (a string equal to it, or a number,
    /// boolean or date the text reads as; a day `2026-12-06` is the whole
    /// day in UTC).
    #[default]
    Is,
    /// The property is absent or has another value.
    IsNot,
    Exists,
    Missing,
    /// A number or date below the value.
    Less,
    /// A number or date above the value.
    Greater,
}

impl PropertyOp {
    pub const ALL: [PropertyOp; 6] = [
        PropertyOp::Is,
        PropertyOp::IsNot,
        PropertyOp::Exists,
        PropertyOp::Missing,
        PropertyOp::Less,
        PropertyOp::Greater,
    ];

    /// The operator's suffix in URLs (`:not`; none for "is").
    pub fn as_param(self) -> &'static str {
        match self {
            PropertyOp::Is => "is",
            PropertyOp::IsNot => "not",
            PropertyOp::Exists => "exists",
            PropertyOp::Missing => "missing",
            PropertyOp::Less => "lt",
            PropertyOp::Greater => "gt",
        }
    }

    pub fn from_param(param: &str) -> Option<PropertyOp> {
        PropertyOp::ALL.into_iter().find(|op| op.as_param() == param)
    }

    /// The operator in words ("is not").
    pub fn label(self) -> &'static str {
        match self {
            PropertyOp::Is => "is",
            PropertyOp::IsNot => "is not",
            PropertyOp::Exists => "exists",
            PropertyOp::Missing => "does not exist",
            PropertyOp::Less => "is less than",
            PropertyOp::Greater => "is greater than",
        }
    }

    /// Whether the operator compares with a value.
    pub fn takes_value(self) -> bool {
        !matches!(self, PropertyOp::Exists | PropertyOp::Missing)
    }

    /// Whether a user must hold the property to match (so the matches can
    /// be read from the property's index).
    pub fn needs_property(self) -> bool {
        !matches!(self, PropertyOp::IsNot | PropertyOp::Missing)
    }
}

/// One condition on a property.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PropertyFilter {
    pub name: String,
    pub op: PropertyOp,
    /// Empty for `exists` and `missing`.
    #[serde(default)]
    pub value: String,
}

/// A number, boolean or date a filter's text reads as: the kind and the
/// stored numbers it covers, `lo..=hi` (a whole day for a date alone).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TypedValue {
    pub kind: &'static str,
    pub lo: f64,
    pub hi: f64,
}

const DAY_MS: f64 = 86_400_000.0;

impl PropertyFilter {
    /// The filter a URL parameter names (`prop.plan:not`, `pro`); `None`
    /// when the key is not a property filter's.
    pub fn from_param(key: &str, value: &str) -> Option<Result<PropertyFilter, String>> {
        let rest = key.strip_prefix(PARAM_PREFIX)?;
        let (name, op) = match rest.split_once(':') {
            Some((name, op)) => match PropertyOp::from_param(op) {
                Some(op) => (name, op),
                None => {
                    return Some(Err(format!("“{op}” is not a property filter (is, not, exists, missing, lt, gt).")))
                }
            },
            None => (rest, PropertyOp::Is),
        };
        let value = if op.takes_value() { value.to_string() } else { String::new() };
        Some(PropertyFilter { name: name.to_string(), op, value }.named())
    }

    /// The filter as a URL parameter (key, value).
    pub fn to_param(&self) -> (String, String) {
        match self.op {
            PropertyOp::Is => (format!("{PARAM_PREFIX}{}", self.name), self.value.clone()),
            op => (format!("{PARAM_PREFIX}{}:{}", self.name, op.as_param()), self.value.clone()),
        }
    }

    /// The filter in words ("plan is pro").
    pub fn label(&self) -> String {
        if self.op.takes_value() {
            format!("{} {} {}", self.name, self.op.label(), self.value)
        } else {
            format!("{} {}", self.name, self.op.label())
        }
    }

    /// The filter, or why its name cannot be a property's: all the browser
    /// checks, so that the value's typing ([`PropertyFilter::typed`]) and
    /// its date parsing stay out of the wasm; the server checks the rest.
    pub fn named(self) -> Result<PropertyFilter, String> {
        match name_problem(&self.name) {
            Some(problem) => Err(problem),
            None => Ok(self),
        }
    }

    /// The filter, or why it cannot be one.
    pub fn checked(self) -> Result<PropertyFilter, String> {
        let this = self.named()?;
        if this.op.takes_value() && this.value.chars().count() > super::properties::MAX_STRING {
            return Err(format!("A property filter's value is at most {} characters.", super::properties::MAX_STRING));
        }
        if matches!(this.op, PropertyOp::Less | PropertyOp::Greater) && this.typed().is_none_or(|t| t.kind == "boolean")
        {
            return Err(format!(
                "“{}” {} compares numbers and dates: “{}” is neither.",
                this.name,
                this.op.label(),
                this.value
            ));
        }
        Ok(this)
    }

    /// The number, boolean or date the value reads as, if any.
    pub fn typed(&self) -> Option<TypedValue> {
        let text = self.value.trim();
        if let Ok(n) = text.parse::<f64>() {
            return n.is_finite().then_some(TypedValue { kind: "number", lo: n, hi: n });
        }
        match text {
            "true" => return Some(TypedValue { kind: "boolean", lo: 1.0, hi: 1.0 }),
            "false" => return Some(TypedValue { kind: "boolean", lo: 0.0, hi: 0.0 }),
            _ => {}
        }
        if let Ok(at) = chrono::DateTime::parse_from_rfc3339(text) {
            let ms = at.timestamp_millis() as f64;
            return Some(TypedValue { kind: "date", lo: ms, hi: ms });
        }
        let day = parse_day(text)?;
        let start = day.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis() as f64;
        Some(TypedValue { kind: "date", lo: start, hi: start + DAY_MS - 1.0 })
    }
}

/// A day written `YYYY-MM-DD`.
fn parse_day(text: &str) -> Option<chrono::NaiveDate> {
    let mut parts = text.split('-');
    let (year, month, day) = (parts.next()?, parts.next()?, parts.next()?);
    let digits = |part: &str, n: usize| part.len() == n && part.bytes().all(|b| b.is_ascii_digit());
    if parts.next().is_some() || !digits(year, 4) || !digits(month, 2) || !digits(day, 2) {
        return None;
    }
    chrono::NaiveDate::from_ymd_opt(year.parse().ok()?, month.parse().ok()?, day.parse().ok()?)
}

/// The property filters among a URL query's parameters, in order, or why
/// one cannot be a filter; at most [`MAX_PROPERTY_FILTERS`].
pub fn filters_from_pairs<K: AsRef<str>, V: AsRef<str>>(
    pairs: impl IntoIterator<Item = (K, V)>,
) -> Result<Vec<PropertyFilter>, String> {
    let mut filters = Vec::new();
    for (key, value) in pairs {
        if let Some(filter) = PropertyFilter::from_param(key.as_ref(), value.as_ref()) {
            filters.push(filter?.checked()?);
        }
    }
    if filters.len() > MAX_PROPERTY_FILTERS {
        return Err(format!("A view filters by at most {MAX_PROPERTY_FILTERS} properties."));
    }
    Ok(filters)
}

/// The filters in their URL form (`prop.plan=pro&prop.age:gt=30`), which
/// [`filters_from_pairs`] reads back.
pub fn filters_query(filters: &[PropertyFilter]) -> String {
    form_urlencoded::Serializer::new(String::new()).extend_pairs(filters.iter().map(PropertyFilter::to_param)).finish()
}

/// The property columns a `cols=` parameter names, in order, each once, at
/// most [`MAX_COLUMNS`]; names that cannot be properties are left out.
pub fn columns_from_param(param: &str) -> Vec<String> {
    let mut columns: Vec<String> = Vec::new();
    for name in param.split(',').map(str::trim).filter(|n| name_problem(n).is_none()) {
        if !columns.iter().any(|c| c == name) && columns.len() < MAX_COLUMNS {
            columns.push(name.to_string());
        }
    }
    columns
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(key: &str, value: &str) -> Result<PropertyFilter, String> {
        PropertyFilter::from_param(key, value).expect("a property parameter")
    }

    #[test]
    fn url_form_round_trips() {
        for (key, value) in
            [("prop.plan", "pro"), ("prop.plan:not", "free"), ("prop.age:lt", "30"), ("prop.a.b:exists", "")]
        {
            let filter = parse(key, value).unwrap();
            assert_eq!(filter.to_param(), (key.to_string(), value.to_string()));
        }
        assert_eq!(parse("prop.plan:exists", "ignored").unwrap().value, "");
        assert!(PropertyFilter::from_param("q", "x").is_none());
    }

    #[test]
    fn bad_filters_say_why() {
        assert!(parse("prop.plan:like", "x").unwrap_err().contains("not a property filter"));
        assert!(parse("prop.$plan", "x").is_err());
        assert!(parse("prop.plan:gt", "pro").unwrap().checked().unwrap_err().contains("numbers and dates"));
        assert!(parse("prop.paid:lt", "true").unwrap().checked().is_err());
        assert!(parse("prop.day:lt", "2026-1-06").unwrap().checked().is_err());
    }

    #[test]
    fn values_read_as_types() {
        let typed = |v: &str| PropertyFilter { name: "p".into(), op: PropertyOp::Is, value: v.into() }.typed();
        assert_eq!(typed("42").unwrap().kind, "number");
        assert_eq!(typed("true").unwrap().lo, 1.0);
        let day = typed("2026-12-06").unwrap();
        assert_eq!((day.kind, day.hi - day.lo), ("date", DAY_MS - 1.0));
        assert_eq!(typed("2026-12-06T10:00:00Z").unwrap().lo, 1_796_551_200_000.0);
        assert!(typed("pro").is_none());
    }

    #[test]
    fn a_query_holds_the_filters() {
        let filters = vec![
            PropertyFilter { name: "plan".into(), op: PropertyOp::Is, value: "pro & more".into() },
            PropertyFilter { name: "age".into(), op: PropertyOp::Greater, value: "30".into() },
        ];
        let query = filters_query(&filters);
        let read = filters_from_pairs(form_urlencoded::parse(query.as_bytes())).unwrap();
        assert_eq!(read, filters);
        let many = (0..6).map(|i| (format!("prop.p{i}"), "x".to_string()));
        assert!(filters_from_pairs(many).unwrap_err().contains("at most 5"));
    }

    #[test]
    fn columns_are_few_and_distinct() {
        assert_eq!(columns_from_param("plan, country,plan,$x,,a,b,c,d"), ["plan", "country", "a", "b", "c"]);
    }
}
