//! The container endpoints against a real berth daemon: Docker's parameter errors answered
//! over the raw socket, and the real docker CLI (`docker -H unix://SOCK ...`) creating,
//! starting, listing, inspecting, reading the logs of and removing a busybox container.

mod support;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use support::daemon::{unix_request, Daemon};
use support::images::fixtures;

fn ok(d: &Daemon, args: &[&str]) -> String {
    let out = d.docker(args);
    support::stdout_ok(&format!("docker {}", args.join(" ")), &out)
}

/// The JSON `message` of an error answer.
fn message(body: &[u8]) -> String {
    let value: serde_json::Value = serde_json::from_slice(body)
        .unwrap_or_else(|_| panic!("JSON error body: {}", String::from_utf8_lossy(body)));
    value["message"].as_str().unwrap_or_default().to_owned()
}

/// Parameter checks Docker's router makes before the backend, answered with its words.
#[test]
fn parameter_errors_use_dockers_words() {
    let d = Daemon::start();
    let cases: &[(&str, &str, u16, &str)] = &[
        (
            "POST",
            "/v1.43/containers/create",
            400,
            "invalid JSON: got EOF while reading request body",
        ),
        (
            "GET",
            "/v1.43/containers/x/logs",
            400,
            "Bad parameters: you must choose at least one stream",
        ),
        (
            "POST",
            "/containers/x/wait?condition=later",
            400,
            "invalid condition: \"later\"",
        ),
        (
            "GET",
            "/v1.43/containers/x/archive",
            400,
            "bad parameter: pathcannot be empty",
        ),
        (
            "POST",
            "/containers/x/resize?h=10",
            400,
            "strconv.Atoi: parsing \"\": invalid syntax",
        ),
        (
            "POST",
            "/containers/x/rename",
            400,
            "Neither old nor new names may be empty",
        ),
        (
            "GET",
            "/containers/json?filters=%7B%22color%22%3A%5B%22red%22%5D%7D",
            400,
            "invalid filter 'color'",
        ),
        ("GET", "/v1.43/containers/x/nope", 404, "page not found"),
    ];
    for (method, path, status, text) in cases {
        let (got, body) = unix_request(&d.socket(), method, path).expect("daemon answers");
        assert_eq!(
            got,
            *status,
            "{method} {path}: {}",
            String::from_utf8_lossy(&body)
        );
        assert_eq!(message(&body), *text, "{method} {path}");
    }
}

/// An attach request for a container that does not exist is refused before any upgrade.
#[test]
fn attach_to_a_missing_container_is_not_upgraded() {
    let d = Daemon::start();
    let mut stream = UnixStream::connect(d.socket()).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    stream
        .write_all(
            b"POST /v1.43/containers/nope/attach?stream=1&stdout=1 HTTP/1.1\r\nHost: berth\r\n\
              Connection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n",
        )
        .expect("request");
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).expect("status line");
    let status = String::from_utf8_lossy(&head);
    assert!(
        !status.contains("101"),
        "a failed attach must not be upgraded: {status}"
    );
}

fn tools(test: &str) -> bool {
    support::require_tool("docker", test) && support::require_root(test)
}

/// Imports the busybox root filesystem as `busybox:test`.
fn import_busybox(d: &Daemon) {
    let tar = d.scratch().join("rootfs.tar");
    std::fs::write(&tar, fixtures::busybox_rootfs_tar()).expect("write rootfs tar");
    ok(d, &["import", &tar.display().to_string(), "busybox:test"]);
}

#[test]
fn docker_create_start_ps_inspect_logs_rm() {
    if !tools("docker_create_start_ps_inspect_logs_rm") {
        return;
    }
    let d = Daemon::start();
    import_busybox(&d);

    let id = ok(
        &d,
        &[
            "create",
            "--name",
            "c1",
            "busybox:test",
            "sh",
            "-c",
            "echo hello; echo oops >&2",
        ],
    );
    let id = id.trim().to_owned();
    assert_eq!(id.len(), 64, "a full container ID: {id}");

    let listed = ok(&d, &["ps", "-a", "--format", "{{.Names}} {{.State}}"]);
    assert_eq!(listed.trim(), "c1 created", "{listed}");

    ok(&d, &["start", "c1"]);
    let code = ok(&d, &["wait", "c1"]);
    assert_eq!(code.trim(), "0");

    let state = ok(
        &d,
        &["inspect", "--format", "{{.State.Status}} {{.Id}}", "c1"],
    );
    assert_eq!(state.trim(), format!("exited {id}"));

    let out = d.docker(&["logs", "c1"]);
    let stdout = support::stdout_ok("docker logs c1", &out);
    assert_eq!(stdout, "hello\n");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "oops\n");

    let stamped = ok(&d, &["logs", "--timestamps", "c1"]);
    let (time, line) = stamped
        .trim_end()
        .split_once(' ')
        .expect("timestamp and line");
    assert!(chrono_like(time), "{time}");
    assert_eq!(line, "hello");

    ok(&d, &["rm", "c1"]);
    let listed = ok(&d, &["ps", "-a", "-q"]);
    assert_eq!(listed.trim(), "", "{listed}");
    let out = d.docker(&["inspect", "c1"]);
    assert!(!out.status.success(), "c1 is gone");
}

