use std::fs::{self, File};
use std::time::{Duration, SystemTime};

use nix::sys::stat::{makedev, mknod, Mode, SFlag};

use super::*;

fn set_mtime(path: &Path, secs: u64) {
    let t = SystemTime::UNIX_EPOCH + Duration::from_secs(secs);
    File::open(path).unwrap().set_modified(t).unwrap();
}

fn kinds(changes: &[FilesystemChange]) -> Vec<(String, u8)> {
    changes.iter().map(|c| (c.path.clone(), c.kind)).collect()
}

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// lower: /etc/{passwd,old}, /opt/d/f, /var/lib/x. Returns (tempdir, upper, lower).
fn layers() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let (upper, lower) = (dir.path().join("upper"), dir.path().join("lower"));
    for d in ["etc", "opt/d", "var/lib"] {
        fs::create_dir_all(lower.join(d)).unwrap();
    }
    for f in ["etc/passwd", "etc/old", "opt/d/f", "var/lib/x"] {
        fs::write(lower.join(f), "lower").unwrap();
    }
    for d in ["etc", "tmp", "var/lib"] {
        fs::create_dir_all(upper.join(d)).unwrap();
    }
    fs::write(upper.join("etc/passwd"), "changed").unwrap();
    fs::write(upper.join("etc/new"), "new").unwrap();
    fs::write(upper.join("tmp/new"), "new").unwrap();
    fs::write(upper.join("var/lib/y"), "new").unwrap();
    // /var and /var/lib look exactly like below: only the parent rule reports /var/lib.
    for d in ["var/lib", "var"] {
        set_mtime(&lower.join(d), 1_000_000);
        set_mtime(&upper.join(d), 1_000_000);
    }
    set_mtime(&upper.join("etc"), 2_000_000);
    (dir, upper, lower)
}

#[test]
fn reports_added_modified_and_parents_in_walk_order() {
    let (_dir, upper, lower) = layers();
    let got = kinds(&changes(&upper, &[lower]).unwrap());
    let want: Vec<(String, u8)> = [
        ("/etc", MODIFIED),
        ("/etc/new", ADDED),
        ("/etc/passwd", MODIFIED),
        ("/tmp", ADDED),
        ("/tmp/new", ADDED),
        ("/var/lib", MODIFIED),
        ("/var/lib/y", ADDED),
    ]
    .iter()
    .map(|(p, k)| (p.to_string(), *k))
    .collect();
    assert_eq!(got, want);
}

#[test]
fn reports_whiteouts_and_opaque_directories_as_deleted() {
    if !is_root() {
        eprintln!("SKIPPED (needs root for mknod and trusted.* xattrs)");
        return;
    }
    let (_dir, upper, lower) = layers();
    mknod(
        &upper.join("etc/old"),
        SFlag::S_IFCHR,
        Mode::empty(),
        makedev(0, 0),
    )
    .unwrap();
    fs::create_dir_all(upper.join("opt/d")).unwrap();
    fs::write(upper.join("opt/d/f"), "again").unwrap();
    xattr::set(upper.join("opt/d"), OPAQUE_XATTR, b"y").unwrap();
    set_mtime(&upper.join("opt"), 2_000_000);
    // the xattr form of a whiteout, for a file that only the lower layer has
    fs::write(upper.join("var/lib/x"), "").unwrap();
    xattr::set(upper.join("var/lib/x"), WHITEOUT_XATTR, b"").unwrap();
    set_mtime(&upper.join("var/lib"), 1_000_000);

    let got = kinds(&changes(&upper, &[lower]).unwrap());
    let want: Vec<(String, u8)> = [
        ("/etc", MODIFIED),
        ("/etc/new", ADDED),
        ("/etc/old", DELETED),
        ("/etc/passwd", MODIFIED),
        ("/opt", MODIFIED),
        ("/opt/d", DELETED),
        ("/opt/d/f", ADDED),
        ("/tmp", ADDED),
        ("/tmp/new", ADDED),
        ("/var/lib", MODIFIED),
        ("/var/lib/x", DELETED),
        ("/var/lib/y", ADDED),
    ]
    .iter()
    .map(|(p, k)| (p.to_string(), *k))
    .collect();
    assert_eq!(got, want);
}

#[test]
fn a_whiteout_in_a_higher_lower_layer_hides_the_layers_below() {
    if !is_root() {
        eprintln!("SKIPPED (needs root for mknod)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (upper, top, bottom) = (
        dir.path().join("u"),
        dir.path().join("top"),
        dir.path().join("bottom"),
    );
    for d in [&upper, &top, &bottom] {
        fs::create_dir(d).unwrap();
    }
    fs::write(bottom.join("gone"), "x").unwrap();
    fs::write(bottom.join("kept"), "x").unwrap();
    mknod(
        &top.join("gone"),
        SFlag::S_IFCHR,
        Mode::empty(),
        makedev(0, 0),
    )
    .unwrap();
    fs::write(upper.join("gone"), "back").unwrap();
    fs::write(upper.join("kept"), "changed").unwrap();
    let got = kinds(&changes(&upper, &[top, bottom]).unwrap());
    assert_eq!(
        got,
        [
            ("/gone".to_string(), ADDED),
            ("/kept".to_string(), MODIFIED)
        ]
    );
}
