#![recursion_limit = "256"]
//! The wasm entry point: hydrates the server-rendered page.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    // Debug builds only: the release wasm is built to abort on a panic
    // without formatting its message (smaller, see README "What the
    // browser downloads"), so the hook would be dead weight there.
    #[cfg(debug_assertions)]
    console_error_panic_hook::set_once();
    // `hydrate_lazy`: the page's lazy route chunks load before hydration.
    leptos::mount::hydrate_lazy(app::App);
}
