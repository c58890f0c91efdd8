//! `berth daemon` as a real process on its own state root and socket: the system endpoints,
//! API version handling, error answers, the root lock, the socket's mode, shutdown on
//! SIGTERM, restart after SIGKILL, and the events stream.
//!
//! Each test starts its own daemon in a temporary directory; the `Daemon` guard kills it (by
//! PID) and removes the directory, whatever the test's outcome.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use berth::api::client::{read_body, Client, ClientError};
use berth::api::types::{ImageSummary, SystemInfo, SystemVersion};
use http_body_util::BodyExt;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

/// A daemon child process on a private root and socket.
struct Daemon {
    child: Option<Child>,
    dir: tempfile::TempDir,
}

impl Daemon {
    fn start() -> Daemon {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut d = Daemon { child: None, dir };
        d.child = Some(d.spawn());
        d.wait_ready();
        d
    }

    fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    fn socket(&self) -> PathBuf {
        self.dir.path().join("s.sock")
    }

    fn client(&self) -> Client {
        Client {
            socket: self.socket(),
        }
    }

    /// Starts `berth daemon` on this root and socket, its output in `daemon-N.log`.
    fn spawn(&self) -> Child {
        spawn_daemon(
            &self.root(),
            &self.socket(),
            &self.dir.path().join("daemon.log"),
        )
    }

    /// Waits until the socket answers `/_ping` (or fails with the daemon's log).
    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        let rt = runtime();
        loop {
            if rt.block_on(self.client().ping()).is_ok() {
                return;
            }
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    panic!("daemon exited ({status}) before answering: {}", self.log());
                }
            }
            assert!(
                Instant::now() < deadline,
                "daemon did not answer: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("daemon.log")).unwrap_or_default()
    }

    fn pid(&self) -> Pid {
        Pid::from_raw(self.child.as_ref().expect("running").id() as i32)
    }

    /// Sends `signal` and waits (bounded) for the daemon's exit status.
    fn signal_and_wait(&mut self, signal: Signal) -> std::process::ExitStatus {
        kill(self.pid(), signal).expect("signal the daemon");
        let mut child = self.child.take().expect("running");
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = child.try_wait().expect("wait") {
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("daemon did not exit after {signal:?}: {}", self.log());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        // SIGTERM first: the daemon removes its bridges and firewall table on the way out.
        if let Some(mut child) = self.child.take() {
            support::stop_child(&mut child, Duration::from_secs(10));
        }
    }
}

fn spawn_daemon(root: &Path, socket: &Path, log: &Path) -> Child {
    support::daemon::write_address_pool(root);
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .expect("log file");
    Command::new(env!("CARGO_BIN_EXE_berth"))
        .arg("daemon")
        .arg("--root")
        .arg(root)
        .arg("--host")
        .arg(format!("unix://{}", socket.display()))
        .env_remove("BERTH_HOST")
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log file"))
        .stderr(log)
        .spawn()
        .expect("spawn berth daemon")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// A one-file root filesystem tarball, enough for an import.
fn tiny_rootfs_tar() -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    let data = b"hello from berth\n";
    let mut header = tar::Header::new_gnu();
    header.set_size(data.len() as u64);
    header.set_mode(0o644);
    header.set_mtime(1_700_000_000);
    header.set_cksum();
    builder
        .append_data(&mut header, "hello.txt", &data[..])
        .expect("tar entry");
    builder.into_inner().expect("tar")
}

/// Imports the tiny rootfs as `repo:tag` and returns the image ID.
async fn import_image(client: &Client, repo: &str, tag: &str) -> String {
    let body: Box<dyn tokio::io::AsyncRead + Send + Unpin> =
        Box::new(std::io::Cursor::new(tiny_rootfs_tar()));
    let resp = client
        .send_stream(
            "POST",
            &format!("/images/create?fromSrc=-&repo={repo}&tag={tag}"),
            &[],
            Some(body),
        )
        .await
        .expect("import");
    let bytes = read_body(resp).await.expect("import answer");
    let line: serde_json::Value =
        serde_json::from_slice(bytes.split(|b| *b == b'\n').next().expect("a line"))
            .expect("json line");
    line["status"]
        .as_str()
        .expect("status with the ID")
        .to_owned()
}

