//! The activity boxes as plain async functions over the store: the server
//! functions wrap these, tests and the bench call them directly. Raw query
//! parts from the URL are validated here, with messages for the person at
//! the console.

use chrono::{DateTime, NaiveDateTime};

use super::model::{ActivityEvent, EventQuery, EventsPage, Histogram, Period, SearchParams, TimelinePage};
use crate::error::AppError;
use crate::store::{timeline_position, EventPosition, Store, TimelinePosition, SCAN_BUDGET};
use crate::time::now_ms;

/// Events per search page.
pub const PAGE_SIZE: i64 = 50;
/// The latest-activity box shows at most this many events of the last hour.
pub const RECENT_LIMIT: i64 = 100;
pub const TIMELINE_PAGE: i64 = 50;
const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;
const MAX_SPAN_DAYS: i64 = 366;
const MAX_TEXT_CHARS: usize = 200;
const MAX_TYPE_CHARS: usize = 255;
const TIME_HELP: &str = "Use a date and time such as 2024-05-01T13:00 (UTC), an RFC 3339 time such as \
                         2024-05-01T13:00:00+01:00, or a preset: 1h, 24h, 7d, 30d.";

fn user_not_found() -> AppError {
    AppError::NotFound("This user does not exist in this app.".into())
}

/// The user must belong to the app; deactivated users are still shown.
async fn check_user(store: &Store, app_id: i64, user_id: i64) -> Result<(), AppError> {
    store.user_by_id(app_id, user_id).await?.map(|_| ()).ok_or_else(user_not_found)
}

/// A preset's length: `1h`, `24h`, `7d`, `30d`.
fn preset_ms(raw: &str) -> Option<i64> {
    match raw {
        "1h" => Some(HOUR_MS),
        "24h" => Some(DAY_MS),
        "7d" => Some(7 * DAY_MS),
        "30d" => Some(30 * DAY_MS),
        _ => None,
    }
}

/// An RFC 3339 time, or `YYYY-MM-DDTHH:MM[:SS[.fff]]` (a datetime-local
/// input's value) read as UTC, in epoch ms.
pub fn parse_time(field: &str, raw: &str) -> Result<i64, AppError> {
    if let Ok(at) = DateTime::parse_from_rfc3339(raw) {
        return Ok(at.timestamp_millis());
    }
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(raw, format).ok())
        .map(|at| at.and_utc().timestamp_millis())
        .ok_or_else(|| AppError::invalid(field, format!("“{raw}” is not a time. {TIME_HELP}")))
}

/// Validates the search's raw parts at time `now`: an empty `from` is the
/// last 24 hours, an empty `to` is now (inclusive: `to` is exclusive, so
/// now + 1 ms).
pub fn parse_query(params: &SearchParams, now: i64) -> Result<EventQuery, AppError> {
    let given = |value: &Option<String>| value.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(String::from);
    let to = match given(&params.to) {
        None => now + 1,
        Some(raw) => parse_time("to", &raw)?,
    };
    let from = match given(&params.from) {
        None => to - DAY_MS,
        Some(raw) => match preset_ms(&raw) {
            Some(span) => to - span,
            None => parse_time("from", &raw)?,
        },
    };
    if from >= to {
        return Err(AppError::invalid("from", "The period must start before it ends: choose a “from” before “to”."));
    }
    if to - from > MAX_SPAN_DAYS * DAY_MS {
        return Err(AppError::invalid("from", format!("Search at most {MAX_SPAN_DAYS} days at a time.")));
    }
    let event_type = given(&params.event_type);
    if event_type.as_ref().is_some_and(|t| t.chars().count() > MAX_TYPE_CHARS) {
        return Err(AppError::invalid("event_type", format!("An event type has at most {MAX_TYPE_CHARS} characters.")));
    }
    let text = given(&params.text);
    if text.as_ref().is_some_and(|t| t.chars().count() > MAX_TEXT_CHARS) {
        return Err(AppError::invalid("text", format!("Search for at most {MAX_TEXT_CHARS} characters.")));
    }
    Ok(EventQuery { period: Period { from, to }, event_type, text })
}

/// The histogram's bucket for a period: minutes up to 2 hours, hours up to
/// 3 days, else days (at most 367 bars).
pub fn bucket_ms(period: &Period) -> i64 {
    let span = period.to - period.from;
    if span <= 2 * HOUR_MS {
        60_000
    } else if span <= 3 * DAY_MS {
        HOUR_MS
    } else {
        DAY_MS
    }
}

fn bad_cursor() -> AppError {
    AppError::invalid("cursor", "This “Load more” link is not valid any more. Search again from the first page.")
}

/// Cursor text of an event position: "<occurred_at>~<id>".
pub fn encode_cursor((at, id): EventPosition) -> String {
    format!("{at}~{id}")
}

pub fn decode_cursor(cursor: &str) -> Result<EventPosition, AppError> {
    let (at, id) = cursor.split_once('~').ok_or_else(bad_cursor)?;
    Ok((at.parse().map_err(|_| bad_cursor())?, id.parse().map_err(|_| bad_cursor())?))
}

fn encode_timeline_cursor((at, rank, id): TimelinePosition) -> String {
    format!("{at}~{rank}~{id}")
}

