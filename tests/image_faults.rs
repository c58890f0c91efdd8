//! Image faults: a corrupt blob in the registry, the registry dying mid-pull, the daemon
//! SIGKILLed mid-pull, and hostile layers. Each must end in a clear error, a consistent store
//! (no half image listed, every stored blob matching its name) and nothing written outside the
//! layer directories; the next pull must then succeed.
//!
//! Mid-pull faults go through a throttling proxy (`support::proxy`) so that "mid" is certain.

mod support;

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::Duration;

use support::daemon::Daemon;
use support::images::{self, fixtures, BuiltImage, Compression, ImageSpec};
use support::proxy::Proxy;
use support::registry::{self, Registry};

fn tools(test: &str) -> bool {
    registry::require(test) && support::require_tool("skopeo", test)
}

/// Every blob in the store is named after the digest of its bytes.
fn assert_blobs_consistent(d: &Daemon) {
    let dir = d.root().join("image/blobs/sha256");
    for path in support::walk(&dir) {
        if !path.is_file() {
            continue;
        }
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(
            images::sha256(&bytes),
            format!("sha256:{name}"),
            "stored blob {} does not match its name",
            path.display()
        );
    }
}

/// A busybox layer (small, so it is likely complete when the fault hits) under three bigger
/// plain layers (6 MB each).
fn big_spec() -> ImageSpec {
    let mut spec = fixtures::big_spec(7, 18 << 20, 3, Compression::None);
    spec.layers
        .insert(0, (fixtures::busybox_rootfs_tar(), Compression::Gzip));
    spec
}

/// `berth pull <reference>` in the background, its output captured.
fn spawn_pull(d: &Daemon, reference: &str) -> Child {
    d.berth_cmd(&["pull", reference])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("berth pull starts")
}