#[test]
fn ping_answers_get_and_head_with_negotiation_headers() {
    let d = Daemon::start();
    runtime().block_on(async {
        for method in ["GET", "HEAD"] {
            let resp = d
                .client()
                .send_stream(method, "/_ping", &[], None)
                .await
                .expect("ping");
            let h = resp.headers().clone();
            assert_eq!(h["api-version"], "1.43", "{method}");
            assert_eq!(h["docker-experimental"], "false");
            assert_eq!(h["ostype"], "linux");
            assert_eq!(h["builder-version"], "1");
            assert!(h["server"].to_str().expect("ascii").starts_with("berth/"));
            let body = read_body(resp).await.expect("body");
            let want: &[u8] = if method == "GET" { b"OK" } else { b"" };
            assert_eq!(&body[..], want, "{method}");
        }
    });
}

#[test]
fn version_and_info_report_berths_values() {
    let d = Daemon::start();
    runtime().block_on(async {
        let v: SystemVersion = d.client().get_json("/version").await.expect("version");
        assert_eq!(v.api_version, "1.43");
        assert_eq!(v.min_api_version, "1.24");
        assert_eq!(v.os, "linux");
        assert_eq!(v.version, env!("CARGO_PKG_VERSION"));
        assert_eq!(v.components[0].name, "Engine");

        let i: SystemInfo = d.client().get_json("/info").await.expect("info");
        assert_eq!(i.driver, "overlay2");
        assert_eq!(i.os_type, "linux");
        assert_eq!(i.docker_root_dir, d.root().display().to_string());
        assert_eq!(i.images, 0);
        assert_eq!(i.swarm.local_node_state, "inactive");
        assert!(i.ncpu >= 1);
        assert!(i.mem_total > 0);
        assert_eq!(i.id.len(), 36, "engine ID is a UUID: {}", i.id);
    });
}

#[test]
fn versioned_and_unversioned_paths_are_both_served() {
    let d = Daemon::start();
    runtime().block_on(async {
        for path in ["/v1.43/version", "/v1.24/version", "/version"] {
            let v: SystemVersion = d.client().get_json(path).await.expect(path);
            assert_eq!(v.api_version, "1.43", "{path}");
        }
        let images: Vec<ImageSummary> = d
            .client()
            .get_json("/v1.41/images/json")
            .await
            .expect("list");
        assert!(images.is_empty());
    });
}

#[test]
fn out_of_range_versions_are_refused_with_dockers_message() {
    let d = Daemon::start();
    runtime().block_on(async {
        let err = d
            .client()
            .get_json::<serde_json::Value>("/v1.50/version")
            .await
            .expect_err("too new");
        match err {
            ClientError::Api { status, message } => {
                assert_eq!(status, 400);
                assert_eq!(
                    message,
                    "client version 1.50 is too new. Maximum supported API version is 1.43"
                );
            }
            other => panic!("unexpected {other:?}"),
        }
        let err = d
            .client()
            .get_json::<serde_json::Value>("/v1.12/info")
            .await
            .expect_err("too old");
        assert!(
            matches!(err, ClientError::Api { status: 400, .. }),
            "{err:?}"
        );
    });
}

#[test]
fn unknown_things_are_404_with_a_json_message() {
    let d = Daemon::start();
    runtime().block_on(async {
        let err = d
            .client()
            .get_json::<serde_json::Value>("/images/nosuchimage/json")
            .await
            .expect_err("no image");
        match err {
            ClientError::Api { status, message } => {
                assert_eq!(status, 404);
                assert_eq!(message, "No such image: nosuchimage:latest");
            }
            other => panic!("unexpected {other:?}"),
        }
        let err = d
            .client()
            .get_json::<serde_json::Value>("/no/such/route")
            .await
            .expect_err("no route");
        match err {
            ClientError::Api { status, message } => {
                assert_eq!(status, 404);
                assert_eq!(message, "page not found");
            }
            other => panic!("unexpected {other:?}"),
        }
        // The raw body is Docker's `{"message": ...}`.
        let resp = d
            .client()
            .send_stream("DELETE", "/images/nosuchimage", &[], None)
            .await;
        assert!(matches!(resp, Err(ClientError::Api { status: 404, .. })));
    });
}

#[test]
fn a_second_daemon_on_the_same_root_is_refused() {
    let d = Daemon::start();
    let other_socket = d.dir.path().join("other.sock");
    let out = Command::new(env!("CARGO_BIN_EXE_berth"))
        .arg("daemon")
        .arg("--root")
        .arg(d.root())
        .arg("--host")
        .arg(format!("unix://{}", other_socket.display()))
        .output()
        .expect("run second daemon");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "another berth daemon is using {}",
            d.root().display()
        )),
        "{stderr}"
    );
    assert!(!other_socket.exists(), "the refused daemon must not bind");
    // The first one is unharmed.
    runtime()
        .block_on(d.client().ping())
        .expect("first daemon still answers");
}

