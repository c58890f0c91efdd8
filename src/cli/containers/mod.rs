//! The container verbs (`run`, `create`, `start`, `ps`, `logs`, `exec`, ...) with the
//! docker CLI's flags, output and exit codes, all through the Docker API.
//!
//! - `run_flags`: the flags of `run`/`create` and their create body.
//! - `run`: `run`, `create`, `start` (with attach); `attach`: the hijacked stream pumped
//!   to and from our stdio; `tty`: raw mode and resizes.
//! - `lifecycle`: `stop kill restart rm pause unpause wait rename`.
//! - `ps`, `inspect`, `logs`, `exec`, `top_stats` (`top`, `stats`), `cp`, `port`.
//!
//! Not done yet: `attach`, `diff`, `prune`, `update`, `commit`, `export` verbs; detach
//! keys (`--detach-keys` is accepted and ignored).

pub mod attach;
pub mod cp;
pub mod exec;
pub mod inspect;
pub mod lifecycle;
pub mod logs;
pub mod port;
pub mod ps;
pub mod run;
pub mod run_flags;
pub mod top_stats;
pub mod tty;

use std::future::Future;

use super::engine::{percent_encode, StatusError};
use crate::api::client::ClientError;

/// `/containers/<name>`, the name encoded for a path.
pub fn container_path(name: &str) -> String {
    format!("/containers/{}", percent_encode(name))
}

/// Runs `f` for each of `names` as the docker CLI's multi-container verbs do: the name as
/// given on stdout after success, the daemon's error on stderr after failure, exit 1 when
/// any failed.
pub async fn for_each<F, Fut>(names: &[String], mut f: F) -> anyhow::Result<()>
where
    F: FnMut(String) -> Fut,
    Fut: Future<Output = Result<(), ClientError>>,
{
    let mut failed = false;
    for name in names {
        match f(name.clone()).await {
            Ok(()) => println!("{name}"),
            Err(e) => {
                eprintln!("{e}");
                failed = true;
            }
        }
    }
    if failed {
        return Err(StatusError(1).into());
    }
    Ok(())
}

/// The container verbs, at the top level (`berth ps`) and under `berth container`.
#[derive(Debug, clap::Subcommand)]
pub enum ContainerVerb {
    /// Create and run a new container from an image
    #[command(disable_help_flag = true)]
    Run(run::RunArgs),
    /// Create a new container
    #[command(disable_help_flag = true)]
    Create(run::CreateArgs),
    /// Start one or more stopped containers
    Start(run::StartArgs),
    /// Stop one or more running containers
    Stop(lifecycle::StopArgs),
    /// Kill one or more running containers
    Kill(lifecycle::KillArgs),
    /// Restart one or more containers
    Restart(lifecycle::StopArgs),
    /// Remove one or more containers
    Rm(lifecycle::RmArgs),
    /// List containers
    #[command(visible_aliases = ["ls", "list"])]
    Ps(ps::PsArgs),
    /// Return low-level information on containers or images
    Inspect(inspect::InspectArgs),
    /// Fetch the logs of a container
    Logs(logs::LogsArgs),
    /// Execute a command in a running container
    Exec(exec::ExecArgs),
    /// Display the running processes of a container
    Top(top_stats::TopArgs),
    /// Display a live stream of container(s) resource usage statistics
    Stats(top_stats::StatsArgs),
    /// Pause all processes within one or more containers
    Pause(lifecycle::NamesArgs),
    /// Unpause all processes within one or more containers
    Unpause(lifecycle::NamesArgs),
    /// Block until one or more containers stop, then print their exit codes
    Wait(lifecycle::NamesArgs),
    /// Copy files/folders between a container and the local filesystem
    Cp(cp::CpArgs),
    /// List port mappings or a specific mapping for the container
    Port(port::PortArgs),
    /// Rename a container
    Rename(lifecycle::RenameArgs),
}

