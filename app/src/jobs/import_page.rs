//! Audience > Users > Import (`/users/import`): a plain form that uploads a
//! CSV file (it works without JavaScript). The server stores the file,
//! checks its header and starts a check of every row; its page
//! (`/jobs/:id`) shows the first rows, every refused row and why, and
//! "Import".

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::model::bytes_words;

/// The largest file the server takes, in bytes.
#[server(endpoint = "jobs/import_limit", output = crate::codec::Json)]
pub async fn import_limit() -> Result<u64, crate::error::AppError> {
    let caller = crate::auth::session::Caller::viewer().await?;
    Ok(caller.state.jobs.max_upload_bytes())
}

#[component]
pub fn ImportPage() -> impl IntoView {
    let query = use_query_map();
    let error = move || query.with(|q| q.get("error")).filter(|e| !e.is_empty());
    let limit = Resource::new(|| (), |_| import_limit());
    view! {
        <Title text="Import users" />
        <section class="page import-page">
            <header class="page-header">
                <h1>"Import users"</h1>
            </header>
            <section class="box" aria-labelledby="import-help">
                <h2 id="import-help">"The file"</h2>
                <p>
                    "A CSV file in UTF-8 with a header row. The "<code>"userID"</code>
                    " column is required; "<code>"userName"</code>" and "<code>"email"</code>
                    " are optional; every other column becomes a property of that name (true/false, numbers and "
                    "RFC 3339 dates are typed, the rest is text; an empty cell changes nothing)."
                </p>
                <p>
                    "Importing is keyed by userID: a user already in the app is updated, never duplicated. "
                    "The file is checked first: you see its first rows and every row that would be refused "
                    "before anything is written."
                </p>
                <Suspense>
                    {move || Suspend::new(async move {
                        limit.await.ok().map(|bytes| view! { <p>"Files up to " {bytes_words(bytes as i64)} "."</p> })
                    })}
                </Suspense>
            </section>
            {move || error().map(|error| view! { <p class="error" role="alert">{error}</p> })}
            <form class="box import-form" method="post" action="/api/users/import" enctype="multipart/form-data">
                <label for="import-file">"CSV file"</label>
                <input id="import-file" type="file" name="file" accept=".csv,text/csv" required />
                <button type="submit" class="primary">"Check file"</button>
            </form>
        </section>
    }
}
