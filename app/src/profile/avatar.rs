//! The user's picture: Gravatar when the user has an email, over a locally
//! drawn initials avatar that shows when there is no email or the image
//! cannot load (e.g. no internet).

use leptos::prelude::*;

/// Up to two initials of a display name.
pub fn initials(name: &str) -> String {
    let letters: String = name.split_whitespace().filter_map(|w| w.chars().next()).take(2).collect();
    if letters.is_empty() {
        "?".into()
    } else {
        letters.to_uppercase()
    }
}

/// A stable hue for a name, so each user keeps a colour.
fn hue(name: &str) -> u32 {
    name.bytes().fold(7u32, |h, b| h.wrapping_mul(31).wrapping_add(b as u32)) % 360
}

#[component]
pub fn Avatar(name: String, gravatar_url: Option<String>) -> impl IntoView {
    // Lightness 30 %: white initials keep a 4.5:1 contrast on every hue.
    let style = format!("background: hsl({}, 55%, 30%)", hue(&name));
    view! {
        <div class="avatar" style=style aria-hidden="true">
            <span class="initials">{initials(&name)}</span>
            {gravatar_url.map(|src| {
                // No inline `onerror` (the CSP refuses inline handlers): an
                // image that fails before hydration shows nothing (alt=""),
                // so the initials underneath stay visible; after hydration
                // it is removed.
                view! {
                    <img
                        src=src
                        alt=""
                        loading="lazy"
                        on:error=move |ev| {
                            #[cfg(feature = "hydrate")]
                            {
                                use wasm_bindgen::JsCast;
                                if let Some(img) = ev.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) {
                                    img.remove();
                                }
                            }
                            #[cfg(not(feature = "hydrate"))]
                            let _ = ev;
                        }
                    />
                }
            })}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::initials;

    #[test]
    fn initials_of_names() {
        assert_eq!(initials("ana silva"), "AS");
        assert_eq!(initials("Zoë"), "Z");
        assert_eq!(initials("  "), "?");
        assert_eq!(initials("João Pedro Costa"), "JP");
    }
}
