//! Images end to end: a real registry on 127.0.0.1 (Debian's `docker-registry`), images made
//! by the tests and pushed with skopeo, and berth's daemon and CLI. Every check compares
//! digests computed by the fixtures with what berth reports or pushes, byte for byte.
//!
//! Each test starts its own registry and daemon (both start in well under a second), so tests
//! run in parallel and clean up in Drop. The two `#[ignore]`d `bench_*` functions are the
//! fixture and the unpack step of `bench/pull.sh`, not tests.

mod support;

use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::Path;

use serde_json::Value;
use support::daemon::Daemon;
use support::images::{self, fixtures, BuiltImage, Compression};
use support::registry::{self, Registry};

/// Whether the tools every test here needs are installed (loud skip otherwise).
fn tools(test: &str) -> bool {
    registry::require(test) && support::require_tool("skopeo", test)
}

/// A registry and a daemon for one test.
fn setup() -> (Registry, Daemon) {
    (Registry::start(), Daemon::start())
}

/// Pushes `spec` as `<registry>/<repo_tag>` and returns the image and its full reference.
fn publish(reg: &Registry, repo_tag: &str, spec: &images::ImageSpec) -> (BuiltImage, String) {
    let image = fixtures::push_image(reg, repo_tag, spec);
    (image, format!("{}/{repo_tag}", reg.addr()))
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// `name@digest` for a `name:tag` reference.
fn repo_digest(reference: &str, digest: &str) -> String {
    let name = reference.rsplit_once(':').map_or(reference, |(n, _)| n);
    format!("{name}@{digest}")
}

#[test]
fn pull_lists_and_inspects_with_registry_digests() {
    if !tools("pull_lists_and_inspects_with_registry_digests") {
        return;
    }
    let (reg, d) = setup();
    let (image, reference) = publish(
        &reg,
        "e2e/busybox:1",
        &fixtures::busybox_spec(Compression::Gzip),
    );
    d.berth_ok(&["pull", &reference]);

    let listed = d.berth_ok(&["images"]);
    let repo = format!("{}/e2e/busybox", reg.addr());
    assert!(
        listed
            .lines()
            .any(|l| l.starts_with(&repo) && l.split_whitespace().nth(1) == Some("1")),
        "berth images does not list {repo}:1:\n{listed}"
    );
    let inspect = d.inspect(&reference);
    assert_eq!(inspect["Id"], image.config_digest);
    assert_eq!(strings(&inspect["RepoTags"]), [reference.as_str()]);
    assert_eq!(
        strings(&inspect["RepoDigests"]),
        [repo_digest(&reference, &image.manifest_digest)]
    );
    assert_eq!(
        strings(&inspect["RootFS"]["Layers"]),
        [image.layers[0].diff_id.clone()]
    );
    assert_eq!(inspect["Architecture"], "amd64");
    assert_eq!(inspect["Os"], "linux");

    // The blobs are stored under their digests, byte for byte.
    for digest in [
        &image.config_digest,
        &image.manifest_digest,
        &image.layers[0].digest,
    ] {
        let bytes = std::fs::read(d.blob_path(digest))
            .unwrap_or_else(|e| panic!("blob {digest} not in the store: {e}"));
        assert_eq!(&images::sha256(&bytes), digest);
    }
    // The layer is unpacked: busybox itself and its applet links.
    let busybox = d.find_in_layers("bin/busybox");
    assert_eq!(busybox.len(), 1, "bin/busybox in layers: {busybox:?}");
    let meta = std::fs::symlink_metadata(&busybox[0]).unwrap();
    assert_eq!(
        meta.len(),
        std::fs::metadata(fixtures::BUSYBOX).unwrap().len()
    );
    assert_eq!(meta.permissions().mode() & 0o7777, 0o755);
    let sh = d.find_in_layers("bin/sh");
    assert_eq!(sh.len(), 1);
    assert_eq!(std::fs::read_link(&sh[0]).unwrap(), Path::new("busybox"));

    // Pulling again is a no-op that succeeds, and by digest finds the same image.
    d.berth_ok(&["pull", &reference]);
    let by_digest = repo_digest(&reference, &image.manifest_digest);
    d.berth_ok(&["pull", &by_digest]);
    assert_eq!(d.inspect(&by_digest)["Id"], image.config_digest);
    assert_eq!(d.image_list().len(), 1);
}

#[test]
fn pull_turns_whiteouts_and_opaque_dirs_into_overlay_form() {
    if !tools("pull_turns_whiteouts_and_opaque_dirs_into_overlay_form")
        || !support::require_root("pull_turns_whiteouts_and_opaque_dirs_into_overlay_form")
    {
        return;
    }
    let (reg, d) = setup();
    // zstd lower layer, plain upper layer, gzip third layer.
    let spec = fixtures::whiteout_spec(Compression::Zstd, Compression::None);
    let (image, reference) = publish(&reg, "e2e/whiteouts:1", &spec);
    d.berth_ok(&["pull", &reference]);
    assert_eq!(d.inspect(&reference)["Id"], image.config_digest);
    let diff_ids: Vec<String> = image.layers.iter().map(|l| l.diff_id.clone()).collect();
    assert_eq!(
        strings(&d.inspect(&reference)["RootFS"]["Layers"]),
        diff_ids
    );

    // The whiteout is a 0/0 character device in the upper layer's directory.
    let whiteouts: Vec<_> = d
        .find_in_layers(fixtures::WHITED_OUT)
        .into_iter()
        .filter(|p| {
            let m = std::fs::symlink_metadata(p).unwrap();
            m.file_type().is_char_device() && m.rdev() == 0
        })
        .collect();
    assert_eq!(
        whiteouts.len(),
        1,
        "no 0/0 char device for {}",
        fixtures::WHITED_OUT
    );
    // The lower layer still has the file itself.
    assert_eq!(d.find_in_layers(fixtures::WHITED_OUT).len(), 2);
    // The opaque directory carries trusted.overlay.opaque=y, in exactly one layer.
    let opaque: Vec<_> = d
        .find_in_layers(fixtures::OPAQUE_DIR)
        .into_iter()
        .filter(|p| {
            xattr::get(p, "trusted.overlay.opaque")
                .ok()
                .flatten()
                .as_deref()
                == Some(b"y".as_slice())
        })
        .collect();
    assert_eq!(
        opaque.len(),
        1,
        "no opaque xattr on {}",
        fixtures::OPAQUE_DIR
    );
    assert!(opaque[0].join("new").is_file());
    // No OCI marker file survives unpacking.
    let markers: Vec<_> = support::walk(&d.root().join("image/layers"))
        .into_iter()
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(".wh."))
        })
        .collect();
    assert!(markers.is_empty(), "whiteout markers left: {markers:?}");

    // Hard links, modes and ownership are kept.
    let original = &d.find_in_layers("srv/original")[0];
    let link = &d.find_in_layers("srv/hardlink")[0];
    assert_eq!(
        std::fs::metadata(original).unwrap().ino(),
        std::fs::metadata(link).unwrap().ino()
    );
    let setuid = std::fs::metadata(&d.find_in_layers("srv/setuid")[0]).unwrap();
    assert_eq!(setuid.permissions().mode() & 0o7777, 0o4755);
    let owned = std::fs::metadata(&d.find_in_layers("srv/owned")[0]).unwrap();
    assert_eq!((owned.uid(), owned.gid()), (1000, 1000));
    assert_eq!(owned.permissions().mode() & 0o7777, 0o640);
    assert_eq!(owned.mtime(), images::MTIME as i64);
}

