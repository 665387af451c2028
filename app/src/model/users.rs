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
        let page =
            |total, total_is_more| UsersPage { users: vec![], total, total_is_more, partial: false, next_cursor: None };
        assert_eq!(page(1, false).count_label().as_deref(), Some("1 user"));
        assert_eq!(page(42, false).count_label().as_deref(), Some("42 users"));
        assert_eq!(page(1_234_567, false).count_label().as_deref(), Some("1,234,567 users"));
        assert_eq!(page(10_000, true).count_label().as_deref(), Some("at least 10,000 users"));
        assert_eq!(page(1, true).count_label().as_deref(), Some("at least 1 user"));
        assert_eq!(page(0, true).count_label(), None, "a lower bound of nothing says nothing");
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
/// users count, and the segment whose members it lists (by name; the
/// service resolves it to the app's segment).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct UserFilter {
    pub search: String,
    pub sort: UserSort,
    pub include_deactivated: bool,
    #[serde(default)]
    pub segment: Option<String>,
}
