//! Background jobs: bulk actions over the users list's view or the ticked
//! users, and CSV imports. One shared piece for all of them: a job row
//! with its progress (done / total, rate, time left) and outcome, worked
//! through in chunks by the instance's runner, resumed after a restart,
//! cancellable; the Jobs page and the API read the same rows.

mod api;
mod import_page;
mod jobs_page;
mod progress;
pub use crate::model::jobs as model;
#[cfg(feature = "ssr")]
pub mod bulk;
#[cfg(feature = "ssr")]
mod csv_rows;
#[cfg(feature = "ssr")]
pub mod export;
#[cfg(feature = "ssr")]
pub mod import;
#[cfg(feature = "ssr")]
mod import_work;
#[cfg(all(test, feature = "ssr"))]
mod import_work_tests;
#[cfg(feature = "ssr")]
pub mod runner;
#[cfg(feature = "ssr")]
pub mod selection;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
mod step;

#[cfg(feature = "ssr")]
pub use crate::background::{Jobs, JobsConfig};
pub use api::*;
pub use import_page::{import_limit, ImportPage};
pub use jobs_page::{JobPage, JobsPage};
pub use progress::{JobProgress, JobStatusBadge};
#[cfg(feature = "ssr")]
pub use runner::{run_next, spawn, Turn};
