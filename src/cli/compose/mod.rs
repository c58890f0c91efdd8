//! The compose verbs (`berth up`, `berth compose ps`, ...): flags, output and exit codes as
//! Docker Compose v2.40.3. `up`, `down`, `ls` and `scale` are also top-level words; the
//! verbs whose names the docker CLI uses for single containers (`ps`, `logs`, `run`, ...)
//! are reached as `berth compose <verb>`, as with `docker compose <verb>`, so `berth ps`
//! keeps meaning what `docker ps` means.
//!
//! Each verb file holds its clap `Args` and an `async fn run(ctx, args)`. [`Context`] is
//! what they share: the project flags, the loaded project, the engine API and the progress
//! renderer.
//!
//! CONTRACT: verb files are filled in by helpers (H5: up, down, lifecycle, progress_view;
//! H6: ps, logs, info (top, port, images, ls, events, version); H7: exec, run, cp,
//! pull_push). This file is shared: edit only your own lines.

pub mod cp;
pub mod down;
pub mod exec;
pub mod info;
pub mod lifecycle;
pub mod logs;
pub mod progress_view;
pub mod ps;
pub mod pull_push;
pub mod run;
pub mod up;

use std::sync::Arc;

use anyhow::bail;

use super::ProjectFlags;
use crate::compose::load::{self, LoadOptions};
use crate::compose::model::Project;
use crate::scheduler::engine_api::EngineApi;
use crate::scheduler::progress::Sink;

/// Docker Compose's verbs.
#[derive(Debug, clap::Subcommand)]
pub enum ComposeVerb {
    /// Parse, resolve and render the compose file in canonical format
    Config(super::config::ConfigArgs),
    /// Create and start containers
    Up(up::UpArgs),
    /// Stop and remove containers, networks
    Down(down::DownArgs),
    /// Creates containers for a service
    Create(lifecycle::CreateArgs),
    /// Start services
    Start(lifecycle::ServicesArgs),
    /// Stop services
    Stop(lifecycle::StopArgs),
    /// Restart service containers
    Restart(lifecycle::RestartArgs),
    /// Force stop service containers
    Kill(lifecycle::KillArgs),
    /// Removes stopped service containers
    Rm(lifecycle::RmArgs),
    /// Pause services
    Pause(lifecycle::ServicesArgs),
    /// Unpause services
    Unpause(lifecycle::ServicesArgs),
    /// Block until containers of all (or specified) services stop, then print their exit codes
    Wait(lifecycle::WaitArgs),
    /// Scale services
    Scale(lifecycle::ScaleArgs),
    /// List containers
    Ps(ps::PsArgs),
    /// View output from containers
    Logs(logs::LogsArgs),
    /// Display the running processes
    Top(info::TopArgs),
    /// Print the public port for a port binding
    Port(info::PortArgs),
    /// List images used by the created containers
    Images(info::ImagesArgs),
    /// List running compose projects
    Ls(info::LsArgs),
    /// Receive real time events from containers
    Events(info::EventsArgs),
    /// Show the Docker Compose version information
    Version(info::VersionArgs),
    /// Execute a command in a running container
    Exec(exec::ExecArgs),
    /// Run a one-off command on a service
    Run(run::RunArgs),
    /// Copy files/folders between a service container and the local filesystem
    Cp(cp::CpArgs),
    /// Pull service images
    Pull(pull_push::PullArgs),
    /// Push service images
    Push(pull_push::PushArgs),
}

/// What every compose verb shares.
pub struct Context {
    /// `-H` (else `BERTH_HOST`, `DOCKER_HOST`, berth's socket).
    pub host: Option<String>,
    pub flags: ProjectFlags,
}

impl Context {
    /// Loads the project (what `config` prints) and selects `services` with their
    /// dependencies (profiles of named services are enabled, as Compose).
    pub fn load(&self, services: &[String]) -> anyhow::Result<Project> {
        let mut opts = LoadOptions::default();
        let details = self.flags.to_options()?.to_config(&mut opts)?;
        let project = load::load_project(&details, &opts)?;
        if project.name().is_empty() {
            bail!("project name can't be empty. Use `--project-name` to set a valid name");
        }
        Ok(project.select_for_command(services, self.flags.all_resources)?)
    }

