//! A job's progress as every page shows it: a bar (done / total), the
//! figures, the rate and the time left, or the outcome once it ended.

use leptos::prelude::*;

use super::model::{bytes_words, duration_words, Job, JobStatus};
use crate::model::properties::grouped;

/// The bar and its words; `now` is when the job was read.
#[component]
pub fn JobProgress(job: Job, now: i64) -> impl IntoView {
    let label = format!("Progress of job {}", job.id);
    let figures = job.progress_words();
    let rate = job.rate_per_sec(now).filter(|_| job.status == JobStatus::Running).map(|rate| {
        if job.kind.reads_file() {
            format!("{}/s", bytes_words(rate as i64))
        } else {
            format!("{} users/s", grouped(rate.round()))
        }
    });
    let left = job.seconds_left(now).map(|s| format!("about {} left", duration_words(s)));
    let words: Vec<String> =
        [Some(figures), Some(format!("{} %", job.percent())), rate, left].into_iter().flatten().collect();
    let (max, value) =
        if job.status == JobStatus::Done { (1, 1) } else { (job.total.max(1), job.done.min(job.total.max(1))) };
    view! {
        <div class="job-progress" data-status=job.status.as_str()>
            <progress max=max value=value aria-label=label></progress>
            <p class="job-figures">{words.join(" · ")}</p>
        </div>
    }
}

/// The status as a badge.
#[component]
pub fn JobStatusBadge(job: Job) -> impl IntoView {
    let text = if job.cancel_requested && !job.status.is_finished() { "Stopping" } else { job.status.label() };
    view! { <span class="job-status" data-status=job.status.as_str()>{text}</span> }
}
