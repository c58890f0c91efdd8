//! Client-side orchestration: turns a loaded `Project` into running containers through the
//! Docker Engine API, and keeps them as the file says.
//!
//! The pieces, in the order `up` uses them:
//! - [`graph`]: the dependency graph of services; [`hash`]: the config hash label.
//! - [`labels`]: the `com.docker.compose.*` label names and the labels berth writes.
//! - [`convert`]: a service (plus its replica number) → the exact `POST /containers/create`
//!   body; project networks and volumes → their create bodies. Pure.
//! - [`observe`]: what exists for a project, read from the daemon by labels.
//! - [`plan`]: observed vs. desired → a [`plan::Plan`] (data; `up --dry-run` prints it). Pure.
//! - [`engine_api`]: the typed Docker Engine API calls the scheduler and the compose verbs
//!   make (paths pinned to API v1.41 so Debian's dockerd 20.10 answers too).
//! - [`execute`]: carries a plan out concurrently, waiting on dependency conditions through
//!   the daemon's events stream, reporting [`progress::Event`]s.
//! - [`lock`]: one `up`/`down` at a time per project on this machine.
//!
//! Knows the typed `Project`; never touches a namespace.

pub mod convert;
pub mod engine_api;
pub mod execute;
pub mod graph;
pub mod hash;
pub mod labels;
pub mod lock;
pub mod observe;
pub mod plan;
pub mod progress;

/// Test builds: a project from a compose file's text, loaded as `berth up` loads it.
#[cfg(test)]
pub(crate) fn test_project(
    name: &str,
    yaml: &str,
) -> (tempfile::TempDir, crate::compose::model::Project) {
    use crate::compose::{load, options::ProjectOptions};
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("compose.yaml"), yaml).expect("write");
    let options = ProjectOptions {
        config_paths: vec![dir
            .path()
            .join("compose.yaml")
            .to_string_lossy()
            .into_owned()],
        project_name: Some(name.to_string()),
        cwd: dir.path().to_path_buf(),
        ..ProjectOptions::default()
    };
    let mut opts = load::LoadOptions::default();
    let details = options.to_config(&mut opts).expect("config details");
    let project = load::load_project(&details, &opts).expect("loads");
    (dir, project)
}
