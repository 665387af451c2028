//! Leaflet itself (the vendored 1.9 JS and CSS under `/vendor/leaflet/`),
//! loaded on the first page that draws a map, its marker-clustering plugin
//! (vendored under `/vendor/leaflet.markercluster/`, loaded only by the
//! map that clusters), and the tile source the server configured
//! (`MAP_TILE_URL`, written into the page's `<head>`).

use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Document, Element};

const SCRIPT: &str = "/vendor/leaflet/leaflet.js";
const STYLESHEET: &str = "/vendor/leaflet/leaflet.css";
const CLUSTER_SCRIPT: &str = "/vendor/leaflet.markercluster/leaflet.markercluster.js";
const CLUSTER_STYLESHEETS: [&str; 2] =
    ["/vendor/leaflet.markercluster/MarkerCluster.css", "/vendor/leaflet.markercluster/MarkerCluster.Default.css"];

fn document() -> Option<Document> {
    web_sys::window()?.document()
}

fn has_leaflet() -> bool {
    web_sys::window().is_some_and(|w| js_sys::Reflect::has(&w, &JsValue::from_str("L")).unwrap_or(false))
}

/// Leaflet's JS and CSS, loaded once per page; `false` when they cannot be.
pub async fn loaded() -> bool {
    let Some(document) = document() else { return false };
    let css = stylesheet(&document, STYLESHEET);
    let js = if has_leaflet() { None } else { script(&document, SCRIPT) };
    all_finished([css, js]).await && has_leaflet()
}

/// Leaflet with its clustering plugin (`L.markerClusterGroup`).
pub async fn cluster_loaded() -> bool {
    if !loaded().await {
        return false;
    }
    let Some(document) = document() else { return false };
    let [a, b] = CLUSTER_STYLESHEETS.map(|href| stylesheet(&document, href));
    all_finished([a, b, script(&document, CLUSTER_SCRIPT)]).await
}

fn stylesheet(document: &Document, href: &str) -> Option<Element> {
    tag(document, "link", &[("rel", "stylesheet"), ("href", href)], href)
}

fn script(document: &Document, src: &str) -> Option<Element> {
    tag(document, "script", &[("src", src)], src)
}

async fn all_finished<const N: usize>(elements: [Option<Element>; N]) -> bool {
    for element in elements.into_iter().flatten() {
        if !finished(&element).await {
            return false;
        }
    }
    true
}

/// The `data-leaflet` element of `asset`, added to `<head>` when missing.
fn tag(document: &Document, name: &str, attributes: &[(&str, &str)], asset: &str) -> Option<Element> {
    let selector = format!("{name}[data-asset=\"{asset}\"]");
    if let Ok(Some(existing)) = document.query_selector(&selector) {
        return Some(existing);
    }
    let element = document.create_element(name).ok()?;
    for (key, value) in attributes {
        element.set_attribute(key, value).ok()?;
    }
    element.set_attribute("data-asset", asset).ok()?;
    element.set_attribute("data-leaflet", "loading").ok()?;
    // Listen before inserting: the load event cannot be missed.
    let _ = finished_promise(&element);
    document.head()?.append_child(&element).ok()?;
    Some(element)
}

/// Resolves when `element` has loaded (true) or failed (false); marks the
/// element so later maps do not wait for an event that already fired.
fn finished_promise(element: &Element) -> js_sys::Promise {
    let target = element.clone();
    js_sys::Promise::new(&mut move |resolve, _reject| {
        for (event, state) in [("load", "loaded"), ("error", "failed")] {
            let marked = target.clone();
            let resolve = resolve.clone();
            let on = Closure::once_into_js(move || {
                let _ = marked.set_attribute("data-leaflet", state);
                let _ = resolve.call1(&JsValue::NULL, &JsValue::from_bool(state == "loaded"));
            });
            let _ = target.add_event_listener_with_callback(event, on.unchecked_ref());
        }
    })
}

async fn finished(element: &Element) -> bool {
    match element.get_attribute("data-leaflet").as_deref() {
        Some("loaded") => true,
        Some("failed") => false,
        _ => wasm_bindgen_futures::JsFuture::from(finished_promise(element))
            .await
            .is_ok_and(|v| v.as_bool() == Some(true)),
    }
}

/// The tile URL template and its attribution; `None` draws maps on a plain
/// background (markers, circles and trails still show).
pub fn tiles() -> Option<(String, String)> {
    let meta = document()?.query_selector("meta[name=map-tiles]").ok()??;
    let url = meta.get_attribute("content").filter(|u| !u.is_empty())?;
    Some((url, meta.get_attribute("data-attribution").unwrap_or_default()))
}
