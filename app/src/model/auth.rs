//! Accounts, roles, apps and the audit trail as the browser sees them.

use serde::{Deserialize, Serialize};

/// A customer app whose audience the console shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct AppInfo {
    pub id: i64,
    pub name: String,
    pub created_at: i64,
}

/// What a console account may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Role {
    /// Everything.
    Admin,
    /// Sees everything live, changes nothing.
    Viewer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Viewer => "viewer",
        }
    }

    pub fn parse(value: &str) -> Option<Role> {
        match value {
            "admin" => Some(Role::Admin),
            "viewer" => Some(Role::Viewer),
            _ => None,
        }
    }
}

/// How the store reads a role: anything but "admin" or "viewer" fails the
/// read (never quietly a viewer, or an admin).
impl TryFrom<String> for Role {
    type Error = String;

    fn try_from(value: String) -> Result<Role, String> {
        Role::parse(&value).ok_or_else(|| format!("unknown role '{value}' in the database"))
    }
}

/// The signed-in account and the app it is looking at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Me {
    /// The account's id (whose notes are its own).
    pub id: i64,
    pub email: String,
    pub role: Role,
    pub app: Option<AppInfo>,
    pub apps: Vec<AppInfo>,
}

impl Me {
    pub fn can_edit(&self) -> bool {
        self.role == Role::Admin
    }
}

/// One line of the audit trail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct AuditEntry {
    pub id: i64,
    pub app_id: Option<i64>,
    pub actor: String,
    pub action: String,
    pub user_id: Option<i64>,
    pub detail: String,
    pub created_at: i64,
}

#[cfg(test)]
mod tests {
    use super::Role;

    #[test]
    fn roles_read_from_the_database_are_checked() {
        assert_eq!(Role::try_from("admin".to_string()), Ok(Role::Admin));
        assert_eq!(Role::try_from("viewer".to_string()), Ok(Role::Viewer));
        assert!(Role::try_from("superuser".to_string()).is_err());
        assert!(Role::try_from("Admin".to_string()).is_err());
    }
}
