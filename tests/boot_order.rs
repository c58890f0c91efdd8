//! A simulated reboot: berth's daemon and every shim killed with SIGKILL. The next daemon
//! brings the `restart: always` containers back in dependency order, each waiting for its
//! dependencies' health (from the `depends_on` label), which Docker does not do.

mod support;

use std::process::Stdio;
use std::time::Duration;

use support::compose::{Project, Target, IMAGE};

/// PIDs of the shims of containers under `root`.
fn shims(root: &std::path::Path) -> Vec<i32> {
    let needle = format!("__shim {}", root.display());
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|c| {
                    String::from_utf8_lossy(&c)
                        .replace('\0', " ")
                        .contains(&needle)
                })
                .unwrap_or(false)
        })
        .collect()
}

#[test]
fn a_reboot_restarts_policy_containers_in_dependency_order() {
    let test = "a_reboot_restarts_policy_containers_in_dependency_order";
    if !support::require_root(test) || !support::require_tool("busybox", test) {
        return;
    }
    let mut target = Target::berth();
    let root = target.daemon().expect("berth").root();
    let compose = format!(
        r#"
services:
  db:
    image: {IMAGE}
    restart: always
    command: ["sh", "-c", "sleep 2; touch /tmp/ready; exec sleep 3600"]
    healthcheck: {{ test: ["CMD-SHELL", "test -f /tmp/ready"], interval: 500ms, retries: 20 }}
  app:
    image: {IMAGE}
    restart: always
    command: ["sleep", "3600"]
    depends_on: {{ db: {{ condition: service_healthy }} }}
"#
    );
    let dir = tempfile::Builder::new()
        .prefix("rbt")
        .tempdir()
        .expect("tempdir");
    std::fs::write(dir.path().join("compose.yaml"), compose).expect("compose");
    let name = format!("rbt{}", std::process::id());
    let up = std::process::Command::new(env!("CARGO_BIN_EXE_berth"))
        .args([
            "-H",
            &target.host(),
            "-f",
            &dir.path().join("compose.yaml").to_string_lossy(),
            "-p",
            &name,
        ])
        .args(["up", "-d", "--wait"])
        .env_remove("BERTH_HOST")
        .stdin(Stdio::null())
        .output()
        .expect("up");
    assert!(
        up.status.success(),
        "{}",
        String::from_utf8_lossy(&up.stderr)
    );

    // The reboot: the daemon and the shims die at once.
    let daemon = target.daemon().expect("berth");
    daemon.kill9();
    let pids = shims(&root.join("containers"));
    assert_eq!(pids.len(), 2, "one shim per container");
    for pid in pids {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
    daemon.restart();

    let p = Project {
        target: &target,
        dir,
        name: name.clone(),
    };
    let (db, app) = (format!("{name}-db-1"), format!("{name}-app-1"));
    let running = support::wait_until(Duration::from_secs(30), || {
        target.inspect(&app, "{{.State.Status}}") == "running"
            && target.inspect(&db, "{{.State.Health.Status}}") == "healthy"
    });
    assert!(running, "both back:\n{}", target.log());
    let time = |c: &str| {
        let t = target.inspect(c, "{{.State.StartedAt}}");
        chrono::DateTime::parse_from_rfc3339(&t).unwrap_or_else(|e| panic!("{t}: {e}"))
    };
    let gap = time(&app) - time(&db);
    assert!(
        gap >= chrono::Duration::milliseconds(1900),
        "app restarted {gap} after db: it must wait for db's health (2 s)"
    );
    drop(p);
}
