//! `ps`: the project's containers.
//!
//! CONTRACT: stub; helper H6 fills it in (flags as Docker Compose v2.40.3).

use super::Context;

#[derive(Debug, clap::Args)]
pub struct PsArgs {}

pub async fn run(ctx: &Context, args: PsArgs) -> anyhow::Result<()> {
    let _ = (ctx, args);
    anyhow::bail!("not implemented yet")
}
