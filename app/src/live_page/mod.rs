//! Audience > Live: the whole app's activity as it happens, for product
//! managers: who is active now, the event stream (filtered, paused,
//! sampled when faster than a person reads), the top event types of the
//! last hour and the live map. The stream is `/api/live/app`
//! (server/src/live/app.rs) on the same live channel as the profile's.

mod api;
mod counts;
mod map;
mod page;
#[cfg(feature = "ssr")]
pub mod service;
mod stream;
mod view;

pub use api::load_live_page;
pub use page::LivePage;
pub use view::LiveView;
