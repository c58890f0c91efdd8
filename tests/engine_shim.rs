//! The shim for real: `ShimClient::launch` starts `berth __shim <dir>` on a busybox root
//! filesystem; output lands in the json-file log, exit codes in `exit.json` and `wait`,
//! kill, attach (live output, stdin), tty mode, exec, surviving its launcher, and `Gone`
//! once it is SIGKILLed. Needs root (namespaces, overlay, cgroups); skips loudly otherwise.
//! Every shim is SIGKILLed by PID and every cgroup destroyed by a guard.

mod support;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use berth::engine::cgroups::{detect, Cgroup};
use berth::engine::runtime::{
    CgroupSpec, ExecSpec, InitSpec, LogSpec, NamespaceKind, NamespaceSpec, ProcessSpec, RootfsSpec,
    ShmSpec, MASKED_PATHS, READONLY_PATHS,
};
use berth::engine::shim::client::read_exit;
use berth::engine::shim::{Frame, ShimClient, ShimError};
use bytes::Bytes;
use tokio::sync::mpsc;

fn runnable(test: &str) -> bool {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("!!!!! SKIPPED (not root): {test} needs root for namespaces and cgroups");
        return false;
    }
    if !Path::new(support::images::fixtures::BUSYBOX).exists() {
        eprintln!("!!!!! SKIPPED (no /bin/busybox): {test} needs busybox-static");
        return false;
    }
    true
}

/// One container directory with its rootfs; kills the shim and removes the cgroup on drop.
struct Ctr {
    tmp: tempfile::TempDir,
    dir: PathBuf,
    cgroup: String,
}

impl Ctr {
    fn new() -> Ctr {
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let tmp = tempfile::tempdir().expect("temp dir");
        let lower = tmp.path().join("layer");
        std::fs::create_dir(&lower).expect("layer dir");
        let tar = support::images::fixtures::busybox_rootfs_tar();
        tar::Archive::new(&tar[..])
            .unpack(&lower)
            .expect("unpack busybox");
        let dir = tmp.path().join("ctr");
        for sub in ["fs/upper", "fs/work", "fs/merged"] {
            std::fs::create_dir_all(dir.join(sub)).expect("container dirs");
        }
        Ctr {
            tmp,
            dir,
            cgroup: format!("berth-shimtest-{}-{n}", std::process::id()),
        }
    }

    fn spec(&self, args: &[&str]) -> InitSpec {
        let kinds = [
            NamespaceKind::Mount,
            NamespaceKind::Uts,
            NamespaceKind::Ipc,
            NamespaceKind::Pid,
            NamespaceKind::Net,
        ];
        InitSpec {
            id: "c0ffee".repeat(10) + "abcd",
            name: "shimtest".into(),
            rootfs: RootfsSpec {
                lower: vec![self.tmp.path().join("layer")],
                upper: self.dir.join("fs/upper"),
                work: self.dir.join("fs/work"),
                target: self.dir.join("fs/merged"),
                read_only: false,
            },
            process: ProcessSpec {
                args: args.iter().map(|a| a.to_string()).collect(),
                env: vec!["PATH=/bin".into()],
                cwd: "/".into(),
                ..ProcessSpec::default()
            },
            hostname: "shimtest".into(),
            namespaces: kinds
                .into_iter()
                .map(|kind| NamespaceSpec { kind, path: None })
                .collect(),
            shm: ShmSpec::Private { size: 64 << 20 },
            masked_paths: MASKED_PATHS.iter().map(|p| p.to_string()).collect(),
            readonly_paths: READONLY_PATHS.iter().map(|p| p.to_string()).collect(),
            cgroup: CgroupSpec {
                name: self.cgroup.clone(),
                resources: Default::default(),
            },
            log: LogSpec {
                path: self.dir.join("ctr-json.log"),
                max_size: 10 << 20,
                max_files: 2,
            },
            ..InitSpec::default()
        }
    }

    async fn launch(&self, spec: &InitSpec) -> Result<(ShimClient, i32), ShimError> {
        let json = serde_json::to_vec(spec).expect("spec json");
        std::fs::write(self.dir.join("init.json"), json).expect("init.json");
        let exe = Path::new(env!("CARGO_BIN_EXE_berth"));
        let (client, state) = ShimClient::launch(exe, &self.dir).await?;
        Ok((client, state.shim_pid))
    }

