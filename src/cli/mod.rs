//! The command line: clap definitions, human output and exit codes.
//!
//! The only place (with `main.rs`) that prints for humans or uses `anyhow`. Global project
//! flags come before the verb, as Docker Compose takes them (`berth -f a.yaml -p x config`).
//!
//! Engine verbs (`images`, `pull`, `rmi`, `daemon`, ...) are parsed by their own clap tree,
//! `EngineCli`, because their flags are Docker's (`rmi -f`, `login -p`) and would clash with
//! the compose tree's global `-f`/`-p`. `run` picks the tree by the first word after the
//! global `-H/--host`.

mod compose;
mod config;
mod containers;
mod daemon_cmd;
mod docker_config;
mod engine;
pub(crate) mod format;
mod image_cmd;
mod images;
mod import;
mod load_save;
mod login;
mod networks;
mod progress;
mod project_flags;
mod pull_push;
mod system;
mod tag_rmi;
mod volumes;
mod yaml_out;

use clap::{Parser, Subcommand};

pub use project_flags::ProjectFlags;

/// The verbs `EngineCli` parses.
const ENGINE_VERBS: &[&str] = &[
    "daemon", "images", "image", "pull", "push", "tag", "rmi", "load", "save", "import", "login",
    "logout", "version", "info", "network", "volume",
];

/// Whether `word` is an engine verb (image and system verbs, or container verbs).
fn is_engine_verb(word: &str) -> bool {
    ENGINE_VERBS.contains(&word) || containers::VERBS.contains(&word)
}

/// berth: Compose stacks on berth's own container engine.
#[derive(Debug, Parser)]
#[command(
    name = "berth",
    version,
    about,
    disable_help_subcommand = true,
    after_help = "Engine commands:\n  daemon, images, image, pull, push, tag, rmi, load, save, import, login, logout, version, info, network\n  run, create, start, stop, kill, restart, rm, ps, inspect, logs, exec, top, stats, pause, unpause, wait, cp, port, rename, container\n\nRun 'berth COMMAND --help' for more information on a command."
)]
pub struct Cli {
    /// Daemon socket to connect to (unix:///PATH)
    #[arg(short = 'H', long = "host", env = "BERTH_HOST", value_name = "HOST")]
    pub host: Option<String>,
    #[command(flatten)]
    pub project: ProjectFlags,
    #[command(subcommand)]
    pub command: Verb,
}

#[derive(Debug, Subcommand)]
pub enum Verb {
    /// Parse, resolve and render the compose file in canonical format
    Config(config::ConfigArgs),
    /// Create and start containers
    Up(compose::up::UpArgs),
    /// Stop and remove containers, networks
    Down(compose::down::DownArgs),
    /// List running compose projects
    Ls(compose::info::LsArgs),
    /// Scale services
    Scale(compose::lifecycle::ScaleArgs),
    /// Docker Compose's verbs (`berth compose ps`, as `docker compose ps`)
    Compose {
        /// Compose configuration files
        #[arg(short = 'f', long = "file")]
        files: Vec<String>,
        /// Project name
        #[arg(short = 'p', long = "project-name")]
        project_name: Option<String>,
        #[command(subcommand)]
        command: compose::ComposeVerb,
    },
}

/// berth's engine commands, with the docker CLI's flags.
#[derive(Debug, Parser)]
#[command(name = "berth", version, disable_help_subcommand = true)]
pub struct EngineCli {
    /// Daemon socket to connect to (unix:///PATH)
    #[arg(short = 'H', long = "host", env = "BERTH_HOST", value_name = "HOST")]
    pub host: Option<String>,
    #[command(subcommand)]
    pub command: EngineVerb,
}

#[derive(Debug, Subcommand)]
pub enum EngineVerb {
    /// Run the berth daemon in the foreground
    Daemon(daemon_cmd::DaemonArgs),
    /// List images
    Images(images::ImagesArgs),
    /// Manage images
    Image {
        #[command(subcommand)]
        command: image_cmd::ImageVerb,
    },
    /// Download an image from a registry
    Pull(pull_push::PullArgs),
    /// Upload an image to a registry
    Push(pull_push::PushArgs),
    /// Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE
    Tag(tag_rmi::TagArgs),
    /// Remove one or more images
    Rmi(tag_rmi::RmiArgs),
    /// Load an image from a tar archive or STDIN
    Load(load_save::LoadArgs),
    /// Save one or more images to a tar archive (streamed to STDOUT by default)
    Save(load_save::SaveArgs),
    /// Import the contents from a tarball to create a filesystem image
    Import(import::ImportArgs),
    /// Authenticate to a registry
    Login(login::LoginArgs),
    /// Log out from a registry
    Logout(login::LogoutArgs),
    /// Show the berth version information
    Version(system::VersionArgs),
    /// Display system-wide information
    Info(system::InfoArgs),
    /// Manage containers
    Container {
        #[command(subcommand)]
        command: containers::ContainerVerb,
    },
    /// Manage networks
    Network {
        #[command(subcommand)]
        command: networks::NetworkVerb,
    },
    /// Manage volumes
    Volume {
        #[command(subcommand)]
        command: volumes::VolumeVerb,
    },
    #[command(flatten)]
    Containers(containers::ContainerVerb),
}

