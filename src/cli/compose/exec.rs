//! `exec`: a command in a running service container.
//!
//! CONTRACT: stub; helper H7 fills it in (flags as Docker Compose v2.40.3).

use super::Context;

#[derive(Debug, clap::Args)]
pub struct ExecArgs {}

pub async fn run(ctx: &Context, args: ExecArgs) -> anyhow::Result<()> {
    let _ = (ctx, args);
    anyhow::bail!("not implemented yet")
}
