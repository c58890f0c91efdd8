//! `cp`: copy between a service container and the host.
//!
//! CONTRACT: stub; helper H7 fills it in (flags as Docker Compose v2.40.3).

use super::Context;

#[derive(Debug, clap::Args)]
pub struct CpArgs {}

pub async fn run(ctx: &Context, args: CpArgs) -> anyhow::Result<()> {
    let _ = (ctx, args);
    anyhow::bail!("not implemented yet")
}
