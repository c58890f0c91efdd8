//! Observed vs. desired: what `up` (and `down`, `create`, `start`, `run --no-deps`...) must
//! do, as data. `up --dry-run` prints it (`Display`), tests compare it as a golden form.
//! Pure: takes the loaded `Project` and the [`Observed`] state, returns a [`Plan`].
//!
//! Decision rules (Docker Compose v2.40.3 `pkg/compose/convergence.go`):
//! - a container whose config-hash label differs from the service's hash, or whose image
//!   label differs from the resolved image digest, is *diverged* → recreate (unless
//!   `--no-recreate`); `--force-recreate` recreates all; a recreated service's
//!   `network_mode: service:x` / `volumes_from` dependents are recreated too;
//! - missing replicas are created (numbers fill gaps from 1), surplus ones removed
//!   (highest number first); stopped ones are started;
//! - containers of services not in the project (and not disabled by profiles) are orphans;
//! - dependents with `depends_on: {restart: true}` on a recreated service are restarted.
//!

mod display;
mod down;
#[cfg(test)]
mod tests;
mod up;

use std::collections::BTreeMap;

use crate::compose::model::Project;
use crate::scheduler::observe::{Observed, ObservedContainer};

/// How `up` treats containers that already exist.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Recreate {
    /// Recreate diverged containers (the default).
    #[default]
    Diverged,
    /// `--force-recreate`.
    Always,
    /// `--no-recreate`.
    Never,
}

#[derive(Clone, Debug, Default)]
pub struct PlanOptions {
    /// Services named on the command line (empty: all enabled services). With `no_deps`
    /// false, their dependencies are in the project already (the CLI selected them).
    pub services: Vec<String>,
    pub recreate: Recreate,
    /// `--always-recreate-deps`: dependencies follow `recreate` too (else Diverged).
    pub recreate_deps: bool,
    pub no_deps: bool,
    /// `--scale S=N`.
    pub scale: BTreeMap<String, u32>,
    pub remove_orphans: bool,
    /// `-V`: do not inherit anonymous volumes on recreate.
    pub renew_anon_volumes: bool,
    /// `--no-start` / `create`: create but do not start.
    pub no_start: bool,
    /// Service → resolved image ID, for the image-changed rule (missing: not compared).
    pub image_digests: BTreeMap<String, String>,
}

/// Why a container is recreated (shown by `--dry-run`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecreateReason {
    ConfigChanged,
    ImageChanged,
    Forced,
    /// Its `network_mode`/`volumes_from` target service was recreated.
    DependencyRecreated(String),
}

/// What happens to one container slot of a service.
#[derive(Clone, Debug, PartialEq)]
pub enum ContainerAction {
    /// Create replica `number` named `name` (and start it unless `no_start`).
    Create { number: u32, name: String },
    /// Create a replacement for `old`, stop and remove `old`, rename the new one to
    /// `old.name` (the new container exists before the old one is removed).
    Recreate {
        old: ObservedContainer,
        reason: RecreateReason,
        /// Anonymous volumes to carry over (destination → volume), empty with `-V`.
        inherit_volumes: BTreeMap<String, String>,
    },
    /// Start an existing stopped container.
    Start { container: ObservedContainer },
    /// Running and up to date.
    Keep { container: ObservedContainer },
    /// Scale-down: stop and remove.
    Remove { container: ObservedContainer },
    /// `depends_on: {restart: true}` on a recreated service: restart after it.
    Restart { container: ObservedContainer },
}

/// A dependency a service waits for before its containers are created/started.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Wait {
    pub service: String,
    /// `service_started`, `service_healthy` or `service_completed_successfully`.
    pub condition: String,
    /// `required: false`: a failure only warns.
    pub required: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ServicePlan {
    pub service: String,
    /// Dependencies to wait for (empty with `--no-deps`); only services in the plan.
    pub waits: Vec<Wait>,
    /// By replica number.
    pub containers: Vec<ContainerAction>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ResourceAction {
    /// Create it (the daemon-side name).
    Create { name: String },
    /// Exists with the project's labels.
    Exists { name: String },
    /// `external: true`: must exist; checked by `execute`, never created.
    External { name: String },
}

/// The whole plan for `up`/`create`.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    pub project: String,
    /// By project key.
    pub networks: BTreeMap<String, ResourceAction>,
    pub volumes: BTreeMap<String, ResourceAction>,
    /// Every service in the plan, by name (execution order comes from `waits`).
    pub services: BTreeMap<String, ServicePlan>,
    /// Containers of services no longer in the project: removed when `remove_orphans`,
    /// else only warned about (`Found orphan containers ([a b]) for this project...`).
    pub orphans: Vec<ObservedContainer>,
    pub remove_orphans: bool,
    pub no_start: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("no such service: {0}")]
    NoSuchService(String),
    #[error(transparent)]
    Graph(#[from] crate::scheduler::graph::GraphError),
}

/// Plans `up`/`create`.
pub fn plan_up(
    project: &Project,
    observed: &Observed,
    opts: &PlanOptions,
) -> Result<Plan, PlanError> {
    up::plan(project, observed, opts)
}

/// What `down` removes: containers (dependents before dependencies), then networks, then
/// volumes (with `-v`) and images (with `--rmi`). Works from labels alone (`project` is
/// `None` when no compose file was found).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DownPlan {
    pub project: String,
    /// Stop/remove order: groups that can go at once, dependents first (from the
    /// `depends_on` labels when there is no project).
    pub containers: Vec<Vec<ObservedContainer>>,
    /// Daemon network names to remove (project's, not external).
    pub networks: Vec<String>,
    /// Daemon volume names to remove (only with `-v`: named project volumes and the
    /// anonymous volumes of removed containers go with `v=1` on container removal).
    pub volumes: Vec<String>,
    /// Image references to remove (`--rmi local|all`).
    pub images: Vec<String>,
}

#[derive(Clone, Debug, Default)]
pub struct DownOptions {
    pub remove_orphans: bool,
    pub volumes: bool,
    /// `local`, `all` or empty.
    pub rmi: String,
}

/// Plans `down`.
pub fn plan_down(project: Option<&Project>, observed: &Observed, opts: &DownOptions) -> DownPlan {
    down::plan(project, observed, opts)
}
