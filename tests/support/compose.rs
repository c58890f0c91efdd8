//! Compose scenarios' fixtures: an engine (berth's daemon or a private dockerd) with the
//! examples' busybox image, and a project folder driven by the berth CLI's compose verbs
//! (`berth -H <engine> -f <dir>/compose.yaml -p <name> ...`). A project runs `down -v
//! --remove-orphans` when dropped, so a failing test leaves nothing behind.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use super::daemon::Daemon;
use super::dockerd::Dockerd;

const BERTH: &str = env!("CARGO_BIN_EXE_berth");
/// The image every scenario's compose file names.
pub const IMAGE: &str = "berth-example/busybox:latest";

/// A daemon the berth client drives.
pub enum Target {
    Berth(Daemon),
    Dockerd(Dockerd),
}

impl Target {
    /// berth's daemon with the image.
    pub fn berth() -> Target {
        let target = Target::Berth(Daemon::start());
        target.make_image();
        target
    }

    /// A private dockerd with the image, or None (said loudly) when it cannot run here.
    pub fn dockerd(test: &str) -> Option<Target> {
        let target = Target::Dockerd(Dockerd::start(test)?);
        target.make_image();
        Some(target)
    }

    pub fn name(&self) -> &'static str {
        match self {
            Target::Berth(_) => "berth",
            Target::Dockerd(_) => "dockerd",
        }
    }

    pub fn host(&self) -> String {
        match self {
            Target::Berth(d) => d.host(),
            Target::Dockerd(d) => d.host(),
        }
    }

    pub fn log(&self) -> String {
        match self {
            Target::Berth(d) => d.log(),
            Target::Dockerd(d) => d.log(),
        }
    }

    /// The berth daemon, for berth-only evidence (kill -9, restart).
    pub fn daemon(&mut self) -> Option<&mut Daemon> {
        match self {
            Target::Berth(d) => Some(d),
            Target::Dockerd(_) => None,
        }
    }

    /// scripts/make-example-image with the engine's own CLI.
    fn make_image(&self) {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/make-example-image");
        let mut cmd = Command::new(script);
        match self {
            Target::Berth(_) => cmd.arg(BERTH).env("BERTH_HOST", self.host()),
            Target::Dockerd(_) => cmd.arg("docker").env("DOCKER_HOST", self.host()),
        };
        let out = cmd
            .arg(IMAGE)
            .stdin(Stdio::null())
            .output()
            .expect("image script runs");
        super::stdout_ok(&format!("make-example-image on {}", self.name()), &out);
    }

    /// The engine's own CLI (berth's, or docker's for dockerd: berth's engine verbs speak
    /// API 1.43, which dockerd 20.10 refuses), for checks on real state.
    pub fn cli(&self, args: &[&str]) -> Output {
        let program = match self {
            Target::Berth(_) => BERTH,
            Target::Dockerd(_) => "docker",
        };
        Command::new(program)
            .arg("-H")
            .arg(self.host())
            .args(args)
            .env_remove("BERTH_HOST")
            .env_remove("DOCKER_HOST")
            .env_remove("BERTH_ROOT")
            .stdin(Stdio::null())
            .output()
            .expect("berth runs")
    }

    /// `docker inspect -f FORMAT NAME` through the API (berth's `inspect` speaks docker's).
    pub fn inspect(&self, name: &str, format: &str) -> String {
        let out = self.cli(&["inspect", "-f", format, name]);
        super::stdout_ok(&format!("inspect {name}"), &out)
            .trim()
            .to_string()
    }

    /// Names of containers carrying `label` (all states), sorted.
    pub fn containers_with(&self, label: &str) -> Vec<String> {
        let filter = format!("label={label}");
        let out = self.cli(&["ps", "-a", "--filter", &filter, "--format", "{{.Names}}"]);
        let mut names: Vec<String> = super::stdout_ok("ps", &out)
            .lines()
            .map(str::to_string)
            .collect();
        names.sort();
        names
    }

    /// Names of networks / volumes carrying `label`.
    pub fn resources_with(&self, kind: &str, label: &str) -> Vec<String> {
        let filter = format!("label={label}");
        let out = self.cli(&[kind, "ls", "--filter", &filter, "--format", "{{.Name}}"]);
        let mut names: Vec<String> = super::stdout_ok(&format!("{kind} ls"), &out)
            .lines()
            .map(str::to_string)
            .collect();
        names.sort();
        names
    }
}

/// A project folder with a compose file and a unique project name.
pub struct Project<'a> {
    pub target: &'a Target,
    pub dir: tempfile::TempDir,
    pub name: String,
}

impl<'a> Project<'a> {
    pub fn new(target: &'a Target, compose: &str) -> Project<'a> {
        let dir = tempfile::Builder::new()
            .prefix("scn")
            .tempdir()
            .expect("tempdir");
        std::fs::write(dir.path().join("compose.yaml"), compose).expect("compose file");
        let mut b = [0u8; 4];
        getrandom::getrandom(&mut b).expect("random");
        let name = format!(
            "scn{}",
            b.iter().map(|x| format!("{x:02x}")).collect::<String>()
        );
        Project { target, dir, name }
    }

    pub fn file(&self) -> PathBuf {
        self.dir.path().join("compose.yaml")
    }

    /// Replaces the compose file.
    pub fn write(&self, compose: &str) {
        std::fs::write(self.file(), compose).expect("compose file");
    }

    /// `berth -H .. -f .. -p .. <args>` (top-level verbs: up, down, ls, scale, config).
    pub fn cmd(&self, args: &[&str]) -> Command {
        let file = self.file().to_string_lossy().into_owned();
        let mut cmd = Command::new(BERTH);
        cmd.arg("-H")
            .arg(self.target.host())
            .args(["-f", &file, "-p", &self.name])
            .args(args)
            .current_dir(self.dir.path())
            .env_remove("BERTH_HOST")
            .env_remove("DOCKER_HOST")
            .env_remove("BERTH_ROOT")
            .env("COMPOSE_PROGRESS", "plain")
            .stdin(Stdio::null());
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().expect("berth runs")
    }

    /// Runs and requires success; stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "[{}] berth {} failed ({}):\nstdout: {}\nstderr: {}\ndaemon log tail: {}",
            self.target.name(),
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            tail(&self.target.log()),
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The project's containers (all states), sorted by name.
    pub fn containers(&self) -> Vec<String> {
        self.target
            .containers_with(&format!("com.docker.compose.project={}", self.name))
    }

    /// One container's ID.
    pub fn id(&self, container: &str) -> String {
        self.target.inspect(container, "{{.Id}}")
    }
}

impl Drop for Project<'_> {
    fn drop(&mut self) {
        let _ = self.run(&["down", "-v", "--remove-orphans", "-t", "1"]);
    }
}

fn tail(log: &str) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(15)..].join("\n")
}