#[test]
fn pull_plain_and_zstd_layers() {
    if !tools("pull_plain_and_zstd_layers") {
        return;
    }
    let (reg, d) = setup();
    for (tag, compression) in [("plain", Compression::None), ("zstd", Compression::Zstd)] {
        let (image, reference) = publish(
            &reg,
            &format!("e2e/busybox:{tag}"),
            &fixtures::busybox_spec(compression),
        );
        d.berth_ok(&["pull", &reference]);
        let inspect = d.inspect(&reference);
        assert_eq!(inspect["Id"], image.config_digest, "{tag}");
        let digests = strings(&inspect["RepoDigests"]);
        assert!(
            digests.contains(&repo_digest(&reference, &image.manifest_digest)),
            "{tag}: {digests:?}"
        );
    }
    // The same uncompressed layer and config under two manifests: one image (ID = config
    // digest) with both repo digests, and one unpacked layer directory (same chain ID).
    assert_eq!(d.image_list().len(), 1);
    assert_eq!(
        strings(&d.inspect(&format!("{}/e2e/busybox:zstd", reg.addr()))["RepoDigests"]).len(),
        2
    );
    assert_eq!(d.find_in_layers("bin/busybox").len(), 1);
}

#[test]
fn pull_picks_the_platform_from_an_index() {
    if !tools("pull_picks_the_platform_from_an_index") {
        return;
    }
    let (reg, d) = setup();
    let (amd64, arm64) = fixtures::platform_specs();
    let (index_digest, built) = fixtures::push_index(&reg, "e2e/multi:1", &[amd64, arm64]);
    let reference = format!("{}/e2e/multi:1", reg.addr());

    d.berth_ok(&["pull", "--platform", "linux/arm64", &reference]);
    let inspect = d.inspect(&reference);
    assert_eq!(inspect["Id"], built[1].config_digest);
    assert_eq!(inspect["Architecture"], "arm64");
    assert_eq!(inspect["Variant"], "v8");
    assert_eq!(inspect["Config"]["Labels"]["fixture.platform"], "arm64");
    // Docker records the index digest as the repo digest of a multi-platform pull.
    assert_eq!(
        strings(&inspect["RepoDigests"]),
        [repo_digest(&reference, &index_digest)]
    );

    d.berth_ok(&["pull", "--platform", "linux/amd64", &reference]);
    assert_eq!(d.inspect(&reference)["Id"], built[0].config_digest);
    // The arm64 image lost its tag but stays (dangling), as with Docker.
    let ids: Vec<String> = d
        .image_list()
        .iter()
        .filter_map(|i| i["Id"].as_str().map(str::to_string))
        .collect();
    assert!(ids.contains(&built[1].config_digest), "{ids:?}");

    // An unknown platform is an error, exit 1.
    let out = d.berth(&["pull", "--platform", "linux/s390x", &reference]);
    let err = support::stderr_failed("pull --platform linux/s390x", &out, 1);
    assert!(err.contains("s390x"), "{err}");
}

