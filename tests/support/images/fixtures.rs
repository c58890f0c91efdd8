//! The fixture images the tests pull: a busybox-static root filesystem, layers with whiteouts
//! and an opaque directory, a two-platform index, a big multi-layer image, and hostile layers.
//!
//! `push_image`/`push_index` build a layout in a temporary directory and push it into a test
//! registry, checking that skopeo kept the digests we computed.

use std::path::Path;

use super::super::registry::Registry;
use super::{BuiltImage, Compression, ImageSpec, LayerTar, OciLayout, Rng};

/// Where busybox-static lives (Debian's `busybox-static` package).
pub const BUSYBOX: &str = "/bin/busybox";

/// The applets linked to busybox in the fixture root filesystem.
pub const APPLETS: &[&str] = &[
    "sh", "ls", "cat", "echo", "true", "false", "env", "mkdir", "rm", "sleep", "id", "pwd", "test",
    "wc", "grep", "sed", "head", "tail", "touch", "uname", "hostname", "ps", "cp", "mv", "ln",
    "chmod", "stat", "find", "date", "printf",
];

/// A minimal root filesystem as a plain tar: `/bin/busybox`, its applet symlinks, `/etc`
/// with passwd and group, `/tmp` (1777).
pub fn busybox_rootfs_tar() -> Vec<u8> {
    let busybox = std::fs::read(BUSYBOX).expect("busybox-static is installed at /bin/busybox");
    let mut tar = LayerTar::new();
    tar.dir("bin", 0o755)
        .file("bin/busybox", &busybox, 0o755)
        .dir("etc", 0o755)
        .file(
            "etc/passwd",
            b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
            0o644,
        )
        .file("etc/group", b"root:x:0:\nnogroup:x:65534:\n", 0o644)
        .dir("root", 0o700)
        .dir("tmp", 0o1777);
    for applet in APPLETS {
        tar.symlink(&format!("bin/{applet}"), "busybox");
    }
    tar.finish()
}

/// The busybox image, one layer compressed as asked.
pub fn busybox_spec(compression: Compression) -> ImageSpec {
    ImageSpec::new(vec![(busybox_rootfs_tar(), compression)])
}

/// Paths the whiteout image's layers act on.
pub const WHITED_OUT: &str = "etc/remove-me";
pub const OPAQUE_DIR: &str = "data/old";

/// Three layers: a lower one with `/etc/keep`, `/etc/remove-me` and `/data/old/{a,b}`; an
/// upper one that whites out `/etc/remove-me` and makes `/data/old` opaque with a new file;
/// a third with a hard link, a setuid file and a file owned by 1000:1000.
pub fn whiteout_spec(lower: Compression, upper: Compression) -> ImageSpec {
    let mut low = LayerTar::new();
    low.dir("etc", 0o755)
        .file("etc/keep", b"keep\n", 0o644)
        .file(WHITED_OUT, b"remove me\n", 0o644)
        .dir("data", 0o755)
        .dir(OPAQUE_DIR, 0o755)
        .file("data/old/a", b"a\n", 0o644)
        .file("data/old/b", b"b\n", 0o644);
    let mut up = LayerTar::new();
    up.dir("etc", 0o755)
        .whiteout(WHITED_OUT)
        .dir("data", 0o755)
        .dir(OPAQUE_DIR, 0o755)
        .opaque(OPAQUE_DIR)
        .file("data/old/new", b"new\n", 0o644);
    let mut third = LayerTar::new();
    third
        .dir("srv", 0o755)
        .file("srv/original", b"linked\n", 0o644)
        .hardlink("srv/hardlink", "srv/original")
        .file("srv/setuid", b"#!/bin/sh\n", 0o4755)
        .file_owned("srv/owned", b"owned\n", 0o640, 1000, 1000);
    ImageSpec::new(vec![
        (low.finish(), lower),
        (up.finish(), upper),
        (third.finish(), Compression::Gzip),
    ])
}

/// Two images for an index: linux/amd64 and linux/arm64/v8, with different layers and labels
/// (so different config digests).
pub fn platform_specs() -> (ImageSpec, ImageSpec) {
    let layer = |arch: &str| {
        let mut tar = LayerTar::new();
        tar.file("platform", format!("{arch}\n").as_bytes(), 0o644);
        tar.finish()
    };
    let amd64 = ImageSpec::new(vec![(layer("amd64"), Compression::Gzip)])
        .platform("linux", "amd64", None)
        .label("fixture.platform", "amd64");
    let arm64 = ImageSpec::new(vec![(layer("arm64"), Compression::Gzip)])
        .platform("linux", "arm64", Some("v8"))
        .label("fixture.platform", "arm64");
    (amd64, arm64)
}

/// A multi-layer image of about `total` uncompressed bytes in `layers` layers, alternating
/// incompressible and text-like layers, each with a few big files and many small ones, from
/// the seed `seed` (the same arguments give the same digests).
pub fn big_spec(seed: u64, total: usize, layers: usize, compression: Compression) -> ImageSpec {
    let mut rng = Rng::new(seed);
    let per_layer = total / layers.max(1);
    let built = (0..layers)
        .map(|i| {
            let incompressible = i % 2 == 0;
            (
                big_layer(&mut rng, i, per_layer, incompressible),
                compression,
            )
        })
        .collect();
    ImageSpec::new(built)
}

