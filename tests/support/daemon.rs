//! berth's daemon for one test: its own state root and socket in a temporary directory, the
//! CLI pointed at it through `BERTH_HOST`, and a private `DOCKER_CONFIG` so no test reads or
//! writes the real `~/.docker`.
//!
//! Drop stops the daemon (SIGTERM, then SIGKILL) by PID and removes the directory.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

/// The berth binary cargo built for this test run.
pub const BERTH: &str = env!("CARGO_BIN_EXE_berth");

/// A running berth daemon.
pub struct Daemon {
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl Daemon {
    /// Starts `berth daemon --root <tmp>/root --host unix://<tmp>/berth.sock` and waits until
    /// the socket answers `/_ping`.
    pub fn start() -> Daemon {
        // Short prefix: the socket path must stay under the 108-byte sun_path limit.
        let dir = tempfile::Builder::new()
            .prefix("berthd")
            .tempdir()
            .expect("daemon tempdir");
        std::fs::create_dir_all(dir.path().join("docker-config")).expect("docker config dir");
        write_address_pool(&dir.path().join("root"));
        let mut daemon = Daemon { dir, child: None };
        daemon.spawn();
        daemon
    }

    /// The state root (`<root>/image/...`).
    pub fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("berth.sock")
    }

    /// `unix:///.../berth.sock`, for `-H` and `BERTH_HOST`.
    pub fn host(&self) -> String {
        format!("unix://{}", self.socket().display())
    }

    /// The `DOCKER_CONFIG` directory every CLI run here gets (credentials from `login`).
    pub fn docker_config(&self) -> PathBuf {
        self.dir.path().join("docker-config")
    }

    /// A scratch directory beside the root, removed with the daemon.
    pub fn scratch(&self) -> PathBuf {
        let scratch = self.dir.path().join("scratch");
        std::fs::create_dir_all(&scratch).expect("scratch dir");
        scratch
    }

    /// What the daemon wrote on stdout and stderr so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("daemon.out")).unwrap_or_default()
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Runs `berth <args>` against this daemon.
    pub fn berth(&self, args: &[&str]) -> Output {
        self.berth_cmd(args).output().expect("berth runs")
    }

    /// `berth <args>` with the environment set, for tests that need stdin or `spawn`.
    pub fn berth_cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(BERTH);
        cmd.args(args)
            .env("BERTH_HOST", self.host())
            .env("DOCKER_CONFIG", self.docker_config())
            .stdin(Stdio::null());
        cmd
    }

    /// `berth <args>` that must succeed; its stdout.
    pub fn berth_ok(&self, args: &[&str]) -> String {
        let out = self.berth(args);
        super::stdout_ok(&format!("berth {}", args.join(" ")), &out)
    }

    /// Runs the real docker CLI against this daemon's socket.
    pub fn docker(&self, args: &[&str]) -> Output {
        Command::new("docker")
            .arg("-H")
            .arg(self.host())
            .args(args)
            .env("DOCKER_CONFIG", self.docker_config())
            .env_remove("DOCKER_HOST")
            .env_remove("DOCKER_CONTEXT")
            .stdin(Stdio::null())
            .output()
            .expect("docker runs")
    }

    /// SIGKILLs the daemon (no cleanup on its side); `restart` brings it back.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            super::kill9_child(&mut child);
        }
    }

    /// Stops the daemon (SIGTERM) when it runs and starts it again on the same root.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    /// SIGTERM, then SIGKILL after 10 s.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            super::stop_child(&mut child, Duration::from_secs(10));
        }
    }

    fn spawn(&mut self) {
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("daemon.out"))
            .expect("daemon log");
        let child = Command::new(BERTH)
            .arg("daemon")
            .arg("--root")
            .arg(self.root())
            .arg("--host")
            .arg(self.host())
            .env("DOCKER_CONFIG", self.docker_config())
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("log fd"))
            .stderr(out)
            .spawn()
            .expect("berth daemon starts");
        self.child = Some(child);
        let socket = self.socket();
        let mut exited = None;
        let up = super::wait_until(Duration::from_secs(30), || {
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    exited = Some(status);
                    return true;
                }
            }
            ping(&socket)
        });
        if let Some(status) = exited {
            self.child = None;
            panic!(
                "berth daemon exited ({status}) before answering:\n{}",
                self.log()
            );
        }
        assert!(up, "berth daemon never answered /_ping:\n{}", self.log());
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.stop();
        // TempDir removes the rest; nothing is mounted in this step.
    }
}

/// Gives the daemon its own random /16 of 100.64.0.0/10 for automatic subnets: test daemons
/// start at the same moment, and two picking the same free subnet from Docker's default
/// pools would route one subnet through two bridges.
pub fn write_address_pool(root: &Path) {
    // 0700, as the daemon makes its root.
    std::os::unix::fs::DirBuilderExt::mode(std::fs::DirBuilder::new().recursive(true), 0o700)
        .create(root)
        .expect("daemon root");
    let mut b = [0u8; 1];
    getrandom::getrandom(&mut b).expect("random");
    let second = 64 + b[0] % 64;
    let config =
        format!(r#"{{"default-address-pools":[{{"base":"100.{second}.0.0/16","size":24}}]}}"#);
    std::fs::write(root.join("daemon.json"), config).expect("daemon.json");
}

/// Whether `GET /_ping` on the socket answers 200 `OK`.
pub fn ping(socket: &Path) -> bool {
    matches!(unix_request(socket, "GET", "/_ping"), Ok((200, _)))
}

/// One HTTP/1.1 request over the unix socket without any client library (so the fixture does
/// not depend on the code under test): status and body.
pub fn unix_request(socket: &Path, method: &str, path: &str) -> std::io::Result<(u16, Vec<u8>)> {
    let mut stream = UnixStream::connect(socket)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let request = format!("{method} {path} HTTP/1.1\r\nHost: berth\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes())?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    super::registry::parse_response(&response)
}

/// `GET path` on the daemon decoded as JSON.
pub fn get_json(socket: &Path, path: &str) -> serde_json::Value {
    let (status, body) = unix_request(socket, "GET", path).expect("daemon answers");
    assert_eq!(
        status,
        200,
        "GET {path}: {}",
        String::from_utf8_lossy(&body)
    );
    serde_json::from_slice(&body).expect("JSON answer")
}

impl Daemon {
    /// `berth image inspect <name>`'s one object.
    pub fn inspect(&self, name: &str) -> serde_json::Value {
        let text = self.berth_ok(&["image", "inspect", name]);
        let value: serde_json::Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("image inspect {name} printed no JSON ({e}):\n{text}"));
        value
            .as_array()
            .and_then(|a| a.first())
            .cloned()
            .unwrap_or_else(|| panic!("image inspect {name}: not a one-element array:\n{text}"))
    }

    /// `GET /images/json` (what `images` lists), straight from the API.
    pub fn image_list(&self) -> Vec<serde_json::Value> {
        get_json(&self.socket(), "/images/json")
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// `<root>/image/blobs/sha256/<hex>` for a digest.
    pub fn blob_path(&self, digest: &str) -> PathBuf {
        let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
        self.root().join("image/blobs/sha256").join(hex)
    }

    /// Paths under `<root>/image/layers` that end with `/<rel>` (in any layer directory).
    pub fn find_in_layers(&self, rel: &str) -> Vec<PathBuf> {
        let suffix = format!("/{rel}");
        super::walk(&self.root().join("image/layers"))
            .into_iter()
            .filter(|p| p.to_string_lossy().ends_with(&suffix))
            .collect()
    }
}
