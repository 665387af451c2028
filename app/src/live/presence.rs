//! Who has a profile open, on every instance, without a database row.
//!
//! Each open profile stream is a *tab*, held by the instance that serves
//! it: the tab is announced when the stream opens and withdrawn when it
//! ends (the browser closed the page, or the connection died: the server's
//! sockets give up on unacknowledged data within seconds). On PostgreSQL
//! the announcements cross instances as NOTIFY messages on the live
//! channel, and each instance re-announces its tabs every
//! [`ANNOUNCE_EVERY`]; a tab not heard of for [`EXPIRES_AFTER`] (its
//! instance died) is dropped. Nothing is written to a table. Every
//! instance keeps the same book, and tells its streams when the accounts
//! on a profile change (an account with two tabs open counts once).

use std::collections::{BTreeSet, HashMap};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::model::profile::Viewer;

/// How often an instance re-announces its tabs.
pub const ANNOUNCE_EVERY: Duration = Duration::from_secs(10);
/// How long a tab stays in the book without being announced again.
pub const EXPIRES_AFTER: Duration = Duration::from_secs(30);
/// How often expired tabs are looked for.
pub const SWEEP_EVERY: Duration = Duration::from_secs(5);
/// Tabs per NOTIFY message: each is at most about 400 bytes of JSON (an
/// email of 254 characters), and a payload at most 8,000 bytes.
pub const TABS_PER_MESSAGE: usize = 16;
/// A presence message's prefix on the live channel.
pub const PRESENCE_PREFIX: &str = "presence:";

/// One open profile stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tab {
    /// The stream's number on its instance.
    pub stream: u64,
    pub app_id: i64,
    /// The user whose profile is open.
    pub profile: i64,
    pub viewer: Viewer,
}

/// What one instance tells the others.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresenceNote {
    pub instance: u64,
    /// `true`: these tabs are open; `false`: they closed.
    pub open: bool,
    pub tabs: Vec<Tab>,
}

impl PresenceNote {
    /// The NOTIFY payload.
    pub fn payload(&self) -> Option<String> {
        serde_json::to_string(self).ok().map(|json| format!("{PRESENCE_PREFIX}{json}"))
    }

    /// A payload's note, if it is one.
    pub fn parse(payload: &str) -> Option<PresenceNote> {
        serde_json::from_str(payload.strip_prefix(PRESENCE_PREFIX)?).ok()
    }
}

/// A profile's viewers changed: who has it open now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewersChanged {
    pub app_id: i64,
    pub profile: i64,
    pub viewers: Vec<Viewer>,
}

struct Held {
    app_id: i64,
    viewer: Viewer,
    expires: Instant,
}

/// One profile's open tabs, by (instance, stream).
type Tabs = HashMap<(u64, u64), Held>;

/// Every instance's open tabs, by profile.
#[derive(Default)]
pub struct PresenceBook(Mutex<HashMap<i64, Tabs>>);

