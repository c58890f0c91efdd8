//! Image archives end to end through the store: `import`, `save` and `load` round trips
//! between two fresh stores, archives written by skopeo (docker-archive and oci-archive),
//! our `save` read back by skopeo, and broken archives that must record nothing.
//!
//! Every test has its own temporary stores; skopeo runs only on local files.

use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use berth::image::archive::{self, LoadedImage};
use berth::image::digest::Digest;
use berth::image::progress::{ProgressMessage, ProgressSink};
use berth::image::reference::Reference;
use berth::image::store::{ImageRecord, ImageStore};
use serde_json::{json, Value};

/// A store in its own temporary directory.
struct TestStore {
    _dir: tempfile::TempDir,
    store: ImageStore,
}

fn new_store() -> TestStore {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = ImageStore::open(&dir.path().join("image")).expect("open store");
    TestStore { _dir: dir, store }
}

fn reference(s: &str) -> Reference {
    Reference::parse_normalized(s)
        .expect("reference")
        .with_default_tag()
}

/// A layer tar built in memory, entries in the order given.
struct LayerTar(tar::Builder<Vec<u8>>);

impl LayerTar {
    fn new() -> LayerTar {
        LayerTar(tar::Builder::new(Vec::new()))
    }

    fn entry(
        &mut self,
        path: &str,
        kind: tar::EntryType,
        mode: u32,
        data: &[u8],
        link: Option<&str>,
    ) -> &mut Self {
        let mut h = tar::Header::new_ustar();
        h.set_path(path).expect("path");
        h.set_entry_type(kind);
        h.set_mode(mode);
        h.set_mtime(1_700_000_000);
        h.set_size(data.len() as u64);
        if let Some(target) = link {
            h.set_link_name(target).expect("link");
        }
        h.set_cksum();
        self.0.append(&h, data).expect("append");
        self
    }

    fn dir(&mut self, path: &str) -> &mut Self {
        self.entry(path, tar::EntryType::Directory, 0o755, b"", None)
    }

    fn file(&mut self, path: &str, data: &[u8]) -> &mut Self {
        self.entry(path, tar::EntryType::Regular, 0o644, data, None)
    }

    fn finish(self) -> Vec<u8> {
        self.0.into_inner().expect("finish")
    }
}

fn sha256(bytes: &[u8]) -> String {
    Digest::of_bytes(bytes).to_string()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).expect("gzip");
    e.finish().expect("gzip")
}

fn base_layer() -> Vec<u8> {
    let mut t = LayerTar::new();
    t.dir("bin/")
        .dir("etc/")
        .file("etc/motd", b"hello\n")
        .file("bin/tool", &[7u8; 5000]);
    t.entry(
        "bin/link",
        tar::EntryType::Symlink,
        0o777,
        b"",
        Some("tool"),
    );
    t.finish()
}

fn upper_layer() -> Vec<u8> {
    let mut t = LayerTar::new();
    t.dir("etc/")
        .file("etc/motd", b"changed\n")
        .file("etc/.wh.gone", b"");
    t.dir("data/").file("data/big", &vec![42u8; 100_000]);
    t.finish()
}

/// An OCI image layout on disk holding one two-layer image (plain and gzip layers),
/// tagged `tag` (`org.opencontainers.image.ref.name`, a bare tag as skopeo writes it).
struct Layout {
    dir: tempfile::TempDir,
    config_digest: String,
    manifest_digest: String,
    diff_ids: Vec<String>,
}

