//! Components shared by features: the modal dialog.

mod modal;

pub use modal::{Modal, ModalHeader};

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
