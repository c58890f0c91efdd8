//! `top`, `port`, `images`, `ls`, `events`, `version`.
//!
//! CONTRACT: stub; helper H6 fills it in (flags as Docker Compose v2.40.3).

use super::Context;

#[derive(Debug, clap::Args)]
pub struct TopArgs {}

#[derive(Debug, clap::Args)]
pub struct PortArgs {}

#[derive(Debug, clap::Args)]
pub struct ImagesArgs {}

#[derive(Debug, clap::Args)]
pub struct LsArgs {}

#[derive(Debug, clap::Args)]
pub struct EventsArgs {}

#[derive(Debug, clap::Args)]
pub struct VersionArgs {}

pub async fn top(ctx: &Context, args: TopArgs) -> anyhow::Result<()> {
    let _ = (ctx, args);
    anyhow::bail!("not implemented yet")
}

pub async fn port(ctx: &Context, args: PortArgs) -> anyhow::Result<()> {
    let _ = (ctx, args);
    anyhow::bail!("not implemented yet")
}

pub async fn images(ctx: &Context, args: ImagesArgs) -> anyhow::Result<()> {
    let _ = (ctx, args);
    anyhow::bail!("not implemented yet")
}

pub async fn ls(ctx: &Context, args: LsArgs) -> anyhow::Result<()> {
    let _ = (ctx, args);
    anyhow::bail!("not implemented yet")
}

pub async fn events(ctx: &Context, args: EventsArgs) -> anyhow::Result<()> {
    let _ = (ctx, args);
    anyhow::bail!("not implemented yet")
}

pub async fn version(ctx: &Context, args: VersionArgs) -> anyhow::Result<()> {
    let _ = (ctx, args);
    anyhow::bail!("not implemented yet")
}
