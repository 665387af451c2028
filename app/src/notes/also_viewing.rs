//! "Also viewing": the other accounts with this profile open right now, on
//! any instance (the live channel's `presence`), each once.

use leptos::prelude::*;

use crate::live::use_live;
use crate::model::profile::Viewer;

/// A viewer in words: "ana@example.com (admin)".
fn words(viewer: &Viewer) -> String {
    format!("{} ({})", viewer.email, viewer.role)
}

#[component]
pub fn AlsoViewing() -> impl IntoView {
    let others = use_live().map(|feed| feed.others);
    let text = move || {
        let others = others.map(|others| others.get()).unwrap_or_default();
        (!others.is_empty())
            .then(|| format!("Also viewing: {}", others.iter().map(words).collect::<Vec<_>>().join(", ")))
    };
    // The live region is always there, so that a change is announced.
    view! { <p class="also-viewing" role="status" aria-live="polite">{text}</p> }
}
