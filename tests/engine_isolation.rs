//! The isolation evidence: tests/support/probes.sh runs inside a container with default
//! settings (`run --rm --network none`) under berth and under the real dockerd, and every
//! probe line berth prints must equal dockerd's; both must also show the hard facts of
//! Docker's defaults (capability sets, seccomp refusals, masked and read-only paths, /dev).
//! Malicious images (symlinked /proc, /dev, /sys, /dev/null, /etc/hostname) must either be
//! refused or leave masking intact, and never reach the host.
//!
//! Needs root, dockerd (docker.io), gcc with a static libc and busybox-static; each missing
//! piece is a LOUD skip. The berth half waits for `berth run` (a LOUD "SKIPPED: berth run not
//! available yet" while the engine is incomplete).

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use support::dockerd::{self, Engine, Kind, PROBE_IMAGE};

const PROBES: &str = include_str!("support/probes.sh");

/// What Docker's defaults guarantee, whichever engine runs the container.
const HARD_FACTS: &[(&str, &str)] = &[
    ("status CapInh", "0000000000000000"),
    ("status CapPrm", "00000000a80425fb"),
    ("status CapEff", "00000000a80425fb"),
    ("status CapBnd", "00000000a80425fb"),
    ("status CapAmb", "0000000000000000"),
    ("status NoNewPrivs", "0"),
    ("status Seccomp", "2"),
    ("write /proc/sys/kernel/hostname", "Read-only file system"),
    ("write /proc/sys/vm/drop_caches", "Read-only file system"),
    ("write /sys/kernel/uevent_helper", "Read-only file system"),
    ("unshare -U", "Operation not permitted"),
    ("unshare -m", "Operation not permitted"),
    ("syscall keyctl", "EPERM"),
    ("syscall add_key", "EPERM"),
    ("syscall socket_af_alg", "EPERM"),
    ("syscall unshare_user", "EPERM"),
    ("syscall unshare_mount", "EPERM"),
    ("syscall unshare_net", "EPERM"),
    ("syscall mount_tmpfs", "EPERM"),
    ("syscall umount_proc", "EPERM"),
    ("syscall sethostname", "EPERM"),
    ("syscall init_module", "EPERM"),
    ("syscall bpf", "EPERM"),
    ("syscall open_block", "EPERM"),
    ("syscall open_mem", "EPERM"),
    ("syscall open_dev_sda", "ENOENT"),
    ("syscall open_dev_kmsg", "ENOENT"),
    ("pid1", "sh"),
    ("hostname length", "12"),
    ("etc/hostname", "<hostname>"),
    ("id", "uid=0(root) gid=0(root) groups=0(root)"),
    (
        "env PATH",
        "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    ),
    ("pwd", "/"),
    (
        "dev",
        "fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero",
    ),
    ("dev null", "character special file 1,3 666"),
    ("dev/shm", "65536 KiB"),
    ("dev/pts ptmx", "character special file"),
];

/// Probes where Debian's dockerd 20.10 predates what the issue asks of berth (today's
/// Docker): its line is not compared, berth's must be the hard fact.
const DOCKERD_2010_DIFFERS: &[(&str, &str)] = &[
    ("masked /proc/interrupts", "masked by Docker since 23.0"),
    (
        "syscall socket_af_alg",
        "AF_ALG refused by Docker's profile since 23.0 (20.10 lets the kernel answer)",
    ),
];

/// The probe output as `name → values` (mount lines repeat one name), the container's
/// hostname replaced by `<hostname>`.
fn parse(output: &str) -> BTreeMap<String, Vec<String>> {
    let hostname = output
        .lines()
        .find_map(|l| l.strip_prefix("hostname: "))
        .unwrap_or("")
        .trim()
        .to_string();
    let mut probes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in output.lines() {
        let line = if hostname.is_empty() {
            line.to_string()
        } else {
            line.replace(&hostname, "<hostname>")
        };
        let (name, value) = line.split_once(": ").unwrap_or((line.as_str(), ""));
        probes
            .entry(name.to_string())
            .or_default()
            .push(value.trim().to_string());
    }
    probes
}

/// Runs the probe script in a default container; its parsed output.
fn run_probes(engine: &Engine) -> BTreeMap<String, Vec<String>> {
    let out = engine.run(&["--rm", "--network", "none", PROBE_IMAGE, "sh", "-c", PROBES]);
    let text = support::stdout_ok(&format!("{} run probes.sh", engine.name()), &out);
    let probes = parse(&text);
    assert!(
        probes.len() > 60,
        "{}: the probe script printed too little:\n{text}\nstderr: {}",
        engine.name(),
        String::from_utf8_lossy(&out.stderr)
    );
    probes
}

/// Every hard fact and rule that `probes` (from `kind`) breaks.
fn check_facts(kind: Kind, probes: &BTreeMap<String, Vec<String>>) -> Vec<String> {
    let mut broken = Vec::new();
    let exempt =
        |name: &str| kind == Kind::Dockerd && DOCKERD_2010_DIFFERS.iter().any(|(n, _)| *n == name);
    for (name, want) in HARD_FACTS {
        if exempt(name) {
            continue;
        }
        let got = probes.get(*name).map(|v| v.join(" | "));
        if got.as_deref() != Some(want) {
            broken.push(format!("{name}: want {want:?}, got {got:?}"));
        }
    }
    // Masked paths: absent, or nothing to read.
    for (name, values) in probes.iter().filter(|(n, _)| n.starts_with("masked ")) {
        if exempt(name) {
            continue;
        }
        for value in values {
            if !matches!(value.as_str(), "absent" | "bytes=0" | "dir entries=0") {
                broken.push(format!("{name}: readable ({value})"));
            }
        }
    }
    // Read-only paths: no write succeeds except into the container's own cgroup tmpfs.
    for (name, values) in probes.iter().filter(|(n, _)| n.starts_with("write /proc")) {
        if values.iter().any(|v| v == "ok") {
            broken.push(format!("{name}: the write succeeded"));
        }
    }
    // No host process: the shell, its subshells and ps only.
    if let Some(ps) = probes.get("ps") {
        let names = ps.join(" ");
        if names.split_whitespace().any(|n| n != "sh" && n != "ps") {
            broken.push(format!("ps: a process that is not ours: {names}"));
        }
    }
    // No host mount: every mount point is the container's own.
    let allowed = |point: &str| {
        point == "/"
            || ["/dev", "/proc", "/sys"]
                .iter()
                .any(|p| point == *p || point.starts_with(&format!("{p}/")))
            || ["/etc/hostname", "/etc/hosts", "/etc/resolv.conf"].contains(&point)
    };
    for mount in probes.get("mount").into_iter().flatten() {
        let point = mount.split(' ').next().unwrap_or("");
        if !allowed(point) {
            broken.push(format!("mount: host mount visible: {mount}"));
        }
    }
    broken
}

/// The lines where berth and dockerd differ (outside the documented 20.10 differences).
fn differences(
    berth: &BTreeMap<String, Vec<String>>,
    docker: &BTreeMap<String, Vec<String>>,
) -> Vec<String> {
    let berth = &without_interrupts_mask(berth);
    let mut names: Vec<&String> = berth.keys().chain(docker.keys()).collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .filter(|n| !DOCKERD_2010_DIFFERS.iter().any(|(d, _)| d == n))
        .filter(|n| berth.get(*n) != docker.get(*n))
        .map(|n| {
            format!(
                "{n}:\n    berth:   {:?}\n    dockerd: {:?}",
                berth.get(n),
                docker.get(n)
            )
        })
        .collect()
}

/// berth's probes without the mount that masks `/proc/interrupts` (dockerd 20.10 predates
/// that mask, see [`DOCKERD_2010_DIFFERS`]), so the mount list and count compare.
fn without_interrupts_mask(
    probes: &BTreeMap<String, Vec<String>>,
) -> BTreeMap<String, Vec<String>> {
    let mut probes = probes.clone();
    let mut removed = 0;
    if let Some(mounts) = probes.get_mut("mount") {
        let before = mounts.len();
        mounts.retain(|m| !m.starts_with("/proc/interrupts "));
        removed = before - mounts.len();
    }
    if let Some(count) = probes.get_mut("mount count").and_then(|v| v.first_mut()) {
        if let Ok(n) = count.parse::<usize>() {
            *count = (n - removed.min(n)).to_string();
        }
    }
    probes
}

/// Prints both engines' lines side by side (the evidence, with --show-output).
fn print_table(probes: &[(&str, &BTreeMap<String, Vec<String>>)]) {
    let mut names: Vec<&String> = probes.iter().flat_map(|(_, p)| p.keys()).collect();
    names.sort();
    names.dedup();
    let header: Vec<&str> = probes.iter().map(|(n, _)| *n).collect();
    println!("{:<40} {}", "probe", header.join(" | "));
    for name in names {
        let cells: Vec<String> = probes
            .iter()
            .map(|(_, p)| p.get(name).map(|v| v.join(", ")).unwrap_or_default())
            .collect();
        println!("{name:<40} {}", cells.join(" | "));
    }
}

/// The probe binary and the probe image tar in a fresh directory.
fn probe_image(test: &str) -> Option<(tempfile::TempDir, PathBuf, PathBuf)> {
    if !support::require_root(test) {
        return None;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let probe = dockerd::build_probe(dir.path(), test)?;
    let tar = dockerd::probe_image_tar(dir.path(), &probe, |_| {});
    Some((dir, probe, tar))
}

#[test]
fn probes_under_dockerd_show_dockers_defaults() {
    let test = "probes_under_dockerd_show_dockers_defaults";
    let Some((_dir, _probe, tar)) = probe_image(test) else {
        return;
    };
    let Some(docker) = Engine::dockerd(test, &tar) else {
        return;
    };
    let probes = run_probes(&docker);
    print_table(&[("dockerd", &probes)]);
    let broken = check_facts(Kind::Dockerd, &probes);
    assert!(broken.is_empty(), "dockerd breaks:\n{}", broken.join("\n"));
}

#[test]
fn probes_under_berth_match_dockerd() {
    let test = "probes_under_berth_match_dockerd";
    let Some((_dir, _probe, tar)) = probe_image(test) else {
        return;
    };
    let berth = Engine::berth(&tar);
    if !dockerd::berth_runs(&berth, test) {
        return;
    }
    let berth_probes = run_probes(&berth);
    let mut broken = check_facts(Kind::Berth, &berth_probes);
    match Engine::dockerd(test, &tar) {
        Some(docker) => {
            let docker_probes = run_probes(&docker);
            print_table(&[("berth", &berth_probes), ("dockerd", &docker_probes)]);
            broken.extend(differences(&berth_probes, &docker_probes));
        }
        None => print_table(&[("berth", &berth_probes)]),
    }
    assert!(
        broken.is_empty(),
        "berth's isolation differs from Docker's:\n{}",
        broken.join("\n")
    );
}

/// What the malicious images check inside: masking, /proc, /dev/null and the hostname.
const MASKING_CHECK: &str = r#"
echo "keys: $(head -c 64 /proc/keys 2>/dev/null | wc -c)"
echo "timer_list: $(head -c 64 /proc/timer_list 2>/dev/null | wc -c)"
echo "proc type: $(awk '$5 == "/proc" { for (i = 7; $i != "-"; i++) {}; print $(i + 1) }' /proc/self/mountinfo)"
echo "dev/null: $(stat -c '%F %t,%T' /dev/null)"
echo "null content: $(head -c 64 /dev/null | wc -c)"
echo "hostname file: $(cat /etc/hostname)"
echo "kernel hostname: $(cat /proc/sys/kernel/hostname)"
echo "hostname: $(hostname)"
r=$( (echo x > /proc/sys/kernel/hostname) 2>&1 | sed 's/.*: //'); echo "write proc/sys: ${r:-ok}"
"#;

/// Adds a malicious image's entries to the probe image's layer.
type AddEntries = Box<dyn Fn(&mut support::images::LayerTar)>;

/// The malicious images: name and extra layer entries, pointing at `host`.
fn malicious_variants(host: &Path) -> Vec<(&'static str, AddEntries)> {
    let h = host.display().to_string();
    let (proc_target, dev_target, sys_target, file_target) = (
        format!("{h}/proc"),
        format!("{h}/dev"),
        format!("{h}/sys"),
        format!("{h}/file"),
    );
    vec![
        (
            "proc -> host dir",
            Box::new(move |t| {
                t.symlink("proc", &proc_target);
            }),
        ),
        (
            "dev -> host dir",
            Box::new(move |t| {
                t.symlink("dev", &dev_target);
            }),
        ),
        (
            "sys -> host dir",
            Box::new(move |t| {
                t.symlink("sys", &sys_target);
            }),
        ),
        (
            "dev/null -> a file with content",
            Box::new(|t| {
                t.file("tmp/leak", b"LEAK\n", 0o644)
                    .dir("dev", 0o755)
                    .symlink("dev/null", "/tmp/leak");
            }),
        ),
        (
            "etc/hostname -> host file",
            Box::new(move |t| {
                t.symlink("etc/hostname", &file_target)
                    .symlink("etc/hosts", "/proc/sys/kernel/hostname");
            }),
        ),
    ]
}

/// What MASKING_CHECK printed that shows masking redirected.
fn check_masking(engine: &str, variant: &str, stdout: &[u8]) -> Vec<String> {
    let stdout = String::from_utf8_lossy(stdout);
    let probes = parse(&stdout);
    let one = |k: &str| probes.get(k).map(|v| v.join(" | ")).unwrap_or_default();
    let wants = [
        ("keys", "0".to_string()),
        ("timer_list", "0".to_string()),
        ("proc type", "proc".to_string()),
        ("dev/null", "character special file 1,3".to_string()),
        ("null content", "0".to_string()),
        ("hostname file", one("hostname")),
        ("kernel hostname", one("hostname")),
        ("write proc/sys", "Read-only file system".to_string()),
    ];
    wants
        .into_iter()
        .filter(|(key, want)| one(key) != *want)
        .map(|(key, want)| {
            format!(
                "{engine}: {variant}: {key}: want {want:?}, got {:?}\n{stdout}",
                one(key)
            )
        })
        .collect()
}

/// Every line of the host's mountinfo that mentions `path`.
fn host_mounts_under(path: &Path) -> Vec<String> {
    let needle = path.display().to_string();
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains(&needle))
        .map(str::to_string)
        .collect()
}

/// Runs each malicious image on `engine`: the run is refused, or masking holds; the host
/// directory the symlinks point at stays empty and unmounted. Problems found, and what each
/// variant did (for the table).
fn check_malicious(engine: &Engine, dir: &Path, probe: &Path) -> (Vec<String>, Vec<String>) {
    let host = dir.join(format!("host-{}", engine.name()));
    for sub in ["proc", "dev", "sys"] {
        std::fs::create_dir_all(host.join(sub)).expect("host dir");
    }
    std::fs::write(host.join("file"), b"host file\n").expect("host file");
    let mut problems = Vec::new();
    let mut outcomes = Vec::new();
    for (i, (name, extra)) in malicious_variants(&host).into_iter().enumerate() {
        let tar = dockerd::probe_image_tar(dir, probe, |t| extra(t));
        let tag = format!("berth-evil:{i}");
        engine.import(&tar, &tag, &[]);
        let args = [
            "run",
            "--rm",
            "--network",
            "none",
            &tag,
            "sh",
            "-c",
            MASKING_CHECK,
        ];
        match engine.cli_within(&args, Duration::from_secs(30)) {
            None => problems.push(format!(
                "{}: {name}: `run` hung for 30 s (killed); a refused start must end the CLI",
                engine.name()
            )),
            Some(out) if !out.status.success() => outcomes.push(format!(
                "{}: {name}: refused ({}): {}",
                engine.name(),
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            )),
            Some(out) => {
                outcomes.push(format!("{}: {name}: ran, masking checked", engine.name()));
                problems.extend(check_masking(engine.name(), name, &out.stdout));
            }
        }
        for sub in ["proc", "dev", "sys"] {
            let entries = std::fs::read_dir(host.join(sub))
                .map(|d| d.count())
                .unwrap_or(0);
            if entries != 0 {
                problems.push(format!(
                    "{}: {name}: the host's {}/{sub} got {entries} entries",
                    engine.name(),
                    host.display()
                ));
            }
        }
        let content = std::fs::read(host.join("file")).unwrap_or_default();
        if content != b"host file\n" {
            problems.push(format!(
                "{}: {name}: the host file was changed to {:?}",
                engine.name(),
                String::from_utf8_lossy(&content)
            ));
        }
        let mounts = host_mounts_under(&host);
        if !mounts.is_empty() {
            problems.push(format!(
                "{}: {name}: host mounts under {}:\n{}",
                engine.name(),
                host.display(),
                mounts.join("\n")
            ));
            dockerd::unmount_below(&host);
        }
    }
    (problems, outcomes)
}

#[test]
fn malicious_images_cannot_redirect_masking() {
    let test = "malicious_images_cannot_redirect_masking";
    let Some((dir, probe, tar)) = probe_image(test) else {
        return;
    };
    let mut problems = Vec::new();
    let mut outcomes = Vec::new();
    if let Some(docker) = Engine::dockerd(test, &tar) {
        let (p, o) = check_malicious(&docker, dir.path(), &probe);
        problems.extend(p);
        outcomes.extend(o);
    }
    let berth = Engine::berth(&tar);
    if dockerd::berth_runs(&berth, test) {
        let (p, o) = check_malicious(&berth, dir.path(), &probe);
        problems.extend(p);
        outcomes.extend(o);
    }
    println!("{}", outcomes.join("\n"));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
