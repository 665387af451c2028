//! Private messages as the Private messages box lists them.

use serde::{Deserialize, Serialize};

/// A file attached to a private message (listed, not stored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub name: String,
    pub size: u64,
}

/// A private message to a user, as the Private messages box lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageSummary {
    pub id: i64,
    pub title: String,
    /// The body's beginning (all of it unless `truncated`).
    pub preview: String,
    /// The body is longer than the preview: fetch it with `messages/body`.
    pub truncated: bool,
    /// "dashboard", "push mail" or "api".
    pub source: String,
    pub sender: String,
    pub created_at: i64,
    pub attachments: Vec<Attachment>,
    /// One per device the message went to (the user's active devices when
    /// it was sent), by device name.
    pub deliveries: Vec<Delivery>,
}

/// Where one device is with one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    /// Sent, not yet read by the device.
    Queued,
    /// The device read its inbox.
    Delivered,
    /// The device says the user opened it.
    Opened,
}

impl DeliveryStatus {
    pub const ALL: [DeliveryStatus; 3] = [DeliveryStatus::Queued, DeliveryStatus::Delivered, DeliveryStatus::Opened];

    /// The database and API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Queued => "queued",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Opened => "opened",
        }
    }
}

impl TryFrom<String> for DeliveryStatus {
    type Error = String;
    fn try_from(value: String) -> Result<Self, String> {
        DeliveryStatus::ALL
            .into_iter()
            .find(|s| s.as_str() == value)
            .ok_or_else(|| format!("unknown delivery status '{value}'"))
    }
}

/// One device's copy of a message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    pub device_id: i64,
    pub device_name: String,
    pub status: DeliveryStatus,
    pub delivered_at: Option<i64>,
    pub opened_at: Option<i64>,
}

/// Longest title, in characters (console, API).
pub const MAX_TITLE_CHARS: usize = 200;
/// Longest body of a message sent from the console or the API, in characters.
pub const MAX_BODY_CHARS: usize = 10_000;

/// A page of the Private messages box: the newest messages, and whether
/// older ones exist ("Load more").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessagesPage {
    pub messages: Vec<MessageSummary>,
    pub more: bool,
}

/// Messages the box shows first, and how many more each "Load more" adds.
pub const MESSAGES_PAGE: i64 = 20;
/// The most the box lists; the export has every message.
pub const MAX_MESSAGES_SHOWN: i64 = 500;