fn write_layout(tag: &str) -> Layout {
    let dir = tempfile::tempdir().expect("tempdir");
    let blobs = dir.path().join("blobs/sha256");
    std::fs::create_dir_all(&blobs).expect("blobs");
    let put = |bytes: &[u8]| -> String {
        let d = sha256(bytes);
        std::fs::write(blobs.join(&d["sha256:".len()..]), bytes).expect("blob");
        d
    };
    let (plain, upper) = (base_layer(), upper_layer());
    let upper_gz = gzip(&upper);
    let diff_ids = vec![sha256(&plain), sha256(&upper)];
    let config = serde_json::to_vec(&json!({
        "architecture": "amd64", "os": "linux", "created": "2024-01-01T00:00:00Z",
        "config": {"Cmd": ["/bin/tool"], "Env": ["PATH=/bin"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created_by": "base"}, {"created_by": "upper"}]
    }))
    .expect("config");
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": put(&config), "size": config.len()},
        "layers": [
            {"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": put(&plain), "size": plain.len()},
            {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": put(&upper_gz), "size": upper_gz.len()}
        ]
    }))
    .expect("manifest");
    let manifest_digest = put(&manifest);
    let index = json!({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": manifest_digest,
        "size": manifest.len(), "annotations": {"org.opencontainers.image.ref.name": tag}}]});
    std::fs::write(dir.path().join("index.json"), index.to_string()).expect("index");
    std::fs::write(
        dir.path().join("oci-layout"),
        r#"{"imageLayoutVersion":"1.0.0"}"#,
    )
    .expect("layout");
    Layout {
        dir,
        config_digest: sha256(&config),
        manifest_digest,
        diff_ids,
    }
}

/// Runs skopeo, failing the test with its output when it fails.
fn skopeo(args: &[&str]) -> Vec<u8> {
    let out = Command::new("skopeo")
        .args(["--insecure-policy"])
        .args(args)
        .output()
        .expect("run skopeo");
    assert!(
        out.status.success(),
        "skopeo {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn has_skopeo(test: &str) -> bool {
    let found = Command::new("skopeo")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        eprintln!("SKIPPED {test}: skopeo is not installed");
    }
    found
}

fn load_file(store: &ImageStore, path: &Path) -> Result<Vec<LoadedImage>, archive::ArchiveError> {
    archive::load(
        store,
        std::fs::File::open(path).expect("open archive"),
        &ProgressSink::discard(),
    )
}

/// Loads and collects the progress lines.
fn load_bytes(
    store: &ImageStore,
    bytes: &[u8],
) -> (Result<Vec<LoadedImage>, archive::ArchiveError>, Vec<String>) {
    let (sink, mut rx) = ProgressSink::channel();
    let result = archive::load(store, bytes, &sink);
    drop(sink);
    let mut lines = Vec::new();
    while let Ok(ProgressMessage {
        stream: Some(s), ..
    }) = rx.try_recv()
    {
        lines.push(s);
    }
    (result, lines)
}

fn diff_ids(image: &ImageRecord) -> Vec<String> {
    image.layers.iter().map(|l| l.diff_id.to_string()).collect()
}

/// Every entry under `dir`: type, mode, size, content digest or link target.
fn tree(dir: &Path) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read_dir") {
            let path = entry.expect("entry").path();
            let meta = std::fs::symlink_metadata(&path).expect("metadata");
            let rel = path.strip_prefix(dir).expect("prefix").to_path_buf();
            let mode = meta.permissions().mode() & 0o7777;
            let what = if meta.is_dir() {
                stack.push(path.clone());
                "dir".to_string()
            } else if meta.file_type().is_symlink() {
                format!(
                    "link {}",
                    std::fs::read_link(&path).expect("readlink").display()
                )
            } else if meta.is_file() {
                sha256(&std::fs::read(&path).expect("read"))
            } else {
                format!("special rdev {}", meta.rdev())
            };
            out.insert(
                rel,
                format!("{what} mode {mode:o} uid {} gid {}", meta.uid(), meta.gid()),
            );
        }
    }
    out
}

fn layer_trees(store: &ImageStore, image: &ImageRecord) -> Vec<BTreeMap<PathBuf, String>> {
    image
        .layers
        .iter()
        .map(|l| tree(&store.layer_dir(&l.chain_id)))
        .collect()
}

fn import_simple(store: &ImageStore, tag: &str, changes: &[&str]) -> ImageRecord {
    let changes: Vec<String> = changes.iter().map(|s| s.to_string()).collect();
    let r = reference(tag);
    archive::import(
        store,
        gzip(&base_layer()).as_slice(),
        Some(&r),
        &changes,
        "",
    )
    .expect("import")
}