#[test]
fn socket_is_mode_0660_and_root_0700() {
    let d = Daemon::start();
    let mode = std::fs::metadata(d.socket())
        .expect("socket")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o660);
    let mode = std::fs::metadata(d.root())
        .expect("root")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o700);
}

#[test]
fn sigterm_exits_0_and_removes_the_socket() {
    let mut d = Daemon::start();
    let status = d.signal_and_wait(Signal::SIGTERM);
    assert_eq!(status.code(), Some(0), "{}", d.log());
    assert!(!d.socket().exists(), "socket left behind");
    assert!(d.log().contains("berth daemon stopped"), "{}", d.log());
}

#[test]
fn an_open_events_stream_does_not_hold_up_shutdown() {
    let mut d = Daemon::start();
    let rt = runtime();
    let resp = rt
        .block_on(d.client().send_stream("GET", "/events", &[], None))
        .expect("events");
    let started = Instant::now();
    let status = d.signal_and_wait(Signal::SIGINT);
    assert_eq!(status.code(), Some(0));
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    drop(resp);
}

#[test]
fn restart_after_sigkill_replaces_the_stale_socket_and_keeps_images() {
    let mut d = Daemon::start();
    let rt = runtime();
    let id = rt.block_on(import_image(&d.client(), "kept", "v1"));
    let status = d.signal_and_wait(Signal::SIGKILL);
    assert!(status.code().is_none(), "killed by a signal");
    assert!(d.socket().exists(), "SIGKILL leaves the socket file");
    d.child = Some(d.spawn());
    d.wait_ready();
    let images: Vec<ImageSummary> = rt
        .block_on(d.client().get_json("/images/json"))
        .expect("list after restart");
    assert_eq!(images.len(), 1);
    assert_eq!(images[0].id, id);
    assert_eq!(images[0].repo_tags, ["kept:v1"]);
}

#[test]
fn bad_daemon_json_is_refused_naming_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("root");
    std::fs::create_dir(&root).expect("root");
    std::fs::write(
        root.join("daemon.json"),
        "{\n  \"insecure-registries\": [,]\n}",
    )
    .expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_berth"))
        .arg("daemon")
        .arg("--root")
        .arg(&root)
        .arg("--host")
        .arg(format!("unix://{}", dir.path().join("s.sock").display()))
        .output()
        .expect("run daemon");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("daemon.json"), "{stderr}");
    assert!(stderr.contains("line 2"), "{stderr}");
}

#[test]
fn events_stream_delivers_a_filtered_tag_event() {
    let d = Daemon::start();
    runtime().block_on(async {
        let client = d.client();
        let id = import_image(&client, "evbox", "v1").await;
        // type=image and event=tag: the import before and the untag after must not show up.
        let filters = r#"{"type":["image"],"event":["tag"]}"#;
        let path = format!("/events?filters={}", encode(filters));
        let resp = client
            .send_stream("GET", &path, &[], None)
            .await
            .expect("events");
        let tagged: serde_json::Value = client
            .send_json("POST", "/images/evbox:v1/tag?repo=evbox&tag=v2", &[], None)
            .await
            .expect("tag");
        assert!(tagged.is_null(), "tag answers 201 with no body");
        let _: serde_json::Value = client
            .send_json("DELETE", "/images/evbox:v2", &[], None)
            .await
            .expect("untag");

        let mut body = resp.into_body();
        let frame = tokio::time::timeout(Duration::from_secs(10), body.frame())
            .await
            .expect("an event within 10s")
            .expect("stream open")
            .expect("frame");
        let data = frame.into_data().expect("data frame");
        let text = String::from_utf8_lossy(&data);
        let event: serde_json::Value =
            serde_json::from_str(text.lines().next().expect("a line")).expect("json event");
        assert_eq!(event["Type"], "image");
        assert_eq!(event["Action"], "tag");
        assert_eq!(event["Actor"]["ID"], id.as_str());
        assert_eq!(event["Actor"]["Attributes"]["name"], "evbox:v2");
        assert_eq!(event["scope"], "local");
        assert!(event["timeNano"].as_i64().expect("timeNano") > 0);
    });
}

#[test]
fn events_since_replays_the_past_and_until_ends_the_stream() {
    let d = Daemon::start();
    runtime().block_on(async {
        let client = d.client();
        import_image(&client, "pastbox", "v1").await;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_secs();
        let path = format!("/events?since={}&until={}", now - 60, now + 1);
        let resp = client
            .send_stream("GET", &path, &[], None)
            .await
            .expect("events");
        let body = tokio::time::timeout(Duration::from_secs(10), read_body(resp))
            .await
            .expect("the stream ends at `until`")
            .expect("body");
        let text = String::from_utf8_lossy(&body);
        let actions: Vec<String> = text
            .lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).expect("json")["Action"].to_string()
            })
            .collect();
        assert_eq!(actions, ["\"import\""], "{text}");
    });
}