    /// The project name for verbs that also work without a compose file (`down`, `ps`,
    /// `logs`, `stop`, ...): `-p`, else `COMPOSE_PROJECT_NAME`, else the loaded project's.
    pub fn project_name(&self) -> anyhow::Result<String> {
        if let Some(name) = self.flags.project_name.as_ref().filter(|n| !n.is_empty()) {
            return Ok(name.clone());
        }
        if let Some(name) = std::env::var("COMPOSE_PROJECT_NAME")
            .ok()
            .filter(|n| !n.is_empty())
        {
            return Ok(name);
        }
        Ok(self.load(&[])?.name)
    }

    /// The project when a compose file is found, else `None` (and only the name is used).
    pub fn try_load(&self) -> Option<Project> {
        self.load(&[]).ok()
    }

    /// The engine API (the daemon is started when it is berth's and does not answer).
    pub async fn api(&self) -> anyhow::Result<EngineApi> {
        Ok(EngineApi::connect(self.host.as_deref()).await?)
    }

    /// `--parallel`, else `COMPOSE_PARALLEL_LIMIT`; `None` is unlimited.
    pub fn parallel(&self) -> Option<usize> {
        let limit = self.flags.parallel.or_else(|| {
            std::env::var("COMPOSE_PARALLEL_LIMIT")
                .ok()
                .and_then(|v| v.parse().ok())
        });
        limit.filter(|n| *n > 0).map(|n| n as usize)
    }

    /// The progress renderer chosen by `--progress` / `--ansi` / the terminal.
    pub fn progress(&self) -> Arc<dyn Sink> {
        progress_view::renderer(&self.flags)
    }
}

/// Runs one compose verb; the error carries the exit code (`engine::StatusError`) when it
/// is not 1.
pub fn run(host: Option<String>, flags: ProjectFlags, verb: ComposeVerb) -> anyhow::Result<()> {
    if let ComposeVerb::Config(args) = &verb {
        return super::config::run(&flags, args);
    }
    crate::api::client::pin_api_version(crate::scheduler::engine_api::API_VERSION);
    let ctx = Context { host, flags };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        use ComposeVerb as V;
        match verb {
            V::Config(_) => unreachable!("handled above"),
            V::Up(args) => up::run(&ctx, args).await,
            V::Down(args) => down::run(&ctx, args).await,
            V::Create(args) => lifecycle::create(&ctx, args).await,
            V::Start(args) => lifecycle::start(&ctx, args).await,
            V::Stop(args) => lifecycle::stop(&ctx, args).await,
            V::Restart(args) => lifecycle::restart(&ctx, args).await,
            V::Kill(args) => lifecycle::kill(&ctx, args).await,
            V::Rm(args) => lifecycle::rm(&ctx, args).await,
            V::Pause(args) => lifecycle::pause(&ctx, args).await,
            V::Unpause(args) => lifecycle::unpause(&ctx, args).await,
            V::Wait(args) => lifecycle::wait(&ctx, args).await,
            V::Scale(args) => lifecycle::scale(&ctx, args).await,
            V::Ps(args) => ps::run(&ctx, args).await,
            V::Logs(args) => logs::run(&ctx, args).await,
            V::Top(args) => info::top(&ctx, args).await,
            V::Port(args) => info::port(&ctx, args).await,
            V::Images(args) => info::images(&ctx, args).await,
            V::Ls(args) => info::ls(&ctx, args).await,
            V::Events(args) => info::events(&ctx, args).await,
            V::Version(args) => info::version(&ctx, args).await,
            V::Exec(args) => exec::run(&ctx, args).await,
            V::Run(args) => run::run(&ctx, args).await,
            V::Cp(args) => cp::run(&ctx, args).await,
            V::Pull(args) => pull_push::pull(&ctx, args).await,
            V::Push(args) => pull_push::push(&ctx, args).await,
        }
    })
}
