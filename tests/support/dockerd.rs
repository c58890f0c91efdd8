//! The real dockerd as an oracle, and `Engine`: one interface over berth's daemon and dockerd
//! so the engine tests are written once and run against both.
//!
//! `Dockerd::start()` runs Debian's `dockerd` (package docker.io) as our child with its own
//! data root, exec root, pidfile and socket in a temporary directory, no iptables and no
//! bridge (the tests use `--network none`), and its own containerd (dockerd starts one under
//! its exec root when `--containerd` is not given). Drop stops it by PID (SIGTERM, wait,
//! SIGKILL), unmounts whatever is left under its roots and removes the directory.
//!
//! `probe_image_tar` builds the image both engines import: busybox-static with the applets the
//! probes use, and `/bin/probe` compiled from tests/support/probe.c with `gcc -static`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use super::daemon::Daemon;
use super::images::LayerTar;

/// The tag the probe image gets in either engine.
pub const PROBE_IMAGE: &str = "berth-probe:latest";

/// A private dockerd for one test.
pub struct Dockerd {
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl Dockerd {
    /// Starts dockerd when it is installed and we are root; otherwise says so loudly and
    /// gives None.
    pub fn start(test: &str) -> Option<Dockerd> {
        if !super::require_root(test) || !super::require_tool("dockerd", test) {
            return None;
        }
        if !super::require_tool("docker", test) {
            return None;
        }
        // Short prefix: containerd's sockets live under the exec root (108-byte limit).
        let dir = tempfile::Builder::new()
            .prefix("dkd")
            .tempdir()
            .expect("dockerd tempdir");
        std::fs::create_dir_all(dir.path().join("docker-config")).expect("docker config dir");
        let log = std::fs::File::create(dir.path().join("dockerd.log")).expect("dockerd log");
        let child = Command::new("dockerd")
            .arg("--data-root")
            .arg(dir.path().join("data"))
            .arg("--exec-root")
            .arg(dir.path().join("exec"))
            .arg("--pidfile")
            .arg(dir.path().join("dockerd.pid"))
            .arg("-H")
            .arg(format!(
                "unix://{}",
                dir.path().join("docker.sock").display()
            ))
            .args([
                "--iptables=false",
                "--ip6tables=false",
                "--bridge=none",
                "--userland-proxy=false",
            ])
            // Its containers' cgroups under a parent of its own, removed in Drop.
            .arg(format!("--cgroup-parent={}", cgroup_parent(dir.path())))
            .env_remove("DOCKER_HOST")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log fd"))
            .stderr(log)
            .spawn()
            .expect("dockerd starts");
        let mut dockerd = Dockerd {
            dir,
            child: Some(child),
        };
        let socket = dockerd.socket();
        let mut exited = false;
        let up = super::wait_until(Duration::from_secs(60), || {
            if let Some(child) = dockerd.child.as_mut() {
                if matches!(child.try_wait(), Ok(Some(_))) {
                    exited = true;
                    return true;
                }
            }
            super::daemon::ping(&socket)
        });
        assert!(up && !exited, "dockerd did not come up:\n{}", dockerd.log());
        Some(dockerd)
    }

    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("docker.sock")
    }

    pub fn host(&self) -> String {
        format!("unix://{}", self.socket().display())
    }

    pub fn scratch(&self) -> PathBuf {
        let scratch = self.dir.path().join("scratch");
        std::fs::create_dir_all(&scratch).expect("scratch dir");
        scratch
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("dockerd.log")).unwrap_or_default()
    }

    /// The docker CLI pointed at this dockerd.
    pub fn docker_cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("docker");
        cmd.arg("-H")
            .arg(self.host())
            .args(args)
            .env("DOCKER_CONFIG", self.dir.path().join("docker-config"))
            .env_remove("DOCKER_HOST")
            .env_remove("DOCKER_CONTEXT")
            .stdin(Stdio::null());
        cmd
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // dockerd stops its containers and its containerd on SIGTERM.
            super::stop_child(&mut child, Duration::from_secs(20));
        }
        unmount_below(self.dir.path());
        remove_cgroups(&cgroup_parent(self.dir.path()));
    }
}

impl Drop for Dockerd {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The cgroup parent of one dockerd: named after its temporary directory.
fn cgroup_parent(dir: &Path) -> String {
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned());
    format!("berth-test-{}", name.unwrap_or_default())
}

/// Removes the (empty, once dockerd stopped) cgroup `name` from every hierarchy.
fn remove_cgroups(name: &str) {
    for hierarchy in std::fs::read_dir("/sys/fs/cgroup")
        .into_iter()
        .flatten()
        .flatten()
    {
        let dir = hierarchy.path().join(name);
        if dir.is_dir() {
            let _ = std::fs::remove_dir(&dir);
        }
    }
}