impl PresenceBook {
    fn profiles(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Tabs>> {
        // Each change is one insert or remove: consistent after a panic.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Applies a note (this instance's or another's) at `now`: the
    /// profiles whose set of accounts changed, with their viewers.
    pub fn apply(&self, note: &PresenceNote, now: Instant) -> Vec<ViewersChanged> {
        let mut profiles = self.profiles();
        let mut changed = Vec::new();
        for tab in &note.tabs {
            let tabs = profiles.entry(tab.profile).or_default();
            let before = accounts(tabs);
            let key = (note.instance, tab.stream);
            if note.open {
                let held = Held { app_id: tab.app_id, viewer: tab.viewer.clone(), expires: now + EXPIRES_AFTER };
                tabs.insert(key, held);
            } else {
                tabs.remove(&key);
            }
            if accounts(tabs) != before {
                changed.push(viewers_changed(tab.profile, tabs, tab.app_id));
            }
            if tabs.is_empty() {
                profiles.remove(&tab.profile);
            }
        }
        changed
    }

    /// Drops the tabs not announced since [`EXPIRES_AFTER`] before `now`.
    pub fn sweep(&self, now: Instant) -> Vec<ViewersChanged> {
        let mut profiles = self.profiles();
        let mut changed = Vec::new();
        profiles.retain(|profile, tabs| {
            let before = accounts(tabs);
            let app_id = tabs.values().next().map_or(0, |held| held.app_id);
            tabs.retain(|_, held| held.expires > now);
            if accounts(tabs) != before {
                changed.push(viewers_changed(*profile, tabs, app_id));
            }
            !tabs.is_empty()
        });
        changed
    }

    /// The accounts with `profile` open, by email.
    pub fn viewers(&self, profile: i64) -> Vec<Viewer> {
        self.profiles().get(&profile).map(sorted_viewers).unwrap_or_default()
    }
}

fn accounts(tabs: &Tabs) -> BTreeSet<Viewer> {
    tabs.values().map(|held| held.viewer.clone()).collect()
}

fn sorted_viewers(tabs: &Tabs) -> Vec<Viewer> {
    let mut viewers: Vec<Viewer> = accounts(tabs).into_iter().collect();
    viewers.sort_by(|a, b| a.email.cmp(&b.email).then(a.account_id.cmp(&b.account_id)));
    viewers
}

fn viewers_changed(profile: i64, tabs: &Tabs, app_id: i64) -> ViewersChanged {
    ViewersChanged { app_id, profile, viewers: sorted_viewers(tabs) }
}

/// This instance's own open tabs (what it announces).
#[derive(Default)]
pub struct OwnTabs(Mutex<Vec<Tab>>);

impl OwnTabs {
    fn tabs(&self) -> std::sync::MutexGuard<'_, Vec<Tab>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn open(&self, tab: Tab) {
        self.tabs().push(tab);
    }

    pub fn close(&self, stream: u64) {
        self.tabs().retain(|tab| tab.stream != stream);
    }

    /// The tabs, in messages of at most [`TABS_PER_MESSAGE`].
    pub fn notes(&self, instance: u64) -> Vec<PresenceNote> {
        let tabs = self.tabs();
        tabs.chunks(TABS_PER_MESSAGE).map(|chunk| PresenceNote { instance, open: true, tabs: chunk.to_vec() }).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn viewer(id: i64, email: &str) -> Viewer {
        Viewer { account_id: id, email: email.into(), role: "admin".into() }
    }

    fn note(instance: u64, open: bool, stream: u64, profile: i64, who: &Viewer) -> PresenceNote {
        PresenceNote { instance, open, tabs: vec![Tab { stream, app_id: 1, profile, viewer: who.clone() }] }
    }

    #[test]
    fn an_account_counts_once_and_leaves_with_its_last_tab() {
        let book = PresenceBook::default();
        let (ana, bob) = (viewer(1, "ana@x"), viewer(2, "bob@x"));
        let now = Instant::now();
        assert_eq!(book.apply(&note(7, true, 1, 42, &ana), now)[0].viewers, vec![ana.clone()]);
        assert!(book.apply(&note(8, true, 1, 42, &ana), now).is_empty(), "a second tab of ana changes nothing");
        assert_eq!(book.apply(&note(7, true, 2, 42, &bob), now)[0].viewers, vec![ana.clone(), bob.clone()]);
        assert!(book.apply(&note(7, false, 1, 42, &ana), now).is_empty(), "ana still has a tab on instance 8");
        assert_eq!(book.apply(&note(8, false, 1, 42, &ana), now)[0].viewers, vec![bob.clone()]);
        assert_eq!(book.viewers(42), vec![bob]);
        assert!(book.viewers(43).is_empty());
    }

    #[test]
    fn tabs_not_announced_again_expire() {
        let book = PresenceBook::default();
        let ana = viewer(1, "ana@x");
        let start = Instant::now();
        book.apply(&note(7, true, 1, 42, &ana), start);
        assert!(book.sweep(start + EXPIRES_AFTER / 2).is_empty());
        book.apply(&note(7, true, 1, 42, &ana), start + EXPIRES_AFTER / 2);
        assert!(book.sweep(start + EXPIRES_AFTER).is_empty(), "announced again: kept");
        let gone = book.sweep(start + EXPIRES_AFTER * 2);
        assert_eq!(gone, vec![ViewersChanged { app_id: 1, profile: 42, viewers: vec![] }]);
        assert!(book.viewers(42).is_empty());
    }

    #[test]
    fn notes_cross_instances_as_payloads_under_the_notify_limit() {
        let own = OwnTabs::default();
        for stream in 0..(TABS_PER_MESSAGE as u64 + 1) {
            let who = viewer(stream as i64, &format!("{}@example.com", "a".repeat(242)));
            own.open(Tab { stream, app_id: i64::MAX, profile: i64::MAX, viewer: who });
        }
        let notes = own.notes(u64::MAX);
        assert_eq!(notes.len(), 2);
        for note in &notes {
            let payload = note.payload().unwrap();
            assert!(payload.len() < 8_000, "{}", payload.len());
            assert_eq!(PresenceNote::parse(&payload).as_ref(), Some(note));
        }
        own.close(0);
        assert_eq!(own.notes(1).iter().map(|n| n.tabs.len()).sum::<usize>(), TABS_PER_MESSAGE);
        assert!(PresenceNote::parse("moved:1").is_none());
    }
}