fn big_layer(rng: &mut Rng, index: usize, bytes: usize, incompressible: bool) -> Vec<u8> {
    let mut tar = LayerTar::new();
    let dir = format!("data/layer{index}");
    tar.dir("data", 0o755).dir(&dir, 0o755);
    // A tenth of the layer in small files (1-16 KiB): the per-entry cost of unpacking.
    let mut small_left = bytes / 10;
    let mut n = 0;
    while small_left > 0 {
        let len = (1024 + (rng.next_u64() % (15 * 1024)) as usize).min(small_left);
        let data = rng.text(len);
        tar.file(&format!("{dir}/small{n:05}.txt"), &data, 0o644);
        small_left -= len;
        n += 1;
    }
    let mut big_left = bytes - bytes / 10;
    let mut m = 0;
    while big_left > 0 {
        let len = (256 * 1024 + (rng.next_u64() % (4 << 20)) as usize).min(big_left);
        let data = if incompressible {
            rng.bytes(len)
        } else {
            rng.text(len)
        };
        tar.file(&format!("{dir}/big{m:03}.bin"), &data, 0o644);
        big_left -= len;
        m += 1;
    }
    tar.finish()
}

/// The ways a hostile layer tries to write outside its directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Malice {
    /// `../<name>`: a plain parent-directory escape.
    DotDot,
    /// `evil -> <sentinel dir>` (absolute), then `evil/pwned`.
    AbsoluteSymlink,
    /// `evil -> ../../../..<sentinel dir>`, then `evil/pwned`.
    RelativeSymlink,
    /// `evil` hard-linked to `<sentinel dir>/secret` (absolute), then written through.
    HardLinkOutside,
}

impl Malice {
    pub const ALL: [Malice; 4] = [
        Malice::DotDot,
        Malice::AbsoluteSymlink,
        Malice::RelativeSymlink,
        Malice::HardLinkOutside,
    ];

    /// The entry name the error should mention.
    pub fn entry(self) -> &'static str {
        match self {
            Malice::DotDot => "berth-escape",
            Malice::AbsoluteSymlink | Malice::RelativeSymlink => "evil",
            Malice::HardLinkOutside => "evil",
        }
    }
}

/// A layer that tries `malice` against the directory `sentinel` (absolute, outside any layer
/// directory; `sentinel/secret` should exist beforehand and stay untouched).
pub fn malicious_layer(malice: Malice, sentinel: &Path) -> Vec<u8> {
    let target = sentinel.display().to_string();
    let mut tar = LayerTar::new();
    tar.file("innocent", b"ok\n", 0o644);
    match malice {
        Malice::DotDot => {
            tar.raw(tar::EntryType::Regular, "../berth-escape", None, b"pwned\n");
            tar.raw(
                tar::EntryType::Regular,
                "a/../../berth-escape2",
                None,
                b"pwned\n",
            );
        }
        Malice::AbsoluteSymlink => {
            tar.symlink("evil", &target);
            tar.raw(tar::EntryType::Regular, "evil/pwned", None, b"pwned\n");
        }
        Malice::RelativeSymlink => {
            tar.symlink("evil", &format!("../../../../../../../../..{target}"));
            tar.raw(tar::EntryType::Regular, "evil/pwned", None, b"pwned\n");
        }
        Malice::HardLinkOutside => {
            tar.raw(
                tar::EntryType::Link,
                "evil",
                Some(&format!("{target}/secret")),
                b"",
            );
            tar.raw(tar::EntryType::Regular, "evil", None, b"pwned\n");
        }
    }
    tar.finish()
}

/// Builds `spec` in a temporary layout and pushes it as `<registry>/<repo_tag>`; checks skopeo
/// pushed the manifest digest computed here.
pub fn push_image(registry: &Registry, repo_tag: &str, spec: &ImageSpec) -> BuiltImage {
    let dir = tempfile::Builder::new()
        .prefix("berth-layout")
        .tempdir()
        .expect("layout tempdir");
    let mut layout = OciLayout::create(dir.path());
    let image = layout.add_image("fixture", spec);
    let pushed = super::push_with_skopeo(
        dir.path(),
        "fixture",
        &format!("{}/{repo_tag}", registry.addr()),
        registry.creds(),
    );
    assert_eq!(pushed, image.manifest_digest, "skopeo changed the manifest");
    image
}

/// Builds an index over `specs` and pushes it as `<registry>/<repo_tag>`; returns the index
/// digest and the images in order.
pub fn push_index(
    registry: &Registry,
    repo_tag: &str,
    specs: &[ImageSpec],
) -> (String, Vec<BuiltImage>) {
    let dir = tempfile::Builder::new()
        .prefix("berth-layout")
        .tempdir()
        .expect("layout tempdir");
    let mut layout = OciLayout::create(dir.path());
    let images: Vec<BuiltImage> = specs.iter().map(|s| layout.write_image(s)).collect();
    let (_, digest) = layout.add_index("fixture", &images.iter().collect::<Vec<_>>());
    let pushed = super::push_with_skopeo(
        dir.path(),
        "fixture",
        &format!("{}/{repo_tag}", registry.addr()),
        registry.creds(),
    );
    assert_eq!(pushed, digest, "skopeo changed the index");
    (digest, images)
}
