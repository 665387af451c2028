#![recursion_limit = "256"]
//! The wasm entry point: hydrates the server-rendered page.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // `hydrate_lazy`: the page's lazy route chunks load before hydration.
    leptos::mount::hydrate_lazy(app::App);
}
