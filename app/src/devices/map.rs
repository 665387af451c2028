//! The Leaflet maps: the profile's map of located devices and the device
//! page's trail. A map exists only in the browser: the server renders an
//! empty box of the same size (and the page a text list of the same
//! positions); after hydration an Effect loads Leaflet once, draws the map
//! and moves it with the positions' signals, which the live channel
//! updates. Leaving the page removes the map (no leaked Leaflet instance
//! across client-side navigation).

use leptos::prelude::*;

use super::model::Fix;

/// One device on a map; `fix` moves as the live channel reports.
#[derive(Debug, Clone, Copy)]
pub struct MapDevice {
    pub id: i64,
    pub name: StoredValue<String>,
    /// For the marker's popup (browser only).
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    pub platform: StoredValue<String>,
    pub fix: RwSignal<Fix>,
}

/// Follows the live channel's moves for `devices` (and appends them to
/// `trail` when given). Effects run only in the browser.
pub fn follow_moves(devices: Vec<MapDevice>, trail: Option<RwSignal<Vec<Fix>>>) {
    let Some(feed) = crate::live::use_live() else { return };
    let start = feed.moves.with_untracked(|log| log.first + log.events.len());
    Effect::new(move |read: Option<usize>| {
        let (moves, next) = feed.moves.with(|log| log.since(read.unwrap_or(start)));
        for moved in moves {
            if let Some(device) = devices.iter().find(|d| d.id == moved.device_id) {
                device.fix.set(moved.fix);
                if let Some(trail) = trail {
                    trail.update(|points| points.push(moved.fix));
                }
            }
        }
        next
    });
}

/// The map box's body: `label` names the region for screen readers.
#[component]
pub fn DeviceMap(
    label: String,
    devices: Vec<MapDevice>,
    /// The device page's trail, drawn as a line (oldest to newest).
    #[prop(optional)]
    trail: Option<RwSignal<Vec<Fix>>>,
) -> impl IntoView {
    let node = NodeRef::<leptos::html::Div>::new();
    #[cfg(feature = "hydrate")]
    browser::draw(node, devices.clone(), trail);
    #[cfg(not(feature = "hydrate"))]
    let _ = (&devices, trail);
    view! { <div class="map" node_ref=node role="region" aria-label=label></div> }
}

#[cfg(feature = "hydrate")]
mod browser {
    use std::collections::HashMap;

    use leaflet::{
        Circle, LatLng, LatLngBounds, Map, MapOptions, Marker, MarkerOptions, Polyline, TileLayer, TileLayerOptions,
    };
    use leptos::prelude::*;
    use wasm_bindgen::JsValue;

    use super::{Fix, MapDevice};
    use crate::time::format_exact;

    /// Zoom for a map with a single position (a city block).
    const SINGLE_ZOOM: f64 = 14.0;

    struct Drawn {
        map: Map,
        markers: HashMap<i64, (Marker, Circle, web_sys::Element)>,
        trail: Option<Polyline>,
    }

    pub(super) fn draw(node: NodeRef<leptos::html::Div>, devices: Vec<MapDevice>, trail: Option<RwSignal<Vec<Fix>>>) {
        let drawn = StoredValue::new_local(None::<Drawn>);
        let ready = RwSignal::new(false);
        let to_draw = devices.clone();
        Effect::new(move |_| {
            let Some(element) = node.get() else { return };
            let devices = to_draw.clone();
            leptos::task::spawn_local(async move {
                if !super::super::leaflet::loaded().await {
                    element.set_text_content(Some("The map could not be loaded."));
                    return;
                }
                match create(&element, &devices, trail) {
                    Ok(map) => {
                        drawn.set_value(Some(map));
                        ready.set(true);
                    }
                    Err(error) => leptos::logging::warn!("map: {error:?}"),
                }
            });
        });
        // Each device's marker follows its position.
        for device in devices {
            Effect::new(move |_| {
                let fix = device.fix.get();
                if !ready.get() {
                    return;
                }
                drawn.with_value(|drawn| {
                    if let Some((marker, circle, when)) = drawn.as_ref().and_then(|d| d.markers.get(&device.id)) {
                        let at = LatLng::new(fix.latitude, fix.longitude);
                        marker.set_lat_lng(&at);
                        circle.set_lat_lng(&at);
                        circle.set_radius(fix.accuracy.unwrap_or(0.0));
                        when.set_text_content(Some(&format_exact(fix.at, true)));
                    }
                });
            });
        }
        if let Some(trail) = trail {
            Effect::new(move |_| {
                let points = trail.get();
                if !ready.get() {
                    return;
                }
                drawn.with_value(|drawn| {
                    if let Some(line) = drawn.as_ref().and_then(|d| d.trail.as_ref()) {
                        line.set_lat_lngs(&lat_lngs(&points));
                    }
                });
            });
        }
        on_cleanup(move || {
            drawn.update_value(|drawn| {
                if let Some(drawn) = drawn.take() {
                    drawn.map.remove();
                }
            })
        });
    }

