//! Carries a [`Plan`] out against a daemon, concurrently: networks and volumes first, then
//! every service as its own task that starts as soon as the services it waits for meet
//! their conditions (no level-by-level barriers). Conditions are watched on the daemon's
//! events stream (`start`, `die`, `health_status`), subscribed before the current state is
//! read so nothing is missed; never polled. `--parallel`/`COMPOSE_PARALLEL_LIMIT` bound how
//! many container operations run at once.
//!
//! Recreate: create the replacement under a temporary name (`<12 hex of old id>_<name>`),
//! stop and remove the old one, rename the new one, start it; so the new container exists
//! before the old one is removed. Anonymous volumes are inherited as the plan says.
//!

mod conditions;
mod container;
mod down;
mod reporter;
mod up;
mod watch;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use crate::compose::model::Project;
use crate::scheduler::engine_api::EngineApi;
use crate::scheduler::plan::{DownPlan, Plan};
use crate::scheduler::progress::Sink;

#[derive(Clone, Debug, Default)]
pub struct ExecOptions {
    /// Max concurrent container operations (None: unlimited).
    pub parallel: Option<usize>,
    /// `up --wait`: after starting, wait for every started service to be running/healthy
    /// (one-shot services: exited 0), up to `wait_timeout`.
    pub wait: bool,
    pub wait_timeout: Option<Duration>,
    /// Stop timeout for recreate and scale-down (`-t`), seconds.
    pub timeout: Option<i64>,
    /// `down -v`: remove anonymous volumes with the containers.
    pub remove_volumes: bool,
    /// Service → image ID, written in the `com.docker.compose.image` label.
    pub image_digests: BTreeMap<String, String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// A required dependency failed its condition: Compose's wording, e.g.
    /// `dependency failed to start: container demo-db-1 is unhealthy` or
    /// `service "migrate" didn't complete successfully: exit 1`.
    #[error("{0}")]
    Dependency(String),
    #[error("{0}")]
    Api(#[from] crate::api::client::ClientError),
    #[error(transparent)]
    Convert(#[from] crate::scheduler::convert::ConvertError),
    #[error("{0}")]
    Other(String),
}

/// What was done, for callers that continue (up's attached mode needs the container IDs).
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Container name → ID for every container the plan kept, created or started.
    pub containers: std::collections::BTreeMap<String, String>,
}

/// Carries out `plan` for `project`.
pub async fn execute_up(
    api: &EngineApi,
    project: &Project,
    plan: &Plan,
    opts: &ExecOptions,
    progress: Arc<dyn Sink>,
) -> Result<Report, ExecError> {
    up::execute(api, project, plan, opts, progress).await
}

/// Carries out `down`: stop then remove containers group by group, then networks, volumes,
/// images. Keeps going past errors and returns the first.
pub async fn execute_down(
    api: &EngineApi,
    plan: &DownPlan,
    opts: &ExecOptions,
    progress: Arc<dyn Sink>,
) -> Result<(), ExecError> {
    down::execute(api, plan, opts, progress).await
}

/// Waits until the containers of each service in `waits` meet its condition (`run` waits
/// so for the dependencies of its one-off container). `required: false` only warns.
pub async fn wait_for_services(
    api: &EngineApi,
    project: &str,
    waits: &[crate::scheduler::plan::Wait],
    progress: Arc<dyn Sink>,
) -> Result<(), ExecError> {
    let report = reporter::Reporter::new(progress);
    let watcher = watch::Watcher::start(api, project).await?;
    let observed = api.observe(project).await?;
    for wait in waits {
        for c in observed.service_containers(&wait.service) {
            watcher.track(&c.id).await?;
            let met = conditions::wait_condition(
                &watcher,
                &wait.service,
                &c.name,
                &c.id,
                &wait.condition,
            )
            .await;
            match met {
                Ok(()) => {}
                Err(message) if wait.required => {
                    report.error(
                        crate::scheduler::progress::Resource::Container,
                        &c.name,
                        &message,
                    );
                    return Err(ExecError::Dependency(message));
                }
                Err(message) => report.warning(
                    crate::scheduler::progress::Resource::Container,
                    &c.name,
                    "Warning",
                    &message,
                ),
            }
        }
    }
    Ok(())
}