    /// The json-file records as (stream, log) pairs.
    fn log(&self) -> Vec<(String, String)> {
        let text = std::fs::read_to_string(self.dir.join("ctr-json.log")).unwrap_or_default();
        text.lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).expect("json log line");
                (
                    v["stream"].as_str().unwrap_or("").to_string(),
                    v["log"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect()
    }

    fn shim_pid(&self) -> Option<i32> {
        std::fs::read_to_string(self.dir.join("shim.pid"))
            .ok()?
            .trim()
            .parse()
            .ok()
    }
}

impl Drop for Ctr {
    fn drop(&mut self) {
        if let Some(pid) = self.shim_pid() {
            kill_shim(pid);
        }
        if let Ok(layout) = detect() {
            if let Ok(cg) = Cgroup::open(&layout, &self.cgroup) {
                let _ = cg.destroy();
            }
        }
    }
}

/// SIGKILLs `pid` if it still is one of our shims, and waits until it is gone.
fn kill_shim(pid: i32) {
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    if !String::from_utf8_lossy(&cmdline).contains("__shim") {
        return;
    }
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while Path::new(&format!("/proc/{pid}/cmdline")).exists()
        && std::fs::read(format!("/proc/{pid}/cmdline"))
            .map(|c| !c.is_empty())
            .unwrap_or(false)
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Collects frames until the stream ends (or 10 s pass).
async fn collect(mut rx: mpsc::Receiver<Frame>) -> Vec<Frame> {
    let mut frames = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while let Ok(Some(frame)) = tokio::time::timeout_at(deadline, rx.recv()).await {
        frames.push(frame);
    }
    frames
}

fn stdout_text(frames: &[Frame]) -> String {
    frames
        .iter()
        .filter_map(|f| match f {
            Frame::Stdout(b) => Some(String::from_utf8_lossy(b).into_owned()),
            _ => None,
        })
        .collect()
}

/// Reads stdout frames until `want` appears (or 10 s pass); returns what was read.
async fn read_until(rx: &mut mpsc::Receiver<Frame>, want: &str) -> String {
    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !text.contains(want) {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(Frame::Stdout(b))) => text.push_str(&String::from_utf8_lossy(&b)),
            Ok(Some(_)) => {}
            _ => break,
        }
    }
    text
}

async fn wait(client: &ShimClient) -> i32 {
    tokio::time::timeout(Duration::from_secs(20), client.wait())
        .await
        .expect("the container exits in time")
        .expect("wait")
        .exit_code
}

#[tokio::test]
async fn start_errors_are_reported_and_cleaned_up() {
    if !runnable("start_errors_are_reported_and_cleaned_up") {
        return;
    }
    let ctr = Ctr::new();
    let spec = ctr.spec(&["/no/such/program"]);
    match ctr.launch(&spec).await {
        Err(ShimError::Start(text)) => assert!(text.contains("no/such/program"), "{text}"),
        other => panic!("expected a start error, got {other:?}"),
    }
    assert!(!ctr.dir.join("shim.sock").exists());
    assert!(!ctr.dir.join("shim.pid").exists());
    let layout = detect().expect("cgroups");
    let left = Cgroup::open(&layout, &ctr.cgroup)
        .map(|cg| cg.paths().iter().any(|p| p.exists()))
        .unwrap_or(false);
    assert!(!left, "the cgroup was destroyed");
}

#[tokio::test]
async fn output_lands_in_the_log_with_its_stream() {
    if !runnable("output_lands_in_the_log_with_its_stream") {
        return;
    }
    let ctr = Ctr::new();
    let spec = ctr.spec(&["sh", "-c", "echo out; echo err >&2; printf partial"]);
    let (client, _) = ctr.launch(&spec).await.expect("launch");
    assert_eq!(wait(&client).await, 0);
    let log = ctr.log();
    assert!(log.contains(&("stdout".into(), "out\n".into())), "{log:?}");
    assert!(log.contains(&("stderr".into(), "err\n".into())), "{log:?}");
    // The unterminated last line becomes a record with a newline added, as Docker's.
    assert!(
        log.contains(&("stdout".into(), "partial\n".into())),
        "{log:?}"
    );
    assert!(!ctr.dir.join("shim.sock").exists(), "socket removed");
    assert!(!ctr.dir.join("shim.pid").exists(), "pid file removed");
}

#[tokio::test]
async fn exit_code_is_recorded_and_returned() {
    if !runnable("exit_code_is_recorded_and_returned") {
        return;
    }
    let ctr = Ctr::new();
    let (client, _) = ctr
        .launch(&ctr.spec(&["sh", "-c", "exit 3"]))
        .await
        .expect("launch");
    assert_eq!(wait(&client).await, 3);
    let record = read_exit(&ctr.dir).expect("exit.json");
    assert_eq!(record.exit_code, 3);
    assert!(!record.oom_killed);
    assert!(record.finished_at.ends_with('Z'), "{}", record.finished_at);
    // Once the shim is gone, wait answers from exit.json.
    let again = ShimClient::new(&ctr.dir)
        .wait()
        .await
        .expect("wait after exit");
    assert_eq!(again.exit_code, 3);
}

