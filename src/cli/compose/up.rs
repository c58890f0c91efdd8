//! `up`: load, lock the project, resolve images (pulling what the policy says), observe,
//! plan, and carry the plan out; `--dry-run` prints the plan instead. Attached mode (no
//! `-d`) then streams the attached services' logs until they all exit; the first Ctrl+C
//! stops the project gracefully, a second one kills it.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::time::Duration;

use anyhow::{bail, Context as _};
use tokio::sync::mpsc;

use super::logs::{follow, ContainerExit, FollowOptions};
use super::Context;
use crate::cli::engine::StatusError;
use crate::scheduler::engine_api::EngineApi;
use crate::scheduler::execute::{execute_up, ExecOptions};
use crate::scheduler::lock::ProjectLock;
use crate::scheduler::plan::{plan_up, Plan, PlanOptions, Recreate};

#[derive(Debug, Default, clap::Args)]
pub struct UpArgs {
    /// Detached mode: Run containers in the background
    #[arg(short = 'd', long)]
    pub detach: bool,
    /// Wait for services to be running|healthy. Implies detached mode.
    #[arg(long)]
    pub wait: bool,
    /// Maximum duration in seconds to wait for the project to be running|healthy
    #[arg(long)]
    pub wait_timeout: Option<u64>,
    /// Don't start linked services
    #[arg(long)]
    pub no_deps: bool,
    /// Recreate containers even if their configuration and image haven't changed
    #[arg(long)]
    pub force_recreate: bool,
    /// If containers already exist, don't recreate them. Incompatible with --force-recreate.
    #[arg(long, conflicts_with = "force_recreate")]
    pub no_recreate: bool,
    /// Recreate dependent containers. Incompatible with --no-recreate.
    #[arg(long)]
    pub always_recreate_deps: bool,
    /// Don't start the services after creating them
    #[arg(long)]
    pub no_start: bool,
    /// Remove containers for services not defined in the Compose file
    #[arg(long)]
    pub remove_orphans: bool,
    /// Scale SERVICE to NUM instances. Overrides the `scale` setting in the Compose file if present.
    #[arg(long, value_name = "SERVICE=NUM")]
    pub scale: Vec<String>,
    /// Recreate anonymous volumes instead of retrieving data from the previous containers
    #[arg(short = 'V', long)]
    pub renew_anon_volumes: bool,
    /// Pull image before running ("always"|"missing"|"never")
    #[arg(long, default_value = "policy")]
    pub pull: String,
    /// Pull without printing progress information
    #[arg(long)]
    pub quiet_pull: bool,
    /// Build images before starting containers (berth cannot build yet)
    #[arg(long)]
    pub build: bool,
    /// Don't build an image, even if it's policy
    #[arg(long)]
    pub no_build: bool,
    /// Stops all containers if any container was stopped. Incompatible with -d
    #[arg(long)]
    pub abort_on_container_exit: bool,
    /// Stops all containers if any container exited with failure. Incompatible with -d
    #[arg(long)]
    pub abort_on_container_failure: bool,
    /// Return the exit code of the selected service container. Implies --abort-on-container-exit
    #[arg(long)]
    pub exit_code_from: Option<String>,
    /// Restrict attaching to the specified services. Incompatible with --attach-dependencies.
    #[arg(long)]
    pub attach: Vec<String>,
    /// Do not attach (stream logs) to the specified services
    #[arg(long)]
    pub no_attach: Vec<String>,
    /// Automatically attach to log output of dependent services
    #[arg(long)]
    pub attach_dependencies: bool,
    /// Show timestamps
    #[arg(long)]
    pub timestamps: bool,
    /// Produce monochrome output
    #[arg(long)]
    pub no_color: bool,
    /// Don't print prefix in logs
    #[arg(long)]
    pub no_log_prefix: bool,
    /// Use this timeout in seconds for container shutdown when attached or when containers are already running
    #[arg(short = 't', long)]
    pub timeout: Option<i64>,
    pub services: Vec<String>,
}

impl UpArgs {
    /// The planner's view of these flags.
    pub fn plan_options(&self) -> anyhow::Result<PlanOptions> {
        let mut scale = BTreeMap::new();
        for entry in &self.scale {
            let (service, n) = entry
                .split_once('=')
                .with_context(|| format!("invalid scale specifier: {entry}"))?;
            let n: u32 = n
                .parse()
                .with_context(|| format!("invalid scale specifier: {entry}"))?;
            scale.insert(service.to_string(), n);
        }
        Ok(PlanOptions {
            services: self.services.clone(),
            recreate: if self.force_recreate {
                Recreate::Always
            } else if self.no_recreate {
                Recreate::Never
            } else {
                Recreate::Diverged
            },
            recreate_deps: self.always_recreate_deps,
            no_deps: self.no_deps,
            scale,
            remove_orphans: self.remove_orphans,
            renew_anon_volumes: self.renew_anon_volumes,
            no_start: self.no_start,
            image_digests: BTreeMap::new(),
        })
    }
}

pub async fn run(ctx: &Context, args: UpArgs) -> anyhow::Result<()> {
    if args.build {
        bail!("berth cannot build images yet (`up --build`)");
    }
    let detach = args.detach || args.wait;
    if detach && (args.abort_on_container_exit || args.abort_on_container_failure) {
        bail!("--abort-on-container-exit and --abort-on-container-failure cannot be combined with --detach or --wait");
    }
    let project = ctx.load(&args.services)?;
    let _lock = ProjectLock::acquire(&project.name)
        .await
        .context("taking the project lock")?;
    let api = ctx.api().await?;
    let (plan, digests) = prepare(ctx, &api, &project, &args).await?;
    if ctx.flags.dry_run {
        print!("{plan}");
        return Ok(());
    }
    warn_orphans(&plan);
    let opts = ExecOptions {
        parallel: ctx.parallel(),
        wait: args.wait,
        wait_timeout: args.wait_timeout.map(Duration::from_secs),
        timeout: args.timeout,
        remove_volumes: false,
        image_digests: digests,
    };
    let report = execute_up(&api, &project, &plan, &opts, ctx.progress()).await?;
    if detach || args.no_start {
        return Ok(());
    }
    drop(_lock);
    attach(ctx, &api, &project, &args, report.containers.len()).await
}

