//! What a job's step (a chunk) tells its runner.

/// What a job's step (a chunk) says about the job.
pub(crate) enum Step {
    More,
    Finished,
    /// The job's hold was lost: cancelled, or taken over.
    Lost,
    Failed(String),
}
