//! OCI image layouts built on disk by the tests themselves (no registry on the internet):
//! layer tarballs, configs, manifests and indexes, with every digest known in advance, and
//! `skopeo` to push a layout into a test registry without changing a byte.
//!
//! Everything is deterministic (fixed times, owners and a seeded generator), so a digest
//! computed here is the digest berth must report. The fixture images themselves are in
//! `fixtures`; this file has the building blocks.

pub mod fixtures;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};

/// Modification time of every entry, so layers are byte-for-byte reproducible.
pub const MTIME: u64 = 1_700_000_000;

pub const MEDIA_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const MEDIA_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const MEDIA_CONFIG: &str = "application/vnd.oci.image.config.v1+json";

/// `sha256:<hex>` of `bytes`.
pub fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{:x}", Sha256::digest(bytes))
}

/// How a layer blob is compressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    pub fn media_type(self) -> &'static str {
        match self {
            Compression::None => "application/vnd.oci.image.layer.v1.tar",
            Compression::Gzip => "application/vnd.oci.image.layer.v1.tar+gzip",
            Compression::Zstd => "application/vnd.oci.image.layer.v1.tar+zstd",
        }
    }

    /// The blob for the uncompressed tar `tar`.
    pub fn compress(self, tar: &[u8]) -> Vec<u8> {
        match self {
            Compression::None => tar.to_vec(),
            Compression::Gzip => {
                // Level 1: the fixtures are big and debug builds compress slowly; gzip's
                // header carries mtime 0, so the blob is reproducible.
                let mut enc =
                    flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                enc.write_all(tar).expect("gzip in memory");
                enc.finish().expect("gzip in memory")
            }
            Compression::Zstd => zstd::stream::encode_all(tar, 1).expect("zstd in memory"),
        }
    }
}

/// A layer tarball under construction: entries owned by 0:0 with fixed times.
pub struct LayerTar {
    builder: tar::Builder<Vec<u8>>,
}

impl Default for LayerTar {
    fn default() -> Self {
        LayerTar::new()
    }
}

impl LayerTar {
    pub fn new() -> LayerTar {
        let mut builder = tar::Builder::new(Vec::new());
        builder.mode(tar::HeaderMode::Deterministic);
        LayerTar { builder }
    }

    fn header(kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_mode(mode);
        h.set_size(size);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(MTIME);
        h
    }

    pub fn dir(&mut self, path: &str, mode: u32) -> &mut Self {
        let mut h = Self::header(tar::EntryType::Directory, mode, 0);
        self.builder
            .append_data(&mut h, path, std::io::empty())
            .expect("tar dir");
        self
    }

    pub fn file(&mut self, path: &str, data: &[u8], mode: u32) -> &mut Self {
        let mut h = Self::header(tar::EntryType::Regular, mode, data.len() as u64);
        self.builder
            .append_data(&mut h, path, data)
            .expect("tar file");
        self
    }

    /// A regular file owned by `uid:gid`.
    pub fn file_owned(
        &mut self,
        path: &str,
        data: &[u8],
        mode: u32,
        uid: u64,
        gid: u64,
    ) -> &mut Self {
        let mut h = Self::header(tar::EntryType::Regular, mode, data.len() as u64);
        h.set_uid(uid);
        h.set_gid(gid);
        self.builder
            .append_data(&mut h, path, data)
            .expect("tar file");
        self
    }

    pub fn symlink(&mut self, path: &str, target: &str) -> &mut Self {
        let mut h = Self::header(tar::EntryType::Symlink, 0o777, 0);
        self.builder
            .append_link(&mut h, path, target)
            .expect("tar symlink");
        self
    }

    /// A hard link `path` to the earlier entry `target`.
    pub fn hardlink(&mut self, path: &str, target: &str) -> &mut Self {
        let mut h = Self::header(tar::EntryType::Link, 0o644, 0);
        self.builder
            .append_link(&mut h, path, target)
            .expect("tar hard link");
        self
    }

    /// An OCI whiteout: `dir/.wh.name` deletes `dir/name` of the layers below.
    pub fn whiteout(&mut self, path: &str) -> &mut Self {
        let (dir, name) = match path.rsplit_once('/') {
            Some((dir, name)) => (format!("{dir}/"), name),
            None => (String::new(), path),
        };
        self.file(&format!("{dir}.wh.{name}"), b"", 0o644)
    }

