//! The runtime for real: `berth __run <dir>` starts a busybox container from an
//! `init.json` (its own namespaces, overlay root, cgroup) and the tests check what Docker
//! guarantees inside: exit codes, env, cwd, hostname, users, PID and mount isolation,
//! default capabilities, masked and read-only paths, `--read-only`, binds, tmpfs, the
//! symlinked-`/proc` refusal, the memory limit, the container's `/sys/fs/cgroup` (its own
//! group bound read-only), `--init`, and an exec (`<dir>/exec.json`).
//!
//! Needs root and /bin/busybox; skips loudly otherwise. Each test has its own temp dir and
//! cgroup; the container's mounts live in its own mount namespace and die with it, and a
//! guard checks that nothing under the temp dir is left mounted on the host.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use berth::engine::cgroups::{detect, Layout};
use berth::engine::runtime::{
    ExecSpec, InitSpec, MountSpec, NamespaceKind, NamespaceSpec, ProcessSpec, RootfsSpec, ShmSpec,
    MASKED_PATHS, READONLY_PATHS,
};

const BUSYBOX: &str = "/bin/busybox";

const APPLETS: &[&str] = &[
    "sh", "cat", "echo", "id", "hostname", "ls", "mount", "sleep", "touch", "grep", "ps", "pwd",
    "env", "wc", "head", "true", "mkdir",
];

/// A container directory with a busybox lower layer, removed (and checked) on drop.
struct Bundle {
    dir: tempfile::TempDir,
    cgroup: String,
}

impl Drop for Bundle {
    fn drop(&mut self) {
        let mounts = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        let prefix = self.dir.path().to_string_lossy().into_owned();
        for line in mounts.lines().rev() {
            if let Some(point) = line.split(' ').nth(4) {
                if point.starts_with(&prefix) {
                    let _ = nix::mount::umount2(point, nix::mount::MntFlags::MNT_DETACH);
                    eprintln!("left-over mount {point} removed");
                }
            }
        }
        // `__run` destroys the cgroup but leaves its parent; remove both.
        let mut roots: Vec<PathBuf> = fs::read_dir("/sys/fs/cgroup")
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .collect();
        roots.push(PathBuf::from("/sys/fs/cgroup"));
        for root in roots {
            let path = root.join(&self.cgroup);
            let _ = fs::remove_dir(&path);
            if let Some(parent) = path.parent() {
                let _ = fs::remove_dir(parent);
            }
        }
    }
}

/// `None` (after a loud message) when these tests cannot run here.
fn bundle(test: &str) -> Option<Bundle> {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("!!!!! SKIPPED (not root): {test} needs root for namespaces and mounts");
        return None;
    }
    if !Path::new(BUSYBOX).exists() {
        eprintln!("!!!!! SKIPPED (no {BUSYBOX}): {test} needs busybox-static");
        return None;
    }
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let dir = tempfile::tempdir().unwrap();
    let lower = dir.path().join("lower");
    for d in ["bin", "etc", "tmp", "home/user"] {
        fs::create_dir_all(lower.join(d)).unwrap();
    }
    fs::copy(BUSYBOX, lower.join("bin/busybox")).unwrap();
    for applet in APPLETS {
        symlink("busybox", lower.join("bin").join(applet)).unwrap();
    }
    fs::write(
        lower.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\n",
    )
    .unwrap();
    fs::write(
        lower.join("etc/group"),
        "root:x:0:\nuser:x:1000:\nextra:x:2000:user\n",
    )
    .unwrap();
    for d in ["fs/upper", "fs/work", "fs/merged"] {
        fs::create_dir_all(dir.path().join(d)).unwrap();
    }
    Some(Bundle {
        cgroup: format!("berth-rt-test-{}-{n}/ctr", std::process::id()),
        dir,
    })
}

impl Bundle {
    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Docker's defaults for `sh -c script`.
    fn spec(&self, script: &str) -> InitSpec {
        let p = self.path();
        let mut spec = InitSpec {
            id: "0123456789abcdef".into(),
            name: "test".into(),
            rootfs: RootfsSpec {
                lower: vec![p.join("lower")],
                upper: p.join("fs/upper"),
                work: p.join("fs/work"),
                target: p.join("fs/merged"),
                read_only: false,
            },
            process: ProcessSpec {
                args: vec!["sh".into(), "-c".into(), script.into()],
                env: vec![
                    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into(),
                    "HOSTNAME=box".into(),
                ],
                cwd: "/".into(),
                ..ProcessSpec::default()
            },
            hostname: "box".into(),
            namespaces: [
                NamespaceKind::Mount,
                NamespaceKind::Uts,
                NamespaceKind::Ipc,
                NamespaceKind::Pid,
                NamespaceKind::Net,
                NamespaceKind::Cgroup,
            ]
            .into_iter()
            .map(|kind| NamespaceSpec { kind, path: None })
            .collect(),
            shm: ShmSpec::Private { size: 64 << 20 },
            masked_paths: MASKED_PATHS.iter().map(|s| s.to_string()).collect(),
            readonly_paths: READONLY_PATHS.iter().map(|s| s.to_string()).collect(),
            ..InitSpec::default()
        };
        spec.cgroup.name = self.cgroup.clone();
        spec
    }

