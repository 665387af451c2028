//! The Live page's map: the last known position of each device active in
//! the last 30 minutes, moving as locations arrive, clustered where
//! markers overlap (the vendored Leaflet.markercluster, loaded only here).
//! The server renders the box and, beside it, the same positions as a list
//! of links (what a screen reader or a page without JavaScript reads); the
//! map itself is drawn after hydration.

use leptos::prelude::*;

use super::stream::LivePageFeed;
use crate::model::live::LivePosition;
use crate::time::format_exact;

#[component]
pub fn LiveMap(positions: Vec<LivePosition>, feed: LivePageFeed) -> impl IntoView {
    let node = NodeRef::<leptos::html::Div>::new();
    let count = positions.len();
    let label = match count {
        1 => "Live map: 1 device active in the last 30 minutes".to_string(),
        n => format!("Live map: {n} devices active in the last 30 minutes"),
    };
    #[cfg(feature = "hydrate")]
    browser::draw(node, positions.clone(), feed);
    #[cfg(not(feature = "hydrate"))]
    let _ = feed;
    let empty = positions.is_empty();
    let list = positions
        .into_iter()
        .map(|p| {
            let at = format_exact(p.fix.at, false);
            let place = format!("{:.4}, {:.4}", p.fix.latitude, p.fix.longitude);
            view! {
                <li>
                    <a href=format!("/users/{}", p.user_id)>{p.user}</a>
                    " at " {place} ", " {at}
                </li>
            }
        })
        .collect_view();
    view! {
        <div class="map live-map" node_ref=node role="region" aria-label=label></div>
        {empty.then(|| view! { <p class="empty-state">"No device has reported a location in the last 30 minutes."</p> })}
        {(!empty).then(|| view! {
            <details class="map-list">
                <summary>{format!("Positions as a list ({count})")}</summary>
                <ul>{list}</ul>
            </details>
        })}
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use std::collections::HashMap;

    use ::leaflet::{LatLng, LatLngBounds, Map, MapOptions, Marker, MarkerOptions, TileLayer, TileLayerOptions};
    use leptos::prelude::*;
    use wasm_bindgen::{JsCast, JsValue};

    use super::super::stream::LivePageFeed;
    use crate::devices::leaflet;
    use crate::model::devices::Fix;
    use crate::model::live::LivePosition;
    use crate::time::format_exact;

    const SINGLE_ZOOM: f64 = 12.0;

    struct Drawn {
        map: Map,
        /// The `L.markerClusterGroup` the markers are in.
        cluster: JsValue,
        markers: HashMap<i64, Marker>,
        /// Names of users seen, for new devices' popups.
        names: HashMap<i64, String>,
    }

    /// Calls `target[method](args…)`.
    fn call(target: &JsValue, method: &str, args: &[&JsValue]) -> Result<JsValue, JsValue> {
        let function: js_sys::Function = js_sys::Reflect::get(target, &method.into())?.dyn_into()?;
        let args: js_sys::Array = args.iter().copied().collect();
        function.apply(target, &args)
    }

    pub(super) fn draw(node: NodeRef<leptos::html::Div>, positions: Vec<LivePosition>, feed: LivePageFeed) {
        let drawn = StoredValue::new_local(None::<Drawn>);
        let start = feed.moves.with_untracked(|log| log.first + log.events.len());
        Effect::new(move |_| {
            let Some(element) = node.get() else { return };
            let positions = positions.clone();
            leptos::task::spawn_local(async move {
                if !leaflet::cluster_loaded().await {
                    element.set_text_content(Some("The map could not be loaded."));
                    return;
                }
                match create(&element, &positions) {
                    Ok(map) => drawn.set_value(Some(map)),
                    Err(error) => leptos::logging::warn!("live map: {error:?}"),
                }
            });
        });
        // Users named by the stream's rows, for devices new to the map.
        Effect::new(move |_| {
            let named: Vec<(i64, String)> = feed.rows.with(|rows| {
                rows.shown.iter().filter_map(|e| Some((e.event.user_id?, e.who()?.to_string()))).take(50).collect()
            });
            drawn.update_value(|drawn| {
                if let Some(drawn) = drawn.as_mut() {
                    drawn.names.extend(named);
                }
            });
        });
        Effect::new(move |read: Option<usize>| {
            let (moves, next) = feed.moves.with(|log| log.since(read.unwrap_or(start)));
            drawn.update_value(|drawn| {
                let Some(drawn) = drawn.as_mut() else { return };
                for moved in moves {
                    if let Err(error) = drawn.place(moved.device_id, moved.user_id, moved.fix) {
                        leptos::logging::warn!("live map: {error:?}");
                    }
                }
            });
            next
        });
        on_cleanup(move || {
            drawn.update_value(|drawn| {
                if let Some(drawn) = drawn.take() {
                    drawn.map.remove();
                }
            })
        });
    }

    impl Drawn {
        /// Moves the device's marker to `fix`, adding it when new.
        fn place(&mut self, device_id: i64, user_id: i64, fix: Fix) -> Result<(), JsValue> {
            let at = LatLng::new(fix.latitude, fix.longitude);
            if let Some(marker) = self.markers.get(&device_id) {
                // A clustered marker re-clusters only when taken out and put back.
                call(&self.cluster, "removeLayer", &[marker.as_ref()])?;
                marker.set_lat_lng(&at);
                call(&self.cluster, "addLayer", &[marker.as_ref()])?;
                return Ok(());
            }
            let name = self.names.get(&user_id).cloned().unwrap_or_else(|| "A user".to_string());
            let marker = marker(user_id, &name, fix)?;
            call(&self.cluster, "addLayer", &[marker.as_ref()])?;
            self.markers.insert(device_id, marker);
            Ok(())
        }
    }

    /// A marker whose popup names the user and links to the profile; built
    /// from text nodes, since names come from the customer's app.
    fn marker(user_id: i64, name: &str, fix: Fix) -> Result<Marker, JsValue> {
        let document = web_sys::window().and_then(|w| w.document()).ok_or("no document")?;
        let options = MarkerOptions::new();
        options.set_title(name.to_string());
        options.set_alt(name.to_string());
        let marker = Marker::new_with_options(&LatLng::new(fix.latitude, fix.longitude), &options);
        let popup = document.create_element("div")?;
        let link = document.create_element("a")?;
        link.set_attribute("href", &format!("/users/{user_id}"))?;
        link.set_text_content(Some(name));
        let when = document.create_element("div")?;
        when.set_text_content(Some(&format_exact(fix.at, true)));
        popup.append_child(&link)?;
        popup.append_child(&when)?;
        marker.bind_popup_with_options(&popup, &js_sys::Object::new());
        Ok(marker)
    }

    fn create(element: &web_sys::HtmlDivElement, positions: &[LivePosition]) -> Result<Drawn, JsValue> {
        let map = Map::new_with_element(element, &MapOptions::new())?;
        if let Some((url, attribution)) = leaflet::tiles() {
            let tile_options = TileLayerOptions::new();
            tile_options.set_attribution(attribution);
            TileLayer::new_options(&url, &tile_options).add_to(&map);
        }
        let window: JsValue = web_sys::window().ok_or("no window")?.into();
        let library = js_sys::Reflect::get(&window, &"L".into())?;
        let cluster = call(&library, "markerClusterGroup", &[])?;
        call(&cluster, "addTo", &[map.as_ref()])?;
        let mut drawn = Drawn { map, cluster, markers: HashMap::new(), names: HashMap::new() };
        for p in positions {
            drawn.names.insert(p.user_id, p.user.clone());
            drawn.place(p.device_id, p.user_id, p.fix)?;
        }
        match positions {
            [] => {
                drawn.map.set_view(&LatLng::new(20.0, 0.0), 1.0);
            }
            [one] => {
                drawn.map.set_view(&LatLng::new(one.fix.latitude, one.fix.longitude), SINGLE_ZOOM);
            }
            [first, rest @ ..] => {
                let corner = LatLng::new(first.fix.latitude, first.fix.longitude);
                let bounds = LatLngBounds::new(&corner, &corner);
                for p in rest {
                    bounds.extend(&LatLng::new(p.fix.latitude, p.fix.longitude));
                }
                let options = js_sys::Object::new();
                js_sys::Reflect::set(&options, &"padding".into(), &js_sys::Array::of2(&40.into(), &40.into()))?;
                js_sys::Reflect::set(&options, &"maxZoom".into(), &SINGLE_ZOOM.into())?;
                drawn.map.fit_bounds_with_options(&bounds, &options);
            }
        }
        Ok(drawn)
    }
}