    /// An OCI opaque marker: `dir/.wh..wh..opq` hides everything below `dir` in lower layers.
    pub fn opaque(&mut self, dir: &str) -> &mut Self {
        self.file(&format!("{dir}/.wh..wh..opq"), b"", 0o644)
    }

    /// An entry whose name and link name are written verbatim, unchecked (`../x`, `/abs`):
    /// the tar crate refuses such paths through its safe setters, and hostile layers are
    /// exactly what the tests need.
    pub fn raw(
        &mut self,
        kind: tar::EntryType,
        path: &str,
        link: Option<&str>,
        data: &[u8],
    ) -> &mut Self {
        let mut h = Self::header(kind, 0o644, data.len() as u64);
        let name = &mut h.as_old_mut().name;
        assert!(path.len() < name.len(), "raw tar path too long");
        name.fill(0);
        name[..path.len()].copy_from_slice(path.as_bytes());
        if let Some(link) = link {
            h.set_link_name_literal(link).expect("raw link name");
        }
        h.set_cksum();
        self.builder.append(&h, data).expect("raw tar entry");
        self
    }

    /// The finished (uncompressed) tar stream.
    pub fn finish(self) -> Vec<u8> {
        self.builder.into_inner().expect("tar in memory")
    }
}

/// One layer as stored in a layout.
#[derive(Clone, Debug)]
pub struct BuiltLayer {
    /// Digest of the blob (compressed as `compression` says).
    pub digest: String,
    /// Digest of the uncompressed tar.
    pub diff_id: String,
    pub size: u64,
    pub compression: Compression,
}

/// What an image is made of.
#[derive(Clone, Debug)]
pub struct ImageSpec {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
    /// Uncompressed layer tars, bottom first, each with its compression.
    pub layers: Vec<(Vec<u8>, Compression)>,
    pub cmd: Vec<String>,
    pub env: Vec<String>,
    pub labels: Vec<(String, String)>,
}

impl ImageSpec {
    /// A linux/amd64 image with these layers and `CMD ["sh"]`.
    pub fn new(layers: Vec<(Vec<u8>, Compression)>) -> ImageSpec {
        ImageSpec {
            os: "linux".into(),
            architecture: "amd64".into(),
            variant: None,
            layers,
            cmd: vec!["sh".into()],
            env: vec!["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into()],
            labels: Vec::new(),
        }
    }

    pub fn platform(mut self, os: &str, architecture: &str, variant: Option<&str>) -> ImageSpec {
        self.os = os.into();
        self.architecture = architecture.into();
        self.variant = variant.map(str::to_string);
        self
    }

    pub fn label(mut self, key: &str, value: &str) -> ImageSpec {
        self.labels.push((key.into(), value.into()));
        self
    }

    fn platform_json(&self) -> Value {
        let mut p = json!({ "architecture": self.architecture, "os": self.os });
        if let Some(v) = &self.variant {
            p["variant"] = json!(v);
        }
        p
    }
}

/// An image written into a layout: everything a test compares against.
#[derive(Clone, Debug)]
pub struct BuiltImage {
    pub manifest: Vec<u8>,
    pub manifest_digest: String,
    pub config: Vec<u8>,
    /// The image ID berth must report.
    pub config_digest: String,
    pub layers: Vec<BuiltLayer>,
    /// `{"architecture", "os"[, "variant"]}` for index entries.
    pub platform: Value,
}

/// An OCI image layout directory (`oci-layout`, `index.json`, `blobs/sha256/`).
pub struct OciLayout {
    dir: PathBuf,
    /// `index.json` entries: descriptors with their `org.opencontainers.image.ref.name`.
    entries: Vec<Value>,
}

impl OciLayout {
    /// Creates an empty layout at `dir` (made when missing).
    pub fn create(dir: &Path) -> OciLayout {
        std::fs::create_dir_all(dir.join("blobs/sha256")).expect("layout dir");
        std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#)
            .expect("oci-layout");
        let layout = OciLayout {
            dir: dir.to_path_buf(),
            entries: Vec::new(),
        };
        layout.write_index_json();
        layout
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Stores `bytes` as a blob; returns its digest.
    pub fn write_blob(&self, bytes: &[u8]) -> String {
        let digest = sha256(bytes);
        let path = self.blob_path(&digest);
        std::fs::write(path, bytes).expect("write blob");
        digest
    }

    pub fn blob_path(&self, digest: &str) -> PathBuf {
        let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
        self.dir.join("blobs/sha256").join(hex)
    }

    /// Writes the layers, config and manifest of `spec` (not tagged: see `tag`).
    pub fn write_image(&self, spec: &ImageSpec) -> BuiltImage {
        let layers: Vec<BuiltLayer> = spec
            .layers
            .iter()
            .map(|(tar, compression)| {
                let blob = compression.compress(tar);
                BuiltLayer {
                    digest: self.write_blob(&blob),
                    diff_id: sha256(tar),
                    size: blob.len() as u64,
                    compression: *compression,
                }
            })
            .collect();
        let config = config_json(spec, &layers);
        let config_digest = self.write_blob(&config);
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": MEDIA_MANIFEST,
            "config": { "mediaType": MEDIA_CONFIG, "digest": config_digest, "size": config.len() },
            "layers": layers.iter().map(|l| json!({
                "mediaType": l.compression.media_type(), "digest": l.digest, "size": l.size,
            })).collect::<Vec<_>>(),
        });
        let manifest = serde_json::to_vec_pretty(&manifest).expect("manifest json");
        let manifest_digest = self.write_blob(&manifest);
        BuiltImage {
            manifest,
            manifest_digest,
            config,
            config_digest,
            layers,
            platform: spec.platform_json(),
        }
    }