/// Waits for a background pull; its exit code and stderr.
fn finish_pull(child: Child) -> (Option<i32>, String) {
    let out = child.wait_with_output().expect("berth pull ends");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The pull succeeds now and yields exactly `image`.
fn assert_pull_succeeds(d: &Daemon, reference: &str, image: &BuiltImage) {
    d.berth_ok(&["pull", reference]);
    let inspect = d.inspect(reference);
    assert_eq!(inspect["Id"], image.config_digest);
    assert_eq!(d.image_list().len(), 1);
    assert_eq!(d.find_in_layers("bin/busybox").len(), 1);
    assert_blobs_consistent(d);
}

#[test]
fn corrupt_blob_fails_and_stores_nothing() {
    if !tools("corrupt_blob_fails_and_stores_nothing") {
        return;
    }
    let reg = Registry::start();
    let d = Daemon::start();
    let image = fixtures::push_image(
        &reg,
        "faults/corrupt:1",
        &fixtures::busybox_spec(Compression::Gzip),
    );
    let reference = format!("{}/faults/corrupt:1", reg.addr());
    let layer = &image.layers[0].digest;
    let data = reg.blob_data_path(layer);
    let original = std::fs::read(&data).expect("registry has the layer blob");
    let mut corrupt = original.clone();
    let middle = corrupt.len() / 2;
    corrupt[middle] ^= 0xff;
    std::fs::write(&data, &corrupt).unwrap();

    let out = d.berth(&["pull", &reference]);
    let err = support::stderr_failed("pull of a corrupt blob", &out, 1);
    assert!(
        err.to_lowercase().contains("digest"),
        "error does not say digest: {err}"
    );
    assert!(d.image_list().is_empty(), "an image was recorded");
    assert!(!d.blob_path(layer).exists(), "the corrupt blob was stored");
    assert!(
        d.find_in_layers("bin/busybox").is_empty(),
        "the corrupt layer was unpacked"
    );
    assert_blobs_consistent(&d);

    // Repaired, the same pull works.
    std::fs::write(&data, &original).unwrap();
    assert_pull_succeeds(&d, &reference, &image);
}

#[test]
fn registry_killed_mid_pull_then_restarted() {
    if !tools("registry_killed_mid_pull_then_restarted") {
        return;
    }
    let mut reg = Registry::start();
    let d = Daemon::start();
    let image = fixtures::push_image(&reg, "faults/big:1", &big_spec());
    // 2 MB/s per connection: the 19 MB image takes seconds, so the kill lands mid-pull.
    let proxy = Proxy::start(&reg.addr(), 2 << 20);
    let reference = format!("{}/faults/big:1", proxy.addr());

    let pull = spawn_pull(&d, &reference);
    assert!(
        proxy.wait_sent(2 << 20, Duration::from_secs(60)),
        "the pull never started"
    );
    reg.kill();
    let (code, err) = finish_pull(pull);
    assert_eq!(code, Some(1), "pull survived the registry's death: {err}");
    assert!(d.image_list().is_empty(), "a half image is listed");
    assert_blobs_consistent(&d);

    reg.restart();
    proxy.set_rate(0);
    assert_pull_succeeds(&d, &reference, &image);
}

#[test]
fn daemon_killed_mid_pull_restarts_consistent() {
    if !tools("daemon_killed_mid_pull_restarts_consistent") {
        return;
    }
    let reg = Registry::start();
    let mut d = Daemon::start();
    let image = fixtures::push_image(&reg, "faults/big:1", &big_spec());
    let proxy = Proxy::start(&reg.addr(), 2 << 20);
    let reference = format!("{}/faults/big:1", proxy.addr());

    let pull = spawn_pull(&d, &reference);
    // Past the small layer, into the big ones.
    assert!(
        proxy.wait_sent(4 << 20, Duration::from_secs(60)),
        "the pull never started"
    );
    d.kill9();
    let (code, err) = finish_pull(pull);
    assert_ne!(code, Some(0), "pull succeeded without its daemon: {err}");

    d.restart();
    assert!(
        d.image_list().is_empty(),
        "a half image is listed after restart"
    );
    let listed = d.berth_ok(&["images", "-q"]);
    assert!(listed.trim().is_empty(), "berth images lists {listed}");
    assert_blobs_consistent(&d);

    proxy.set_rate(0);
    assert_pull_succeeds(&d, &reference, &image);
}

/// Pushes a layer trying `malice` against a sentinel directory, pulls it, and checks the
/// pull fails naming the entry and nothing was written outside the layer directories.
fn malicious_layer_is_rejected(malice: fixtures::Malice) {
    let test = format!("malicious_layer_is_rejected({malice:?})");
    if !tools(&test) {
        return;
    }
    let reg = Registry::start();
    let d = Daemon::start();
    let sentinel = tempfile::Builder::new()
        .prefix("berth-sentinel")
        .tempdir()
        .unwrap();
    let secret = sentinel.path().join("secret");
    std::fs::write(&secret, b"secret\n").unwrap();

    let layer = fixtures::malicious_layer(malice, sentinel.path());
    let spec = ImageSpec::new(vec![(layer, Compression::Gzip)]);
    fixtures::push_image(&reg, "faults/evil:1", &spec);
    let reference = format!("{}/faults/evil:1", reg.addr());

    let out = d.berth(&["pull", &reference]);
    let err = support::stderr_failed(&test, &out, 1);
    assert!(
        err.contains(malice.entry()),
        "{test}: error does not name {:?}: {err}",
        malice.entry()
    );
    assert!(d.image_list().is_empty(), "{test}: image recorded");

    // Nothing outside: the sentinel is untouched, and no escaped file exists anywhere in the
    // daemon's directory (where `..` from a layer directory would land).
    assert_eq!(
        std::fs::read(&secret).unwrap(),
        b"secret\n",
        "{test}: secret changed"
    );
    assert_eq!(
        std::fs::metadata(&secret).unwrap().nlink(),
        1,
        "{test}: secret hard-linked"
    );
    let in_sentinel: Vec<_> = support::walk(sentinel.path());
    assert_eq!(
        in_sentinel,
        std::slice::from_ref(&secret),
        "{test}: sentinel dir changed"
    );
    let daemon_dir = d.root().parent().unwrap().to_path_buf();
    let escaped: Vec<_> = support::walk(&daemon_dir)
        .into_iter()
        .filter(|p| is_escape_name(p))
        .collect();
    assert!(escaped.is_empty(), "{test}: escaped entries {escaped:?}");
    assert_blobs_consistent(&d);
}

fn is_escape_name(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    name.starts_with("berth-escape") || name == "pwned"
}

#[test]
fn malicious_layer_dotdot_is_rejected() {
    malicious_layer_is_rejected(fixtures::Malice::DotDot);
}

#[test]
fn malicious_layer_absolute_symlink_is_rejected() {
    malicious_layer_is_rejected(fixtures::Malice::AbsoluteSymlink);
}

#[test]
fn malicious_layer_relative_symlink_is_rejected() {
    malicious_layer_is_rejected(fixtures::Malice::RelativeSymlink);
}

#[test]
fn malicious_layer_hard_link_outside_is_rejected() {
    malicious_layer_is_rejected(fixtures::Malice::HardLinkOutside);
}

/// The fixture itself: through the throttling proxy a blob download is slow enough to be cut
/// by killing the registry, and the client sees the cut.
#[test]
fn fixture_proxy_throttles_and_dies_with_the_registry() {
    if !tools("fixture_proxy_throttles_and_dies_with_the_registry") {
        return;
    }
    let mut reg = Registry::start();
    let spec = fixtures::big_spec(3, 8 << 20, 1, Compression::None);
    let image = fixtures::push_image(&reg, "faults/proxy:1", &spec);
    let proxy = Proxy::start(&reg.addr(), 2 << 20);
    let path = format!("/v2/faults/proxy/blobs/{}", image.layers[0].digest);
    let addr = proxy.addr();
    let download = std::thread::spawn(move || registry::http_get(&addr, &path, None, &[]));
    assert!(proxy.wait_sent(1 << 20, Duration::from_secs(30)));
    reg.kill();
    // A transport error is the expected outcome too.
    if let Ok((status, body)) = download.join().unwrap() {
        assert!(
            status != 200 || (body.len() as u64) < image.layers[0].size,
            "the whole blob arrived"
        );
    }
}
