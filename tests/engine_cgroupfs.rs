//! The container's `/sys/fs/cgroup`, for real through `berth __run <dir>`: on v1 a tmpfs
//! with each hierarchy's own group of the container bound in read-only (so
//! `memory/memory.limit_in_bytes` is the container's limit) and `cpu`/`cpuacct` reachable;
//! on v2 a read-only `cgroup2` mount rooted at the container's group.
//!
//! Needs root and /bin/busybox; skips loudly otherwise. Own temp dir and cgroup per test;
//! the guard removes left-over mounts and the cgroup's parent.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;

use berth::engine::cgroups::{detect, Layout};
use berth::engine::runtime::{
    InitSpec, NamespaceKind, NamespaceSpec, ProcessSpec, RootfsSpec, ShmSpec,
};

const BUSYBOX: &str = "/bin/busybox";

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

fn bundle(test: &str) -> Option<Bundle> {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("!!!!! SKIPPED (not root): {test} needs root for namespaces and mounts");
        return None;
    }
    if !Path::new(BUSYBOX).exists() {
        eprintln!("!!!!! SKIPPED (no {BUSYBOX}): {test} needs busybox-static");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let lower = dir.path().join("lower");
    for d in ["bin", "etc", "tmp"] {
        fs::create_dir_all(lower.join(d)).unwrap();
    }
    fs::copy(BUSYBOX, lower.join("bin/busybox")).unwrap();
    for applet in ["sh", "cat", "echo", "ls", "touch", "wc", "readlink", "grep"] {
        symlink("busybox", lower.join("bin").join(applet)).unwrap();
    }
    fs::write(lower.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n").unwrap();
    fs::write(lower.join("etc/group"), "root:x:0:\n").unwrap();
    for d in ["fs/upper", "fs/work", "fs/merged"] {
        fs::create_dir_all(dir.path().join(d)).unwrap();
    }
    Some(Bundle {
        cgroup: format!("berth-cgfs-test-{}-{test}/ctr", std::process::id()),
        dir,
    })
}

impl Bundle {
    fn spec(&self, script: &str) -> InitSpec {
        let p = self.dir.path();
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
                env: vec!["PATH=/bin".into()],
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
            ..InitSpec::default()
        };
        spec.cgroup.name = self.cgroup.clone();
        spec
    }

    fn run(&self, spec: &InitSpec) -> (i32, String, String) {
        fs::write(
            self.dir.path().join("init.json"),
            serde_json::to_vec(spec).unwrap(),
        )
        .unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_berth"))
            .arg("__run")
            .arg(self.dir.path())
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
}

#[test]
fn own_limit_is_visible_and_read_only() {
    let Some(b) = bundle("limit") else {
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
fn privileged_gets_a_writable_tree() {
    let Some(b) = bundle("priv") else {
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
