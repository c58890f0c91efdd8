use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;

use super::*;

/// A container root: /etc/hosts, /etc/sub/f, /link -> /etc (absolute, must resolve inside),
/// /up -> ../../.. (climbs above the root), /hosts-link -> etc/hosts.
fn rootfs() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs::create_dir_all(root.join("etc/sub")).unwrap();
    fs::write(root.join("etc/hosts"), "127.0.0.1 localhost\n").unwrap();
    fs::write(root.join("etc/sub/f"), "f").unwrap();
    symlink("/etc", root.join("link")).unwrap();
    symlink("../../..", root.join("up")).unwrap();
    symlink("etc/hosts", root.join("hosts-link")).unwrap();
    dir
}

fn names(tar_bytes: &[u8]) -> Vec<String> {
    let mut archive = tar::Archive::new(tar_bytes);
    archive
        .entries()
        .unwrap()
        .map(|e| String::from_utf8(e.unwrap().path_bytes().into_owned()).unwrap())
        .collect()
}

#[test]
fn stats_files_dirs_and_symlinks_like_docker() {
    let dir = rootfs();
    let s = stat(dir.path(), "/etc/hosts").unwrap();
    assert_eq!(
        (s.name.as_str(), s.size, s.mode & 0o777),
        ("hosts", 20, 0o644)
    );
    assert_eq!(s.mode & !0o777, 0);
    assert!(
        s.mtime.ends_with('Z') && s.mtime.contains('T'),
        "{}",
        s.mtime
    );

    let s = stat(dir.path(), "/etc/").unwrap();
    assert_eq!(s.name, "etc");
    assert_ne!(s.mode & (1 << 31), 0, "directory bit");

    let s = stat(dir.path(), "/hosts-link").unwrap();
    assert_ne!(s.mode & (1 << 27), 0, "symlink bit");
    assert_eq!(s.link_target, "/etc/hosts");

    // Resolved inside the root: "/up" is the root itself, not the host's /.
    let s = stat(dir.path(), "/up/etc/hosts").unwrap();
    assert_eq!(s.size, 20);
    let s = stat(dir.path(), "/link/sub/f").unwrap();
    assert_eq!(s.size, 1);

    let err = stat(dir.path(), "/nope").unwrap_err();
    assert_eq!(
        err.message("web"),
        "Could not find the file /nope in container web"
    );
}

#[test]
fn tars_a_directory_under_its_base_name_without_following_symlinks() {
    let dir = rootfs();
    let mut out = Vec::new();
    let s = write_tar(dir.path(), "/link/", &mut out).unwrap();
    assert_eq!(s.name, "link");
    assert_eq!(
        names(&out),
        ["link/", "link/hosts", "link/sub/", "link/sub/f"]
    );

    let mut out = Vec::new();
    write_tar(dir.path(), "/etc/.", &mut out).unwrap();
    // the tar writer drops a leading "./" of names below the top
    assert_eq!(names(&out)[..2], ["./", "hosts"]);

    let mut out = Vec::new();
    write_tar(dir.path(), "/hosts-link", &mut out).unwrap();
    let mut archive = tar::Archive::new(out.as_slice());
    let entry = archive.entries().unwrap().next().unwrap().unwrap();
    assert_eq!(entry.header().entry_type(), tar::EntryType::Symlink);
    assert_eq!(
        entry.link_name().unwrap().unwrap().to_str(),
        Some("etc/hosts")
    );
}

#[test]
fn round_trips_through_extract() {
    let src = rootfs();
    let dst = tempfile::tempdir().unwrap();
    fs::create_dir(dst.path().join("target")).unwrap();
    let mut out = Vec::new();
    write_tar(src.path(), "/etc", &mut out).unwrap();
    extract_tar(
        dst.path(),
        "/target",
        out.as_slice(),
        &ExtractOptions::default(),
    )
    .unwrap();
    assert_eq!(
        fs::read_to_string(dst.path().join("target/etc/hosts")).unwrap(),
        "127.0.0.1 localhost\n"
    );
    assert_eq!(
        fs::read_to_string(dst.path().join("target/etc/sub/f")).unwrap(),
        "f"
    );
    let before = fs::metadata(src.path().join("etc/hosts")).unwrap();
    let after = fs::metadata(dst.path().join("target/etc/hosts")).unwrap();
    use std::os::unix::fs::MetadataExt;
    assert_eq!(
        (before.mode(), before.mtime()),
        (after.mode(), after.mtime())
    );

    let err = extract_tar(
        dst.path(),
        "/target/etc/hosts",
        out.as_slice(),
        &ExtractOptions::default(),
    )
    .unwrap_err();
    assert_eq!(err.to_string(), "extraction point is not a directory");
}

fn tar_with(entries: &[(&str, tar::EntryType, &str)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, kind, link) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(*kind);
        h.set_mode(0o644);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(0);
        h.set_size(if *kind == tar::EntryType::Regular {
            3
        } else {
            0
        });
        if *kind == tar::EntryType::Regular {
            // set_path refuses "..": write the raw name as a hostile archive would
            let bytes = name.as_bytes();
            h.as_old_mut().name[..bytes.len()].copy_from_slice(bytes);
            h.set_cksum();
            b.append(&h, &b"bad"[..]).unwrap();
        } else {
            b.append_link(&mut h, name, link).unwrap();
        }
    }
    b.into_inner().unwrap()
}

#[test]
fn refuses_escapes() {
    let outer = tempfile::tempdir().unwrap();
    let root = outer.path().join("root");
    fs::create_dir_all(root.join("dst")).unwrap();
    // A symlink in the container pointing at "/" must lead to the container's root.
    symlink("/", root.join("dst/hostroot")).unwrap();
    let opts = ExtractOptions::default();

    let err = extract_tar(
        &root,
        "/dst",
        tar_with(&[("../../x", tar::EntryType::Regular, "")]).as_slice(),
        &opts,
    )
    .unwrap_err();
    assert!(err.to_string().contains("is outside of"), "{err}");
    assert!(!outer.path().join("x").exists());

    extract_tar(
        &root,
        "/dst",
        tar_with(&[("hostroot/evil", tar::EntryType::Regular, "")]).as_slice(),
        &opts,
    )
    .unwrap();
    assert!(
        root.join("evil").exists(),
        "written inside the container's root"
    );
    assert!(!Path::new("/evil").exists());

    let err = extract_tar(
        &root,
        "/dst",
        tar_with(&[("s", tar::EntryType::Symlink, "../../etc")]).as_slice(),
        &opts,
    )
    .unwrap_err();
    assert!(err.to_string().contains("invalid symlink"), "{err}");

    let err = extract_tar(
        &root,
        "/dst",
        tar_with(&[("h", tar::EntryType::Link, "../../etc/passwd")]).as_slice(),
        &opts,
    )
    .unwrap_err();
    assert!(err.to_string().contains("invalid hardlink"), "{err}");
}

#[test]
fn no_overwrite_dir_non_dir_refuses_replacing_a_directory() {
    let dir = rootfs();
    let opts = ExtractOptions {
        no_overwrite_dir_non_dir: true,
        chown: None,
    };
    let err = extract_tar(
        dir.path(),
        "/etc",
        tar_with(&[("sub", tar::EntryType::Regular, "")]).as_slice(),
        &opts,
    )
    .unwrap_err();
    assert!(
        err.to_string().starts_with("cannot overwrite directory"),
        "{err}"
    );
    assert!(dir.path().join("etc/sub/f").exists());
}
