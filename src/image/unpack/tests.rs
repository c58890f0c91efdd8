//! Unit tests of layer unpacking, on tar streams built in memory. Devices, whiteouts,
//! ownership and the opaque xattr need root; those tests say so loudly when not root.

use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use tar::EntryType;

use super::*;

const T0: u64 = 1_600_000_000;

/// A tar stream under construction. Names are written raw into the header, so that hostile
/// names (`../x`, `/x`) that the tar crate's own setters refuse can be built too.
struct Layer(tar::Builder<Vec<u8>>);

/// One entry's header fields, with defaults for the rest.
struct E<'a> {
    name: &'a str,
    kind: EntryType,
    mode: u32,
    uid: u64,
    gid: u64,
    mtime: u64,
    link: &'a str,
    dev: (u32, u32),
    data: &'a [u8],
}

fn e(name: &str, kind: EntryType) -> E<'_> {
    E {
        name,
        kind,
        mode: if kind == EntryType::Directory {
            0o755
        } else {
            0o644
        },
        uid: 0,
        gid: 0,
        mtime: T0,
        link: "",
        dev: (0, 0),
        data: b"",
    }
}

impl Layer {
    fn new() -> Layer {
        Layer(tar::Builder::new(Vec::new()))
    }

    fn add(mut self, e: E<'_>) -> Layer {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(e.kind);
        h.set_mode(e.mode);
        h.set_uid(e.uid);
        h.set_gid(e.gid);
        h.set_mtime(e.mtime);
        h.set_size(e.data.len() as u64);
        h.set_device_major(e.dev.0).unwrap();
        h.set_device_minor(e.dev.1).unwrap();
        h.as_old_mut().name[..e.name.len()].copy_from_slice(e.name.as_bytes());
        h.as_old_mut().linkname[..e.link.len()].copy_from_slice(e.link.as_bytes());
        h.set_cksum();
        self.0.append(&h, e.data).unwrap();
        self
    }

    fn dir(self, name: &str) -> Layer {
        self.add(e(name, EntryType::Directory))
    }

    fn file(self, name: &str, data: &[u8]) -> Layer {
        self.add(E {
            data,
            ..e(name, EntryType::Regular)
        })
    }

    fn symlink(self, name: &str, target: &str) -> Layer {
        self.add(E {
            link: target,
            mode: 0o777,
            ..e(name, EntryType::Symlink)
        })
    }

    fn hard_link(self, name: &str, target: &str) -> Layer {
        self.add(E {
            link: target,
            ..e(name, EntryType::Link)
        })
    }

    /// PAX records for the next entry.
    fn pax(mut self, records: &[(&str, &[u8])]) -> Layer {
        self.0
            .append_pax_extensions(records.iter().map(|(k, v)| (*k, *v)))
            .unwrap();
        self
    }

    fn finish(self) -> Vec<u8> {
        self.0.into_inner().unwrap()
    }
}

/// A tempdir holding only the layer directory `layer`, so escapes show up as extra names.
struct Sandbox {
    parent: tempfile::TempDir,
    dest: PathBuf,
}

fn sandbox() -> Sandbox {
    let parent = tempfile::tempdir().unwrap();
    let dest = parent.path().join("layer");
    fs::create_dir(&dest).unwrap();
    Sandbox { parent, dest }
}

impl Sandbox {
    fn unpack(&self, blob: &[u8]) -> Result<Unpacked, UnpackError> {
        unpack_layer(blob, &self.dest)
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dest.join(rel)
    }

