//! The Live page's feed: the app's stream (`/api/live/app`, opened after
//! hydration through `live::open_stream`) folded into signals the page's
//! sections read: the rows (newest first, at most [`SHOWN_EVENTS`]), those
//! held while paused, each second's rate, the counts, and devices' moves.

use std::collections::VecDeque;

use leptos::prelude::*;

use crate::live::{open_stream, LiveLog, LiveState, APP_EVENT, APP_STREAM_PATH, MOVED, OVERVIEW, RATE};
use crate::model::devices::DeviceMoved;
use crate::model::live::{LiveCounts, LiveEvent, SecondRate, SHOWN_EVENTS};

/// Seconds of rate the bar shows.
pub const RATE_SECONDS: usize = 60;

/// The rows shown and held, as one value so pausing never loses a row.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rows {
    /// Newest first.
    pub shown: VecDeque<LiveEvent>,
    /// Arrived while paused, newest first (at most a page's worth kept).
    pub held: VecDeque<LiveEvent>,
    /// How many arrived while paused (held or dropped).
    pub held_count: usize,
    pub paused: bool,
}

impl Rows {
    pub fn new(first: Vec<LiveEvent>) -> Rows {
        Rows { shown: first.into(), ..Default::default() }
    }

    pub fn push(&mut self, event: LiveEvent) {
        let limit = SHOWN_EVENTS as usize;
        let list = if self.paused { &mut self.held } else { &mut self.shown };
        list.push_front(event);
        list.truncate(limit);
        if self.paused {
            self.held_count += 1;
        }
    }

    pub fn pause(&mut self) {
        self.paused = true;
    }

    /// Shows what arrived while paused, on top, and goes on live.
    pub fn resume(&mut self) {
        self.paused = false;
        self.held_count = 0;
        for event in std::mem::take(&mut self.held).into_iter().rev() {
            self.shown.push_front(event);
        }
        self.shown.truncate(SHOWN_EVENTS as usize);
    }
}

/// The page's live data.
#[derive(Debug, Clone, Copy)]
pub struct LivePageFeed {
    pub state: RwSignal<LiveState>,
    pub rows: RwSignal<Rows>,
    /// The last [`RATE_SECONDS`] seconds, oldest first.
    pub rates: RwSignal<VecDeque<SecondRate>>,
    pub counts: RwSignal<LiveCounts>,
    pub moves: RwSignal<LiveLog<DeviceMoved>>,
}

/// Opens the stream with the page's `query` (the filters; the segment by
/// id), resuming after the event id `after`, from the first render's
/// `rows` and `counts`.
pub fn open_feed(query: String, after: i64, rows: Vec<LiveEvent>, counts: LiveCounts) -> LivePageFeed {
    let feed = LivePageFeed {
        state: RwSignal::new(LiveState::Connecting),
        rows: RwSignal::new(Rows::new(rows)),
        rates: RwSignal::new(VecDeque::new()),
        counts: RwSignal::new(counts),
        moves: RwSignal::new(LiveLog::default()),
    };
    let path = if query.is_empty() { APP_STREAM_PATH.to_string() } else { format!("{APP_STREAM_PATH}?{query}") };
    open_stream(feed.state, path, after, &[APP_EVENT, RATE, OVERVIEW, MOVED], move |name, data| match name {
        APP_EVENT => {
            if let Ok(event) = serde_json::from_str::<LiveEvent>(&data) {
                feed.rows.update(|rows| rows.push(event));
            }
        }
        RATE => {
            if let Ok(rate) = serde_json::from_str::<SecondRate>(&data) {
                feed.rates.update(|rates| {
                    rates.push_back(rate);
                    while rates.len() > RATE_SECONDS {
                        rates.pop_front();
                    }
                });
            }
        }
        OVERVIEW => {
            if let Ok(counts) = serde_json::from_str::<LiveCounts>(&data) {
                feed.counts.set(counts);
            }
        }
        _ => {
            if let Ok(moved) = serde_json::from_str::<DeviceMoved>(&data) {
                feed.moves.update(|log| log.push(moved));
            }
        }
    });
    feed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::activity::ActivityEvent;

    fn event(id: i64) -> LiveEvent {
        LiveEvent {
            event: ActivityEvent {
                id,
                app_id: 1,
                user_id: Some(1),
                event_type: "t".into(),
                device_id: None,
                device_name: None,
                occurred_at: id,
                data: None,
            },
            user_external_id: Some("u".into()),
            user_name: None,
            platform: None,
            user_active: true,
        }
    }

    fn ids(list: &VecDeque<LiveEvent>) -> Vec<i64> {
        list.iter().map(|e| e.event.id).collect()
    }

    #[test]
    fn paused_rows_are_held_counted_and_shown_on_resume() {
        let mut rows = Rows::new(vec![event(2), event(1)]);
        rows.push(event(3));
        assert_eq!(ids(&rows.shown), [3, 2, 1], "newest on top");
        rows.pause();
        rows.push(event(4));
        rows.push(event(5));
        assert_eq!(ids(&rows.shown), [3, 2, 1], "paused: the rows stay still");
        assert_eq!(rows.held_count, 2);
        rows.resume();
        assert_eq!(ids(&rows.shown), [5, 4, 3, 2, 1]);
        assert_eq!((rows.held_count, rows.held.len()), (0, 0));
    }

    #[test]
    fn at_most_a_page_of_rows_is_kept() {
        let mut rows = Rows::default();
        for id in 0..1000 {
            rows.push(event(id));
        }
        assert_eq!(rows.shown.len(), SHOWN_EVENTS as usize, "older rows drop off");
        assert_eq!(rows.shown.front().map(|e| e.event.id), Some(999));
        rows.pause();
        for id in 1000..2000 {
            rows.push(event(id));
        }
        assert_eq!((rows.held_count, rows.held.len()), (1000, SHOWN_EVENTS as usize), "every one counted");
        rows.resume();
        assert_eq!(rows.shown.len(), SHOWN_EVENTS as usize);
        assert_eq!(rows.shown.front().map(|e| e.event.id), Some(1999));
    }
}