#[test]
fn push_to_a_second_repository_keeps_the_manifest_bytes() {
    if !tools("push_to_a_second_repository_keeps_the_manifest_bytes") {
        return;
    }
    let (reg, d) = setup();
    let spec = fixtures::whiteout_spec(Compression::Gzip, Compression::Zstd);
    let (image, reference) = publish(&reg, "e2e/source:1", &spec);
    d.berth_ok(&["pull", &reference]);
    let copy = format!("{}/e2e/copy:2", reg.addr());
    d.berth_ok(&["tag", &reference, &copy]);
    d.berth_ok(&["push", &copy]);

    let raw = images::skopeo_raw_manifest(&copy, None);
    assert_eq!(
        String::from_utf8_lossy(&raw),
        String::from_utf8_lossy(&image.manifest),
        "pushed manifest differs"
    );
    assert_eq!(images::sha256(&raw), image.manifest_digest);
    // The pushed repository's digest is recorded too.
    let digests = strings(&d.inspect(&copy)["RepoDigests"]);
    assert!(
        digests.contains(&repo_digest(&copy, &image.manifest_digest)),
        "{digests:?}"
    );

    // An image made locally (import) pushes too and reads back with the same config.
    let tar = d.scratch().join("rootfs.tar");
    std::fs::write(&tar, fixtures::busybox_rootfs_tar()).unwrap();
    let local = format!("{}/e2e/imported:1", reg.addr());
    d.berth_ok(&["import", tar.to_str().unwrap(), &local]);
    d.berth_ok(&["push", &local]);
    let raw: Value = serde_json::from_slice(&images::skopeo_raw_manifest(&local, None)).unwrap();
    assert_eq!(raw["config"]["digest"], d.inspect(&local)["Id"]);
}