/// Lazily unmounts every mount point below `dir` (deepest first), so a dockerd that died
/// with containers running leaves nothing mounted.
pub fn unmount_below(dir: &Path) {
    let Ok(mountinfo) = std::fs::read_to_string("/proc/self/mountinfo") else {
        return;
    };
    let prefix = format!("{}/", dir.display());
    let mut points: Vec<&str> = mountinfo
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .filter(|p| p.starts_with(&prefix))
        .collect();
    points.sort_by_key(|p| std::cmp::Reverse(p.len()));
    for point in points {
        let _ = nix::mount::umount2(point, nix::mount::MntFlags::MNT_DETACH);
    }
}

/// Which engine a test drives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Berth,
    Dockerd,
}

/// One container engine with the probe image imported: berth's daemon (driven by the berth
/// CLI) or a private dockerd (driven by the docker CLI).
pub enum Engine {
    Berth(Daemon),
    Dockerd(Dockerd),
}

impl Engine {
    /// berth's daemon with its own root, the probe image imported.
    pub fn berth(image_tar: &Path) -> Engine {
        let engine = Engine::Berth(Daemon::start());
        engine.import(image_tar, PROBE_IMAGE, &[]);
        engine
    }

    /// A private dockerd with the probe image, or None (said loudly) when not available.
    pub fn dockerd(test: &str, image_tar: &Path) -> Option<Engine> {
        let engine = Engine::Dockerd(Dockerd::start(test)?);
        engine.import(image_tar, PROBE_IMAGE, &[]);
        Some(engine)
    }

    pub fn kind(&self) -> Kind {
        match self {
            Engine::Berth(_) => Kind::Berth,
            Engine::Dockerd(_) => Kind::Dockerd,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Engine::Berth(_) => "berth",
            Engine::Dockerd(_) => "dockerd",
        }
    }

    /// The CLI of this engine with `args`, stdin null.
    pub fn cmd(&self, args: &[&str]) -> Command {
        match self {
            Engine::Berth(d) => d.berth_cmd(args),
            Engine::Dockerd(d) => d.docker_cmd(args),
        }
    }

    /// Runs the CLI with `args`; a CLI that hangs for [`CLI_TIMEOUT`] is killed and the test
    /// fails saying so (a hung CLI must not hang the whole test run).
    pub fn cli(&self, args: &[&str]) -> Output {
        self.cli_within(args, CLI_TIMEOUT).unwrap_or_else(|| {
            panic!(
                "{} {} hung for {CLI_TIMEOUT:?} (killed)",
                self.name(),
                args.join(" ")
            )
        })
    }

    /// Runs the CLI with `args`; None when it had not exited after `timeout` (then killed).
    pub fn cli_within(&self, args: &[&str], timeout: Duration) -> Option<Output> {
        output_within(self.cmd(args), timeout)
    }

    /// The CLI's stdout; panics when it failed.
    pub fn cli_ok(&self, args: &[&str]) -> String {
        let out = self.cli(args);
        super::stdout_ok(&format!("{} {}", self.name(), args.join(" ")), &out)
    }

    /// `run <args>`.
    pub fn run(&self, args: &[&str]) -> Output {
        let mut all = vec!["run"];
        all.extend_from_slice(args);
        self.cli(&all)
    }

    /// `import [--change ...] <tar> <tag>`.
    pub fn import(&self, tar: &Path, tag: &str, changes: &[&str]) {
        let tar = tar.to_string_lossy().into_owned();
        let mut args = vec!["import"];
        for change in changes {
            args.extend(["--change", change]);
        }
        args.extend([tar.as_str(), tag]);
        self.cli_ok(&args);
    }

    /// `inspect --format <format> <container>`, trimmed.
    pub fn inspect_format(&self, container: &str, format: &str) -> String {
        self.cli_ok(&["inspect", "--format", format, container])
            .trim()
            .to_string()
    }

    /// A scratch directory removed with the engine.
    pub fn scratch(&self) -> PathBuf {
        match self {
            Engine::Berth(d) => d.scratch(),
            Engine::Dockerd(d) => d.scratch(),
        }
    }

    /// The berth daemon, for berth-only evidence (kill -9, restart, state root).
    pub fn daemon(&mut self) -> Option<&mut Daemon> {
        match self {
            Engine::Berth(d) => Some(d),
            Engine::Dockerd(_) => None,
        }
    }

    /// What the daemon logged, for failure messages.
    pub fn log(&self) -> String {
        match self {
            Engine::Berth(d) => d.log(),
            Engine::Dockerd(d) => d.log(),
        }
    }
}

/// How long one CLI call may take before the tests call it hung.
pub const CLI_TIMEOUT: Duration = Duration::from_secs(120);

