//! The users list as the browser sees it.

use serde::{Deserialize, Serialize};

/// One row of the Audience > Users list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct UserSummary {
    pub id: i64,
    pub external_id: String,
    pub user_name: Option<String>,
    pub email: Option<String>,
    pub active: bool,
    pub created_at: i64,
    pub last_seen_at: Option<i64>,
}

impl UserSummary {
    /// What to call the user in the UI: the userName, else the userID.
    pub fn display_name(&self) -> &str {
        self.user_name.as_deref().filter(|name| !name.trim().is_empty()).unwrap_or(&self.external_id)
    }
}

/// A page of the users list, newest first, with a keyset cursor to the next page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UsersPage {
    pub users: Vec<UserSummary>,
    /// How many users match, counted up to [`UsersPage::COUNT_LIMIT`]
    /// ([`UsersPage::SEARCH_COUNT_LIMIT`] for a search).
    pub total: i64,
    /// `total` is a lower bound: more may match (the count stopped at its
    /// limit, or at its budget).
    pub total_is_more: bool,
    /// The search's budget ran out before the page filled: `users` are the
    /// first matches (every match up to where the search got, in order),
    /// and the next page goes on from there.
    pub partial: bool,
    pub next_cursor: Option<String>,
    /// The values of the view's property columns, one row per user (in
    /// `users`' order), one value per column (`None`: the user has none).
    #[serde(default)]
    pub column_values: Vec<Vec<Option<ColumnValue>>>,
}

/// A property column's value as the list shows it: in words, or a date the
/// browser shows in the viewer's time zone. Worded on the server, so the
/// list's wasm carries no number formatting or parsing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ColumnValue {
    Words(String),
    Date(i64),
}

impl ColumnValue {
    pub fn of(value: &super::properties::PropertyValue) -> ColumnValue {
        use super::properties::PropertyValue;
        match value {
            PropertyValue::String(s) => ColumnValue::Words(s.clone()),
            PropertyValue::Number(n) => ColumnValue::Words(super::properties::grouped(*n)),
            PropertyValue::Boolean(b) => ColumnValue::Words(if *b { "Yes" } else { "No" }.into()),
            PropertyValue::Date(ms) => ColumnValue::Date(*ms),
        }
    }
}

impl UsersPage {
    /// Users per page.
    pub const PAGE_SIZE: i64 = 50;
    /// Counting stops here: an exact count of a million rows costs seconds,
    /// and "at least 10,000 users" says what a person needs.
    pub const COUNT_LIMIT: i64 = 10_000;
    /// A search's count stops sooner: each match is checked by index, and
    /// "at least 1,000 users" already says "narrow the search".
    pub const SEARCH_COUNT_LIMIT: i64 = 1_000;

    /// "1 user", "42 users", "1,234 users", "at least 10,000 users"; `None`
    /// when nothing is known but that the count is at least 0.
    pub fn count_label(&self) -> Option<String> {
        let noun = if self.total == 1 { "user" } else { "users" };
        let n = with_thousands(self.total);
        match (self.total_is_more, self.total) {
            (true, 0) => None,
            (true, _) => Some(format!("at least {n} {noun}")),
            (false, _) => Some(format!("{n} {noun}")),
        }
    }
}

/// "1234567" → "1,234,567".
fn with_thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        out.insert(0, '-');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::UsersPage;

    #[test]
    fn count_labels() {
        let page = |total, total_is_more| UsersPage {
            users: vec![],
            total,
            total_is_more,
            partial: false,
            next_cursor: None,
            column_values: vec![],
        };
        assert_eq!(page(1, false).count_label().as_deref(), Some("1 user"));
        assert_eq!(page(42, false).count_label().as_deref(), Some("42 users"));
        assert_eq!(page(1_234_567, false).count_label().as_deref(), Some("1,234,567 users"));
        assert_eq!(page(10_000, true).count_label().as_deref(), Some("at least 10,000 users"));
        assert_eq!(page(1, true).count_label().as_deref(), Some("at least 1 user"));
        assert_eq!(page(0, true).count_label(), None, "a lower bound of nothing says nothing");
    }

    #[test]
    fn activity_windows() {
        use super::ActiveWithin;
        for window in ActiveWithin::ALL {
            assert_eq!(ActiveWithin::from_param(window.as_param()), Some(window));
        }
        for unknown in ["", "2m", "5M", "1d", "5m ", "all"] {
            assert_eq!(ActiveWithin::from_param(unknown), None, "{unknown:?} is no filter");
        }
        const MINUTE: i64 = 60_000;
        let now = 1_000 * MINUTE + 30_000;
        // Seen at 12:55:10, kept as 12:55: within 5 minutes at 13:00:05.
        assert_eq!(ActiveWithin::FiveMinutes.since(now, MINUTE), 995 * MINUTE);
        assert_eq!(ActiveWithin::OneMinute.since(now, MINUTE), 999 * MINUTE);
        assert_eq!(ActiveWithin::OneHour.since(1_000 * MINUTE, MINUTE), 940 * MINUTE, "on a minute: that minute");
        assert_eq!(ActiveWithin::HalfHour.since(now, 1), now - 30 * MINUTE, "exact times: now - window");
    }
}