/// `2006-01-02T15:04:05.000000000Z`.
fn chrono_like(time: &str) -> bool {
    time.len() == 30 && time.ends_with('Z') && time.as_bytes()[10] == b'T'
}

/// `docker run` attaches (a hijacked connection), waits for the next exit and starts.
#[test]
fn docker_run_prints_the_output_and_exit_code() {
    if !tools("docker_run_prints_the_output_and_exit_code") {
        return;
    }
    let d = Daemon::start();
    import_busybox(&d);
    let out = d.docker(&[
        "run",
        "--rm",
        "busybox:test",
        "sh",
        "-c",
        "echo out; echo err >&2; exit 3",
    ]);
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "out\n");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "err\n");
}

/// `docker exec` (a hijacked exec stream) and `docker run -i` (stdin through the hijacked
/// connection, ended by the CLI's half-close).
#[test]
fn docker_exec_and_stdin() {
    if !tools("docker_exec_and_stdin") {
        return;
    }
    let d = Daemon::start();
    import_busybox(&d);
    ok(
        &d,
        &["run", "-d", "--name", "s1", "busybox:test", "sleep", "300"],
    );

    let out = d.docker(&["exec", "s1", "sh", "-c", "echo in exec; echo e >&2"]);
    assert_eq!(support::stdout_ok("docker exec", &out), "in exec\n");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "e\n");

    let mut child = std::process::Command::new("docker")
        .args(["-H", &d.host(), "run", "-i", "--rm", "busybox:test"])
        .args(["sh", "-c", "cat; echo done"])
        .env("DOCKER_CONFIG", d.docker_config())
        .env_remove("DOCKER_HOST")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("docker run -i");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"stdin data\n")
        .expect("write stdin");
    let out = child.wait_with_output().expect("docker run -i ends");
    assert_eq!(
        support::stdout_ok("docker run -i", &out),
        "stdin data\ndone\n"
    );

    ok(&d, &["rm", "-f", "s1"]);
}

/// stop, restart, kill, pause/unpause, rename and prune through the CLI.
#[test]
fn docker_state_changes() {
    if !tools("docker_state_changes") {
        return;
    }
    let d = Daemon::start();
    import_busybox(&d);
    ok(
        &d,
        &["run", "-d", "--name", "s1", "busybox:test", "sleep", "300"],
    );
    let state = |d: &Daemon, name: &str| {
        ok(d, &["inspect", "--format", "{{.State.Status}}", name])
            .trim()
            .to_owned()
    };

    ok(&d, &["pause", "s1"]);
    assert_eq!(state(&d, "s1"), "paused");
    ok(&d, &["unpause", "s1"]);
    assert_eq!(state(&d, "s1"), "running");

    ok(&d, &["rename", "s1", "s2"]);
    assert_eq!(state(&d, "s2"), "running");

    ok(&d, &["restart", "-t", "1", "s2"]);
    assert_eq!(state(&d, "s2"), "running");

    ok(&d, &["kill", "s2"]);
    let exit = ok(&d, &["inspect", "--format", "{{.State.ExitCode}}", "s2"]);
    assert_eq!(exit.trim(), "137");

    ok(&d, &["start", "s2"]);
    ok(&d, &["stop", "-t", "1", "s2"]);
    assert_eq!(state(&d, "s2"), "exited");
    // Stopping a stopped container is a 304, which the CLI takes as success.
    ok(&d, &["stop", "s2"]);

    let pruned = ok(&d, &["container", "prune", "-f"]);
    assert!(pruned.contains("Deleted Containers:"), "{pruned}");
    assert_eq!(ok(&d, &["ps", "-aq"]).trim(), "");
}