    /// Asserts that the parent holds nothing but the layer directory and `allowed`.
    fn assert_nothing_outside(&self, allowed: &[&str]) {
        let mut names: Vec<String> = fs::read_dir(self.parent.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        let mut expected: Vec<String> = allowed.iter().map(|s| s.to_string()).collect();
        expected.push("layer".into());
        expected.sort();
        assert_eq!(names, expected);
    }
}

fn is_root() -> bool {
    if nix::unistd::geteuid().is_root() {
        return true;
    }
    eprintln!("!!!!! SKIPPED: this unpack test needs root (mknod, chown, trusted xattrs) !!!!!");
    false
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

fn zstd(data: &[u8]) -> Vec<u8> {
    zstd::encode_all(data, 3).unwrap()
}

#[test]
fn compression_is_detected_by_magic_bytes() {
    assert_eq!(detect_compression(&[0x1f, 0x8b, 8, 0]), Compression::Gzip);
    assert_eq!(
        detect_compression(&[0x28, 0xb5, 0x2f, 0xfd]),
        Compression::Zstd
    );
    assert_eq!(detect_compression(b"usr/"), Compression::None);
    assert_eq!(detect_compression(&[0x28, 0xb5, 0x2f]), Compression::None);
    assert_eq!(detect_compression(&[0x1f]), Compression::None);
    assert_eq!(detect_compression(&[]), Compression::None);
}

#[test]
fn plain_gzip_and_zstd_give_the_diff_id_of_the_plain_tar() {
    let mut plain = Layer::new().dir("a/").file("a/f", &[7u8; 3000]).finish();
    // Padding after the end-of-archive blocks is part of the stream, hence of the digest.
    plain.extend_from_slice(&[0u8; 10240]);
    let expected = Digest::of_bytes(&plain);
    let mut two_members = gzip(&plain[..1000]);
    two_members.extend(gzip(&plain[1000..]));
    for blob in [plain.clone(), gzip(&plain), zstd(&plain), two_members] {
        let sb = sandbox();
        let unpacked = sb.unpack(&blob).unwrap();
        assert_eq!(unpacked.diff_id, expected);
        assert_eq!(unpacked.size, plain.len() as u64);
        assert_eq!(fs::read(sb.path("a/f")).unwrap(), vec![7u8; 3000]);
    }
}

#[test]
fn large_files_cross_chunk_boundaries_intact() {
    let data: Vec<u8> = (0..3 * stream::CHUNK + 12345)
        .map(|i| (i % 251) as u8)
        .collect();
    let plain = Layer::new().file("big", &data).file("small", b"s").finish();
    let sb = sandbox();
    let unpacked = sb.unpack(&gzip(&plain)).unwrap();
    assert_eq!(unpacked.diff_id, Digest::of_bytes(&plain));
    assert_eq!(fs::read(sb.path("big")).unwrap(), data);
    assert_eq!(fs::read(sb.path("small")).unwrap(), b"s");
}

#[test]
fn files_dirs_symlinks_and_hard_links_are_created() {
    let plain = Layer::new()
        .dir("d/")
        .file("d/f", b"hello")
        .symlink("d/rel", "f")
        .symlink("abs", "/etc/passwd")
        .hard_link("d/h", "d/f")
        .finish();
    let sb = sandbox();
    sb.unpack(&plain).unwrap();
    assert!(fs::symlink_metadata(sb.path("d")).unwrap().is_dir());
    assert_eq!(fs::read(sb.path("d/f")).unwrap(), b"hello");
    assert_eq!(fs::read_link(sb.path("d/rel")).unwrap(), Path::new("f"));
    // An absolute symlink is only data: created as is, never followed.
    assert_eq!(
        fs::read_link(sb.path("abs")).unwrap(),
        Path::new("/etc/passwd")
    );
    let f = fs::metadata(sb.path("d/f")).unwrap();
    let h = fs::metadata(sb.path("d/h")).unwrap();
    assert_eq!((f.ino(), f.nlink()), (h.ino(), 2));
}

#[test]
fn devices_and_fifos_are_created() {
    if !is_root() {
        return;
    }
    let plain = Layer::new()
        .add(E {
            dev: (1, 3),
            mode: 0o666,
            ..e("null", EntryType::Char)
        })
        .add(E {
            dev: (7, 0),
            mode: 0o660,
            ..e("loop0", EntryType::Block)
        })
        .add(E {
            mode: 0o600,
            ..e("pipe", EntryType::Fifo)
        })
        .finish();
    let sb = sandbox();
    sb.unpack(&plain).unwrap();
    let null = fs::symlink_metadata(sb.path("null")).unwrap();
    assert!(null.file_type().is_char_device());
    assert_eq!(null.rdev(), nix::sys::stat::makedev(1, 3));
    assert_eq!(null.mode() & 0o7777, 0o666);
    let lp = fs::symlink_metadata(sb.path("loop0")).unwrap();
    assert!(lp.file_type().is_block_device());
    assert_eq!(lp.rdev(), nix::sys::stat::makedev(7, 0));
    let pipe = fs::symlink_metadata(sb.path("pipe")).unwrap();
    assert!(pipe.file_type().is_fifo());
    assert_eq!(pipe.mode() & 0o7777, 0o600);
}

#[test]
fn whiteouts_become_overlay_whiteouts_and_opaque_markers_an_xattr() {
    if !is_root() {
        return;
    }
    let plain = Layer::new()
        .dir("etc/")
        .add(E {
            uid: 5,
            gid: 6,
            ..e("etc/.wh.passwd", EntryType::Regular)
        })
        .dir("var/")
        .file("var/.wh..wh..opq", b"")
        .file("var/.wh..wh.plnk", b"")
        .finish();
    let sb = sandbox();
    sb.unpack(&plain).unwrap();
    let wh = fs::symlink_metadata(sb.path("etc/passwd")).unwrap();
    assert!(wh.file_type().is_char_device());
    assert_eq!(wh.rdev(), 0);
    assert_eq!((wh.uid(), wh.gid()), (5, 6));
    assert!(!sb.path("etc/.wh.passwd").exists());
    let opaque = xattr::get(sb.path("var"), OPAQUE_XATTR).unwrap();
    assert_eq!(opaque.as_deref(), Some(&b"y"[..]));
    assert_eq!(fs::read_dir(sb.path("var")).unwrap().count(), 0);
    assert!(!sb.path("var").join(".wh..wh.plnk").exists());
}

#[test]
fn ownership_modes_and_times_are_kept() {
    if !is_root() {
        return;
    }
    let plain = Layer::new()
        .add(E {
            mode: 0o1777,
            mtime: 1_400_000_000,
            uid: 11,
            gid: 12,
            ..e("tmp/", EntryType::Directory)
        })
        .add(E {
            mode: 0o4755,
            uid: 1000,
            gid: 2000,
            mtime: 1_500_000_000,
            data: b"#!/bin/sh\n",
            ..e("tmp/suid", EntryType::Regular)
        })
        .add(E {
            mode: 0o2711,
            uid: 3,
            gid: 4,
            ..e("tmp/sgid", EntryType::Regular)
        })
        .add(E {
            uid: 7,
            gid: 8,
            mtime: 1_300_000_000,
            link: "suid",
            ..e("tmp/link", EntryType::Symlink)
        })
        .pax(&[("mtime", b"1500000000.25"), ("atime", b"1600000000.5")])
        .file("tmp/precise", b"x")
        .finish();
    let sb = sandbox();
    sb.unpack(&plain).unwrap();
    let dir = fs::symlink_metadata(sb.path("tmp")).unwrap();
    assert_eq!(dir.mode() & 0o7777, 0o1777);
    assert_eq!((dir.uid(), dir.gid()), (11, 12));
    // Set after its files were written, so still the archive's time.
    assert_eq!(dir.mtime(), 1_400_000_000);
    let suid = fs::symlink_metadata(sb.path("tmp/suid")).unwrap();
    assert_eq!(suid.mode() & 0o7777, 0o4755);
    assert_eq!((suid.uid(), suid.gid()), (1000, 2000));
    assert_eq!((suid.mtime(), suid.atime()), (1_500_000_000, 1_500_000_000));
    let sgid = fs::symlink_metadata(sb.path("tmp/sgid")).unwrap();
    assert_eq!(sgid.mode() & 0o7777, 0o2711);
    let link = fs::symlink_metadata(sb.path("tmp/link")).unwrap();
    assert!(link.file_type().is_symlink());
    assert_eq!((link.uid(), link.gid()), (7, 8));
    assert_eq!(link.mtime(), 1_300_000_000);
    let precise = fs::symlink_metadata(sb.path("tmp/precise")).unwrap();
    assert_eq!(
        (precise.mtime(), precise.mtime_nsec()),
        (1_500_000_000, 250_000_000)
    );
    assert_eq!(
        (precise.atime(), precise.atime_nsec()),
        (1_600_000_000, 500_000_000)
    );
}

#[test]
fn pax_xattrs_are_set() {
    let plain = Layer::new()
        .pax(&[("SCHILY.xattr.user.berth", b"v\0binary")])
        .file("f", b"x")
        .finish();
    let sb = sandbox();
    sb.unpack(&plain).unwrap();
    let value = xattr::get(sb.path("f"), "user.berth").unwrap();
    assert_eq!(value.as_deref(), Some(&b"v\0binary"[..]));
}

#[test]
fn the_root_entry_gives_the_layer_dir_its_metadata() {
    let plain = Layer::new()
        .add(E {
            mode: 0o750,
            mtime: 1_234_567_890,
            ..e("./", EntryType::Directory)
        })
        .file("./f", b"x")
        .finish();
    let sb = sandbox();
    sb.unpack(&plain).unwrap();
    let root = fs::metadata(&sb.dest).unwrap();
    assert_eq!((root.mode() & 0o7777, root.mtime()), (0o750, 1_234_567_890));
    let not_a_dir = Layer::new().file("./", b"x").finish();
    assert!(matches!(
        sandbox().unpack(&not_a_dir),
        Err(UnpackError::Invalid(_))
    ));
}

#[test]
fn missing_parents_are_created_0755() {
    let sb = sandbox();
    sb.unpack(&Layer::new().file("x/y/z", b"z").finish())
        .unwrap();
    for dir in ["x", "x/y"] {
        let md = fs::symlink_metadata(sb.path(dir)).unwrap();
        assert!(md.is_dir());
        assert_eq!(md.mode() & 0o7777, 0o755);
    }
}

#[test]
fn later_entries_replace_earlier_ones() {
    let plain = Layer::new()
        .file("f", b"old")
        .file("f", b"new")
        .file("was_file", b"x")
        .dir("was_file/")
        .dir("was_dir/")
        .file("was_dir/inner", b"x")
        .file("was_dir", b"now a file")
        .dir("kept/")
        .file("kept/inner", b"x")
        .add(E {
            mode: 0o700,
            ..e("kept/", EntryType::Directory)
        })
        .finish();
    let sb = sandbox();
    sb.unpack(&plain).unwrap();
    assert_eq!(fs::read(sb.path("f")).unwrap(), b"new");
    assert!(fs::symlink_metadata(sb.path("was_file")).unwrap().is_dir());
    assert_eq!(fs::read(sb.path("was_dir")).unwrap(), b"now a file");
    // A directory over a directory keeps the contents and takes the new metadata.
    assert_eq!(fs::read(sb.path("kept/inner")).unwrap(), b"x");
    let kept = fs::metadata(sb.path("kept")).unwrap();
    assert_eq!(kept.mode() & 0o7777, 0o700);
}

#[test]
fn symlinked_parents_inside_the_layer_are_resolved_inside_it() {
    let plain = Layer::new()
        .dir("real/")
        .symlink("l", "real")
        .file("l/f", b"via link")
        .dir("sub/")
        .symlink("sub/up", "../real/./")
        .file("sub/up/g", b"via relative link")
        .finish();
    let sb = sandbox();
    sb.unpack(&plain).unwrap();
    assert_eq!(fs::read(sb.path("real/f")).unwrap(), b"via link");
    assert_eq!(fs::read(sb.path("real/g")).unwrap(), b"via relative link");
    assert!(fs::symlink_metadata(sb.path("l"))
        .unwrap()
        .file_type()
        .is_symlink());
}

#[test]
fn a_file_entry_over_a_symlink_replaces_the_link_and_writes_nothing_through_it() {
    let sb = sandbox();
    let outside = sb.parent.path().join("target");
    let plain = Layer::new()
        .symlink("evil", outside.to_str().unwrap())
        .file("evil", b"data")
        .finish();
    sb.unpack(&plain).unwrap();
    assert!(fs::symlink_metadata(sb.path("evil")).unwrap().is_file());
    sb.assert_nothing_outside(&[]);
}

/// Unpacks a hostile layer and checks it is refused as an escape with nothing outside.
fn assert_escape(plain: Vec<u8>, allowed_outside: &[&str]) {
    let sb = sandbox();
    for name in allowed_outside {
        fs::write(sb.parent.path().join(name), b"outside").unwrap();
    }
    let err = sb.unpack(&plain).unwrap_err();
    assert!(matches!(err, UnpackError::Escape { .. }), "{err:?}");
    sb.assert_nothing_outside(allowed_outside);
    for name in allowed_outside {
        let md = fs::metadata(sb.parent.path().join(name)).unwrap();
        assert_eq!(md.nlink(), 1, "{name} got a hard link");
    }
}

#[test]
fn dot_dot_names_are_refused() {
    assert_escape(Layer::new().file("../evil", b"x").finish(), &[]);
    assert_escape(
        Layer::new().dir("a/").file("a/../../evil", b"x").finish(),
        &[],
    );
    assert_escape(Layer::new().dir("../evil/").finish(), &[]);
    assert_escape(Layer::new().symlink("../evil", "/").finish(), &[]);
}

#[test]
fn writing_through_an_absolute_symlink_is_refused() {
    let plain = Layer::new()
        .symlink("link", "/")
        .file("link/etc/evil", b"x")
        .finish();
    assert_escape(plain, &[]);
    assert!(!Path::new("/etc/evil").exists());
    let whiteout = Layer::new()
        .symlink("link", "/tmp")
        .file("link/.wh.x", b"")
        .finish();
    assert_escape(whiteout, &[]);
}

#[test]
fn writing_through_an_escaping_relative_symlink_is_refused() {
    let plain = Layer::new()
        .symlink("l", "../../..")
        .file("l/x", b"x")
        .finish();
    assert_escape(plain, &[]);
    let nested = Layer::new()
        .dir("a/")
        .symlink("a/up", "..")
        .symlink("a/up2", "up/..")
        .file("a/up2/evil", b"x")
        .finish();
    assert_escape(nested, &[]);
}

#[test]
fn hard_links_to_outside_are_refused() {
    assert_escape(
        Layer::new().hard_link("h", "../outside").finish(),
        &["outside"],
    );
    let passwd_links = fs::metadata("/etc/passwd").map(|m| m.nlink()).ok();
    let sb = sandbox();
    let err = sb.unpack(&Layer::new().hard_link("h", "/etc/passwd").finish());
    assert!(err.is_err());
    assert!(!sb.path("h").exists());
    sb.assert_nothing_outside(&[]);
    assert_eq!(
        fs::metadata("/etc/passwd").map(|m| m.nlink()).ok(),
        passwd_links
    );
}

#[test]
fn hard_links_to_missing_targets_or_dirs_are_refused() {
    let missing = Layer::new().hard_link("h", "nope").finish();
    assert!(matches!(
        sandbox().unpack(&missing),
        Err(UnpackError::Invalid(_))
    ));
    let to_dir = Layer::new().dir("d/").hard_link("h", "d").finish();
    assert!(matches!(
        sandbox().unpack(&to_dir),
        Err(UnpackError::Invalid(_))
    ));
}

#[test]
fn symlink_loops_are_an_error() {
    let plain = Layer::new()
        .symlink("a", "b")
        .symlink("b", "a")
        .file("a/x", b"x")
        .finish();
    assert!(matches!(
        sandbox().unpack(&plain),
        Err(UnpackError::Io { .. })
    ));
}

#[test]
fn corrupt_streams_are_invalid() {
    let plain = Layer::new().file("f", &[1u8; 5000]).finish();
    let mut bad_gzip = vec![0x1f, 0x8b];
    bad_gzip.extend_from_slice(&[0xffu8; 100]);
    let bad_zstd = [0x28, 0xb5, 0x2f, 0xfd, 0xff, 0xff, 0xff, 0xff].to_vec();
    let bad_checksum = vec![0x41u8; 1024];
    let truncated = plain[..2000].to_vec();
    let truncated_gzip = gzip(&plain)[..60].to_vec();
    for blob in [bad_gzip, bad_zstd, bad_checksum, truncated, truncated_gzip] {
        let result = sandbox().unpack(&blob);
        assert!(matches!(result, Err(UnpackError::Invalid(_))), "{result:?}");
    }
}

#[test]
fn a_failing_blob_reader_is_an_io_error() {
    struct Failing(usize);
    impl Read for Failing {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0 == 0 {
                return Err(io::Error::new(io::ErrorKind::ConnectionReset, "reset"));
            }
            self.0 -= 1;
            buf[..2].copy_from_slice(&[0x1f, 0x8b]);
            Ok(2)
        }
    }
    let result = unpack_layer(Failing(1), &sandbox().dest);
    assert!(matches!(result, Err(UnpackError::Io { .. })), "{result:?}");
}

#[test]
fn unknown_entry_types_are_refused() {
    let plain = Layer::new().add(e("weird", EntryType::new(b'Z'))).finish();
    let err = sandbox().unpack(&plain).unwrap_err();
    assert!(
        err.to_string().contains("unhandled tar header type"),
        "{err}"
    );
}
