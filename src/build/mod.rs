//! Building images from a local directory: the build context as a streamed
//! tar archive that honours `.dockerignore` ([`BuildContext`],
//! [`Dockerignore`]), and the end of a build's output ([`BuildOutcome`]).
//!
//! [`Images::build_dir`](crate::api::Images::build_dir) puts them together:
//!
//! ```no_run
//! # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
//! use dockhand::build::BuildOutcome;
//! use dockhand::operations::ImageBuildOptions;
//! let opts = ImageBuildOptions::default().t("app:1");
//! let stream = docker.images().build_dir("./app", &opts).await?;
//! let outcome = BuildOutcome::collect_with(stream, |msg| {
//!     if let Some(text) = &msg.stream {
//!         print!("{text}");
//!     }
//! })
//! .await?;
//! println!("image {}", outcome.image_id);
//! # Ok(()) }
//! ```

mod context;
mod ignore;
mod outcome;

pub use context::{BuildContext, TarStream};
pub use ignore::Dockerignore;
pub use outcome::{image_id_from, BuildOutcome};

pub(crate) use context::prepare_dir;
#[cfg(feature = "buildkit")]
pub(crate) use ignore::clean as clean_pattern;
