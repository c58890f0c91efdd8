//! `down`: stop and remove the project's containers, then its networks, and with `-v` its
//! volumes, with `--rmi` its images. Works from labels without a compose file.

use std::time::Duration;

use anyhow::Context as _;

use super::Context;
use crate::scheduler::execute::{execute_down, ExecOptions};
use crate::scheduler::lock::ProjectLock;
use crate::scheduler::plan::{plan_down, DownOptions};

#[derive(Debug, Default, clap::Args)]
pub struct DownArgs {
    /// Remove named volumes declared in the "volumes" section of the Compose file and anonymous volumes attached to containers
    #[arg(short = 'v', long)]
    pub volumes: bool,
    /// Remove images used by services. "local" remove only images that don't have a custom tag ("local"|"all")
    #[arg(long)]
    pub rmi: Option<String>,
    /// Remove containers for services not defined in the Compose file
    #[arg(long)]
    pub remove_orphans: bool,
    /// Specify a shutdown timeout in seconds
    #[arg(short = 't', long)]
    pub timeout: Option<i64>,
    /// Wait for services to be stopped
    #[arg(long)]
    pub wait_timeout: Option<u64>,
    pub services: Vec<String>,
}

pub async fn run(ctx: &Context, args: DownArgs) -> anyhow::Result<()> {
    let project = ctx.try_load();
    let name = match &project {
        Some(p) => p.name.clone(),
        None => ctx.project_name()?,
    };
    let _lock = ProjectLock::acquire(&name)
        .await
        .context("taking the project lock")?;
    let api = ctx.api().await?;
    let mut observed = api.observe(&name).await?;
    if !args.services.is_empty() {
        observed
            .containers
            .retain(|c| args.services.contains(&c.service));
    }
    let opts = DownOptions {
        remove_orphans: args.remove_orphans,
        volumes: args.volumes,
        rmi: args.rmi.clone().unwrap_or_default(),
    };
    let mut plan = plan_down(project.as_ref(), &observed, &opts);
    if !args.services.is_empty() {
        // `down SERVICE` removes only those containers, as Compose.
        plan.networks.clear();
        plan.volumes.clear();
    }
    let exec = ExecOptions {
        timeout: args.timeout,
        remove_volumes: args.volumes,
        wait_timeout: args.wait_timeout.map(Duration::from_secs),
        ..ExecOptions::default()
    };
    execute_down(&api, &plan, &exec, ctx.progress()).await?;
    Ok(())
}