    /// Runs the container; returns (exit code, stdout, stderr).
    fn run(&self, spec: &InitSpec) -> (i32, String, String) {
        fs::write(
            self.path().join("init.json"),
            serde_json::to_vec(spec).unwrap(),
        )
        .unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_berth"))
            .arg("__run")
            .arg(self.path())
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        (
            out.status.code().unwrap_or(-1),
            text(&out.stdout),
            text(&out.stderr),
        )
    }

    fn run_script(&self, script: &str) -> (i32, String, String) {
        self.run(&self.spec(script))
    }
}

#[test]
fn exit_codes_are_the_programs() {
    let Some(b) = bundle("exit_codes_are_the_programs") else {
        return;
    };
    for code in [0, 1, 42] {
        let (got, _, err) = b.run_script(&format!("exit {code}"));
        assert_eq!(got, code, "stderr: {err}");
    }
    // PID 1 cannot be killed from inside its namespace; under the built-in init it can.
    let mut spec = b.spec("kill -9 $$");
    spec.init = true;
    let (got, _, err) = b.run(&spec);
    assert_eq!(got, 137, "killed by SIGKILL is 128+9; stderr: {err}");
}

#[test]
fn tty_is_a_pty_of_the_containers_devpts() {
    let Some(b) = bundle("tty_is_a_pty_of_the_containers_devpts") else {
        return;
    };
    let mut spec =
        b.spec("tty; test -c /dev/console && echo console; ls /dev | grep -c '^core$'; exit 0");
    spec.process.tty = true;
    let (code, out, err) = b.run(&spec);
    assert_eq!(code, 0, "stderr: {err}");
    let core = if Path::new("/proc/kcore").exists() {
        1
    } else {
        0
    };
    assert_eq!(out, format!("/dev/pts/0\r\nconsole\r\n{core}\r\n"));
}

#[test]
fn env_cwd_hostname_and_home() {
    let Some(b) = bundle("env_cwd_hostname_and_home") else {
        return;
    };
    let mut spec = b.spec("echo \"$FOO|$HOME|$(pwd)|$(hostname)\"");
    spec.process.env.push("FOO=bar baz".into());
    spec.process.cwd = "/work/dir".into();
    let (code, out, err) = b.run(&spec);
    assert_eq!(code, 0, "stderr: {err}");
    assert_eq!(out.trim(), "bar baz|/root|/work/dir|box");
}

#[test]
fn program_not_found_is_dockers_error() {
    let Some(b) = bundle("program_not_found_is_dockers_error") else {
        return;
    };
    let mut spec = b.spec("");
    spec.process.args = vec!["nope".into()];
    let (code, _, err) = b.run(&spec);
    assert_eq!(code, 127);
    assert!(
        err.contains("exec: \"nope\": executable file not found in $PATH"),
        "{err}"
    );
}