/// Percent-encodes a query value.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Kills (by PID) the detached daemon the CLI started on `root`, found by its command line.
struct AutostartedDaemon {
    root: PathBuf,
}

impl AutostartedDaemon {
    fn pids(&self) -> Vec<i32> {
        let wanted = format!("--root\0{}\0", self.root.display());
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return Vec::new();
        };
        entries
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
            .filter(|pid| {
                std::fs::read(format!("/proc/{pid}/cmdline"))
                    .map(|c| String::from_utf8_lossy(&c).contains(&wanted))
                    .unwrap_or(false)
            })
            .collect()
    }
}

impl Drop for AutostartedDaemon {
    fn drop(&mut self) {
        // SIGTERM first, so the daemon removes its bridge and firewall table; SIGKILL
        // whatever is still there after 10 s.
        for pid in self.pids() {
            let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.pids().is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        for pid in self.pids() {
            let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
        }
    }
}

#[test]
fn the_cli_starts_a_detached_daemon_when_nothing_answers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("root");
    let socket = dir.path().join("auto.sock");
    support::daemon::write_address_pool(&root);
    let guard = AutostartedDaemon { root: root.clone() };
    let out = Command::new(env!("CARGO_BIN_EXE_berth"))
        .arg("-H")
        .arg(format!("unix://{}", socket.display()))
        .arg("images")
        .env("BERTH_ROOT", &root)
        .env_remove("BERTH_HOST")
        .output()
        .expect("run berth images");
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("REPOSITORY"));
    let pids = guard.pids();
    assert_eq!(pids.len(), 1, "one daemon on the root");
    // Detached: its own process group, so the terminal's Ctrl-C does not reach it.
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", pids[0])).expect("stat");
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .expect("fields")
        .split_whitespace()
        .collect();
    assert_eq!(fields[2], pids[0].to_string(), "process group leader");
    let log = std::fs::read_to_string(root.join("daemon.log")).expect("daemon.log");
    assert!(log.contains("berth daemon started"), "{log}");
    // A second command finds it running and starts nothing new.
    let out = Command::new(env!("CARGO_BIN_EXE_berth"))
        .arg("-H")
        .arg(format!("unix://{}", socket.display()))
        .arg("images")
        .env("BERTH_ROOT", &root)
        .output()
        .expect("run berth images again");
    assert!(out.status.success());
    assert_eq!(guard.pids(), pids);
}

#[test]
fn the_cli_does_not_start_a_daemon_for_a_foreign_socket() {
    let dir = tempfile::tempdir().expect("tempdir");
    let socket = dir.path().join("foreign.sock");
    let out = Command::new(env!("CARGO_BIN_EXE_berth"))
        .arg("-H")
        .arg(format!("unix://{}", socket.display()))
        .arg("images")
        .env_remove("BERTH_ROOT")
        .env_remove("BERTH_HOST")
        .output()
        .expect("run berth images");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("Cannot connect to the berth daemon"),
        "{stderr}"
    );
    assert!(!socket.exists());
}

#[test]
fn two_clients_starting_a_daemon_at_once_share_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("root");
    let socket = dir.path().join("race.sock");
    support::daemon::write_address_pool(&root);
    let guard = AutostartedDaemon { root: root.clone() };
    let run = || {
        Command::new(env!("CARGO_BIN_EXE_berth"))
            .arg("-H")
            .arg(format!("unix://{}", socket.display()))
            .arg("images")
            .env("BERTH_ROOT", &root)
            .env_remove("BERTH_HOST")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run berth images")
    };
    let (a, b) = (run(), run());
    for child in [a, b] {
        let out = child.wait_with_output().expect("wait");
        assert!(
            out.status.success(),
            "stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(guard.pids().len(), 1, "exactly one daemon holds the root");
}

#[test]
fn the_cli_reports_a_daemon_that_fails_to_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("root");
    std::fs::create_dir(&root).expect("root");
    std::fs::write(root.join("daemon.json"), "{ nope").expect("write");
    let _guard = AutostartedDaemon { root: root.clone() };
    let out = Command::new(env!("CARGO_BIN_EXE_berth"))
        .arg("-H")
        .arg(format!("unix://{}", dir.path().join("s.sock").display()))
        .arg("images")
        .env("BERTH_ROOT", &root)
        .env_remove("BERTH_HOST")
        .output()
        .expect("run berth images");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("berth daemon exited"), "{stderr}");
    assert!(stderr.contains("daemon.json"), "{stderr}");
}