/// Orders of the users list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum UserSort {
    /// Most recently active first (never-seen users last).
    #[default]
    LastActivity,
    /// By userName (else userID), A to Z.
    Name,
    /// Newest first.
    Created,
}

impl UserSort {
    pub const ALL: [UserSort; 3] = [UserSort::LastActivity, UserSort::Name, UserSort::Created];

    /// The value in URLs (`?sort=`).
    pub fn as_param(self) -> &'static str {
        match self {
            UserSort::LastActivity => "activity",
            UserSort::Name => "name",
            UserSort::Created => "created",
        }
    }

    pub fn from_param(value: &str) -> UserSort {
        UserSort::ALL.into_iter().find(|s| s.as_param() == value).unwrap_or_default()
    }

    pub fn label(self) -> &'static str {
        match self {
            UserSort::LastActivity => "Last activity",
            UserSort::Name => "Name",
            UserSort::Created => "Created",
        }
    }
}

/// What the users list shows: search text, order, whether deactivated
/// users count, the segment whose members it lists (by name; the service
/// resolves it to the app's segment), how recently they were active
/// (the service resolves it to a time at each request), and conditions
/// on their properties.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct UserFilter {
    pub search: String,
    pub sort: UserSort,
    pub include_deactivated: bool,
    #[serde(default)]
    pub segment: Option<String>,
    #[serde(default)]
    pub active: Option<ActiveWithin>,
    #[serde(default)]
    pub properties: Vec<super::property_filter::PropertyFilter>,
}

/// The activity filter of the users list (`/users?active=5m`): only users
/// whose last activity is within this window before the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ActiveWithin {
    OneMinute,
    FiveMinutes,
    HalfHour,
    OneHour,
}

impl ActiveWithin {
    pub const ALL: [ActiveWithin; 4] =
        [ActiveWithin::OneMinute, ActiveWithin::FiveMinutes, ActiveWithin::HalfHour, ActiveWithin::OneHour];

    /// The value in URLs (`?active=`).
    pub fn as_param(self) -> &'static str {
        match self {
            ActiveWithin::OneMinute => "1m",
            ActiveWithin::FiveMinutes => "5m",
            ActiveWithin::HalfHour => "30m",
            ActiveWithin::OneHour => "1h",
        }
    }

    /// The window a URL names; `None` (no filter) for any other value.
    pub fn from_param(value: &str) -> Option<ActiveWithin> {
        ActiveWithin::ALL.into_iter().find(|w| w.as_param() == value)
    }

    /// The window's length in milliseconds.
    pub fn millis(self) -> i64 {
        const MINUTE: i64 = 60_000;
        match self {
            ActiveWithin::OneMinute => MINUTE,
            ActiveWithin::FiveMinutes => 5 * MINUTE,
            ActiveWithin::HalfHour => 30 * MINUTE,
            ActiveWithin::OneHour => 60 * MINUTE,
        }
    }

    /// "the last 5 minutes", as in "Active in the last 5 minutes".
    pub fn label(self) -> &'static str {
        match self {
            ActiveWithin::OneMinute => "the last minute",
            ActiveWithin::FiveMinutes => "the last 5 minutes",
            ActiveWithin::HalfHour => "the last 30 minutes",
            ActiveWithin::OneHour => "the last hour",
        }
    }

    /// The earliest stored last-seen time (epoch ms) a user active within
    /// the window at `now_ms` may have. Last-seen times are kept to
    /// `precision_ms` (the start of the minute of the user's last event), so
    /// a user active at `now_ms - window` or later has a last-seen at or
    /// after the start of that instant's minute: the window starts there.
    pub fn since(self, now_ms: i64, precision_ms: i64) -> i64 {
        let start = now_ms - self.millis();
        start - start.rem_euclid(precision_ms.max(1))
    }
}

/// Which users the store lists, as the service resolves a [`UserFilter`]
/// for one request: only the members of a segment (one of the app's
/// segment ids), only users last seen at or after a time (epoch ms; the
/// activity window's start at the request).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UserScope {
    pub segment: Option<i64>,
    pub active_since: Option<i64>,
}