#[test]
fn save_rmi_load_round_trip_keeps_the_id() {
    if !tools("save_rmi_load_round_trip_keeps_the_id") {
        return;
    }
    let (reg, d) = setup();
    let spec = fixtures::whiteout_spec(Compression::Gzip, Compression::None);
    let (image, reference) = publish(&reg, "e2e/saved:1", &spec);
    d.berth_ok(&["pull", &reference]);
    let archive = d.scratch().join("saved.tar");
    d.berth_ok(&["save", "-o", archive.to_str().unwrap(), &reference]);

    // A docker-archive: manifest.json naming the config and the tag.
    let manifest =
        read_tar_member(&archive, "manifest.json").expect("manifest.json in the archive");
    let manifest: Value = serde_json::from_slice(&manifest).unwrap();
    assert_eq!(strings(&manifest[0]["RepoTags"]), [reference.as_str()]);

    // skopeo reads berth's archive and keeps the config digest.
    let oci = d.scratch().join("oci");
    let out = std::process::Command::new("skopeo")
        .arg("copy")
        .arg("--quiet")
        .arg(format!("docker-archive:{}", archive.display()))
        .arg(format!("oci:{}:x", oci.display()))
        .output()
        .unwrap();
    support::stdout_ok("skopeo copy docker-archive: oci:", &out);
    // skopeo re-encodes the config as an OCI one (its digest changes), the layers' diff IDs
    // must come through unchanged.
    let (oci_id, oci_config) = oci_config(&oci);
    let diff_ids: Vec<String> = image.layers.iter().map(|l| l.diff_id.clone()).collect();
    assert_eq!(strings(&oci_config["rootfs"]["diff_ids"]), diff_ids);
    assert_eq!(oci_config["architecture"], "amd64");

    let out = d.berth_ok(&["rmi", &reference]);
    assert!(out.contains(&format!("Untagged: {reference}")), "{out}");
    assert!(
        out.contains(&format!("Deleted: {}", image.config_digest)),
        "{out}"
    );
    assert!(d.image_list().is_empty());

    let out = d.berth_ok(&["load", "-i", archive.to_str().unwrap()]);
    assert!(out.contains(&format!("Loaded image: {reference}")), "{out}");
    let inspect = d.inspect(&reference);
    assert_eq!(inspect["Id"], image.config_digest);
    assert_eq!(strings(&inspect["RootFS"]["Layers"]), diff_ids);

    // `load` from stdin, of an OCI layout tarball (skopeo's oci-archive) works too.
    let oci_tar = d.scratch().join("oci.tar");
    let out = std::process::Command::new("skopeo")
        .arg("copy")
        .arg("--quiet")
        .arg(format!("oci:{}:x", oci.display()))
        .arg(format!("oci-archive:{}:fromoci:1", oci_tar.display()))
        .output()
        .unwrap();
    support::stdout_ok("skopeo copy oci: oci-archive:", &out);
    d.berth_ok(&["rmi", &reference]);
    let out = d
        .berth_cmd(&["load"])
        .stdin(std::fs::File::open(&oci_tar).unwrap())
        .output()
        .unwrap();
    support::stdout_ok("berth load < oci.tar", &out);
    // The image is skopeo's re-encoded config, with the same layers.
    let ids: Vec<Value> = d.image_list().iter().map(|i| i["Id"].clone()).collect();
    assert_eq!(ids, [Value::from(oci_id.clone())]);
    assert_eq!(strings(&d.inspect(&oci_id)["RootFS"]["Layers"]), diff_ids);
}

