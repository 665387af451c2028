//! Background jobs: bulk actions over users and CSV imports, as the pages
//! and the API show them (progress, rate, time left, outcome).

use serde::{Deserialize, Serialize};

use super::properties::grouped;
use super::users::UserFilter;

/// Rows of a file an import keeps refusals for (the rest are counted).
pub const MAX_KEPT_REFUSALS: i64 = 1_000;
/// Jobs the Jobs page lists (the newest).
pub const RECENT_JOBS: i64 = 50;

/// What a job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum JobKind {
    AddToSegment,
    RemoveFromSegment,
    Deactivate,
    Reactivate,
    Delete,
    /// Reads a CSV file and writes nothing: the preview's refusals.
    ImportCheck,
    Import,
}

impl JobKind {
    pub const ALL: [JobKind; 7] = [
        JobKind::AddToSegment,
        JobKind::RemoveFromSegment,
        JobKind::Deactivate,
        JobKind::Reactivate,
        JobKind::Delete,
        JobKind::ImportCheck,
        JobKind::Import,
    ];

    /// As stored and in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::AddToSegment => "add_to_segment",
            JobKind::RemoveFromSegment => "remove_from_segment",
            JobKind::Deactivate => "deactivate",
            JobKind::Reactivate => "reactivate",
            JobKind::Delete => "delete",
            JobKind::ImportCheck => "import_check",
            JobKind::Import => "import",
        }
    }

    pub fn parse(value: &str) -> Option<JobKind> {
        JobKind::ALL.into_iter().find(|k| k.as_str() == value)
    }

    /// Whether the job reads a file (its progress is in bytes) rather than
    /// acting on a selection of users.
    pub fn reads_file(self) -> bool {
        matches!(self, JobKind::ImportCheck | JobKind::Import)
    }
}

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum JobStatus {
    /// Waiting for a runner (or for the selection to be read).
    Queued,
    Running,
    Done,
    Cancelled,
    /// Stopped by an error; what finished before it stays done.
    Failed,
}

impl JobStatus {
    pub const ALL: [JobStatus; 5] =
        [JobStatus::Queued, JobStatus::Running, JobStatus::Done, JobStatus::Cancelled, JobStatus::Failed];

    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Done => "done",
            JobStatus::Cancelled => "cancelled",
            JobStatus::Failed => "failed",
        }
    }

    pub fn parse(value: &str) -> Option<JobStatus> {
        JobStatus::ALL.into_iter().find(|s| s.as_str() == value)
    }

    pub fn is_finished(self) -> bool {
        matches!(self, JobStatus::Done | JobStatus::Cancelled | JobStatus::Failed)
    }

    pub fn label(self) -> &'static str {
        match self {
            JobStatus::Queued => "Waiting",
            JobStatus::Running => "Running",
            JobStatus::Done => "Done",
            JobStatus::Cancelled => "Cancelled",
            JobStatus::Failed => "Failed",
        }
    }
}

/// One job, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub id: i64,
    pub app_id: i64,
    pub kind: JobKind,
    pub status: JobStatus,
    /// The account (or "api") that started it.
    pub actor: String,
    /// In words: "Add to segment “VIP”".
    pub description: String,
    /// Users to act on, or the file's bytes.
    pub total: i64,
    /// Users acted on, or bytes read.
    pub done: i64,
    /// Users changed (added, deactivated, deleted), or rows imported.
    pub changed: i64,
    /// Users already as asked (already a member, already deactivated), or
    /// gone since the selection.
    pub unchanged: i64,
    /// Rows an import refused.
    pub refused: i64,
    pub cancel_requested: bool,
    pub error: Option<String>,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
}

impl Job {
    /// Done as a share of the total, 0–100 (100 once finished).
    pub fn percent(&self) -> u8 {
        if self.status == JobStatus::Done {
            return 100;
        }
        if self.total <= 0 {
            return 0;
        }
        ((self.done.min(self.total) * 100) / self.total) as u8
    }

    /// Units done per second since it started (`None` before).
    pub fn rate_per_sec(&self, now_ms: i64) -> Option<f64> {
        let started = self.started_at?;
        let until = self.finished_at.unwrap_or(now_ms);
        let seconds = (until - started) as f64 / 1000.0;
        (seconds > 0.5 && self.done > 0).then(|| self.done as f64 / seconds)
    }

    /// Seconds left at the rate so far (`None` when not running or not known).
    pub fn seconds_left(&self, now_ms: i64) -> Option<i64> {
        if self.status != JobStatus::Running {
            return None;
        }
        let rate = self.rate_per_sec(now_ms)?;
        Some(((self.total - self.done).max(0) as f64 / rate).ceil() as i64)
    }

    /// "12,000 of 40,000 users" or "3.2 MB of 10.0 MB".
    pub fn progress_words(&self) -> String {
        if self.kind.reads_file() {
            format!("{} of {} read", bytes_words(self.done), bytes_words(self.total))
        } else {
            format!("{} of {} users", grouped(self.done as f64), grouped(self.total as f64))
        }
    }

