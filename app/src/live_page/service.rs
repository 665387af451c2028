//! The Live page's first render, as a plain async function tests call.

use std::collections::HashSet;

use super::LiveView;
use crate::error::AppError;
use crate::model::live::{LiveCounts, LiveEvent, LiveFilter, LiveOverview};
use crate::store::{Store, StoreResult};

pub use crate::model::live::SHOWN_EVENTS;
/// Devices on the live map at most.
pub const MAP_DEVICES: i64 = 2_000;
/// The map shows devices active this recently.
pub const MAP_WINDOW_MS: i64 = 30 * 60 * 1000;

/// The overview for `view`, and the segment filter's id (the stream's
/// query names it by id). An unknown segment is a 404 in words.
pub async fn overview(
    store: &Store,
    app_id: i64,
    view: &LiveView,
    now: i64,
) -> Result<(LiveOverview, Option<i64>), AppError> {
    let segment = match view.segment.as_deref() {
        Some(name) => Some(
            store
                .segment_by_name(app_id, name)
                .await?
                .ok_or_else(|| AppError::NotFound(format!("There is no segment named “{name}”.")))?
                .id,
        ),
        None => None,
    };
    let filter = LiveFilter { segment, ..view.filter() };
    let (LiveCounts { active, top }, recent, positions) = tokio::try_join!(
        store.live_counts(app_id, now),
        store.recent_live_events(app_id, SHOWN_EVENTS * 4),
        store.live_positions(app_id, now - MAP_WINDOW_MS, MAP_DEVICES),
    )?;
    let after = recent.first().map(|e| e.event.id).unwrap_or(store.last_event_id().await?);
    let mut events: Vec<LiveEvent> = matching(store, &filter, &recent).await?.into_iter().cloned().collect();
    events.truncate(SHOWN_EVENTS as usize);
    Ok((LiveOverview { active, top, events, positions, after }, segment))
}

/// The events that pass the filter (their users active): the types,
/// platform and text here, the segment's members read from the store. The
/// page's first render and its stream both keep rows by this.
pub async fn matching<'e>(
    store: &Store,
    filter: &LiveFilter,
    events: impl IntoIterator<Item = &'e LiveEvent>,
) -> StoreResult<Vec<&'e LiveEvent>> {
    let text = filter.text.as_ref().map(|t| t.to_lowercase());
    let mut kept: Vec<&LiveEvent> = events
        .into_iter()
        .filter(|e| e.user_active)
        .filter(|e| filter.types.is_empty() || filter.types.contains(&e.event.event_type))
        .filter(|e| filter.platform.as_ref().is_none_or(|p| e.platform.as_deref() == Some(p.as_str())))
        .filter(|e| text.as_ref().is_none_or(|t| e.event.data.as_ref().is_some_and(|d| d.to_lowercase().contains(t))))
        .collect();
    if let Some(segment) = filter.segment {
        let users: Vec<i64> = kept.iter().filter_map(|e| e.event.user_id).collect::<HashSet<_>>().into_iter().collect();
        let members: HashSet<i64> = store.members_among(segment, &users).await?.into_iter().collect();
        kept.retain(|e| e.event.user_id.is_some_and(|u| members.contains(&u)));
    }
    Ok(kept)
}