    fn lat_lngs(points: &[Fix]) -> js_sys::Array {
        points.iter().map(|p| JsValue::from(LatLng::new(p.latitude, p.longitude))).collect()
    }

    fn create(
        element: &web_sys::HtmlDivElement,
        devices: &[MapDevice],
        trail: Option<RwSignal<Vec<Fix>>>,
    ) -> Result<Drawn, JsValue> {
        let options = MapOptions::new();
        let map = Map::new_with_element(element, &options)?;
        let tiles = super::super::leaflet::tiles();
        if let Some((url, attribution)) = tiles {
            let tile_options = TileLayerOptions::new();
            tile_options.set_attribution(attribution);
            TileLayer::new_options(&url, &tile_options).add_to(&map);
        }
        let document = web_sys::window().and_then(|w| w.document()).ok_or("no document")?;
        let mut markers = HashMap::new();
        let mut points: Vec<Fix> = Vec::new();
        for device in devices {
            let fix = device.fix.get_untracked();
            let name = device.name.get_value();
            let at = LatLng::new(fix.latitude, fix.longitude);
            let marker_options = MarkerOptions::new();
            marker_options.set_title(name.clone());
            marker_options.set_alt(name.clone());
            let marker = Marker::new_with_options(&at, &marker_options);
            // The popup is built from text nodes: device names come from the
            // customer's app and must never become markup.
            let popup = document.create_element("div")?;
            let title = document.create_element("strong")?;
            title.set_text_content(Some(&name));
            let platform = document.create_element("div")?;
            platform.set_text_content(Some(&device.platform.get_value()));
            let when = document.create_element("div")?;
            when.set_text_content(Some(&format_exact(fix.at, true)));
            for part in [&title, &platform, &when] {
                popup.append_child(part)?;
            }
            marker.bind_popup_with_options(&popup, &js_sys::Object::new());
            marker.add_to(&map);
            let circle = Circle::new_with_radius(&at, fix.accuracy.unwrap_or(0.0));
            circle.add_to(&map);
            markers.insert(device.id, (marker, circle, when));
            points.push(fix);
        }
        let line = trail.map(|trail| {
            let trail_points = trail.get_untracked();
            points.extend(trail_points.iter().copied());
            let line = Polyline::new(&lat_lngs(&trail_points));
            line.add_to(&map);
            line
        });
        match points.as_slice() {
            [] => {
                map.set_view(&LatLng::new(20.0, 0.0), 1.0);
            }
            [one] => {
                map.set_view(&LatLng::new(one.latitude, one.longitude), SINGLE_ZOOM);
            }
            [first, rest @ ..] => {
                let corner = LatLng::new(first.latitude, first.longitude);
                let bounds = LatLngBounds::new(&corner, &corner);
                for p in rest {
                    bounds.extend(&LatLng::new(p.latitude, p.longitude));
                }
                let padding = js_sys::Object::new();
                js_sys::Reflect::set(&padding, &"padding".into(), &js_sys::Array::of2(&40.into(), &40.into()))?;
                js_sys::Reflect::set(&padding, &"maxZoom".into(), &SINGLE_ZOOM.into())?;
                map.fit_bounds_with_options(&bounds, &padding);
            }
        }
        Ok(Drawn { map, markers, trail: line })
    }
}