#[test]
fn import_applies_changes_and_tags() {
    let s = new_store();
    let image = import_simple(
        &s.store,
        "example.com/imported:v1",
        &["CMD [\"/bin/tool\"]", "ENV A=1", "EXPOSE 80"],
    );
    assert_eq!(image.manifest, None);
    assert_eq!(image.layers.len(), 1);
    // Stored uncompressed: the blob is the diff ID.
    assert_eq!(image.layers[0].blob, image.layers[0].diff_id);
    assert_eq!(image.layers[0].diff_id.to_string(), sha256(&base_layer()));
    let config: Value =
        serde_json::from_slice(&s.store.read_blob(&image.id).expect("config")).expect("json");
    assert_eq!(config["config"]["Cmd"], json!(["/bin/tool"]));
    assert_eq!(config["config"]["Env"], json!(["A=1"]));
    assert_eq!(config["config"]["ExposedPorts"], json!({"80/tcp": {}}));
    assert_eq!(config["os"], "linux");
    assert_eq!(config["rootfs"]["diff_ids"], json!([sha256(&base_layer())]));
    assert_eq!(config["history"][0]["comment"], "Imported from -");
    assert_eq!(
        s.store.resolve("example.com/imported:v1").expect("tag").id,
        image.id
    );
    let files = tree(&s.store.layer_dir(&image.layers[0].chain_id));
    assert!(files.contains_key(Path::new("etc/motd")));
}

#[test]
fn import_with_a_bad_change_records_nothing() {
    let s = new_store();
    let r = reference("bad:v1");
    let err = archive::import(
        &s.store,
        base_layer().as_slice(),
        Some(&r),
        &["RUN true".to_string()],
        "",
    )
    .expect_err("RUN is refused");
    assert_eq!(err.to_string(), "run is not a valid change command");
    assert!(s.store.list().expect("list").is_empty());
}

