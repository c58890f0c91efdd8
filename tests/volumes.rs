//! Volumes against a real berth daemon and real busybox containers (berth's own CLI):
//! data kept across containers, copy-up of an image's `VOLUME` content (and `nocopy`),
//! `rm -v` and prune removing exactly the anonymous / unused volumes, a volume in use
//! refused removal (409), tmpfs and bind driver options (nothing left mounted after `rm`),
//! `volume-subpath` and read-only mounts.
//!
//! Needs root and busybox-static; each missing piece is a LOUD skip.

mod support;

use std::process::Output;

use support::daemon::{unix_request, Daemon};
use support::images::fixtures;

const IMAGE: &str = "busybox:vol";

fn setup(test: &str) -> Option<Daemon> {
    if !support::require_root(test) {
        return None;
    }
    if !std::path::Path::new("/bin/busybox").exists() {
        eprintln!("SKIPPED (LOUD): {test}: busybox-static is not installed at /bin/busybox");
        return None;
    }
    let d = Daemon::start();
    let tar = d.scratch().join("rootfs.tar");
    std::fs::write(&tar, image_with_data()).expect("write rootfs tar");
    d.berth_ok(&[
        "import",
        "-c",
        "VOLUME /data",
        &tar.display().to_string(),
        IMAGE,
    ]);
    Some(d)
}

/// busybox plus `/data` (mode 0750, owned by 1000:1000) holding `hello` and a symlink.
fn image_with_data() -> Vec<u8> {
    let base = fixtures::busybox_rootfs_tar();
    let mut out = tar::Builder::new(Vec::new());
    let mut archive = tar::Archive::new(&base[..]);
    for entry in archive.entries().expect("busybox tar") {
        let mut entry = entry.expect("entry");
        let header = entry.header().clone();
        out.append(&header, &mut entry).expect("copy entry");
    }
    let mut dir = tar::Header::new_gnu();
    dir.set_entry_type(tar::EntryType::Directory);
    dir.set_path("data/").unwrap();
    dir.set_mode(0o750);
    dir.set_uid(1000);
    dir.set_gid(1000);
    dir.set_size(0);
    dir.set_cksum();
    out.append(&dir, std::io::empty()).unwrap();
    let mut file = tar::Header::new_gnu();
    file.set_path("data/hello").unwrap();
    file.set_mode(0o640);
    file.set_uid(1000);
    file.set_gid(1000);
    file.set_size(6);
    file.set_cksum();
    out.append(&file, &b"hello\n"[..]).unwrap();
    let mut link = tar::Header::new_gnu();
    link.set_entry_type(tar::EntryType::Symlink);
    link.set_path("data/link").unwrap();
    link.set_link_name("hello").unwrap();
    link.set_mode(0o777);
    link.set_size(0);
    link.set_cksum();
    out.append(&link, std::io::empty()).unwrap();
    out.into_inner().expect("tar")
}

fn run_sh(d: &Daemon, opts: &[&str], script: &str) -> Output {
    let mut args = vec!["run", "--rm", "--network", "none"];
    args.extend_from_slice(opts);
    args.extend_from_slice(&[IMAGE, "sh", "-c", script]);
    d.berth(&args)
}

fn run_ok(d: &Daemon, opts: &[&str], script: &str) -> String {
    let out = run_sh(d, opts, script);
    support::stdout_ok(&format!("run {opts:?} {script}"), &out)
}

fn volume_names(d: &Daemon) -> Vec<String> {
    let mut names: Vec<String> = d
        .berth_ok(&["volume", "ls", "-q"])
        .lines()
        .map(str::to_owned)
        .collect();
    names.sort();
    names
}

/// No mount of this daemon's state root is left behind.
fn assert_no_mounts_under(d: &Daemon) {
    let root = d.root().display().to_string();
    let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let left: Vec<&str> = info.lines().filter(|l| l.contains(&root)).collect();
    assert!(left.is_empty(), "mounts left under {root}: {left:#?}");
}

