//! Audience > Jobs (`/jobs`): the app's recent jobs with their progress and
//! outcome, and one job's page (`/jobs/:id`): its progress, Cancel, and for
//! a CSV file its preview, refused rows and "Import". Both refresh every
//! second while a job is under way.

use std::time::Duration;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use super::model::{Job, JobKind, JobStatus};
use super::model::{JobDetail, PreviewRow};
use super::progress::{JobProgress, JobStatusBadge};
use super::{get_job, list_jobs, refusals_words};
use crate::layout::{ErrorMessage, MeResource};
use crate::ui::{every, LocalTime};

/// How often a page with a job under way asks again.
const REFRESH: Duration = Duration::from_secs(1);

fn can_edit() -> Signal<bool> {
    let me = expect_context::<MeResource>();
    Signal::derive(move || me.get().and_then(Result::ok).is_some_and(|me| me.can_edit()))
}

#[component]
pub fn JobsPage() -> impl IntoView {
    let tick = RwSignal::new(0u64);
    let switched = use_context::<crate::layout::AppSwitch>();
    let jobs = Resource::new(move || (tick.get(), switched.map(|s| s.version())), |_| list_jobs());
    every(REFRESH, move || {
        let running = jobs.with_untracked(
            |answer| matches!(answer, Some(Ok((jobs, _))) if jobs.iter().any(|job| !job.status.is_finished())),
        );
        if running {
            tick.update(|t| *t += 1);
        }
    });
    view! {
        <Title text="Jobs" />
        <section class="page jobs-page">
            <header class="page-header">
                <h1>"Jobs"</h1>
                <A href="/users/import" attr:class="options-button">"Import users"</A>
            </header>
            <Transition fallback=|| view! { <p class="loading" role="status">"Loading jobs…"</p> }>
                {move || Suspend::new(async move {
                    match jobs.await {
                        Ok((jobs, now)) if jobs.is_empty() => {
                            let _ = now;
                            view! {
                                <p class="empty">
                                    "No jobs yet. Bulk actions on the users list and imports appear here."
                                </p>
                            }
                                .into_any()
                        }
                        Ok((jobs, now)) => view! { <JobsTable jobs now /> }.into_any(),
                        Err(error) => view! { <ErrorMessage error /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn JobsTable(jobs: Vec<Job>, now: i64) -> impl IntoView {
    view! {
        <table class="jobs-table">
            <caption class="visually-hidden">"Recent jobs, newest first"</caption>
            <thead>
                <tr>
                    <th scope="col">"Started"</th>
                    <th scope="col">"Job"</th>
                    <th scope="col">"By"</th>
                    <th scope="col">"Status"</th>
                    <th scope="col">"Progress"</th>
                    <th scope="col">"Outcome"</th>
                </tr>
            </thead>
            <tbody>
                {jobs
                    .into_iter()
                    .map(|job| {
                        let href = format!("/jobs/{}", job.id);
                        let outcome = outcome(&job);
                        let (id, created_at) = (job.id, job.created_at);
                        let (description, actor) = (job.description.clone(), job.actor.clone());
                        let badge = job.clone();
                        view! {
                            <tr data-job=id>
                                <td><LocalTime ms=created_at /></td>
                                <td><A href=href>{description}</A></td>
                                <td>{actor}</td>
                                <td><JobStatusBadge job=badge /></td>
                                <td><JobProgress job=job now /></td>
                                <td>{outcome}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}

/// The outcome once ended, the error when it failed.
fn outcome(job: &Job) -> String {
    match (&job.status, &job.error) {
        (JobStatus::Failed, Some(error)) => format!("{} — {error}", job.outcome_words()),
        (status, _) if status.is_finished() || job.done > 0 => job.outcome_words(),
        _ => String::new(),
    }
}

#[component]
pub fn JobPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").and_then(|id| id.parse::<i64>().ok()).unwrap_or(0)));
    let tick = RwSignal::new(0u64);
    let detail = Resource::new(move || (id.get(), tick.get()), |(id, _)| get_job(id));
    every(REFRESH, move || {
        let running = detail.with_untracked(|answer| matches!(answer, Some(Ok(d)) if !d.job.status.is_finished()));
        if running {
            tick.update(|t| *t += 1);
        }
    });
    let refresh = Callback::new(move |()| tick.update(|t| *t += 1));
    view! {
        <Title text="Job" />
        <section class="page job-page">
            <nav class="breadcrumb" aria-label="Breadcrumb">
                <A href="/jobs">"Jobs"</A>
            </nav>
            <Transition fallback=|| view! { <p class="loading" role="status">"Loading the job…"</p> }>
                {move || Suspend::new(async move {
                    match detail.await {
                        Ok(detail) => view! { <JobBody detail refresh /> }.into_any(),
                        Err(error) => view! { <ErrorMessage error /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn JobBody(detail: JobDetail, refresh: Callback<()>) -> impl IntoView {
    let JobDetail { job, refusals, preview, now } = detail;
    let can_edit = can_edit();
    let id = job.id;
    let cancel = ServerAction::<crate::jobs::CancelJob>::new();
    Effect::new(move |_| {
        if cancel.value().get().is_some() {
            refresh.run(());
        }
    });
    let running = !job.status.is_finished();
    let failed = job.error.clone().map(|error| view! { <p class="error" role="alert">{error}</p> });
    let ended = job.status.is_finished().then(|| view! { <p class="job-outcome">{job.outcome_words()}</p> });
    let checked = job.kind == JobKind::ImportCheck && job.status == JobStatus::Done;
    let importable = job.changed;
    view! {
        <header class="page-header">
            <h1>{job.description.clone()}</h1>
            <JobStatusBadge job=job.clone() />
        </header>
        <section class="box job-box" aria-labelledby="job-progress-title">
            <h2 id="job-progress-title">"Progress"</h2>
            <p class="job-meta">"Started by " {job.actor.clone()} " · " <LocalTime ms=job.created_at /></p>
            <div role="status" aria-live="polite">
                <JobProgress job=job.clone() now />
                {ended}
            </div>
            {failed}
            {move || (running && can_edit.get() && !job.cancel_requested).then(|| view! {
                <ActionForm action=cancel>
                    <input type="hidden" name="id" value=id />
                    <button type="submit" class="small danger">"Cancel job"</button>
                </ActionForm>
            })}
            {move || cancel.value().get().and_then(Result::err).map(|error| view! { <ErrorMessage error /> })}
        </section>
        {(checked && !preview.is_empty()).then(|| view! { <Preview rows=preview.clone() /> })}
        {checked.then(|| view! { <ImportChecked check=id rows=importable can_edit /> })}
        {(!refusals.is_empty() || job.refused > 0).then(|| view! { <Refusals refusals=refusals.clone() refused=job.refused /> })}
    }
}

#[component]
fn Preview(rows: Vec<PreviewRow>) -> impl IntoView {
    view! {
        <section class="box" aria-labelledby="preview-title">
            <h2 id="preview-title">"First rows"</h2>
            <table class="preview-table">
                <thead>
                    <tr>
                        <th scope="col">"Line"</th>
                        <th scope="col">"userID"</th>
                        <th scope="col">"userName"</th>
                        <th scope="col">"email"</th>
                        <th scope="col">"Properties"</th>
                        <th scope="col">"Check"</th>
                    </tr>
                </thead>
                <tbody>
                    {rows
                        .into_iter()
                        .map(|row| {
                            let refused = row.refused.is_some();
                            view! {
                                <tr class:refused=refused>
                                    <td>{row.line}</td>
                                    <td>{row.user_id}</td>
                                    <td>{row.user_name}</td>
                                    <td>{row.email}</td>
                                    <td>{row.properties}</td>
                                    <td>{row.refused.map_or_else(|| "OK".to_string(), |why| format!("Refused: {why}"))}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </section>
    }
}

#[component]
fn Refusals(refusals: Vec<super::model::Refusal>, refused: i64) -> impl IntoView {
    let title = refusals_words(refusals.len(), refused);
    view! {
        <section class="box" aria-labelledby="refusals-title">
            <h2 id="refusals-title">{title}</h2>
            <table class="refusals-table">
                <thead>
                    <tr>
                        <th scope="col">"Line"</th>
                        <th scope="col">"userID"</th>
                        <th scope="col">"Why"</th>
                    </tr>
                </thead>
                <tbody>
                    {refusals
                        .into_iter()
                        .map(|r| view! { <tr><td>{r.line}</td><td>{r.user_ref}</td><td>{r.reason}</td></tr> })
                        .collect_view()}
                </tbody>
            </table>
        </section>
    }
}

/// "Import N rows" after a check; on success the new job's page.
#[component]
fn ImportChecked(check: i64, rows: i64, can_edit: Signal<bool>) -> impl IntoView {
    let import = ServerAction::<crate::jobs::ImportChecked>::new();
    let navigate = leptos_router::hooks::use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(job)) = import.value().get() {
            navigate(&format!("/jobs/{}", job.id), Default::default());
        }
    });
    let plural = if rows == 1 { "" } else { "s" };
    let label = StoredValue::new(format!("Import {} row{plural}", crate::model::properties::grouped(rows as f64)));
    view! {
        <section class="box" aria-labelledby="import-title">
            <h2 id="import-title">"Import"</h2>
            <p>"Rows with a userID already in the app update that user; refused rows are left out."</p>
            {move || {
                if can_edit.get() {
                    view! {
                        <ActionForm action=import>
                            <input type="hidden" name="check" value=check />
                            <button type="submit" class="primary small" disabled=move || import.pending().get()>
                                {label.get_value()}
                            </button>
                        </ActionForm>
                    }
                        .into_any()
                } else {
                    view! { <p>"Only admins can import."</p> }.into_any()
                }
            }}
            {move || import.value().get().and_then(Result::err).map(|error| view! { <ErrorMessage error /> })}
        </section>
    }
}