#[test]
fn users_by_number_and_by_name() {
    let Some(b) = bundle("users_by_number_and_by_name") else {
        return;
    };
    let mut spec = b.spec("id -u; id -g; echo $HOME; grep CapEff /proc/self/status");
    spec.process.user = "1000:1000".into();
    let (code, out, err) = b.run(&spec);
    assert_eq!(code, 0, "stderr: {err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[..3], ["1000", "1000", "/home/user"]);
    assert!(lines[3].ends_with("0000000000000000"), "{out}");

    spec.process.user = "user".into();
    spec.process.args[2] = "id".into();
    let (code, out, err) = b.run(&spec);
    assert_eq!(code, 0, "stderr: {err}");
    assert!(out.starts_with("uid=1000(user) gid=1000(user)"), "{out}");
    // moby puts the primary gid first among the supplementary groups.
    assert!(
        out.contains("groups=1000(user),2000(extra)"),
        "supplementary groups: {out}"
    );

    // A non-root user under the default filter still has NoNewPrivs off, unless asked.
    spec.process.args[2] = "grep -E 'Seccomp:|NoNewPrivs' /proc/self/status".into();
    let (code, out, err) = b.run(&spec);
    assert_eq!(code, 0, "stderr: {err}");
    assert!(
        out.contains("NoNewPrivs:\t0") && out.contains("Seccomp:\t2"),
        "{out}"
    );
    spec.process.security_opt = vec!["no-new-privileges".into()];
    let (code, out, err) = b.run(&spec);
    assert_eq!(code, 0, "stderr: {err}");
    assert!(
        out.contains("NoNewPrivs:\t1") && out.contains("Seccomp:\t2"),
        "{out}"
    );

    spec.process.user = "nobody2".into();
    let (code, _, err) = b.run(&spec);
    assert_eq!(code, 125);
    assert!(
        err.contains("unable to find user nobody2: no matching entries in passwd file"),
        "{err}"
    );
}

#[test]
fn pids_and_mounts_are_isolated() {
    let Some(b) = bundle("pids_and_mounts_are_isolated") else {
        return;
    };
    let (code, out, err) =
        b.run_script("echo $$; ls /proc | grep -c '^[0-9]'; cat /proc/self/mountinfo");
    assert_eq!(code, 0, "stderr: {err}");
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("1"), "the program is PID 1");
    // sh, ls, grep and cat at most: no host process is visible.
    let visible: u32 = lines.next().unwrap().trim().parse().unwrap();
    assert!(visible <= 4, "{visible} processes visible");
    let mountinfo: Vec<&str> = lines.collect();
    let points: Vec<&str> = mountinfo
        .iter()
        .filter_map(|l| l.split(' ').nth(4))
        .collect();
    assert_eq!(points[0], "/", "{mountinfo:?}");
    // /sys/fs/cgroup/memory exists inside too (the container's own group, as in Docker).
    for host_only in ["/work", "/boot"] {
        assert!(
            !points.contains(&host_only),
            "host mount {host_only} visible"
        );
    }
    for expected in [
        "/proc",
        "/sys",
        "/dev",
        "/dev/pts",
        "/dev/shm",
        "/dev/mqueue",
    ] {
        assert!(points.contains(&expected), "{expected} missing: {points:?}");
    }
}

#[test]
fn docker_default_confinement() {
    let Some(b) = bundle("docker_default_confinement") else {
        return;
    };
    let script = "grep -E 'CapEff|CapBnd|Seccomp:|NoNewPrivs' /proc/self/status; \
                  echo keys=$(cat /proc/timer_list /proc/keys | wc -c); \
                  echo 1 > /proc/sys/kernel/domainname && echo sys-writable; \
                  mount -t tmpfs t /tmp 2>/dev/null && echo mount-allowed; \
                  touch /sys/x 2>/dev/null && echo sys-writable; \
                  ls -l /dev/null /dev/zero /dev/ptmx /dev/fd | wc -l; \
                  hostname other 2>/dev/null && echo hostname-changed; true";
    let (code, out, err) = b.run_script(script);
    assert_eq!(code, 0, "stderr: {err}");
    assert!(out.contains("CapEff:\t00000000a80425fb"), "{out}");
    assert!(out.contains("CapBnd:\t00000000a80425fb"), "{out}");
    assert!(out.contains("Seccomp:\t2"), "seccomp filter missing: {out}");
    // The filter goes in before the capabilities drop, so Docker's NoNewPrivs stays off.
    assert!(out.contains("NoNewPrivs:\t0"), "{out}");
    assert!(out.contains("keys=0"), "masked paths readable: {out}");
    assert!(!out.contains("sys-writable"), "{out}");
    assert!(!out.contains("mount-allowed"), "{out}");
    assert!(!out.contains("hostname-changed"), "{out}");
    assert!(out.contains("\n4\n"), "device nodes: {out}");
}

#[test]
fn privileged_and_unconfined() {
    let Some(b) = bundle("privileged_and_unconfined") else {
        return;
    };
    let mut spec = b
        .spec("grep -E 'CapEff|Seccomp:' /proc/self/status; mount -t tmpfs t /tmp && echo mounted");
    spec.privileged = true;
    spec.masked_paths.clear();
    spec.readonly_paths.clear();
    let (code, out, err) = b.run(&spec);
    assert_eq!(code, 0, "stderr: {err}");
    assert!(out.contains("Seccomp:\t0"), "{out}");
    assert!(out.contains("mounted"), "{out}");
    assert!(!out.contains("CapEff:\t00000000a80425fb"), "{out}");

    let mut spec = b.spec("grep -E 'CapEff|Seccomp:|NoNewPrivs' /proc/self/status");
    spec.process.cap_drop = vec!["ALL".into()];
    spec.process.cap_add = vec!["NET_ADMIN".into()];
    spec.process.security_opt = vec!["seccomp=unconfined".into(), "no-new-privileges".into()];
    let (code, out, err) = b.run(&spec);
    assert_eq!(code, 0, "stderr: {err}");
    assert!(out.contains("NoNewPrivs:\t1"), "{out}");
    assert!(out.contains("Seccomp:\t0"), "{out}");
    assert!(out.contains("CapEff:\t0000000000001000"), "{out}");
}

