//! `pull` and `push` of service images, and the image resolution `up`, `create` and `run`
//! do first (pull what the policy says, then the image ID of every service).
//!
//! Not yet: pulls run one after another (Compose pulls in parallel) and show the engine
//! pull's progress, not Compose's per-service view.

use std::collections::BTreeMap;
use std::io::IsTerminal;

use anyhow::bail;

use super::Context;
use crate::cli::pull_push as engine_pull;
use crate::compose::model::Project;
use crate::scheduler::engine_api::EngineApi;

#[derive(Debug, clap::Args)]
pub struct PullArgs {
    /// Pull without printing progress information
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Pull what it can and ignores images with pull failures
    #[arg(long)]
    pub ignore_pull_failures: bool,
    /// Also pull services declared as dependencies
    #[arg(long)]
    pub include_deps: bool,
    /// Apply pull policy ("missing"|"always")
    #[arg(long)]
    pub policy: Option<String>,
    pub services: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct PushArgs {
    /// Push what it can and ignores images with push failures
    #[arg(long)]
    pub ignore_push_failures: bool,
    /// Push without printing progress information
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Also push images of services declared as dependencies
    #[arg(long)]
    pub include_deps: bool,
    pub services: Vec<String>,
}

pub async fn pull(ctx: &Context, args: PullArgs) -> anyhow::Result<()> {
    let project = ctx.load(&args.services)?;
    let api = ctx.api().await?;
    let policy = args.policy.as_deref().unwrap_or("always");
    let mut failed = None;
    for service in project.services.values() {
        if !args.include_deps && !args.services.is_empty() && !args.services.contains(&service.name)
        {
            continue;
        }
        if service.image.is_empty() && service.build.is_some() {
            continue;
        }
        let image = project.image_name(service);
        if policy == "missing" && api.inspect_image(&image).await?.is_some() {
            continue;
        }
        if let Err(e) = pull_one(&api, &image, args.quiet).await {
            if !args.ignore_pull_failures {
                failed.get_or_insert(e);
            }
        }
    }
    match failed {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

pub async fn push(ctx: &Context, args: PushArgs) -> anyhow::Result<()> {
    let project = ctx.load(&args.services)?;
    let api = ctx.api().await?;
    for service in project.services.values() {
        if service.image.is_empty()
            || (!args.services.is_empty() && !args.services.contains(&service.name))
        {
            continue;
        }
        let push_args = engine_pull::PushArgs {
            quiet: args.quiet,
            name: service.image.clone(),
        };
        let mut err = std::io::stderr();
        let result = engine_pull::push(
            &api.client,
            &push_args,
            &mut err,
            std::io::stderr().is_terminal(),
        )
        .await;
        if let Err(e) = result {
            if !args.ignore_push_failures {
                return Err(e);
            }
        }
    }
    Ok(())
}

async fn pull_one(api: &EngineApi, image: &str, quiet: bool) -> anyhow::Result<()> {
    let args = engine_pull::PullArgs {
        platform: None,
        quiet,
        name: image.to_string(),
    };
    let mut err = std::io::stderr();
    engine_pull::pull(
        &api.client,
        &args,
        &mut err,
        std::io::stderr().is_terminal(),
    )
    .await?;
    Ok(())
}

/// Pulls what `policy` (`--pull`: always|missing|never, or "" for each service's
/// `pull_policy`, default missing) says, and returns every service's image ID. A service
/// with `build:` and no image present fails: berth cannot build images yet.
pub async fn pull_missing(
    api: &EngineApi,
    project: &Project,
    policy: &str,
    quiet: bool,
) -> anyhow::Result<BTreeMap<String, String>> {
    let mut digests = BTreeMap::new();
    for service in project.services.values() {
        let image = project.image_name(service);
        let policy = match (policy, service.pull_policy.as_str()) {
            ("", "") => "missing",
            ("", own) => own,
            (given, _) => given,
        };
        let present = api.inspect_image(&image).await?;
        let must_pull = match policy {
            "always" => true,
            "never" => false,
            "build" => false,
            _ => present.is_none(),
        };
        if must_pull && service.build.is_some() && service.image.is_empty() {
            bail!(
                "service {:?} has a build section and no image {image:?} is present: berth cannot build images yet; build it elsewhere and `berth load` it",
                service.name
            );
        }
        if must_pull {
            pull_one(api, &image, quiet).await?;
        }
        match api.inspect_image(&image).await? {
            Some(found) => {
                digests.insert(service.name.clone(), found.id);
            }
            None if service.build.is_some() => bail!(
                "service {:?} has a build section and no image {image:?} is present: berth cannot build images yet; build it elsewhere and `berth load` it",
                service.name
            ),
            None => bail!("No such image: {image}"),
        }
    }
    Ok(digests)
}