#[test]
fn named_volume_data_outlives_its_containers() {
    let Some(d) = setup("named_volume_data_outlives_its_containers") else {
        return;
    };
    run_ok(&d, &["-v", "keep:/store"], "echo kept > /store/f");
    assert_eq!(run_ok(&d, &["-v", "keep:/store"], "cat /store/f"), "kept\n");
    let v: serde_json::Value =
        serde_json::from_str(&d.berth_ok(&["volume", "inspect", "keep"])).unwrap();
    let mountpoint = d.root().join("volumes/keep/_data");
    assert_eq!(v[0]["Mountpoint"], mountpoint.display().to_string());
    assert_eq!(
        std::fs::read_to_string(mountpoint.join("f")).unwrap(),
        "kept\n"
    );
    // The image's anonymous `/data` volumes of the two --rm runs went with them.
    assert_eq!(volume_names(&d), ["keep"]);
}

#[test]
fn image_content_is_copied_into_a_new_volume_unless_nocopy() {
    let Some(d) = setup("image_content_is_copied_into_a_new_volume_unless_nocopy") else {
        return;
    };
    let out = run_ok(
        &d,
        &["-v", "seeded:/data"],
        "cat /data/hello; readlink /data/link; stat -c '%a %u:%g' /data /data/hello",
    );
    assert_eq!(out, "hello\nhello\n750 1000:1000\n640 1000:1000\n");
    // A volume with content is not copied into again.
    run_ok(
        &d,
        &["-v", "seeded:/data"],
        "rm /data/hello; echo mine > /data/own",
    );
    let out = run_ok(&d, &["-v", "seeded:/data"], "ls /data");
    assert_eq!(out, "link\nown\n");
    let out = run_ok(&d, &["-v", "bare:/data:nocopy"], "ls -A /data | wc -l");
    assert_eq!(out.trim(), "0");
}

#[test]
fn rm_v_removes_anonymous_volumes_and_keeps_named_ones() {
    let Some(d) = setup("rm_v_removes_anonymous_volumes_and_keeps_named_ones") else {
        return;
    };
    let id = d
        .berth_ok(&[
            "create",
            "--network",
            "none",
            "-v",
            "named1:/n",
            "-v",
            "/anon",
            IMAGE,
            "true",
        ])
        .trim()
        .to_owned();
    let inspect = support::daemon::get_json(&d.socket(), &format!("/containers/{id}/json"));
    let mounts = inspect["Mounts"].as_array().expect("Mounts");
    assert_eq!(mounts.len(), 3, "{mounts:#?}");
    let anon: Vec<String> = mounts
        .iter()
        .filter(|m| m["Name"] != "named1")
        .map(|m| m["Name"].as_str().unwrap().to_owned())
        .collect();
    for m in mounts {
        assert_eq!(m["Type"], "volume");
        assert_eq!(m["Driver"], "local");
        let name = m["Name"].as_str().unwrap();
        let source = d.root().join("volumes").join(name).join("_data");
        assert_eq!(m["Source"], source.display().to_string());
    }
    assert!(anon.iter().all(|n| n.len() == 64));
    let named = mounts.iter().find(|m| m["Name"] == "named1").unwrap();
    assert_eq!(named["Mode"], "z");
    assert_eq!(named["RW"], true);
    // In use by a (stopped) container: 409 with Docker's words.
    let (status, body) =
        unix_request(&d.socket(), "DELETE", "/v1.43/volumes/named1").expect("answer");
    assert_eq!(status, 409);
    let message = String::from_utf8_lossy(&body);
    assert!(
        message.contains(&format!("remove named1: volume is in use - [{id}]")),
        "{message}"
    );
    let ps = d.berth_ok(&["ps", "-a", "-q", "--no-trunc", "--filter", "volume=named1"]);
    assert_eq!(ps.trim(), id);
    d.berth_ok(&["rm", "-v", &id]);
    assert_eq!(volume_names(&d), ["named1"]);
    d.berth_ok(&["volume", "rm", "named1"]);
    assert!(volume_names(&d).is_empty());
}