#[test]
fn save_then_load_into_a_fresh_store_keeps_ids_layers_and_files() {
    if !has_skopeo("save_then_load_into_a_fresh_store_keeps_ids_layers_and_files") {
        return;
    }
    let a = new_store();
    let imported = import_simple(&a.store, "imported:v1", &["ENV A=1"]);
    let layout = write_layout("v2");
    let oci_tar = tempfile::NamedTempFile::new().expect("tmp");
    let oci_tar_path = oci_tar.path().to_str().expect("utf8").to_string();
    let src = format!("oci:{}:v2", layout.dir.path().display());
    skopeo(&["copy", &src, &format!("oci-archive:{oci_tar_path}:v2")]);
    let loaded = load_file(&a.store, oci_tar.path()).expect("load oci archive");
    let layered = loaded[0].image.clone();
    a.store
        .tag(&layered.id, &reference("layered:v2"))
        .expect("tag");

    let names = ["imported:v1".to_string(), "layered".to_string()];
    let mut first = Vec::new();
    archive::save(&a.store, &names, &mut first).expect("save");
    let mut second = Vec::new();
    archive::save(&a.store, &names, &mut second).expect("save again");
    assert!(first == second, "save is not deterministic");

    let b = new_store();
    let (result, lines) = load_bytes(&b.store, &first);
    let loaded = result.expect("load saved archive");
    assert_eq!(loaded.len(), 2);
    assert!(
        lines.contains(&"Loaded image: imported:v1\n".to_string()),
        "{lines:?}"
    );
    assert!(
        lines.contains(&"Loaded image: layered:v2\n".to_string()),
        "{lines:?}"
    );
    for original in [&imported, &layered] {
        let copy = b.store.image(&original.id).expect("image").expect("loaded");
        assert_eq!(diff_ids(&copy), diff_ids(original));
        assert_eq!(
            layer_trees(&b.store, &copy),
            layer_trees(&a.store, original)
        );
    }
    // The saved archive is Docker 25's: skopeo reads it as a docker-archive, uncompressed.
    let saved = tempfile::NamedTempFile::new().expect("tmp");
    std::fs::write(saved.path(), &first).expect("write");
    let spec = format!("docker-archive:{}:layered:v2", saved.path().display());
    let raw: Value =
        serde_json::from_slice(&skopeo(&["inspect", "--raw", &spec])).expect("manifest");
    assert_eq!(raw["config"]["digest"], layered.id.to_string());
    let layer_digests: Vec<String> = raw["layers"]
        .as_array()
        .expect("layers")
        .iter()
        .map(|l| l["digest"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(layer_digests, layout.diff_ids);
}

#[test]
fn skopeo_docker_archive_loads_with_its_config_digest_and_tag() {
    if !has_skopeo("skopeo_docker_archive_loads_with_its_config_digest_and_tag") {
        return;
    }
    let layout = write_layout("v1");
    let out = tempfile::tempdir().expect("tmp");
    let file = out.path().join("docker.tar");
    let src = format!("oci:{}:v1", layout.dir.path().display());
    skopeo(&[
        "copy",
        &src,
        &format!("docker-archive:{}:example.com/app:v1", file.display()),
    ]);
    let raw: Value = serde_json::from_slice(&skopeo(&[
        "inspect",
        "--raw",
        &format!("docker-archive:{}", file.display()),
    ]))
    .expect("manifest");
    let s = new_store();
    let loaded = load_file(&s.store, &file).expect("load");
    assert_eq!(loaded.len(), 1);
    assert_eq!(loaded[0].image.id.to_string(), layout.config_digest);
    assert_eq!(raw["config"]["digest"], layout.config_digest);
    assert_eq!(diff_ids(&loaded[0].image), layout.diff_ids);
    assert_eq!(
        s.store.resolve("example.com/app:v1").expect("tagged").id,
        loaded[0].image.id
    );
    let top = tree(&s.store.layer_dir(&loaded[0].image.layers[1].chain_id));
    assert!(top.contains_key(Path::new("data/big")));
}

#[test]
fn skopeo_oci_archive_loads_by_id_and_keeps_its_manifest() {
    if !has_skopeo("skopeo_oci_archive_loads_by_id_and_keeps_its_manifest") {
        return;
    }
    let layout = write_layout("v1");
    let out = tempfile::tempdir().expect("tmp");
    let file = out.path().join("oci.tar");
    let src = format!("oci:{}:v1", layout.dir.path().display());
    skopeo(&["copy", &src, &format!("oci-archive:{}:v1", file.display())]);
    let s = new_store();
    let bytes = std::fs::read(&file).expect("read");
    let (result, lines) = load_bytes(&s.store, &gzip(&bytes));
    let loaded = result.expect("load gzip-compressed oci archive");
    assert_eq!(loaded[0].image.id.to_string(), layout.config_digest);
    // skopeo may re-encode the manifest on copy: compare with the one in its archive.
    let raw = skopeo(&[
        "inspect",
        "--raw",
        &format!("oci-archive:{}:v1", file.display()),
    ]);
    assert_eq!(
        loaded[0].image.manifest.as_ref().map(|d| d.to_string()),
        Some(sha256(&raw))
    );
    assert!(
        loaded[0].tags.is_empty(),
        "a bare ref.name is not a reference"
    );
    assert_eq!(
        lines,
        [format!("Loaded image ID: {}\n", layout.config_digest)]
    );
    assert_eq!(s.store.list().expect("list").len(), 1);
}

/// A docker-archive in the pre-25 shape: `<id>.json`, `<dir>/layer.tar`.
fn legacy_archive(layer: &[u8], diff_id: &str, tag: &str) -> Vec<u8> {
    let config = serde_json::to_vec(&json!({
        "architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [diff_id]}
    }))
    .expect("config");
    let config_name = format!("{}.json", &sha256(&config)["sha256:".len()..]);
    let manifest = json!([{"Config": config_name, "RepoTags": [tag], "Layers": ["abc/layer.tar"]}]);
    let mut t = LayerTar::new();
    t.dir("abc/")
        .file("abc/layer.tar", layer)
        .file("abc/VERSION", b"1.0")
        .file(&config_name, &config);
    t.file("manifest.json", manifest.to_string().as_bytes());
    t.finish()
}

#[test]
fn legacy_docker_archive_loads_and_says_so() {
    let s = new_store();
    let layer = base_layer();
    let (result, lines) = load_bytes(
        &s.store,
        &legacy_archive(&layer, &sha256(&layer), "busybox:latest"),
    );
    let loaded = result.expect("load");
    assert_eq!(lines, ["Loaded image: busybox:latest\n"]);
    assert_eq!(loaded[0].image.manifest, None);
    assert_eq!(
        s.store.resolve("busybox").expect("tag").id,
        loaded[0].image.id
    );
}

#[test]
fn corrupted_layer_is_an_error_and_nothing_is_listed() {
    let s = new_store();
    let layer = base_layer();
    let mut corrupted = layer.clone();
    let at = corrupted.len() / 2;
    corrupted[at] ^= 0xff;
    let (result, _) = load_bytes(
        &s.store,
        &legacy_archive(&corrupted, &sha256(&layer), "bad:v1"),
    );
    let err = result.expect_err("corrupted layer");
    let text = err.to_string();
    assert!(
        text.starts_with("invalid diffID for layer 0: expected \""),
        "{text}"
    );
    assert!(s.store.list().expect("list").is_empty());
    assert!(s.store.resolve("bad:v1").is_err());
}

#[test]
fn oci_blob_with_a_wrong_digest_is_refused() {
    let s = new_store();
    let layout = write_layout("v1");
    let hex = &layout.diff_ids[0]["sha256:".len()..];
    let mut t = LayerTar::new();
    for name in ["index.json", "oci-layout"] {
        t.file(
            name,
            &std::fs::read(layout.dir.path().join(name)).expect("read"),
        );
    }
    for entry in std::fs::read_dir(layout.dir.path().join("blobs/sha256")).expect("blobs") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("name")
            .to_string();
        let mut bytes = std::fs::read(&path).expect("blob");
        if name == hex {
            bytes[600] ^= 1;
        }
        t.file(&format!("blobs/sha256/{name}"), &bytes);
    }
    let (result, _) = load_bytes(&s.store, &t.finish());
    let text = result.expect_err("bad digest").to_string();
    assert!(
        text.starts_with(&format!("digest mismatch: expected {}", layout.diff_ids[0])),
        "{text}"
    );
    assert!(s.store.list().expect("list").is_empty());
}

#[test]
fn not_an_archive_gives_docker_errors() {
    let s = new_store();
    let (result, _) = load_bytes(&s.store, &[b'x'; 1024]);
    assert_eq!(
        result.expect_err("garbage").to_string(),
        "archive/tar: invalid tar header"
    );
    let mut t = LayerTar::new();
    t.file("hello.txt", b"hi");
    let (result, _) = load_bytes(&s.store, &t.finish());
    assert_eq!(
        result.expect_err("no manifest").to_string(),
        "open manifest.json: no such file or directory"
    );
    assert!(s.store.list().expect("list").is_empty());
}

#[test]
fn own_oci_layout_tar_keeps_the_exact_manifest_and_full_ref_names() {
    let layout = write_layout("example.com/app:v3");
    let mut t = tar::Builder::new(Vec::new());
    t.append_dir_all(".", layout.dir.path())
        .expect("tar layout");
    let bytes = t.into_inner().expect("tar");
    let s = new_store();
    let (result, lines) = load_bytes(&s.store, &bytes);
    let loaded = result.expect("load layout");
    assert_eq!(loaded[0].image.id.to_string(), layout.config_digest);
    assert_eq!(
        loaded[0].image.manifest.as_ref().map(|d| d.to_string()),
        Some(layout.manifest_digest.clone())
    );
    assert_eq!(lines, ["Loaded image: example.com/app:v3\n"]);
    let media: Vec<&str> = loaded[0]
        .image
        .layers
        .iter()
        .map(|l| l.media_type.as_str())
        .collect();
    assert_eq!(
        media,
        [
            "application/vnd.oci.image.layer.v1.tar",
            "application/vnd.oci.image.layer.v1.tar+gzip"
        ]
    );
    // Loading again is idempotent: same image, nothing renamed.
    let (again, lines) = load_bytes(&s.store, &bytes);
    assert_eq!(again.expect("reload")[0].image.id, loaded[0].image.id);
    assert_eq!(lines, ["Loaded image: example.com/app:v3\n"]);
    assert_eq!(s.store.list().expect("list").len(), 1);
}

#[test]
fn a_moved_tag_is_announced_like_docker() {
    let s = new_store();
    let first = import_simple(&s.store, "moving:v1", &["ENV A=1"]);
    let layer = base_layer();
    let (result, lines) = load_bytes(
        &s.store,
        &legacy_archive(&layer, &sha256(&layer), "moving:v1"),
    );
    let loaded = result.expect("load");
    assert_eq!(
        lines,
        [
            format!(
                "The image moving:v1 already exists, renaming the old one with ID {} to empty string\n",
                first.id
            ),
            "Loaded image: moving:v1\n".to_string()
        ]
    );
    assert_eq!(
        s.store.resolve("moving:v1").expect("tag").id,
        loaded[0].image.id
    );
}

#[test]
fn one_bad_image_in_an_archive_records_none_of_them() {
    let good = base_layer();
    let bad_expected = upper_layer();
    let mut bad = bad_expected.clone();
    let at = bad.len() - 2000;
    bad[at] ^= 0xff;
    let config = |diff_id: String| {
        serde_json::to_vec(
            &json!({"os": "linux", "rootfs": {"type": "layers", "diff_ids": [diff_id]}}),
        )
        .expect("config")
    };
    let (c1, c2) = (config(sha256(&good)), config(sha256(&bad_expected)));
    let manifest = json!([
        {"Config": "c1.json", "RepoTags": ["good:v1"], "Layers": ["l1.tar"]},
        {"Config": "c2.json", "RepoTags": ["bad:v1"], "Layers": ["l2.tar"]}
    ]);
    let mut t = LayerTar::new();
    t.file("c1.json", &c1)
        .file("c2.json", &c2)
        .file("l1.tar", &good)
        .file("l2.tar", &bad);
    t.file("manifest.json", manifest.to_string().as_bytes());
    let s = new_store();
    let (result, lines) = load_bytes(&s.store, &t.finish());
    assert!(result.is_err());
    assert!(lines.is_empty(), "{lines:?}");
    assert!(s.store.list().expect("list").is_empty());
    assert!(s.store.resolve("good:v1").is_err());
}

#[test]
fn saved_archive_is_also_an_oci_layout_for_skopeo() {
    if !has_skopeo("saved_archive_is_also_an_oci_layout_for_skopeo") {
        return;
    }
    let s = new_store();
    let image = import_simple(&s.store, "example.com/ocisave:v9", &["CMD [\"sh\"]"]);
    let out = tempfile::tempdir().expect("tmp");
    let file = out.path().join("saved.tar");
    let f = std::fs::File::create(&file).expect("create");
    archive::save(&s.store, &["example.com/ocisave:v9".to_string()], f).expect("save");
    let raw = skopeo(&[
        "inspect",
        "--raw",
        &format!("oci-archive:{}:v9", file.display()),
    ]);
    let manifest: Value = serde_json::from_slice(&raw).expect("manifest");
    assert_eq!(manifest["config"]["digest"], image.id.to_string());
    assert_eq!(
        manifest["layers"][0]["digest"],
        image.layers[0].diff_id.to_string()
    );
    let listing = Command::new("tar")
        .arg("-tf")
        .arg(&file)
        .output()
        .expect("tar");
    let names = String::from_utf8_lossy(&listing.stdout).to_string();
    for name in ["index.json", "manifest.json", "oci-layout", "repositories"] {
        assert!(
            names.lines().any(|l| l == name),
            "{name} missing from {names}"
        );
    }
}