#[test]
fn import_tag_rmi_and_prune() {
    if !tools("import_tag_rmi_and_prune") {
        return;
    }
    let d = Daemon::start();
    let rootfs = fixtures::busybox_rootfs_tar();
    let tar = d.scratch().join("rootfs.tar");
    std::fs::write(&tar, &rootfs).unwrap();

    let out = d.berth_ok(&[
        "import",
        "--change",
        r#"CMD ["/bin/sh", "-c", "echo hi"]"#,
        "--change",
        "ENV A=b",
        tar.to_str().unwrap(),
        "local/imported:1",
    ]);
    let id = out.trim().to_string();
    assert!(
        id.starts_with("sha256:") && id.len() == 71,
        "import printed {out:?}"
    );
    let inspect = d.inspect("local/imported:1");
    assert_eq!(inspect["Id"], id);
    assert_eq!(
        strings(&inspect["RootFS"]["Layers"]),
        [images::sha256(&rootfs)]
    );
    assert_eq!(
        strings(&inspect["Config"]["Cmd"]),
        ["/bin/sh", "-c", "echo hi"]
    );
    assert!(strings(&inspect["Config"]["Env"]).contains(&"A=b".to_string()));
    assert_eq!(strings(&inspect["RepoTags"]), ["local/imported:1"]);
    assert_eq!(d.find_in_layers("bin/busybox").len(), 1);

    // A second tag; rmi of one tag only untags.
    d.berth_ok(&["tag", "local/imported:1", "other:latest"]);
    let mut tags = strings(&d.inspect(&id)["RepoTags"]);
    tags.sort();
    assert_eq!(tags, ["local/imported:1", "other:latest"]);
    let out = d.berth_ok(&["rmi", "other"]);
    assert_eq!(out.trim(), "Untagged: other:latest");
    assert_eq!(d.image_list().len(), 1);

    // `import -` from stdin without a reference makes a dangling image; prune removes it and
    // nothing else.
    let out = d
        .berth_cmd(&["import", "--change", "ENV DANGLING=1", "-"])
        .stdin(std::fs::File::open(&tar).unwrap())
        .output()
        .unwrap();
    let dangling = support::stdout_ok("berth import -", &out)
        .trim()
        .to_string();
    assert_ne!(dangling, id);
    assert_eq!(d.image_list().len(), 2);
    let dangling_listed = d.berth_ok(&["images", "-q", "--filter", "dangling=true"]);
    assert_eq!(dangling_listed.trim(), &dangling[7..19]);
    let out = d.berth_ok(&["image", "prune", "-f"]);
    assert!(out.contains(&format!("deleted: {dangling}")), "{out}");
    let left: Vec<Value> = d.image_list().iter().map(|i| i["Id"].clone()).collect();
    assert_eq!(left, [Value::from(id.clone())]);
    // The layer is shared by both images: still unpacked.
    assert_eq!(d.find_in_layers("bin/busybox").len(), 1);

    // rmi of the last tag deletes the image, its blobs and its unpacked layer.
    let out = d.berth_ok(&["rmi", "local/imported:1"]);
    assert!(out.contains(&format!("Deleted: {id}")), "{out}");
    assert!(d.image_list().is_empty());
    d.berth_ok(&["image", "prune", "-f"]);
    assert!(d.find_in_layers("bin/busybox").is_empty());
    assert!(!d.blob_path(&id).exists());

    // Unknown names are Docker's errors, exit 1.
    let out = d.berth(&["rmi", "nope:1"]);
    let err = support::stderr_failed("rmi nope:1", &out, 1);
    assert!(err.contains("No such image: nope:1"), "{err}");
}