#[test]
fn prune_removes_exactly_the_unused_anonymous_volumes() {
    let Some(d) = setup("prune_removes_exactly_the_unused_anonymous_volumes") else {
        return;
    };
    d.berth_ok(&["volume", "create", "named-free"]);
    let used = d
        .berth_ok(&["create", "--network", "none", "-v", "/x", IMAGE, "true"])
        .trim()
        .to_owned();
    let kept = d
        .berth_ok(&["create", "--network", "none", "-v", "/y", IMAGE, "true"])
        .trim()
        .to_owned();
    // `rm` without -v leaves the container's anonymous volumes behind, unused.
    d.berth_ok(&["rm", &kept]);
    // Each container has two anonymous volumes: its `-v` one and the image's `/data`.
    let before = volume_names(&d);
    assert_eq!(before.len(), 5, "{before:?}");
    let out = d.berth_ok(&["volume", "prune", "-f"]);
    assert!(out.starts_with("Deleted Volumes:\n"), "{out}");
    let after = volume_names(&d);
    // The anonymous volumes of the removed container went: /y and the image's /data.
    assert_eq!(after.len(), 3, "{after:?}");
    assert!(after.contains(&"named-free".to_string()));
    let out = d.berth_ok(&["volume", "prune", "-f", "-a"]);
    assert!(out.contains("named-free"), "{out}");
    assert_eq!(volume_names(&d).len(), 2);
    d.berth_ok(&["rm", "-v", &used]);
    assert!(volume_names(&d).is_empty());
}

#[test]
fn tmpfs_and_bind_driver_options_mount_and_leave_nothing_behind() {
    let Some(d) = setup("tmpfs_and_bind_driver_options_mount_and_leave_nothing_behind") else {
        return;
    };
    d.berth_ok(&[
        "volume",
        "create",
        "--opt",
        "type=tmpfs",
        "--opt",
        "device=tmpfs",
        "--opt",
        "o=size=1m",
        "tmpv",
    ]);
    let out = run_ok(&d, &["-v", "tmpv:/t"], "grep ' /t ' /proc/mounts");
    assert!(out.starts_with("tmpfs /t tmpfs"), "{out}");
    assert!(out.contains("size=1024k"), "{out}");
    assert_no_mounts_under(&d);

    let host = tempfile::tempdir().unwrap();
    std::fs::write(host.path().join("from-host"), b"yes\n").unwrap();
    let device = format!("device={}", host.path().display());
    d.berth_ok(&[
        "volume",
        "create",
        "--opt",
        "type=none",
        "--opt",
        "o=bind",
        "--opt",
        &device,
        "bindv",
    ]);
    let out = run_ok(
        &d,
        &["-v", "bindv:/b"],
        "cat /b/from-host; echo back > /b/from-ctr",
    );
    assert_eq!(out, "yes\n");
    assert_eq!(
        std::fs::read_to_string(host.path().join("from-ctr")).unwrap(),
        "back\n"
    );
    // While a container runs the device stays mounted; removal waits for it.
    let id = d
        .berth_ok(&[
            "run",
            "-d",
            "--network",
            "none",
            "-v",
            "tmpv:/t",
            IMAGE,
            "sleep",
            "300",
        ])
        .trim()
        .to_owned();
    assert!(d.berth(&["volume", "rm", "tmpv"]).status.code() == Some(1));
    d.berth_ok(&["rm", "-f", &id]);
    d.berth_ok(&["volume", "rm", "tmpv", "bindv"]);
    assert_no_mounts_under(&d);
    assert!(
        host.path().join("from-host").exists(),
        "a bind volume's rm keeps the host data"
    );
}

#[test]
fn subpath_and_read_only_mounts() {
    let Some(d) = setup("subpath_and_read_only_mounts") else {
        return;
    };
    run_ok(
        &d,
        &["-v", "sp:/v"],
        "mkdir /v/sub && echo inner > /v/sub/f",
    );
    // berth's own `--mount` parser does not take `volume-subpath` yet: the docker CLI does.
    if support::require_tool("docker", "subpath_and_read_only_mounts (subpath part)") {
        let docker_run = |sub: &str, script: &str| {
            let mount = format!("type=volume,src=sp,dst=/s,volume-subpath={sub}");
            d.docker(&[
                "run",
                "--rm",
                "--network",
                "none",
                "--mount",
                &mount,
                IMAGE,
                "sh",
                "-c",
                script,
            ])
        };
        let out = docker_run("sub", "cat /s/f");
        assert_eq!(
            support::stdout_ok("docker run with a subpath", &out),
            "inner\n"
        );
        let out = docker_run("missing", "true");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert!(err.contains("cannot access path"), "{err}");
    }
    let out = run_sh(&d, &["-v", "sp:/v:ro"], "echo x > /v/new");
    assert!(!out.status.success(), "a read-only volume took a write");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Read-only file system"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
