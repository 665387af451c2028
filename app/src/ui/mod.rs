//! Components shared by features: the modal dialog, "Load more", absolute
//! times in the viewer's zone, the pause after typing before a search
//! runs, and refreshing on a timer.

mod debounce;
mod load_more;
mod local_time;
mod modal;
mod poll;

pub use debounce::{debounced, TYPING_PAUSE};
pub use load_more::LoadMore;
pub use local_time::{format_local, LocalTime};
pub use modal::{Modal, ModalHeader};
pub use poll::every;

use leptos::prelude::*;

/// False while the server-rendered HTML is all there is, true once this
/// component has hydrated (its Effects run only then). Controls that need
/// the wasm are disabled until then instead of silently doing nothing.
/// Create it in the component that renders the control: an Effect of a
/// parent can run before a child inside `Suspense` hydrates, and
/// hydration keeps the server's attribute.
pub fn hydrated() -> Signal<bool> {
    let ready = RwSignal::new(false);
    Effect::new(move |_| ready.set(true));
    ready.into()
}
