//! Real processes under berth's capabilities and seccomp filter: the filter compiled from
//! Docker's default profile is installed in a child (with `no_new_privs`, so no root is
//! needed) and the kernel's verdicts are checked; as root, the default capability set is
//! applied and read back from /proc/self/status.

use std::path::Path;
use std::process::{Command, Output};

use berth::engine::security::caps::{self, CapSet};
use berth::engine::security::seccomp::{self, command_with_filter, BpfProgram, Profile};
use berth::engine::security::Confinement;

const BUSYBOX: &str = "/bin/busybox";

fn default_program() -> BpfProgram {
    let profile = Profile::docker_default().expect("default profile");
    seccomp::program_for(&profile, CapSet::docker_default()).expect("compiles")
}

fn run_filtered(program: &BpfProgram, args: &[&str]) -> Output {
    let mut cmd = Command::new(args[0]);
    cmd.args(&args[1..]);
    command_with_filter(&mut cmd, program, true);
    cmd.output().expect("spawn")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

#[test]
fn default_filter_allows_ordinary_programs() {
    let program = default_program();
    let out = run_filtered(&program, &[BUSYBOX, "true"]);
    assert!(out.status.success(), "{out:?}");
    let out = run_filtered(
        &program,
        &[BUSYBOX, "sh", "-c", "echo hi | cat; ls / >/dev/null"],
    );
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hi\n");
}

#[test]
fn default_filter_refuses_unshare_and_mount_with_eperm() {
    let program = default_program();
    let out = run_filtered(&program, &[BUSYBOX, "unshare", "-U", "true"]);
    assert!(!out.status.success(), "{out:?}");
    assert!(
        stderr(&out).contains("Operation not permitted"),
        "{}",
        stderr(&out)
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let target = dir.path().to_str().expect("utf-8 path");
    let out = run_filtered(&program, &[BUSYBOX, "mount", "-t", "tmpfs", "none", target]);
    if out.status.success() {
        // Leave no mount behind even when the filter failed to stop it.
        let _ = nix::mount::umount(dir.path());
        panic!("mount was allowed: {out:?}");
    }
    // busybox words EPERM from mount(2) as "permission denied (are you root?)".
    assert!(
        stderr(&out).contains("permission denied"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn default_filter_checks_personality_arguments() {
    if !Path::new("/usr/bin/setarch").exists() {
        eprintln!("SKIPPED (no /usr/bin/setarch)");
        return;
    }
    let program = default_program();
    // personality(PER_LINUX) is allowed; ADDR_NO_RANDOMIZE is not in the profile's list.
    let out = run_filtered(
        &program,
        &["/usr/bin/setarch", std::env::consts::ARCH, BUSYBOX, "true"],
    );
    assert!(out.status.success(), "{out:?}");
    let out = run_filtered(
        &program,
        &[
            "/usr/bin/setarch",
            std::env::consts::ARCH,
            "-R",
            BUSYBOX,
            "true",
        ],
    );
    assert!(!out.status.success(), "{out:?}");
    assert!(
        stderr(&out).contains("Operation not permitted"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn sys_admin_filter_allows_unshare() {
    if !is_root() {
        eprintln!("SKIPPED (not root): user namespaces may be refused to other users anyway");
        return;
    }
    let mut caps = CapSet::docker_default();
    caps.insert(caps::parse_name("SYS_ADMIN").expect("known"));
    let profile = Profile::docker_default().expect("default profile");
    let program = seccomp::program_for(&profile, caps).expect("compiles");
    let out = run_filtered(&program, &[BUSYBOX, "unshare", "-U", "true"]);
    assert!(out.status.success(), "{out:?}");
}

fn status_caps(confinement: Confinement) -> Vec<String> {
    let mut cmd = Command::new(BUSYBOX);
    cmd.args(["grep", "^Cap", "/proc/self/status"]);
    confinement.apply_to_command(&mut cmd);
    let out = cmd.output().expect("spawn");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

#[test]
fn default_capabilities_match_dockers_mask() {
    if !is_root() {
        eprintln!("SKIPPED (not root)");
        return;
    }
    let lines = status_caps(Confinement {
        caps: Some(CapSet::docker_default()),
        last_cap: caps::kernel_last_cap(),
        no_new_privs: false,
        seccomp: None,
    });
    assert_eq!(
        lines,
        [
            "CapInh: 0000000000000000",
            "CapPrm: 00000000a80425fb",
            "CapEff: 00000000a80425fb",
            "CapBnd: 00000000a80425fb",
            "CapAmb: 0000000000000000",
        ]
    );
}

#[test]
fn dropped_capabilities_and_filter_together() {
    if !is_root() {
        eprintln!("SKIPPED (not root)");
        return;
    }
    let last_cap = caps::kernel_last_cap();
    let set = caps::tweak(
        CapSet::docker_default(),
        &["NET_ADMIN".to_string()],
        &["ALL".to_string()],
        false,
        last_cap,
    )
    .expect("valid");
    let lines = status_caps(Confinement {
        caps: Some(set),
        last_cap,
        no_new_privs: false,
        seccomp: Some(default_program()),
    });
    assert!(
        lines.contains(&"CapBnd: 0000000000001000".to_string()),
        "{lines:?}"
    );
    assert!(
        lines.contains(&"CapEff: 0000000000001000".to_string()),
        "{lines:?}"
    );

    // The filter is on too: without CAP_SYS_ADMIN, no_new_privs was set for it.
    let mut cmd = Command::new(BUSYBOX);
    cmd.args(["grep", "NoNewPrivs", "/proc/self/status"]);
    Confinement {
        caps: Some(set),
        last_cap,
        no_new_privs: false,
        seccomp: Some(default_program()),
    }
    .apply_to_command(&mut cmd);
    let out = cmd.output().expect("spawn");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("NoNewPrivs:\t1"),
        "{out:?}"
    );
    let mut cmd = Command::new(BUSYBOX);
    cmd.args(["grep", "Seccomp:", "/proc/self/status"]);
    Confinement {
        caps: Some(set),
        last_cap,
        no_new_privs: false,
        seccomp: Some(default_program()),
    }
    .apply_to_command(&mut cmd);
    let out = cmd.output().expect("spawn");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Seccomp:\t2"),
        "{out:?}"
    );
}