    /// Writes an image and tags it `tag` in `index.json`.
    pub fn add_image(&mut self, tag: &str, spec: &ImageSpec) -> BuiltImage {
        let image = self.write_image(spec);
        self.tag(
            tag,
            MEDIA_MANIFEST,
            &image.manifest_digest,
            image.manifest.len(),
        );
        image
    }

    /// Writes an OCI index over `images` (each with its platform) and tags it `tag`; returns
    /// the index bytes and digest.
    pub fn add_index(&mut self, tag: &str, images: &[&BuiltImage]) -> (Vec<u8>, String) {
        let index = json!({
            "schemaVersion": 2,
            "mediaType": MEDIA_INDEX,
            "manifests": images.iter().map(|i| json!({
                "mediaType": MEDIA_MANIFEST,
                "digest": i.manifest_digest,
                "size": i.manifest.len(),
                "platform": i.platform,
            })).collect::<Vec<_>>(),
        });
        let bytes = serde_json::to_vec_pretty(&index).expect("index json");
        let digest = self.write_blob(&bytes);
        self.tag(tag, MEDIA_INDEX, &digest, bytes.len());
        (bytes, digest)
    }

    /// Points `tag` at a manifest or index blob.
    pub fn tag(&mut self, tag: &str, media_type: &str, digest: &str, size: usize) {
        self.entries.retain(|e| {
            e["annotations"]["org.opencontainers.image.ref.name"].as_str() != Some(tag)
        });
        self.entries.push(json!({
            "mediaType": media_type,
            "digest": digest,
            "size": size,
            "annotations": { "org.opencontainers.image.ref.name": tag },
        }));
        self.write_index_json();
    }

    fn write_index_json(&self) {
        let index = json!({ "schemaVersion": 2, "manifests": self.entries });
        std::fs::write(
            self.dir.join("index.json"),
            serde_json::to_vec(&index).expect("index.json"),
        )
        .expect("write index.json");
    }
}