#[test]
fn login_to_a_basic_auth_registry_then_pull() {
    if !tools("login_to_a_basic_auth_registry_then_pull") {
        return;
    }
    let reg = Registry::start_with_htpasswd("alice", "s3cret");
    let d = Daemon::start();
    let (image, reference) = publish(
        &reg,
        "e2e/private:1",
        &fixtures::busybox_spec(Compression::Gzip),
    );

    // Without credentials: refused, exit 1, nothing stored.
    let out = d.berth(&["pull", &reference]);
    support::stderr_failed("pull without login", &out, 1);
    assert!(d.image_list().is_empty());

    // A wrong password: refused, exit 1, nothing saved.
    let out = d.berth(&["login", "-u", "alice", "-p", "wrong", &reg.addr()]);
    let err = support::stderr_failed("login with a wrong password", &out, 1);
    let lower = err.to_lowercase();
    assert!(
        lower.contains("unauthorized") || lower.contains("authentication required"),
        "{err}"
    );
    assert!(!config_has_auth(&d.docker_config(), &reg.addr()));

    let mut login = d.berth_cmd(&["login", "-u", "alice", "--password-stdin", &reg.addr()]);
    login
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped());
    login.stderr(std::process::Stdio::piped());
    let mut child = login.spawn().unwrap();
    {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(b"s3cret\n").unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let text = support::stdout_ok("login --password-stdin", &out);
    assert!(text.contains("Login Succeeded"), "{text}");
    assert!(config_has_auth(&d.docker_config(), &reg.addr()));

    d.berth_ok(&["pull", &reference]);
    assert_eq!(d.inspect(&reference)["Id"], image.config_digest);

    // Push with the stored credentials too.
    let copy = format!("{}/e2e/private-copy:1", reg.addr());
    d.berth_ok(&["tag", &reference, &copy]);
    d.berth_ok(&["push", &copy]);
    let raw = images::skopeo_raw_manifest(&copy, reg.creds());
    assert_eq!(images::sha256(&raw), image.manifest_digest);

    // Wrong stored credentials: pull fails with exit 1.
    let config = d.docker_config().join("config.json");
    let bad = serde_json::json!({"auths": {reg.addr(): {"auth": "YWxpY2U6d3Jvbmc="}}});
    std::fs::write(&config, bad.to_string()).unwrap();
    d.berth_ok(&["rmi", &reference]);
    let out = d.berth(&["pull", &reference]);
    support::stderr_failed("pull with wrong stored credentials", &out, 1);

    let out = d.berth_ok(&["logout", &reg.addr()]);
    assert!(out.contains("Removing login credentials"), "{out}");
    assert!(!config_has_auth(&d.docker_config(), &reg.addr()));
}

#[test]
fn login_to_a_token_auth_registry_then_pull_and_push() {
    let test = "login_to_a_token_auth_registry_then_pull_and_push";
    if !tools(test) || !support::require_tool("openssl", test) {
        return;
    }
    let reg = Registry::start_with_token("bob", "t0ken");
    let d = Daemon::start();
    let tokens = reg.token_server().expect("token server");
    let (image, reference) = publish(
        &reg,
        "e2e/token:1",
        &fixtures::busybox_spec(Compression::Gzip),
    );

    // No credentials: the token server refuses, the pull fails with exit 1.
    let refused = tokens.refused();
    let out = d.berth(&["pull", &reference]);
    support::stderr_failed("pull without login", &out, 1);
    assert!(
        tokens.refused() > refused,
        "berth never asked the token server"
    );
    assert!(d.image_list().is_empty());

    let out = d.berth(&["login", "-u", "bob", "-p", "wrong", &reg.addr()]);
    support::stderr_failed("login with a wrong password", &out, 1);

    let issued = tokens.issued();
    d.berth_ok(&["login", "-u", "bob", "-p", "t0ken", &reg.addr()]);
    d.berth_ok(&["pull", &reference]);
    assert_eq!(d.inspect(&reference)["Id"], image.config_digest);
    assert!(tokens.issued() > issued, "no Bearer token was used");

    let copy = format!("{}/e2e/token-copy:1", reg.addr());
    d.berth_ok(&["tag", &reference, &copy]);
    d.berth_ok(&["push", &copy]);
    let raw = images::skopeo_raw_manifest(&copy, reg.creds());
    assert_eq!(images::sha256(&raw), image.manifest_digest);
}