#[tokio::test]
async fn kill_sigterm_ends_sleep_with_143() {
    if !runnable("kill_sigterm_ends_sleep_with_143") {
        return;
    }
    let ctr = Ctr::new();
    let mut spec = ctr.spec(&["sleep", "100"]);
    // PID 1 ignores signals it has no handler for; the built-in init forwards them.
    spec.init = true;
    let (client, _) = ctr.launch(&spec).await.expect("launch");
    let state = client.state().await.expect("state");
    assert!(state.exit.is_none());
    assert!(state.init_pid > 0);
    client.kill(15).await.expect("kill");
    assert_eq!(wait(&client).await, 143);
}

#[tokio::test]
async fn attach_gets_live_output_and_stdin_reaches_the_container() {
    if !runnable("attach_gets_live_output_and_stdin_reaches_the_container") {
        return;
    }
    let ctr = Ctr::new();
    let mut spec = ctr.spec(&["sh", "-c", "read x; echo live-$x; cat"]);
    spec.process.stdin = true;
    let (client, _) = ctr.launch(&spec).await.expect("launch");
    let (mut frames, stdin) = client.attach(true, true, true).await.expect("attach");
    let stdin = stdin.expect("stdin sender");
    stdin.send(Bytes::from_static(b"go\n")).await.expect("send");
    assert!(read_until(&mut frames, "live-go\n")
        .await
        .contains("live-go\n"));
    stdin
        .send(Bytes::from_static(b"to cat\n"))
        .await
        .expect("send");
    assert!(read_until(&mut frames, "to cat\n")
        .await
        .contains("to cat\n"));
    // Dropping the sender closes the container's stdin: cat ends, so does the container.
    drop(stdin);
    assert_eq!(wait(&client).await, 0);
    // The attach stream ends with the container.
    let ended = tokio::time::timeout(Duration::from_secs(5), collect(frames)).await;
    assert!(ended.is_ok());
    let log = ctr.log();
    assert!(
        log.contains(&("stdout".into(), "to cat\n".into())),
        "{log:?}"
    );
}

#[tokio::test]
async fn an_attach_from_start_gets_the_output_printed_before_it() {
    if !runnable("an_attach_from_start_gets_the_output_printed_before_it") {
        return;
    }
    let mut replayed = 0;
    for i in 0..20u64 {
        let ctr = Ctr::new();
        let (client, _) = ctr
            .launch(&ctr.spec(&["echo", "hi"]))
            .await
            .expect("launch");
        tokio::time::sleep(Duration::from_millis(i % 4)).await;
        match client.attach_from_start(false, true, true).await {
            Ok((frames, _)) => {
                let frames = collect(frames).await;
                assert_eq!(stdout_text(&frames), "hi\n", "run {i}: {frames:?}");
                replayed += 1;
            }
            // Over and gone before the attach: the log holds the whole run.
            Err(ShimError::Gone(_)) | Err(ShimError::Io(_)) => {
                assert!(
                    read_exit(&ctr.dir).is_some(),
                    "run {i}: gone without exit.json"
                );
                assert_eq!(ctr.log(), vec![("stdout".into(), "hi\n".into())], "run {i}");
            }
            Err(e) => panic!("run {i}: attach: {e}"),
        }
    }
    eprintln!("{replayed}/20 runs were replayed by the shim, the rest came from the log");
    // Output printed well before the attach, while the program still runs: replayed once,
    // in order, each stream as asked, and not again for a second attach.
    let ctr = Ctr::new();
    let spec = ctr.spec(&["sh", "-c", "echo one; echo two >&2; echo three; sleep 1"]);
    let (client, _) = ctr.launch(&spec).await.expect("launch");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (frames, _) = client
        .attach_from_start(false, true, false)
        .await
        .expect("attach");
    let (again, _) = client
        .attach_from_start(false, true, true)
        .await
        .expect("second attach");
    let frames = collect(frames).await;
    assert_eq!(stdout_text(&frames), "one\nthree\n");
    assert!(frames.iter().all(|f| matches!(f, Frame::Stdout(_))));
    assert!(collect(again).await.is_empty());
}

#[tokio::test]
async fn tty_output_is_all_stdout() {
    if !runnable("tty_output_is_all_stdout") {
        return;
    }
    let ctr = Ctr::new();
    let mut spec = ctr.spec(&[
        "sh",
        "-c",
        "echo out; echo err >&2; tty; test -c /dev/console && echo console; test -t 1",
    ]);
    spec.process.tty = true;
    let (client, _) = ctr.launch(&spec).await.expect("launch");
    assert_eq!(wait(&client).await, 0, "stdout is a terminal");
    let log = ctr.log();
    // The pty is the container's own devpts' first, so `ttyname` finds it inside.
    assert!(
        log.contains(&("stdout".into(), "/dev/pts/0\r\n".into())),
        "{log:?}"
    );
    assert!(
        log.contains(&("stdout".into(), "console\r\n".into())),
        "{log:?}"
    );
    assert!(
        log.contains(&("stdout".into(), "out\r\n".into())),
        "{log:?}"
    );
    assert!(
        log.contains(&("stdout".into(), "err\r\n".into())),
        "{log:?}"
    );
    assert!(log.iter().all(|(s, _)| s == "stdout"), "{log:?}");
}