/// The words `ContainerVerb` answers to at the top level.
pub const VERBS: &[&str] = &[
    "run",
    "create",
    "start",
    "stop",
    "kill",
    "restart",
    "rm",
    "ps",
    "inspect",
    "logs",
    "exec",
    "top",
    "stats",
    "pause",
    "unpause",
    "wait",
    "cp",
    "port",
    "rename",
    "container",
];

/// Runs one container verb; `in_container_group` is `berth container inspect` (containers
/// only) rather than `berth inspect`.
pub fn run_verb(
    host: Option<&str>,
    verb: ContainerVerb,
    in_container_group: bool,
) -> anyhow::Result<()> {
    use super::engine::with_client;
    use ContainerVerb as V;
    with_client(host, |c| async move {
        match verb {
            V::Run(a) => run::run_verb(&c, &a).await,
            V::Create(a) => run::create_verb(&c, &a).await,
            V::Start(a) => run::start_verb(&c, &a).await,
            V::Stop(a) => lifecycle::stop(&c, &a).await,
            V::Kill(a) => lifecycle::kill(&c, &a).await,
            V::Restart(a) => lifecycle::restart(&c, &a).await,
            V::Rm(a) => lifecycle::rm(&c, &a).await,
            V::Ps(a) => ps::run(&c, &a).await,
            V::Inspect(a) if in_container_group => inspect::run_containers(&c, &a).await,
            V::Inspect(a) => inspect::run(&c, &a).await,
            V::Logs(a) => logs::run(&c, &a).await,
            V::Exec(a) => exec::run(&c, &a).await,
            V::Top(a) => top_stats::top(&c, &a).await,
            V::Stats(a) => top_stats::stats(&c, &a).await,
            V::Pause(a) => lifecycle::pause(&c, &a).await,
            V::Unpause(a) => lifecycle::unpause(&c, &a).await,
            V::Wait(a) => lifecycle::wait(&c, &a).await,
            V::Cp(a) => cp::run(&c, &a).await,
            V::Port(a) => port::run(&c, &a).await,
            V::Rename(a) => lifecycle::rename(&c, &a).await,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{EngineCli, EngineVerb};
    use clap::Parser;

    fn parse(args: &[&str]) -> ContainerVerb {
        match EngineCli::try_parse_from(args).expect("parses").command {
            EngineVerb::Containers(v) | EngineVerb::Container { command: v } => v,
            other => panic!("container verb expected, got {other:?}"),
        }
    }

    #[test]
    fn words_after_the_image_belong_to_the_command() {
        let ContainerVerb::Run(run) =
            parse(&["berth", "run", "-d", "-h", "x", "img", "ls", "-la", "-d"])
        else {
            panic!("run expected");
        };
        assert!(run.detach);
        assert_eq!(run.flags.hostname.as_deref(), Some("x"));
        assert_eq!(run.flags.image, "img");
        assert_eq!(run.flags.command, ["ls", "-la", "-d"]);
        let ContainerVerb::Exec(exec) = parse(&["berth", "exec", "-i", "c", "sh", "-c", "x"])
        else {
            panic!("exec expected");
        };
        assert_eq!(exec.command, ["sh", "-c", "x"]);
    }

    #[test]
    fn container_group_and_aliases() {
        assert!(
            matches!(parse(&["berth", "container", "ls", "-aq"]), ContainerVerb::Ps(p) if p.all && p.quiet)
        );
        assert!(
            matches!(parse(&["berth", "ps", "--filter", "status=exited", "-n", "2"]), ContainerVerb::Ps(p) if p.last == 2)
        );
        assert!(
            matches!(parse(&["berth", "rm", "-fv", "a", "b"]), ContainerVerb::Rm(r) if r.force && r.volumes && r.containers.len() == 2)
        );
        assert!(
            matches!(parse(&["berth", "run", "--sig-proxy=false", "img"]), ContainerVerb::Run(r) if !r.sig_proxy)
        );
        assert!(matches!(parse(&["berth", "run", "img"]), ContainerVerb::Run(r) if r.sig_proxy));
        assert!(
            matches!(parse(&["berth", "stop", "-t", "0", "a"]), ContainerVerb::Stop(s) if s.time == Some(0))
        );
    }
}
