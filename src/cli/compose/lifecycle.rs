//! `create`, `start`, `stop`, `restart`, `kill`, `rm`, `pause`, `unpause`, `wait`, `scale`.
//! All but `create` and `scale` work from the labels alone, without a compose file.
//!
//! Not yet: `start` and `restart` start dependencies first but do not wait for their
//! `depends_on` conditions as `up` does.

use std::io::{BufRead, Write};

use anyhow::{bail, Context as _};
use futures_util::future::join_all;

use super::up::UpArgs;
use super::Context;
use crate::cli::engine::StatusError;
use crate::scheduler::engine_api::EngineApi;
use crate::scheduler::lock::ProjectLock;
use crate::scheduler::observe::ObservedContainer;
use crate::scheduler::plan::{plan_down, DownOptions};

#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    /// Recreate containers even if their configuration and image haven't changed
    #[arg(long)]
    pub force_recreate: bool,
    /// If containers already exist, don't recreate them. Incompatible with --force-recreate.
    #[arg(long, conflicts_with = "force_recreate")]
    pub no_recreate: bool,
    /// Remove containers for services not defined in the Compose file
    #[arg(long)]
    pub remove_orphans: bool,
    /// Scale SERVICE to NUM instances. Overrides the `scale` setting in the Compose file if present.
    #[arg(long, value_name = "SERVICE=NUM")]
    pub scale: Vec<String>,
    /// Pull image before running ("always"|"missing"|"never")
    #[arg(long, default_value = "policy")]
    pub pull: String,
    /// Pull without printing progress information
    #[arg(long)]
    pub quiet_pull: bool,
    /// Assume "yes" as answer to all prompts and run non-interactively
    #[arg(short = 'y', long)]
    pub yes: bool,
    pub services: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct ServicesArgs {
    pub services: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct StopArgs {
    /// Specify a shutdown timeout in seconds
    #[arg(short = 't', long)]
    pub timeout: Option<i64>,
    pub services: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct RestartArgs {
    /// Specify a shutdown timeout in seconds
    #[arg(short = 't', long)]
    pub timeout: Option<i64>,
    /// Don't restart dependent services
    #[arg(long)]
    pub no_deps: bool,
    pub services: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct KillArgs {
    /// SIGNAL to send to the container
    #[arg(short = 's', long, default_value = "SIGKILL")]
    pub signal: String,
    /// Remove containers for services not defined in the Compose file
    #[arg(long)]
    pub remove_orphans: bool,
    pub services: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct RmArgs {
    /// Don't ask to confirm removal
    #[arg(short = 'f', long)]
    pub force: bool,
    /// Stop the containers, if required, before removing
    #[arg(short = 's', long)]
    pub stop: bool,
    /// Remove any anonymous volumes attached to containers
    #[arg(short = 'v', long)]
    pub volumes: bool,
    pub services: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct WaitArgs {
    /// Drops project when the first container stops
    #[arg(long)]
    pub down_project: bool,
    #[arg(required = true)]
    pub services: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct ScaleArgs {
    /// Don't start linked services
    #[arg(long)]
    pub no_deps: bool,
    #[arg(value_name = "SERVICE=REPLICAS", required = true)]
    pub scale: Vec<String>,
}

pub async fn create(ctx: &Context, args: CreateArgs) -> anyhow::Result<()> {
    let up = UpArgs {
        force_recreate: args.force_recreate,
        no_recreate: args.no_recreate,
        remove_orphans: args.remove_orphans,
        scale: args.scale,
        pull: args.pull,
        quiet_pull: args.quiet_pull,
        no_start: true,
        detach: true,
        services: args.services,
        ..UpArgs::default()
    };
    super::up::run(ctx, up).await
}

pub async fn scale(ctx: &Context, args: ScaleArgs) -> anyhow::Result<()> {
    let services = args
        .scale
        .iter()
        .map(|s| s.split_once('=').map(|(n, _)| n.to_string()))
        .collect::<Option<Vec<_>>>()
        .context("invalid scale specifier: expected SERVICE=REPLICAS")?;
    let up = UpArgs {
        detach: true,
        no_recreate: true,
        no_deps: args.no_deps,
        scale: args.scale,
        pull: "policy".into(),
        services,
        ..UpArgs::default()
    };
    super::up::run(ctx, up).await
}

/// The project's service containers (no one-offs) of `services` (empty: all), grouped
/// dependents first.
async fn groups(
    api: &EngineApi,
    project: &str,
    services: &[String],
) -> anyhow::Result<Vec<Vec<ObservedContainer>>> {
    let mut observed = api.observe(project).await?;
    observed
        .containers
        .retain(|c| !c.oneoff && (services.is_empty() || services.contains(&c.service)));
    Ok(plan_down(None, &observed, &DownOptions::default()).containers)
}

/// Stops the running containers of `services`, dependents first.
pub async fn stop_containers(
    ctx: &Context,
    api: &EngineApi,
    project: &str,
    services: &[String],
    timeout: Option<i64>,
) -> anyhow::Result<()> {
    let report = ctx.progress();
    for group in groups(api, project, services).await? {
        let stops = group.iter().filter(|c| c.is_running()).map(|c| {
            let report = report.clone();
            async move {
                event(&*report, &c.name, "Stopping", false);
                api.stop_container(&c.id, timeout).await?;
                event(&*report, &c.name, "Stopped", true);
                Ok::<_, anyhow::Error>(())
            }
        });
        for r in join_all(stops).await {
            r?;
        }
    }
    Ok(())
}

fn event(sink: &dyn crate::scheduler::progress::Sink, name: &str, status: &str, done: bool) {
    use crate::scheduler::progress::{Event, Phase, Resource};
    sink.event(Event {
        resource: Resource::Container,
        name: name.to_string(),
        status: status.to_string(),
        phase: if done { Phase::Done } else { Phase::Working },
        detail: String::new(),
        elapsed: std::time::Duration::ZERO,
    });
}

pub async fn start(ctx: &Context, args: ServicesArgs) -> anyhow::Result<()> {
    let project = ctx.project_name()?;
    let _lock = ProjectLock::acquire(&project).await?;
    let api = ctx.api().await?;
    let report = ctx.progress();
    let groups = groups(&api, &project, &args.services).await?;
    if groups.is_empty() {
        bail!("service(s) {:?} not running", args.services);
    }
    for group in groups.iter().rev() {
        let starts = group.iter().filter(|c| !c.is_running()).map(|c| {
            let (api, report) = (&api, report.clone());
            async move {
                event(&*report, &c.name, "Starting", false);
                api.start_container(&c.id).await?;
                event(&*report, &c.name, "Started", true);
                Ok::<_, anyhow::Error>(())
            }
        });
        for r in join_all(starts).await {
            r?;
        }
    }
    Ok(())
}

pub async fn stop(ctx: &Context, args: StopArgs) -> anyhow::Result<()> {
    let project = ctx.project_name()?;
    let _lock = ProjectLock::acquire(&project).await?;
    let api = ctx.api().await?;
    stop_containers(ctx, &api, &project, &args.services, args.timeout).await
}

pub async fn restart(ctx: &Context, args: RestartArgs) -> anyhow::Result<()> {
    let project = ctx.project_name()?;
    let _lock = ProjectLock::acquire(&project).await?;
    let api = ctx.api().await?;
    let report = ctx.progress();
    for group in groups(&api, &project, &args.services).await?.iter().rev() {
        let restarts = group.iter().map(|c| {
            let (api, report) = (&api, report.clone());
            async move {
                event(&*report, &c.name, "Restarting", false);
                api.restart_container(&c.id, args.timeout).await?;
                event(&*report, &c.name, "Started", true);
                Ok::<_, anyhow::Error>(())
            }
        });
        for r in join_all(restarts).await {
            r?;
        }
    }
    Ok(())
}

pub async fn kill(ctx: &Context, args: KillArgs) -> anyhow::Result<()> {
    let project = ctx.project_name()?;
    let api = ctx.api().await?;
    let report = ctx.progress();
    let mut killed = 0;
    for group in groups(&api, &project, &args.services).await? {
        for c in group.iter().filter(|c| c.is_running()) {
            event(&*report, &c.name, "Killing", false);
            api.kill_container(&c.id, Some(&args.signal)).await?;
            event(&*report, &c.name, "Killed", true);
            killed += 1;
        }
    }
    if killed == 0 {
        bail!("no container to kill");
    }
    Ok(())
}

pub async fn rm(ctx: &Context, args: RmArgs) -> anyhow::Result<()> {
    let project = ctx.project_name()?;
    let _lock = ProjectLock::acquire(&project).await?;
    let api = ctx.api().await?;
    if args.stop {
        stop_containers(ctx, &api, &project, &args.services, None).await?;
    }
    let observed = api.observe(&project).await?;
    let stopped: Vec<&ObservedContainer> = observed
        .containers
        .iter()
        .filter(|c| !c.oneoff && !c.is_running())
        .filter(|c| args.services.is_empty() || args.services.contains(&c.service))
        .collect();
    if stopped.is_empty() {
        eprintln!("No stopped containers");
        return Ok(());
    }
    if !args.force {
        let names: Vec<&str> = stopped.iter().map(|c| c.name.as_str()).collect();
        eprint!(
            "Going to remove {}\n? Are you sure? [y/N] ",
            names.join(", ")
        );
        let _ = std::io::stderr().flush();
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        if !answer.trim().eq_ignore_ascii_case("y") {
            return Ok(());
        }
    }
    let report = ctx.progress();
    for c in stopped {
        event(&*report, &c.name, "Removing", false);
        api.remove_container(&c.id, false, args.volumes).await?;
        event(&*report, &c.name, "Removed", true);
    }
    Ok(())
}

pub async fn pause(ctx: &Context, args: ServicesArgs) -> anyhow::Result<()> {
    each_running(ctx, &args.services, "Paused", |api, id| async move {
        api.pause_container(&id).await
    })
    .await
}

pub async fn unpause(ctx: &Context, args: ServicesArgs) -> anyhow::Result<()> {
    let project = ctx.project_name()?;
    let api = ctx.api().await?;
    let report = ctx.progress();
    for c in api.observe(&project).await?.containers.iter().filter(|c| {
        c.state == "paused" && (args.services.is_empty() || args.services.contains(&c.service))
    }) {
        api.unpause_container(&c.id).await?;
        event(&*report, &c.name, "Unpaused", true);
    }
    Ok(())
}

async fn each_running<F, Fut>(
    ctx: &Context,
    services: &[String],
    word: &str,
    f: F,
) -> anyhow::Result<()>
where
    F: Fn(EngineApi, String) -> Fut,
    Fut: std::future::Future<Output = Result<(), crate::api::client::ClientError>>,
{
    let project = ctx.project_name()?;
    let api = ctx.api().await?;
    let report = ctx.progress();
    for c in
        api.observe(&project).await?.containers.iter().filter(|c| {
            c.state == "running" && (services.is_empty() || services.contains(&c.service))
        })
    {
        f(api.clone(), c.id.clone()).await?;
        event(&*report, &c.name, word, true);
    }
    Ok(())
}

pub async fn wait(ctx: &Context, args: WaitArgs) -> anyhow::Result<()> {
    let project = ctx.project_name()?;
    let api = ctx.api().await?;
    let observed = api.observe(&project).await?;
    let containers: Vec<&ObservedContainer> = observed
        .containers
        .iter()
        .filter(|c| !c.oneoff && args.services.contains(&c.service))
        .collect();
    if containers.is_empty() {
        bail!("no containers for services {:?}", args.services);
    }
    let waits = containers.iter().map(|c| api.wait_container(&c.id));
    let codes = if args.down_project {
        let (first, _, _) = futures_util::future::select_all(waits.map(Box::pin)).await;
        vec![first?]
    } else {
        join_all(waits)
            .await
            .into_iter()
            .collect::<Result<Vec<_>, _>>()?
    };
    for code in &codes {
        println!("{code}");
    }
    if args.down_project {
        let down = super::down::DownArgs::default();
        super::down::run(ctx, down).await?;
    }
    match codes.iter().find(|c| **c != 0) {
        Some(code) => Err(StatusError(*code as i32).into()),
        None => Ok(()),
    }
}