/// Runs `cmd` with stdout and stderr captured; None when it had not exited after `timeout`
/// (it is then SIGKILLed and reaped).
pub fn output_within(mut cmd: Command, timeout: Duration) -> Option<Output> {
    use std::io::Read;
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("engine CLI runs");
    // Readers in threads: a full pipe must not block the child while we wait for it.
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stdout.read_to_end(&mut buf);
        buf
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stderr.read_to_end(&mut buf);
        buf
    });
    let exited = super::wait_until(timeout, || matches!(child.try_wait(), Ok(Some(_))));
    if !exited {
        super::kill9_child(&mut child);
        return None;
    }
    let status = child.wait().expect("wait CLI");
    Some(Output {
        status,
        stdout: out_reader.join().unwrap_or_default(),
        stderr: err_reader.join().unwrap_or_default(),
    })
}

/// Whether `berth run --rm` works yet on this build (the engine lands in parts): runs `true`
/// in the probe image. When it does not, says so LOUDLY with the reason.
pub fn berth_runs(engine: &Engine, test: &str) -> bool {
    let out = engine.run(&["--rm", "--network", "none", PROBE_IMAGE, "true"]);
    if out.status.success() {
        return true;
    }
    eprintln!(
        "SKIPPED: berth run not available yet ({test}): `berth run --rm {PROBE_IMAGE} true` \
         exited {}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr).trim()
    );
    false
}

/// The busybox applets the probes and lifecycle tests call.
pub const PROBE_APPLETS: &[&str] = &[
    "sh", "ls", "cat", "echo", "true", "false", "env", "mkdir", "rm", "sleep", "id", "pwd", "test",
    "wc", "grep", "sed", "head", "tail", "touch", "uname", "hostname", "ps", "cp", "mv", "ln",
    "chmod", "stat", "find", "date", "printf", "unshare", "mount", "cut", "awk", "sort", "tr",
    "df", "tty", "kill", "dd", "seq", "yes", "whoami", "readlink",
];

/// Compiles tests/support/probe.c statically into `dir/probe`; None (said loudly) when gcc
/// or the static libc is missing.
pub fn build_probe(dir: &Path, test: &str) -> Option<PathBuf> {
    if !super::require_tool("gcc", test) {
        return None;
    }
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/probe.c");
    let out = dir.join("probe");
    let status = Command::new("gcc")
        .args(["-static", "-O1", "-o"])
        .arg(&out)
        .arg(&source)
        .stderr(Stdio::piped())
        .output()
        .expect("gcc runs");
    if !status.status.success() {
        eprintln!(
            "SKIPPED (LOUD): {test}: gcc -static probe.c failed (libc6-dev installed?): {}",
            String::from_utf8_lossy(&status.stderr)
        );
        return None;
    }
    Some(out)
}

/// The probe image's root filesystem as a tar file in `dir`: busybox-static, its applets,
/// `/etc/passwd` and `/etc/group` (root, nobody, and user `probe` 1000:1000), `/tmp`, `/mnt`,
/// `/w` and `/bin/probe`. `extra` may add entries (the malicious images do).
pub fn probe_image_tar(dir: &Path, probe: &Path, extra: impl FnOnce(&mut LayerTar)) -> PathBuf {
    let busybox = std::fs::read(super::images::fixtures::BUSYBOX)
        .expect("busybox-static is installed at /bin/busybox");
    let probe_bin = std::fs::read(probe).expect("probe binary");
    let mut tar = LayerTar::new();
    tar.dir("bin", 0o755)
        .file("bin/busybox", &busybox, 0o755)
        .file("bin/probe", &probe_bin, 0o755)
        .dir("etc", 0o755)
        .file(
            "etc/passwd",
            b"root:x:0:0:root:/root:/bin/sh\nprobe:x:1000:1000:probe:/home/probe:/bin/sh\n\
              nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
            0o644,
        )
        .file(
            "etc/group",
            b"root:x:0:\nprobe:x:1000:\nextra:x:2000:probe\nnogroup:x:65534:\n",
            0o644,
        )
        .dir("root", 0o700)
        .dir("mnt", 0o755)
        .dir("w", 0o755)
        .dir("tmp", 0o1777);
    for applet in PROBE_APPLETS {
        tar.symlink(&format!("bin/{applet}"), "busybox");
    }
    extra(&mut tar);
    let path = dir.join(format!("image-{}.tar", std::process::id()));
    let path = unique(path);
    std::fs::write(&path, tar.finish()).expect("write image tar");
    path
}

/// `path`, or `path.N` for the first N that does not exist yet.
fn unique(path: PathBuf) -> PathBuf {
    if !path.exists() {
        return path;
    }
    (1..)
        .map(|n| PathBuf::from(format!("{}.{n}", path.display())))
        .find(|p| !p.exists())
        .expect("a free name")
}
