//! The real `docker` CLI against berth's socket: `docker -H unix://SOCK version|info|images`
//! exit 0 and show berth's values. Image traffic through the docker CLI (pull, save, load,
//! ...) is in `docker_cli_images.rs`.
//!
//! Without a `docker` binary the tests say so loudly on stderr and pass: the CLI is a client
//! we check against, not something berth needs.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A daemon child process on a private root and socket, killed (by PID) on drop.
struct Daemon {
    child: Child,
    dir: tempfile::TempDir,
}

impl Daemon {
    fn start() -> Daemon {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = std::fs::File::create(dir.path().join("daemon.log")).expect("log");
        support::daemon::write_address_pool(&dir.path().join("root"));
        let child = Command::new(env!("CARGO_BIN_EXE_berth"))
            .arg("daemon")
            .arg("--root")
            .arg(dir.path().join("root"))
            .arg("--host")
            .arg(format!("unix://{}", dir.path().join("s.sock").display()))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("spawn berth daemon");
        let mut d = Daemon { child, dir };
        d.wait_ready();
        d
    }

    fn socket(&self) -> PathBuf {
        self.dir.path().join("s.sock")
    }

    fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::os::unix::net::UnixStream::connect(self.socket()).is_err() {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("daemon exited ({status}): {}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "daemon did not listen: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("daemon.log")).unwrap_or_default()
    }

    /// Runs `docker -H unix://SOCK args...` with a private, empty docker config.
    fn docker(&self, args: &[&str]) -> Output {
        let config = self.dir.path().join("docker-config");
        std::fs::create_dir_all(&config).expect("docker config dir");
        Command::new(docker_binary().expect("checked by the caller"))
            .arg("-H")
            .arg(format!("unix://{}", self.socket().display()))
            .args(args)
            .env("DOCKER_CONFIG", &config)
            .env_remove("DOCKER_HOST")
            .env_remove("DOCKER_CONTEXT")
            .env_remove("DOCKER_API_VERSION")
            .output()
            .expect("run docker")
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        // SIGTERM first: the daemon removes its bridges and firewall table on the way out.
        support::stop_child(&mut self.child, Duration::from_secs(10));
    }
}

/// The `docker` CLI on PATH, or `None` after a loud notice.
fn docker_binary() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join("docker"))
            .find(|p| is_executable(p))
    });
    if found.is_none() {
        eprintln!(
            "SKIPPED: no `docker` CLI on PATH; the docker CLI compatibility checks did not run"
        );
    }
    found
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

fn stdout_of(out: &Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "docker {what} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn docker_version_negotiates_down_to_1_43() {
    if docker_binary().is_none() {
        return;
    }
    let d = Daemon::start();
    let text = stdout_of(&d.docker(&["version"]), "version");
    assert!(text.contains("Server: berth"), "{text}");
    assert!(text.contains("1.43 (minimum version 1.24)"), "{text}");
    assert!(text.contains(env!("CARGO_PKG_VERSION")), "{text}");
    let fmt = stdout_of(
        &d.docker(&[
            "version",
            "--format",
            "{{.Server.APIVersion}} {{.Server.Os}}",
        ]),
        "version --format",
    );
    assert_eq!(fmt.trim(), "1.43 linux");
}

#[test]
fn docker_info_shows_berths_values() {
    if docker_binary().is_none() {
        return;
    }
    let d = Daemon::start();
    let out = d.docker(&["info"]);
    let text = stdout_of(&out, "info");
    assert!(text.contains("Storage Driver: overlay2"), "{text}");
    assert!(text.contains("Default Runtime: berth"), "{text}");
    assert!(
        text.contains(&format!("Docker Root Dir: {}", d.root().display())),
        "{text}"
    );
    assert!(text.contains("Swarm: inactive"), "{text}");
    // Nothing the CLI could not read: it reports such problems on stderr.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("error"), "{stderr}");
    let driver = stdout_of(
        &d.docker(&["info", "--format", "{{.Driver}} {{.OSType}}"]),
        "info --format",
    );
    assert_eq!(driver.trim(), "overlay2 linux");
}

#[test]
fn docker_images_lists_an_empty_store() {
    if docker_binary().is_none() {
        return;
    }
    let d = Daemon::start();
    let text = stdout_of(&d.docker(&["images"]), "images");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "{text}");
    assert!(lines[0].starts_with("REPOSITORY"), "{text}");
    let quiet = stdout_of(&d.docker(&["images", "-q"]), "images -q");
    assert!(quiet.trim().is_empty(), "{quiet}");
}

#[test]
fn docker_reports_berths_errors() {
    if docker_binary().is_none() {
        return;
    }
    let d = Daemon::start();
    let out = d.docker(&["image", "inspect", "nosuchimage"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("No such image: nosuchimage"), "{stderr}");
}