/// The image configuration: platform, runtime config, rootfs diff IDs, history.
fn config_json(spec: &ImageSpec, layers: &[BuiltLayer]) -> Vec<u8> {
    let labels: serde_json::Map<String, Value> = spec
        .labels
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    let mut config = json!({
        "created": "2023-11-14T22:13:20Z",
        "architecture": spec.architecture,
        "os": spec.os,
        "config": { "Env": spec.env, "Cmd": spec.cmd },
        "rootfs": { "type": "layers", "diff_ids": layers.iter().map(|l| &l.diff_id).collect::<Vec<_>>() },
        "history": layers.iter().enumerate().map(|(i, _)| json!({
            "created": "2023-11-14T22:13:20Z",
            "created_by": format!("berth test fixture layer {i}"),
        })).collect::<Vec<_>>(),
    });
    if !labels.is_empty() {
        config["config"]["Labels"] = Value::Object(labels);
    }
    if let Some(v) = &spec.variant {
        config["variant"] = json!(v);
    }
    serde_json::to_vec(&config).expect("config json")
}

/// skopeo's `--creds`-style value.
fn creds_arg(creds: Option<(&str, &str)>) -> Option<String> {
    creds.map(|(u, p)| format!("{u}:{p}"))
}

/// Pushes `oci:<layout>:<tag>` to `docker://<dest>` (`127.0.0.1:PORT/name:tag`) with every
/// platform and the digests unchanged; returns the manifest (or index) digest skopeo pushed.
pub fn push_with_skopeo(
    layout: &Path,
    tag: &str,
    dest: &str,
    creds: Option<(&str, &str)>,
) -> String {
    let digest_file = tempfile::NamedTempFile::new().expect("digest file");
    let mut cmd = Command::new("skopeo");
    cmd.args([
        "copy",
        "--quiet",
        "--all",
        "--preserve-digests",
        "--dest-tls-verify=false",
    ]);
    if let Some(c) = creds_arg(creds) {
        cmd.args(["--dest-creds", &c]);
    }
    cmd.arg("--digestfile")
        .arg(digest_file.path())
        .arg(format!("oci:{}:{tag}", layout.display()))
        .arg(format!("docker://{dest}"));
    let out = cmd.output().expect("skopeo runs");
    super::stdout_ok(&format!("skopeo copy to {dest}"), &out);
    std::fs::read_to_string(digest_file.path())
        .expect("skopeo digest file")
        .trim()
        .to_string()
}

/// The manifest bytes the registry serves for `reference` (`127.0.0.1:PORT/name:tag`), as
/// `skopeo inspect --raw` prints them.
pub fn skopeo_raw_manifest(reference: &str, creds: Option<(&str, &str)>) -> Vec<u8> {
    let mut cmd = Command::new("skopeo");
    cmd.args(["inspect", "--raw", "--tls-verify=false"]);
    if let Some(c) = creds_arg(creds) {
        cmd.args(["--creds", &c]);
    }
    let out = cmd
        .arg(format!("docker://{reference}"))
        .output()
        .expect("skopeo runs");
    super::stdout_ok(&format!("skopeo inspect {reference}"), &out);
    out.stdout
}

/// A seeded xorshift64* generator: reproducible "random" bytes without a dependency.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// `len` incompressible bytes.
    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(len + 8);
        while out.len() < len {
            out.extend_from_slice(&self.next_u64().to_le_bytes());
        }
        out.truncate(len);
        out
    }

    /// `len` bytes of word-salad text (compresses about 3:1, like logs and sources do).
    pub fn text(&mut self, len: usize) -> Vec<u8> {
        const WORDS: &[&str] = &[
            "berth",
            "layer",
            "image",
            "registry",
            "manifest",
            "digest",
            "overlay",
            "config",
            "container",
            "network",
            "volume",
            "compose",
            "service",
            "the",
            "of",
            "and",
            "a",
            "to",
            "in",
            "is",
            "for",
            "with",
            "tar",
            "gzip",
            "zstd",
            "blob",
            "index",
            "platform",
        ];
        let mut out = Vec::with_capacity(len + 16);
        let mut column = 0;
        while out.len() < len {
            let r = self.next_u64();
            let word = WORDS[(r % WORDS.len() as u64) as usize];
            out.extend_from_slice(word.as_bytes());
            column += word.len() + 1;
            if column > 72 || r >> 60 == 0 {
                out.push(b'\n');
                column = 0;
            } else {
                out.push(b' ');
            }
            if r >> 58 == 1 {
                out.extend_from_slice(format!("{:x}", r).as_bytes());
            }
        }
        out.truncate(len);
        out
    }
}
