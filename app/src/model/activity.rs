//! The activity boxes' types, shared by the server fns, the live stream and
//! the browser.

use serde::{Deserialize, Serialize};

/// One event as the profile shows it (and as the live stream sends it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct ActivityEvent {
    /// The event's row id: also its id on the live stream (`Last-Event-ID`).
    pub id: i64,
    pub app_id: i64,
    pub user_id: Option<i64>,
    pub event_type: String,
    pub device_id: Option<i64>,
    /// The device's model (deviceString), else its platform.
    pub device_name: Option<String>,
    /// When it happened (epoch ms, from the app).
    pub occurred_at: i64,
    /// The event's JSON payload, as sent.
    pub data: Option<String>,
}

impl ActivityEvent {
    /// A readable name for the type: the SDK's `re.notifica.event.*` types
    /// in words ("Application opened"), anything else as sent.
    pub fn label(&self) -> String {
        type_label(&self.event_type)
    }
}

/// See [`ActivityEvent::label`].
pub fn type_label(event_type: &str) -> String {
    let Some(rest) = event_type.strip_prefix("re.notifica.event.").filter(|rest| !rest.is_empty()) else {
        return event_type.to_string();
    };
    let known = match rest {
        "application.Install" => "Application installed",
        "application.Registration" => "Application registered",
        "application.Upgrade" => "Application upgraded",
        "application.Open" => "Application opened",
        "application.Close" => "Application closed",
        "application.Exception" => "Application exception",
        "notification.Receive" => "Notification received",
        "notification.Influenced" => "Notification influenced open",
        "notification.Open" => "Notification opened",
        "region.Enter" => "Region entered",
        "region.Exit" => "Region left",
        "beacon.Enter" => "Beacon entered",
        "beacon.Exit" => "Beacon left",
        "inbox.Open" => "Inbox opened",
        "custom" => "Custom event",
        _ => "",
    };
    if !known.is_empty() {
        return known.to_string();
    }
    // "re.notifica.event.notification.Reply" → "Notification reply".
    let words: Vec<&str> = rest.split('.').collect();
    let mut text = words.join(" ");
    if let Some(first) = text.get(..1) {
        text = first.to_uppercase() + &text[1..].to_lowercase();
    }
    text
}

/// A period of the event search: `from` inclusive, `to` exclusive (epoch ms).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    pub from: i64,
    pub to: i64,
}

/// What the event search asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventQuery {
    pub period: Period,
    /// Only this event type (exact), when given.
    pub event_type: Option<String>,
    /// Text that must appear in the event's `data` (ignoring case), when given.
    pub text: Option<String>,
}

/// One page of the event search, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventsPage {
    pub events: Vec<ActivityEvent>,
    /// The cursor of the next page ("Load more"), if there may be one.
    pub next_cursor: Option<String>,
    /// The text filter's scan ran out of budget before the page filled: the
    /// page may be short (even empty) and "Load more" goes on from there.
    #[serde(default)]
    pub partial: bool,
}

/// The search as the URL carries it, before validation: `from` and `to` are
/// RFC 3339 times, `YYYY-MM-DDTHH:MM[:SS]` (read as UTC), or for `from` a
/// preset (`1h`, `24h`, `7d`, `30d`, up to now). An empty `from` is the last
/// 24 hours, an empty `to` is now.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchParams {
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
    #[serde(default)]
    pub event_type: Option<String>,
    #[serde(default)]
    pub text: Option<String>,
}

/// Where a timeline entry comes from. The order is the tie-break between
/// entries of the same millisecond (see [`TimelineKind::rank`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TimelineKind {
    Event,
    Message,
    /// Push Mail changes, segment changes and admin actions on the user.
    Audit,
    /// A property's change (by the app or an admin).
    Property,
    /// An admin's note on the user.
    Note,
}

impl TimelineKind {
    /// Position among entries of the same time (the cursor carries it).
    pub fn rank(self) -> i64 {
        match self {
            TimelineKind::Event => 0,
            TimelineKind::Message => 1,
            TimelineKind::Audit => 2,
            TimelineKind::Property => 3,
            TimelineKind::Note => 4,
        }
    }
}

/// One row of the unified timeline, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEntry {
    /// Epoch ms.
    pub at: i64,
    pub kind: TimelineKind,
    /// The row id within its kind's table.
    pub id: i64,
    pub title: String,
    pub detail: String,
    /// Who did it (admin, sender), when someone did.
    pub actor: Option<String>,
}

/// One page of the unified timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelinePage {
    pub entries: Vec<TimelineEntry>,
    pub next_cursor: Option<String>,
}

/// Counts of the searched period in equal buckets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    /// Bucket width in ms (a minute, an hour or a day).
    pub bucket_ms: i64,
    /// One count per bucket from `period.from` on, every bucket present.
    pub counts: Vec<i64>,
    pub period: Period,
}

impl Histogram {
    pub fn total(&self) -> i64 {
        self.counts.iter().sum()
    }
}

/// The search as the URL holds it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchView {
    pub from: Option<String>,
    pub to: Option<String>,
    pub event_type: Option<String>,
    pub text: Option<String>,
    pub timeline: bool,
}

pub const PRESETS: [(&str, &str); 4] = [("1h", "Last hour"), ("24h", "24 hours"), ("7d", "7 days"), ("30d", "30 days")];

impl SearchView {
    /// `path` (the profile) with this view as its query.
    pub fn href(&self, path: &str) -> String {
        let mut params: Vec<(&str, &str)> = Vec::new();
        let fields = [("from", &self.from), ("to", &self.to), ("type", &self.event_type), ("q", &self.text)];
        for (name, value) in fields {
            if let Some(value) = value.as_deref().filter(|v| !v.is_empty()) {
                params.push((name, value));
            }
        }
        if self.timeline {
            params.push(("view", "timeline"));
        }
        if params.is_empty() {
            return format!("{path}#activity-search");
        }
        // Spaces as %20: the router decodes percent-escapes but not `+`.
        let query = form_urlencoded::Serializer::new(String::new()).extend_pairs(params).finish().replace('+', "%20");
        format!("{path}?{query}#activity-search")
    }

    /// A datetime-local input's value (to the second) for a URL time, when
    /// it is one: a narrowed period keeps its exact ends when searched again.
    pub fn input_value(value: &Option<String>) -> String {
        let value = value.as_deref().unwrap_or_default();
        match value.get(..19).or(value.get(..16)) {
            Some(start) if value.as_bytes().get(10) == Some(&b'T') && start.is_ascii() => start.to_string(),
            _ => String::new(),
        }
    }

    /// The search a URL's query describes (`?from=&to=&type=&q=&view=timeline`),
    /// read through `get` (a parameter's value by name).
    pub fn from_query(get: impl Fn(&str) -> Option<String>) -> SearchView {
        // A form sent without JavaScript writes spaces as `+`.
        let get = |name: &str| get(name).map(|v| v.replace('+', " ")).filter(|v| !v.trim().is_empty());
        SearchView {
            from: get("from"),
            to: get("to"),
            event_type: get("type"),
            text: get("q"),
            timeline: get("view").is_some_and(|v| v == "timeline"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::type_label;

    #[test]
    fn sdk_types_read_as_words() {
        assert_eq!(type_label("re.notifica.event.application.Open"), "Application opened");
        assert_eq!(type_label("re.notifica.event.notification.Reply"), "Notification reply");
        assert_eq!(type_label("custom.purchase"), "custom.purchase");
        assert_eq!(type_label("re.notifica.event."), "re.notifica.event.");
    }
}