/// Whether `config.json` in `dir` has an `auths` entry for `registry`.
fn config_has_auth(dir: &Path, registry: &str) -> bool {
    let Ok(text) = std::fs::read_to_string(dir.join("config.json")) else {
        return false;
    };
    let config: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    config["auths"].get(registry).is_some()
}

/// One member of a tar file, by name.
fn read_tar_member(archive: &Path, name: &str) -> Option<Vec<u8>> {
    use std::io::Read;
    let mut tar = tar::Archive::new(std::fs::File::open(archive).ok()?);
    for entry in tar.entries().ok()? {
        let mut entry = entry.ok()?;
        if entry
            .path()
            .ok()?
            .to_string_lossy()
            .trim_start_matches("./")
            == name
        {
            let mut out = Vec::new();
            entry.read_to_end(&mut out).ok()?;
            return Some(out);
        }
    }
    None
}

/// The config digest and config of the only image in an OCI layout directory.
fn oci_config(dir: &Path) -> (String, Value) {
    let index: Value =
        serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    let manifest_digest = index["manifests"][0]["digest"]
        .as_str()
        .unwrap()
        .to_string();
    let hex = manifest_digest.trim_start_matches("sha256:");
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(dir.join("blobs/sha256").join(hex)).unwrap())
            .unwrap();
    let digest = manifest["config"]["digest"].as_str().unwrap().to_string();
    let hex = digest.trim_start_matches("sha256:");
    let config =
        serde_json::from_slice(&std::fs::read(dir.join("blobs/sha256").join(hex)).unwrap())
            .unwrap();
    (digest, config)
}

/// Not a test: writes the ~100 MB benchmark image as an OCI layout into `$BENCH_DIR/layout`
/// (tag `bench`) for `bench/pull.sh`.
#[test]
#[ignore]
fn bench_fixture_write_layout() {
    let Some(dir) = std::env::var_os("BENCH_DIR") else {
        panic!("set BENCH_DIR");
    };
    let dir = Path::new(&dir).join("layout");
    let _ = std::fs::remove_dir_all(&dir);
    let mut layout = images::OciLayout::create(&dir);
    let spec = fixtures::big_spec(42, 150 << 20, 6, Compression::Gzip);
    let image = layout.add_image("bench", &spec);
    let blobs: Vec<String> = image
        .layers
        .iter()
        .map(|l| layout.blob_path(&l.digest).display().to_string())
        .collect();
    std::fs::write(dir.join("../layers.txt"), blobs.join("\n") + "\n").unwrap();
    let total: u64 = image.layers.iter().map(|l| l.size).sum();
    println!(
        "bench image: {} layers, {} MB compressed, config {}",
        image.layers.len(),
        total >> 20,
        image.config_digest
    );
}

/// Not a test: unpacks every layer listed in `$BENCH_DIR/layers.txt` into `$BENCH_DEST/<n>`
/// with berth's unpacker, for `bench/pull.sh` to time beside `tar -x`.
#[test]
#[ignore]
fn bench_unpack_layers() {
    let (Some(dir), Some(dest)) = (
        std::env::var_os("BENCH_DIR"),
        std::env::var_os("BENCH_DEST"),
    ) else {
        panic!("set BENCH_DIR and BENCH_DEST");
    };
    let list = std::fs::read_to_string(Path::new(&dir).join("layers.txt")).unwrap();
    for (n, blob) in list.lines().enumerate() {
        let target = Path::new(&dest).join(n.to_string());
        std::fs::create_dir_all(&target).unwrap();
        let file = std::io::BufReader::new(std::fs::File::open(blob).unwrap());
        berth::image::unpack::unpack_layer(file, &target).unwrap();
    }
}
