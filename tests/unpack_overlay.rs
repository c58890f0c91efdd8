//! Root integration test: two unpacked layers stacked by a real overlayfs mount must show the
//! whiteout's file as deleted and the opaque directory's lower contents as hidden. This is the
//! proof that `image::unpack` writes whiteouts in the form the kernel reads.

use std::fs;
use std::path::{Path, PathBuf};

use berth::image::digest::Digest;
use berth::image::unpack::unpack_layer;

/// An overlayfs mount, unmounted on drop (before the tempdir under it goes).
struct Mounted {
    target: PathBuf,
}

impl Drop for Mounted {
    fn drop(&mut self) {
        if let Err(e) = nix::mount::umount2(&self.target, nix::mount::MntFlags::MNT_DETACH) {
            eprintln!("unmounting {}: {e}", self.target.display());
        }
    }
}

fn mount_overlay(lower: &[&Path], target: &Path) -> Mounted {
    // The first lowerdir is the top layer.
    let dirs: Vec<String> = lower.iter().map(|p| p.display().to_string()).collect();
    let options = format!("lowerdir={}", dirs.join(":"));
    nix::mount::mount(
        Some("overlay"),
        target,
        Some("overlay"),
        nix::mount::MsFlags::MS_RDONLY,
        Some(options.as_str()),
    )
    .unwrap_or_else(|e| panic!("mount -t overlay -o {options}: {e}"));
    Mounted {
        target: target.to_path_buf(),
    }
}

struct Layer(tar::Builder<Vec<u8>>);

impl Layer {
    fn new() -> Layer {
        Layer(tar::Builder::new(Vec::new()))
    }

    fn add(mut self, name: &str, kind: tar::EntryType, data: &[u8]) -> Layer {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_mode(if kind == tar::EntryType::Directory {
            0o755
        } else {
            0o644
        });
        h.set_mtime(1_600_000_000);
        h.set_size(data.len() as u64);
        self.0.append_data(&mut h, name, data).unwrap();
        self
    }

    fn dir(self, name: &str) -> Layer {
        self.add(name, tar::EntryType::Directory, b"")
    }

    fn file(self, name: &str, data: &[u8]) -> Layer {
        self.add(name, tar::EntryType::Regular, data)
    }

    fn gzip(self) -> (Vec<u8>, Digest) {
        let plain = self.0.into_inner().unwrap();
        let diff_id = Digest::of_bytes(&plain);
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut enc, &plain).unwrap();
        (enc.finish().unwrap(), diff_id)
    }
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn whiteouts_and_opaque_dirs_work_under_overlayfs() {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("!!!!! SKIPPED unpack_overlay: needs root (mknod, trusted xattrs, mount) !!!!!");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (lower_dir, upper_dir, mnt) = (
        tmp.path().join("lower"),
        tmp.path().join("upper"),
        tmp.path().join("mnt"),
    );
    for d in [&lower_dir, &upper_dir, &mnt] {
        fs::create_dir(d).unwrap();
    }
    let (lower, lower_id) = Layer::new()
        .dir("etc/")
        .file("etc/keep", b"keep")
        .file("etc/gone", b"bye")
        .dir("opq/")
        .file("opq/old", b"old")
        .dir("opq/sub/")
        .file("opq/sub/deep", b"deep")
        .gzip();
    let (upper, upper_id) = Layer::new()
        .dir("etc/")
        .file("etc/.wh.gone", b"")
        .dir("opq/")
        .file("opq/.wh..wh..opq", b"")
        .file("opq/new", b"new")
        .gzip();
    assert_eq!(
        unpack_layer(&lower[..], &lower_dir).unwrap().diff_id,
        lower_id
    );
    assert_eq!(
        unpack_layer(&upper[..], &upper_dir).unwrap().diff_id,
        upper_id
    );

    let _mounted = mount_overlay(&[&upper_dir, &lower_dir], &mnt);
    assert_eq!(fs::read(mnt.join("etc/keep")).unwrap(), b"keep");
    assert!(
        !mnt.join("etc/gone").exists(),
        "whiteout did not delete etc/gone"
    );
    assert_eq!(names(&mnt.join("etc")), ["keep"]);
    assert_eq!(
        names(&mnt.join("opq")),
        ["new"],
        "opaque dir shows lower contents"
    );
    assert_eq!(fs::read(mnt.join("opq/new")).unwrap(), b"new");
}
