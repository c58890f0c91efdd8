//! `run`: a one-off container of a service.
//!
//! CONTRACT: stub; helper H7 fills it in (flags as Docker Compose v2.40.3).

use super::Context;

#[derive(Debug, clap::Args)]
pub struct RunArgs {}

pub async fn run(ctx: &Context, args: RunArgs) -> anyhow::Result<()> {
    let _ = (ctx, args);
    anyhow::bail!("not implemented yet")
}