/// Images resolved and the plan made.
async fn prepare(
    _ctx: &Context,
    api: &EngineApi,
    project: &crate::compose::model::Project,
    args: &UpArgs,
) -> anyhow::Result<(Plan, BTreeMap<String, String>)> {
    let policy = if args.pull == "policy" {
        ""
    } else {
        args.pull.as_str()
    };
    let digests = super::pull_push::pull_missing(api, project, policy, args.quiet_pull).await?;
    let observed = api.observe(&project.name).await?;
    let mut opts = args.plan_options()?;
    opts.image_digests = digests.clone();
    Ok((plan_up(project, &observed, &opts)?, digests))
}

/// Compose's warning for containers of services no longer in the file.
fn warn_orphans(plan: &Plan) {
    if plan.orphans.is_empty() || plan.remove_orphans {
        return;
    }
    let names: Vec<&str> = plan.orphans.iter().map(|c| c.name.as_str()).collect();
    eprintln!(
        "WARN[0000] Found orphan containers ([{}]) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.",
        names.join(" ")
    );
}

/// Attached mode: logs of the attached services until they stop, Ctrl+C handling and the
/// abort flags.
async fn attach(
    ctx: &Context,
    api: &EngineApi,
    project: &crate::compose::model::Project,
    args: &UpArgs,
    _count: usize,
) -> anyhow::Result<()> {
    let mut services: Vec<String> = if !args.attach.is_empty() {
        args.attach.clone()
    } else {
        project
            .services
            .values()
            .filter(|s| s.attach != Some(false))
            .filter(|s| {
                args.services.is_empty()
                    || args.attach_dependencies
                    || args.services.contains(&s.name)
            })
            .map(|s| s.name.clone())
            .collect()
    };
    services.retain(|s| !args.no_attach.contains(s));
    let opts = FollowOptions {
        services,
        follow: true,
        since: None,
        until: None,
        tail: Some("all".into()),
        timestamps: args.timestamps,
        colour: !args.no_color && std::io::stdout().is_terminal(),
        prefix: !args.no_log_prefix,
        index: None,
        report_exits: true,
    };
    let abort = args.abort_on_container_exit || args.exit_code_from.is_some();
    let (tx, mut exits) = mpsc::unbounded_channel::<ContainerExit>();
    let logs = follow(api, &project.name, opts, Some(tx));
    tokio::pin!(logs);
    let mut exit_code = 0i64;
    let mut stopping = false;
    loop {
        tokio::select! {
            result = &mut logs => {
                result?;
                break;
            }
            Some(exit) = exits.recv() => {
                if args.exit_code_from.as_deref() == Some(exit.service.as_str()) {
                    exit_code = exit.exit_code;
                }
                let failed = exit.exit_code != 0;
                if !stopping && (abort || (args.abort_on_container_failure && failed)) {
                    stopping = true;
                    if args.abort_on_container_failure && failed && args.exit_code_from.is_none() {
                        exit_code = exit.exit_code;
                    }
                    eprintln!("Aborting on container exit...");
                    stop_project(ctx, api, &project.name, args.timeout).await?;
                }
            }
            _ = tokio::signal::ctrl_c() => {
                if stopping {
                    eprintln!("Killing...");
                    kill_project(api, &project.name).await?;
                    return Err(StatusError(130).into());
                }
                eprintln!("Gracefully stopping... (press Ctrl+C again to force)");
                let stop = stop_project(ctx, api, &project.name, args.timeout);
                tokio::pin!(stop);
                tokio::select! {
                    r = &mut stop => r?,
                    _ = tokio::signal::ctrl_c() => {
                        eprintln!("Killing...");
                        kill_project(api, &project.name).await?;
                    }
                }
                return Err(StatusError(130).into());
            }
        }
    }
    if exit_code != 0 {
        return Err(StatusError(exit_code as i32).into());
    }
    Ok(())
}

/// Stops every running container of the project, dependents first.
async fn stop_project(
    ctx: &Context,
    api: &EngineApi,
    project: &str,
    timeout: Option<i64>,
) -> anyhow::Result<()> {
    super::lifecycle::stop_containers(ctx, api, project, &[], timeout).await
}

async fn kill_project(api: &EngineApi, project: &str) -> anyhow::Result<()> {
    let observed = api.observe(project).await?;
    for c in observed.containers.iter().filter(|c| c.is_running()) {
        let _ = api.kill_container(&c.id, None).await;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        up: UpArgs,
    }

    #[test]
    fn flags_become_plan_options() {
        let cli = Cli::try_parse_from([
            "up",
            "-d",
            "--force-recreate",
            "--scale",
            "web=3",
            "-V",
            "--no-deps",
            "web",
        ])
        .unwrap();
        let opts = cli.up.plan_options().unwrap();
        assert_eq!(opts.recreate, Recreate::Always);
        assert_eq!(opts.scale.get("web"), Some(&3));
        assert!(opts.renew_anon_volumes && opts.no_deps);
        assert_eq!(opts.services, ["web"]);
        assert!(Cli::try_parse_from(["up", "--force-recreate", "--no-recreate"]).is_err());
        let bad = Cli::try_parse_from(["up", "--scale", "web"]).unwrap();
        assert!(bad.up.plan_options().is_err());
    }
}