#[test]
fn read_only_root_binds_and_tmpfs() {
    let Some(b) = bundle("read_only_root_binds_and_tmpfs") else {
        return;
    };
    let ro_src = b.path().join("ro-src");
    let rw_src = b.path().join("rw-src");
    fs::create_dir_all(&ro_src).unwrap();
    fs::create_dir_all(&rw_src).unwrap();
    fs::write(ro_src.join("f"), "from-host").unwrap();
    let mut spec = b.spec(
        "touch /x 2>/dev/null && echo root-writable; cat /ro/f; \
         touch /ro/g 2>/dev/null && echo ro-writable; echo hi > /rw/out; \
         echo t > /scratch/t && grep /scratch /proc/self/mounts",
    );
    spec.rootfs.read_only = true;
    let bind = |source: &PathBuf, destination: &str, read_only: bool| MountSpec::Bind {
        source: source.clone(),
        destination: destination.into(),
        read_only,
        propagation: "rprivate".into(),
        recursive: true,
    };
    spec.mounts = vec![
        bind(&ro_src, "/ro", true),
        bind(&rw_src, "/rw", false),
        MountSpec::Tmpfs {
            destination: "/scratch".into(),
            options: vec!["noexec".into(), "nosuid".into(), "size=1m".into()],
        },
    ];
    let (code, out, err) = b.run(&spec);
    assert_eq!(code, 0, "stderr: {err}");
    assert!(!out.contains("root-writable"), "{out}");
    assert!(!out.contains("ro-writable"), "{out}");
    assert!(out.contains("from-host"), "{out}");
    assert!(
        out.contains("tmpfs /scratch tmpfs rw,nosuid,noexec"),
        "{out}"
    );
    assert_eq!(fs::read_to_string(rw_src.join("out")).unwrap(), "hi\n");
}

#[test]
fn symlinked_proc_is_refused() {
    let Some(b) = bundle("symlinked_proc_is_refused") else {
        return;
    };
    symlink("/tmp", b.path().join("lower/proc")).unwrap();
    let (code, _, err) = b.run_script("true");
    assert_eq!(code, 125);
    assert!(
        err.contains("filesystem \"proc\" must be mounted on ordinary directory"),
        "{err}"
    );
}

#[test]
fn bind_destination_symlink_stays_inside_the_root() {
    let Some(b) = bundle("bind_destination_symlink_stays_inside_the_root") else {
        return;
    };
    let host_target = b.path().join("host-target");
    fs::create_dir_all(&host_target).unwrap();
    // An absolute symlink in the image pointing at a host path: it must resolve inside.
    symlink(&host_target, b.path().join("lower/escape")).unwrap();
    let src = b.path().join("src");
    fs::create_dir_all(&src).unwrap();
    fs::write(src.join("marker"), "m").unwrap();
    let mut spec = b.spec("cat /escape/marker");
    spec.mounts = vec![MountSpec::Bind {
        source: src,
        destination: "/escape".into(),
        read_only: false,
        propagation: String::new(),
        recursive: true,
    }];
    let (code, out, err) = b.run(&spec);
    assert_eq!(code, 0, "stderr: {err}");
    assert_eq!(out, "m");
    assert!(
        fs::read_dir(&host_target).unwrap().next().is_none(),
        "the host directory got a mount"
    );
}

#[test]
fn memory_limit_is_applied() {
    let Some(b) = bundle("memory_limit_is_applied") else {
        return;
    };
    let mut spec = b.spec(
        "cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || \
         cat /sys/fs/cgroup/memory.max 2>/dev/null || \
         cat /proc/self/cgroup",
    );
    spec.cgroup.resources.memory = 64 << 20;
    // The limit is checked from the host while the container runs.
    spec.process.args[2] = "sleep 2".into();
    let cgroup = b.cgroup.clone();
    let checker = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(800));
        [
            format!("/sys/fs/cgroup/memory/{cgroup}/memory.limit_in_bytes"),
            format!("/sys/fs/cgroup/{cgroup}/memory.max"),
        ]
        .iter()
        .find_map(|p| fs::read_to_string(p).ok())
    });
    let (code, _, err) = b.run(&spec);
    assert_eq!(code, 0, "stderr: {err}");
    let limit = checker
        .join()
        .unwrap()
        .expect("the cgroup existed while running");
    assert_eq!(limit.trim(), (64u64 << 20).to_string());
}