fn decode_timeline_cursor(cursor: &str) -> Result<TimelinePosition, AppError> {
    let parts: Vec<&str> = cursor.split('~').collect();
    let [at, rank, id] = parts.as_slice() else { return Err(bad_cursor()) };
    let number = |text: &str| text.parse::<i64>().map_err(|_| bad_cursor());
    Ok((number(at)?, number(rank)?, number(id)?))
}

/// A given, non-empty cursor.
fn cursor_of(cursor: Option<&str>) -> Option<&str> {
    cursor.map(str::trim).filter(|c| !c.is_empty())
}

/// The latest-activity box: the user's events of the last hour, newest first.
#[tracing::instrument(skip(store))]
pub async fn recent(store: &Store, app_id: i64, user_id: i64) -> Result<Vec<ActivityEvent>, AppError> {
    check_user(store, app_id, user_id).await?;
    Ok(store.recent_user_events(app_id, user_id, now_ms() - HOUR_MS, RECENT_LIMIT).await?)
}

/// One page of the event search, from the URL's raw parts.
#[tracing::instrument(skip(store))]
pub async fn search(
    store: &Store,
    app_id: i64,
    user_id: i64,
    params: &SearchParams,
    cursor: Option<&str>,
) -> Result<EventsPage, AppError> {
    let query = parse_query(params, now_ms())?;
    search_page(store, app_id, user_id, &query, cursor, PAGE_SIZE, SCAN_BUDGET).await
}

/// [`search`] of a validated query with a chosen page size and text budget.
pub async fn search_page(
    store: &Store,
    app_id: i64,
    user_id: i64,
    query: &EventQuery,
    cursor: Option<&str>,
    limit: i64,
    budget: i64,
) -> Result<EventsPage, AppError> {
    let after = cursor_of(cursor).map(decode_cursor).transpose()?;
    check_user(store, app_id, user_id).await?;
    // One row more than asked tells whether a next page exists.
    let found = store.search_user_events(app_id, user_id, query, after, limit + 1, budget).await?;
    let mut events = found.events;
    let next_cursor = if events.len() as i64 > limit {
        events.truncate(limit as usize);
        events.last().map(|e| encode_cursor((e.occurred_at, e.id)))
    } else {
        found.stopped_at.map(encode_cursor)
    };
    Ok(EventsPage { events, next_cursor, partial: found.stopped_at.is_some() })
}

/// The histogram of the search's period (counts of the whole period).
#[tracing::instrument(skip(store))]
pub async fn histogram(store: &Store, app_id: i64, user_id: i64, params: &SearchParams) -> Result<Histogram, AppError> {
    let query = parse_query(params, now_ms())?;
    histogram_of(store, app_id, user_id, &query).await
}

/// [`histogram`] of a validated query.
pub async fn histogram_of(store: &Store, app_id: i64, user_id: i64, query: &EventQuery) -> Result<Histogram, AppError> {
    check_user(store, app_id, user_id).await?;
    Ok(store.user_event_histogram(app_id, user_id, query, bucket_ms(&query.period)).await?)
}

/// The type filter's choices: the app's event types.
pub async fn types(store: &Store, app_id: i64) -> Result<Vec<String>, AppError> {
    Ok(store.user_event_types(app_id).await?)
}

/// One page of the unified timeline, newest first.
#[tracing::instrument(skip(store))]
pub async fn timeline(
    store: &Store,
    app_id: i64,
    user_id: i64,
    cursor: Option<&str>,
) -> Result<TimelinePage, AppError> {
    timeline_page(store, app_id, user_id, cursor, TIMELINE_PAGE).await
}

/// [`timeline`] with a chosen page size.
pub async fn timeline_page(
    store: &Store,
    app_id: i64,
    user_id: i64,
    cursor: Option<&str>,
    limit: i64,
) -> Result<TimelinePage, AppError> {
    let before = cursor_of(cursor).map(decode_timeline_cursor).transpose()?;
    check_user(store, app_id, user_id).await?;
    let mut entries = store.user_timeline(app_id, user_id, before, limit + 1).await?;
    let next_cursor = if entries.len() as i64 > limit {
        entries.truncate(limit as usize);
        entries.last().map(|e| encode_timeline_cursor(timeline_position(e)))
    } else {
        None
    };
    Ok(TimelinePage { entries, next_cursor })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_parse_in_each_accepted_form() {
        assert_eq!(parse_time("from", "2024-05-01T13:00:00Z").unwrap(), 1_714_568_400_000);
        assert_eq!(parse_time("from", "2024-05-01T14:00:00+01:00").unwrap(), 1_714_568_400_000);
        assert_eq!(parse_time("from", "2024-05-01T13:00").unwrap(), 1_714_568_400_000);
        assert_eq!(parse_time("from", "2024-05-01T13:00:30").unwrap(), 1_714_568_430_000);
        assert!(matches!(parse_time("to", "yesterday"), Err(AppError::Invalid { field: Some(f), .. }) if f == "to"));
    }

    #[test]
    fn cursors_round_trip_and_garbage_is_invalid() {
        assert_eq!(decode_cursor(&encode_cursor((-5, 42))).unwrap(), (-5, 42));
        assert!(decode_cursor("12").is_err());
        assert!(decode_cursor("a~1").is_err());
        assert_eq!(decode_timeline_cursor(&encode_timeline_cursor((7, 2, 9))).unwrap(), (7, 2, 9));
        assert!(decode_timeline_cursor("7~2").is_err());
    }
}
