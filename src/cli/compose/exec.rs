//! `exec`: a command in a running service container (`--index`, default 1), through the
//! engine CLI's exec. A tty only when stdin is a terminal and `-T` is not given, as Compose.

use std::io::IsTerminal;

use anyhow::bail;

use super::Context;
use crate::cli::containers::exec::{run as exec_run, ExecArgs as EngineExecArgs};

#[derive(Debug, clap::Args)]
pub struct ExecArgs {
    /// Detached mode: Run command in the background
    #[arg(short = 'd', long)]
    pub detach: bool,
    /// Set environment variables
    #[arg(short = 'e', long = "env")]
    pub env: Vec<String>,
    /// Give extended privileges to the process
    #[arg(long)]
    pub privileged: bool,
    /// Run the command as this user
    #[arg(short = 'u', long)]
    pub user: Option<String>,
    /// Disable pseudo-TTY allocation. By default `docker compose exec` allocates a TTY.
    #[arg(short = 'T', long = "no-tty")]
    pub no_tty: bool,
    /// Path to workdir directory for this command
    #[arg(short = 'w', long)]
    pub workdir: Option<String>,
    /// Index of the container if service has multiple replicas
    #[arg(long, default_value_t = 1)]
    pub index: u32,
    pub service: String,
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

/// Compose's rule: a tty unless `-T`, and only when stdin is a terminal.
pub fn wants_tty(no_tty: bool, stdin_is_terminal: bool) -> bool {
    !no_tty && stdin_is_terminal
}

pub async fn run(ctx: &Context, args: ExecArgs) -> anyhow::Result<()> {
    let project = ctx.project_name()?;
    let api = ctx.api().await?;
    let observed = api.observe(&project).await?;
    let Some(container) = observed
        .containers
        .iter()
        .find(|c| !c.oneoff && c.service == args.service && c.number == args.index)
    else {
        bail!("service {:?} is not running", args.service);
    };
    if container.state != "running" {
        bail!("service {:?} is not running", args.service);
    }
    let engine = EngineExecArgs {
        detach: args.detach,
        detach_keys: None,
        env: args.env,
        env_file: Vec::new(),
        interactive: !args.detach,
        privileged: args.privileged,
        tty: wants_tty(args.no_tty, std::io::stdin().is_terminal()),
        user: args.user,
        workdir: args.workdir,
        container: container.id.clone(),
        command: args.command,
    };
    exec_run(&api.client, &engine).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tty_only_on_a_terminal_without_dash_t() {
        assert!(wants_tty(false, true));
        assert!(!wants_tty(true, true));
        assert!(!wants_tty(false, false));
    }
}