#[test]
fn builtin_init_reaps_and_forwards() {
    let Some(b) = bundle("builtin_init_reaps_and_forwards") else {
        return;
    };
    let mut spec = b.spec("echo $$; ps -o pid,comm | grep -c sh; exit 3");
    spec.init = true;
    let (code, out, err) = b.run(&spec);
    assert_eq!(code, 3, "stderr: {err}");
    assert_eq!(
        out.lines().next(),
        Some("2"),
        "the program runs under PID 1: {out}"
    );
}

#[test]
fn exec_joins_the_running_container() {
    let Some(b) = bundle("exec_joins_the_running_container") else {
        return;
    };
    let spec = b.spec("echo started > /tmp/mark; sleep 30");
    let exec = ExecSpec {
        id: "e1".into(),
        args: vec![
            "sh".into(),
            "-c".into(),
            "sleep 0.3; cat /tmp/mark; hostname; id -u; pwd; ps -o pid | grep -c .; exit 5".into(),
        ],
        env: spec.process.env.clone(),
        cwd: "/tmp".into(),
        user: "1000".into(),
        ..ExecSpec::default()
    };
    fs::write(
        b.path().join("exec.json"),
        serde_json::to_vec(&exec).unwrap(),
    )
    .unwrap();
    let (code, out, err) = b.run(&spec);
    assert_eq!(code, 5, "stderr: {err} stdout: {out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[..4], ["started", "box", "1000", "/tmp"], "{out}");
}

#[test]
fn own_cgroup_limit_is_visible_and_read_only() {
    let Some(b) = bundle("own_cgroup_limit_is_visible_and_read_only") else {
        return;
    };
    let v2 = matches!(detect(), Ok(Layout::V2 { .. }));
    let script = if v2 {
        "cat /sys/fs/cgroup/memory.max; touch /sys/fs/cgroup/x 2>&1; \
         grep -c ' /sys/fs/cgroup ' /proc/self/mountinfo"
    } else {
        "cat /sys/fs/cgroup/memory/memory.limit_in_bytes; \
         touch /sys/fs/cgroup/memory/x 2>&1; \
         ls /sys/fs/cgroup/cpu/ | grep -cx cpu.shares; \
         ls /sys/fs/cgroup/cpuacct/ | grep -cx cpuacct.usage; \
         cat /sys/fs/cgroup/memory/cgroup.procs | wc -l"
    };
    let mut spec = b.spec(script);
    spec.cgroup.resources.memory = 64 << 20;
    let (code, out, err) = b.run(&spec);
    assert_eq!(code, 0, "stdout: {out}\nstderr: {err}");
    let mut lines = out.lines();
    assert_eq!(
        lines.next(),
        Some((64u64 << 20).to_string().as_str()),
        "{out}"
    );
    assert_eq!(
        out.matches("Read-only file system").count(),
        1,
        "the cgroup files are writable: {out}"
    );
    if !v2 {
        let counts: Vec<&str> = out.lines().rev().take(3).collect();
        // Only the container's own processes (the shell and cat; wc is in the pipe too).
        assert!(counts[0].trim().parse::<u32>().unwrap_or(99) <= 3, "{out}");
        assert_eq!(counts[1].trim(), "1", "cpuacct missing: {out}");
        assert!(
            counts[2].trim().parse::<u32>().unwrap_or(0) >= 1,
            "cpu missing: {out}"
        );
    }
}

#[test]
fn privileged_gets_a_writable_cgroup_tree() {
    let Some(b) = bundle("privileged_gets_a_writable_cgroup_tree") else {
        return;
    };
    let script = if matches!(detect(), Ok(Layout::V2 { .. })) {
        "touch /sys/fs/cgroup/x 2>&1; echo rc=$?"
    } else {
        "touch /sys/fs/cgroup/memory/x 2>&1; echo rc=$?"
    };
    let mut spec = b.spec(script);
    spec.privileged = true;
    let (code, out, err) = b.run(&spec);
    assert_eq!(code, 0, "stdout: {out}\nstderr: {err}");
    assert!(!out.contains("Read-only file system"), "{out}");
}
