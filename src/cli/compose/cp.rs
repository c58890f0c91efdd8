//! `cp`: copy between a service container (`SERVICE:PATH`, `--index`) and the host, through
//! the engine CLI's copy.

use anyhow::bail;

use super::Context;
use crate::cli::containers::cp::{run as cp_run, split_cp_arg, CpArgs as EngineCpArgs, Endpoint};

#[derive(Debug, clap::Args)]
pub struct CpArgs {
    /// Archive mode (copy all uid/gid information)
    #[arg(short = 'a', long)]
    pub archive: bool,
    /// Always follow symbol link in SRC_PATH
    #[arg(short = 'L', long)]
    pub follow_link: bool,
    /// Index of the container if service has multiple replicas
    #[arg(long, default_value_t = 1)]
    pub index: u32,
    /// Include containers created by the run command
    #[arg(long)]
    pub all: bool,
    #[arg(value_name = "SRC")]
    pub src: String,
    #[arg(value_name = "DEST")]
    pub dest: String,
}

pub async fn run(ctx: &Context, args: CpArgs) -> anyhow::Result<()> {
    let project = ctx.project_name()?;
    let api = ctx.api().await?;
    let observed = api.observe(&project).await?;
    let resolve = |arg: &str| -> anyhow::Result<String> {
        match split_cp_arg(arg) {
            Endpoint::Local(path) => Ok(path),
            Endpoint::Container { container, path } => {
                let Some(c) = observed
                    .containers
                    .iter()
                    .find(|c| !c.oneoff && c.service == container && c.number == args.index)
                else {
                    bail!("no container found for service {container:?}");
                };
                Ok(format!("{}:{path}", c.id))
            }
        }
    };
    let engine = EngineCpArgs {
        archive: args.archive,
        follow_link: args.follow_link,
        quiet: true,
        src: resolve(&args.src)?,
        dest: resolve(&args.dest)?,
    };
    cp_run(&api.client, &engine).await
}