/// Runs the command line `args` (including the program name) and returns the exit code.
pub fn run(args: Vec<std::ffi::OsString>) -> i32 {
    if is_engine_invocation(&args) {
        return run_engine(args);
    }
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // Compose exits 1 on a usage error; help and version are not errors.
            return if e.use_stderr() { 1 } else { 0 };
        }
    };
    let (host, mut flags) = (cli.host, cli.project);
    let result = match cli.command {
        Verb::Config(args) => config::run(&flags, &args),
        Verb::Up(args) => compose::run(host, flags, compose::ComposeVerb::Up(args)),
        Verb::Down(args) => compose::run(host, flags, compose::ComposeVerb::Down(args)),
        Verb::Ls(args) => compose::run(host, flags, compose::ComposeVerb::Ls(args)),
        Verb::Scale(args) => compose::run(host, flags, compose::ComposeVerb::Scale(args)),
        Verb::Compose {
            files,
            project_name,
            command,
        } => {
            // `berth compose -f x ps` as `docker compose -f x ps`.
            flags.files.extend(files);
            flags.project_name = project_name.or(flags.project_name);
            compose::run(host, flags, command)
        }
    };
    print_warnings();
    exit_code(result)
}

/// Whether the first word after the program name and `-H/--host` is an engine verb.
fn is_engine_invocation(args: &[std::ffi::OsString]) -> bool {
    let mut words = args.iter().skip(1).map(|a| a.to_string_lossy());
    while let Some(word) = words.next() {
        match word.as_ref() {
            "-H" | "--host" => {
                words.next();
            }
            w if w.starts_with("--host=") || (w.starts_with("-H") && w.len() > 2) => {}
            w => return is_engine_verb(w),
        }
    }
    false
}

fn run_engine(args: Vec<std::ffi::OsString>) -> i32 {
    let cli = match EngineCli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // As the docker CLI: flag errors exit 125, a missing argument 1.
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => 0,
                clap::error::ErrorKind::MissingRequiredArgument
                | clap::error::ErrorKind::TooFewValues
                | clap::error::ErrorKind::WrongNumberOfValues => 1,
                _ => 125,
            };
        }
    };
    engine::run(cli)
}

/// Prints an error as the docker CLI and compose do (its message, then its causes) and
/// turns it into an exit code.
fn exit_code(result: anyhow::Result<()>) -> i32 {
    match result {
        Ok(()) => 0,
        Err(e) => {
            if let Some(status) = e.downcast_ref::<engine::StatusError>() {
                return status.0;
            }
            eprintln!("{e:#}");
            1
        }
    }
}

/// Prints the loader's warnings the way Compose's logger does on a non-terminal.
fn print_warnings() {
    for w in crate::compose::take_warnings() {
        eprintln!("level=warning msg={w:?}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn global_flags_go_before_the_verb() {
        let cli = Cli::try_parse_from([
            "berth",
            "-p",
            "demo",
            "-f",
            "a.yaml",
            "-f",
            "b.yaml",
            "--profile",
            "dev",
            "config",
            "--format",
            "json",
            "--profiles",
        ])
        .expect("parses");
        assert_eq!(cli.project.project_name.as_deref(), Some("demo"));
        assert_eq!(cli.project.files, ["a.yaml", "b.yaml"]);
        assert_eq!(cli.project.profiles, ["dev"]);
        let Verb::Config(args) = cli.command else {
            panic!("config expected");
        };
        assert!(args.profiles);
        assert_eq!(args.format.as_deref(), Some("json"));
    }

    #[test]
    fn usage_error_exits_1() {
        assert_eq!(
            run(vec!["berth".into(), "config".into(), "--nope".into()]),
            1
        );
    }

    #[test]
    fn engine_cli_definition_is_consistent() {
        EngineCli::command().debug_assert();
    }

    #[test]
    fn engine_verbs_are_routed_past_the_host_flag() {
        let words = |list: &[&str]| {
            list.iter()
                .map(std::ffi::OsString::from)
                .collect::<Vec<_>>()
        };
        assert!(is_engine_invocation(&words(&["berth", "images"])));
        assert!(is_engine_invocation(&words(&[
            "berth",
            "-H",
            "unix:///s",
            "rmi",
            "-f",
            "x"
        ])));
        assert!(is_engine_invocation(&words(&[
            "berth",
            "--host=unix:///s",
            "pull",
            "a"
        ])));
        assert!(!is_engine_invocation(&words(&[
            "berth", "-p", "x", "config"
        ])));
        assert!(!is_engine_invocation(&words(&["berth", "config"])));
    }

    #[test]
    fn engine_flags_are_dockers() {
        let cli =
            EngineCli::try_parse_from(["berth", "-H", "unix:///tmp/s", "rmi", "-f", "a", "b"])
                .expect("parses");
        assert_eq!(cli.host.as_deref(), Some("unix:///tmp/s"));
        let EngineVerb::Rmi(rmi) = cli.command else {
            panic!("rmi expected");
        };
        assert!(rmi.force);
        assert_eq!(rmi.images, ["a", "b"]);
        let cli = EngineCli::try_parse_from(["berth", "image", "history", "-H=false", "x"])
            .expect("parses");
        let EngineVerb::Image {
            command: image_cmd::ImageVerb::History(h),
        } = cli.command
        else {
            panic!("history expected");
        };
        assert!(!h.human);
        assert!(EngineCli::try_parse_from(["berth", "image", "ls", "-a", "-q"]).is_ok());
        assert!(EngineCli::try_parse_from(["berth", "login", "-u", "a", "-p", "b", "reg"]).is_ok());
        assert!(EngineCli::try_parse_from([
            "berth",
            "import",
            "-c",
            "CMD [\"sh\"]",
            "-c",
            "ENV A=1",
            "-",
            "x:1"
        ])
        .is_ok());
    }

    #[test]
    fn engine_usage_errors_exit_like_docker() {
        assert_eq!(
            run(vec!["berth".into(), "images".into(), "--nope".into()]),
            125
        );
    }
}