    /// The outcome in words: "1,200 added, 3 already members".
    pub fn outcome_words(&self) -> String {
        let (changed, unchanged) = match self.kind {
            JobKind::AddToSegment => ("added", "already members or gone"),
            JobKind::RemoveFromSegment => ("removed", "not members or gone"),
            JobKind::Deactivate => ("deactivated", "already deactivated or gone"),
            JobKind::Reactivate => ("reactivated", "already active or gone"),
            JobKind::Delete => ("deleted", "gone already"),
            JobKind::ImportCheck => ("rows would be imported", ""),
            JobKind::Import => ("rows imported", ""),
        };
        let mut parts = vec![format!("{} {changed}", grouped(self.changed as f64))];
        if self.unchanged > 0 && !unchanged.is_empty() {
            parts.push(format!("{} {unchanged}", grouped(self.unchanged as f64)));
        }
        if self.kind.reads_file() {
            parts.push(format!("{} refused", grouped(self.refused as f64)));
        }
        parts.join(", ")
    }
}

/// "1.5 MB": bytes in decimal units, one decimal.
pub fn bytes_words(bytes: i64) -> String {
    const UNITS: [&str; 4] = ["kB", "MB", "GB", "TB"];
    if bytes < 1000 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64;
    let mut unit = "B";
    for next in UNITS {
        if value < 1000.0 {
            break;
        }
        value /= 1000.0;
        unit = next;
    }
    format!("{value:.1} {unit}")
}

/// "2 min 5 s", "40 s".
pub fn duration_words(seconds: i64) -> String {
    match seconds {
        s if s < 60 => format!("{s} s"),
        s if s < 3600 => format!("{} min {} s", s / 60, s % 60),
        s => format!("{} h {} min", s / 3600, (s % 3600) / 60),
    }
}

/// A row an import refused: its line in the file (the header is line 1),
/// the userID as written (maybe empty), and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct Refusal {
    pub line: i64,
    pub user_ref: String,
    pub reason: String,
}

/// Which users a bulk action acts on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Selection {
    /// These users (ticked on the page).
    Users(Vec<i64>),
    /// Every user the view matches when the job starts.
    Matching(UserFilter),
}

/// A bulk action as asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum BulkAction {
    /// Into the segment of this name, created when missing.
    AddToSegment {
        segment: String,
    },
    RemoveFromSegment {
        segment: String,
    },
    Deactivate,
    Reactivate,
    /// `confirmation`: the number of users, as the admin typed it.
    Delete {
        confirmation: String,
    },
}

impl BulkAction {
    pub fn kind(&self) -> JobKind {
        match self {
            BulkAction::AddToSegment { .. } => JobKind::AddToSegment,
            BulkAction::RemoveFromSegment { .. } => JobKind::RemoveFromSegment,
            BulkAction::Deactivate => JobKind::Deactivate,
            BulkAction::Reactivate => JobKind::Reactivate,
            BulkAction::Delete { .. } => JobKind::Delete,
        }
    }
}

/// A job with what its page shows beside the progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobDetail {
    pub job: Job,
    /// Refused rows, by line (the first ones kept).
    pub refusals: Vec<Refusal>,
    /// A checked file's first rows: line, userID, userName, email, and the
    /// property values in words, or why the row would be refused.
    pub preview: Vec<PreviewRow>,
    /// When the page was answered (epoch ms): the rate and time left are
    /// worked out against it.
    pub now: i64,
}

/// One row of a checked file's preview.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreviewRow {
    pub line: i64,
    pub user_id: String,
    pub user_name: String,
    pub email: String,
    /// "plan: pro, seats: 12".
    pub properties: String,
    /// Why the row would be refused.
    pub refused: Option<String>,
}

/// Rows a check's preview shows.
pub const PREVIEW_ROWS: usize = 10;
/// Refused rows a job's page lists.
pub const REFUSALS_SHOWN: i64 = 200;

/// The most users a selection of ticked users may name (a page holds 50;
/// "Select all N matching" covers more).
pub const MAX_TICKED: usize = 1_000;

#[cfg(test)]
mod tests {
    use super::*;

    fn job(status: JobStatus, total: i64, done: i64) -> Job {
        Job {
            id: 1,
            app_id: 1,
            kind: JobKind::AddToSegment,
            status,
            actor: "a@example.com".into(),
            description: String::new(),
            total,
            done,
            changed: done,
            unchanged: 0,
            refused: 0,
            cancel_requested: false,
            error: None,
            created_at: 0,
            started_at: Some(0),
            finished_at: None,
        }
    }

    #[test]
    fn progress_rate_and_time_left() {
        let running = job(JobStatus::Running, 1_000, 250);
        assert_eq!(running.percent(), 25);
        assert_eq!(running.rate_per_sec(10_000), Some(25.0));
        assert_eq!(running.seconds_left(10_000), Some(30));
        assert_eq!(running.progress_words(), "250 of 1,000 users");
        assert_eq!(job(JobStatus::Done, 0, 0).percent(), 100);
        assert_eq!(job(JobStatus::Queued, 0, 0).percent(), 0);
        assert_eq!(job(JobStatus::Done, 10, 10).seconds_left(10_000), None);
    }

    #[test]
    fn kinds_and_statuses_round_trip() {
        for kind in JobKind::ALL {
            assert_eq!(JobKind::parse(kind.as_str()), Some(kind));
        }
        for status in JobStatus::ALL {
            assert_eq!(JobStatus::parse(status.as_str()), Some(status));
        }
    }

    #[test]
    fn words() {
        assert_eq!(bytes_words(999), "999 B");
        assert_eq!(bytes_words(1_500_000), "1.5 MB");
        assert_eq!(duration_words(125), "2 min 5 s");
        assert_eq!(duration_words(7_260), "2 h 1 min");
    }
}
