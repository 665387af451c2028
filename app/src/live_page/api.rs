//! The Live page's server function: a thin wrapper over `service`.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::live::LiveOverview;

/// What the Live page shows first: active-now counts, the top event types
/// of the last hour, the newest events matching the filters (`types`,
/// `segment` by name, `text` in data, `platform`) and the live map's
/// positions. The page's stream goes on from `after`.
#[server(endpoint = "live/overview", output = crate::codec::Json)]
pub async fn load_live_page(
    // A view without types sends none: the list is then empty.
    #[server(default)] types: Vec<String>,
    segment: Option<String>,
    text: Option<String>,
    platform: Option<String>,
) -> Result<(LiveOverview, Option<i64>), AppError> {
    use crate::auth::session::Caller;
    let Caller { state, app, .. } = Caller::viewer().await?;
    let view = super::LiveView { types, segment, text, platform };
    super::service::overview(&state.store, app.id, &view, crate::time::now_ms()).await
}
