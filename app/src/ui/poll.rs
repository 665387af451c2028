//! Refreshing a page's data on a timer while something is under way.

use std::time::Duration;

use leptos::prelude::*;

/// Calls `tick` every `period` once the page has hydrated (never on the
/// server), until the component is gone.
pub fn every(period: Duration, tick: impl Fn() + 'static) {
    let tick = std::rc::Rc::new(tick);
    Effect::new(move |_| {
        let tick = tick.clone();
        if let Ok(handle) = set_interval_with_handle(move || tick(), period) {
            on_cleanup(move || handle.clear());
        }
    });
}