#[tokio::test]
async fn exec_returns_output_and_exit_codes() {
    if !runnable("exec_returns_output_and_exit_codes") {
        return;
    }
    let ctr = Ctr::new();
    let mut spec = ctr.spec(&["sleep", "100"]);
    spec.init = true;
    let (client, _) = ctr.launch(&spec).await.expect("launch");
    let exec = |id: &str, args: &[&str]| ExecSpec {
        id: id.into(),
        args: args.iter().map(|a| a.to_string()).collect(),
        env: vec!["PATH=/bin".into()],
        ..ExecSpec::default()
    };
    let (pid, frames, stdin) = client
        .exec(&exec("e1", &["echo", "hi"]))
        .await
        .expect("exec");
    assert!(pid > 0);
    assert!(stdin.is_none());
    let frames = collect(frames).await;
    assert_eq!(stdout_text(&frames), "hi\n");
    assert_eq!(frames.last(), Some(&Frame::Exit(0)));

    let (_, frames, _) = client
        .exec(&exec("e2", &["sh", "-c", "echo oops >&2; exit 7"]))
        .await
        .expect("exec");
    let frames = collect(frames).await;
    assert!(frames.contains(&Frame::Stderr(Bytes::from_static(b"oops\n"))));
    assert_eq!(frames.last(), Some(&Frame::Exit(7)));

    let mut tty = exec("e3", &["sh", "-c", "test -t 0 && tty"]);
    tty.tty = true;
    let (_, frames, _) = client.exec(&tty).await.expect("exec");
    let frames = collect(frames).await;
    // The exec's pty comes from the container's devpts too (`ttyname` works).
    assert!(
        stdout_text(&frames).starts_with("/dev/pts/"),
        "{:?}",
        stdout_text(&frames)
    );
    assert_eq!(frames.last(), Some(&Frame::Exit(0)));

    // Exec output is not the container's: the log stays empty.
    assert!(ctr.log().is_empty(), "{:?}", ctr.log());
    client.kill(9).await.expect("kill");
    assert_eq!(wait(&client).await, 137);
}

#[test]
fn the_shim_survives_its_launcher_and_stays_small() {
    if !runnable("the_shim_survives_its_launcher_and_stays_small") {
        return;
    }
    let ctr = Ctr::new();
    let mut spec = ctr.spec(&["sleep", "100"]);
    spec.init = true;
    // A whole runtime that launches the shim and then goes away with every handle.
    let shim_pid = {
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        let pid = rt.block_on(ctr.launch(&spec)).expect("launch").1;
        drop(rt);
        pid
    };
    std::thread::sleep(Duration::from_millis(300));
    let status = std::fs::read_to_string(format!("/proc/{shim_pid}/status")).expect("shim alive");
    let rss_kib = kib_field(&status, "VmRSS:");
    // What the shim costs on its own: pages nobody else maps (the binary's code is shared
    // page cache, counted in VmRSS for every process mapping it).
    let rollup =
        std::fs::read_to_string(format!("/proc/{shim_pid}/smaps_rollup")).expect("smaps_rollup");
    let private_kib = kib_field(&rollup, "Private_Clean:") + kib_field(&rollup, "Private_Dirty:");
    eprintln!("shim VmRSS: {rss_kib} KiB, private: {private_kib} KiB");
    assert!(
        private_kib < 2 * 1024,
        "shim private memory {private_kib} KiB"
    );
    assert!(rss_kib < 16 * 1024, "shim VmRSS {rss_kib} KiB");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let client = ShimClient::new(&ctr.dir);
        let state = client.state().await.expect("state from a new client");
        assert_eq!(state.shim_pid, shim_pid);
        client.kill(9).await.expect("kill");
        assert_eq!(wait(&client).await, 137);
    });
}

fn kib_field(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("{name} in {text}"))
}

#[tokio::test]
async fn a_killed_shim_is_gone() {
    if !runnable("a_killed_shim_is_gone") {
        return;
    }
    let ctr = Ctr::new();
    let (client, shim_pid) = ctr
        .launch(&ctr.spec(&["sleep", "100"]))
        .await
        .expect("launch");
    kill_shim(shim_pid);
    // The stale socket may remain; nothing answers on it.
    match client.wait().await {
        Err(ShimError::Gone(_)) => {}
        other => panic!("expected Gone, got {other:?}"),
    }
    assert!(matches!(client.state().await, Err(ShimError::Gone(_))));
    assert!(read_exit(&ctr.dir).is_none());
}
