//! Pull and push against a real Distribution registry (Debian's `docker-registry`) on
//! 127.0.0.1, through berth's library (`image::pull`, `image::push`) into a store in a
//! temporary directory. Images are made by the tests (OCI layouts pushed with skopeo), so
//! every digest is known in advance; skopeo also checks what our pushes produced.
//!
//! Registries, proxies and stores live in per-test temporary directories and are killed by
//! PID in Drop (see `support`).

mod support;

use std::sync::Arc;
use std::time::Duration;

use berth::image::digest::Digest;
use berth::image::platform::Platform;
use berth::image::progress::{ProgressMessage, ProgressSink};
use berth::image::pull::{pull, PullError};
use berth::image::push::push;
use berth::image::reference::Reference;
use berth::image::registry::{AuthConfig, RegistryClient, RegistryConfig};
use berth::image::store::{ImageRecord, ImageStore};
use support::images::{self, fixtures, Compression};
use support::proxy::Proxy;
use support::registry::{self, Registry};

fn tools_present(test: &str) -> bool {
    registry::require(test) && support::require_tool("skopeo", test)
}

/// A store of its own in a temporary directory.
struct TestStore {
    _dir: tempfile::TempDir,
    store: Arc<ImageStore>,
}

fn new_store() -> TestStore {
    let dir = tempfile::Builder::new()
        .prefix("berth-store")
        .tempdir()
        .expect("store tempdir");
    let store = ImageStore::open(&dir.path().join("image")).expect("store opens");
    TestStore {
        _dir: dir,
        store: Arc::new(store),
    }
}

fn client() -> RegistryClient {
    RegistryClient::new(&RegistryConfig::default())
}

fn reference(s: &str) -> Reference {
    Reference::parse_normalized(s).expect("valid reference")
}

fn digest(s: &str) -> Digest {
    Digest::parse(s).expect("valid digest")
}

fn basic(user: &str, pass: &str) -> AuthConfig {
    AuthConfig {
        username: user.into(),
        password: pass.into(),
        ..Default::default()
    }
}

/// A pull's outcome and every progress line it sent.
async fn pull_as(
    store: &Arc<ImageStore>,
    client: &RegistryClient,
    name: &str,
    platform: Option<&Platform>,
    auth: Option<&AuthConfig>,
) -> (Result<ImageRecord, PullError>, Vec<ProgressMessage>) {
    let (sink, mut rx) = ProgressSink::channel();
    let result = pull(store, client, &reference(name), platform, auth, &sink).await;
    let mut lines = Vec::new();
    while let Ok(line) = rx.try_recv() {
        lines.push(line);
    }
    (result, lines)
}

fn statuses(lines: &[ProgressMessage]) -> Vec<String> {
    lines
        .iter()
        .map(|l| {
            if l.id.is_empty() {
                l.status.clone()
            } else {
                format!("{}: {}", l.id, l.status)
            }
        })
        .collect()
}

fn has_status(lines: &[ProgressMessage], status: &str) -> bool {
    lines.iter().any(|l| l.status == status)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pull_records_the_image_and_a_second_pull_is_up_to_date() {
    if !tools_present("pull_records_the_image") {
        return;
    }
    let registry = Registry::start();
    let built = fixtures::push_image(
        &registry,
        "test/busybox:1",
        &fixtures::busybox_spec(Compression::Gzip),
    );
    let s = new_store();
    let client = client();
    let name = format!("{}/test/busybox:1", registry.addr());

    let (result, lines) = pull_as(&s.store, &client, &name, None, None).await;
    let image = result.expect("pull succeeds");
    assert_eq!(image.id, digest(&built.config_digest));
    assert_eq!(image.manifest, Some(digest(&built.manifest_digest)));
    let skopeo = images::sha256(&images::skopeo_raw_manifest(&name, None));
    assert_eq!(skopeo, built.manifest_digest);
    assert!(image.repo_digests.contains(&format!(
        "{}/test/busybox@{}",
        registry.addr(),
        built.manifest_digest
    )));
    let layer = &image.layers[0];
    assert_eq!(layer.diff_id, digest(&built.layers[0].diff_id));
    assert!(s
        .store
        .layer_dir(&layer.chain_id)
        .join("bin/busybox")
        .is_file());
    assert_eq!(s.store.resolve(&name).expect("tagged").id, image.id);

    let text = statuses(&lines);
    let short = &built.layers[0].digest["sha256:".len()..][..12];
    assert_eq!(lines[0].id, "1");
    assert_eq!(lines[0].status, "Pulling from test/busybox");
    for want in [
        "Pulling fs layer",
        "Verifying Checksum",
        "Download complete",
        "Pull complete",
    ] {
        assert!(
            text.contains(&format!("{short}: {want}")),
            "{want} missing in {text:?}"
        );
    }
    assert!(lines
        .iter()
        .any(|l| l.status == "Downloading" && l.progress_detail.is_some()));
    assert!(
        text.contains(&format!("Digest: {}", built.manifest_digest)),
        "{text:?}"
    );
    assert_eq!(
        text.last().map(String::as_str),
        Some(format!("Status: Downloaded newer image for {name}").as_str())
    );

    let (again, lines) = pull_as(&s.store, &client, &name, None, None).await;
    assert_eq!(again.expect("second pull").id, image.id);
    let text = statuses(&lines);
    assert!(!has_status(&lines, "Downloading"), "{text:?}");
    assert!(
        text.contains(&format!("{short}: Already exists")),
        "{text:?}"
    );
    assert_eq!(
        text.last().map(String::as_str),
        Some(format!("Status: Image is up to date for {name}").as_str())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pull_by_digest_records_the_digest_and_no_tag() {
    if !tools_present("pull_by_digest") {
        return;
    }
    let registry = Registry::start();
    let built = fixtures::push_image(
        &registry,
        "test/layers:1",
        &fixtures::whiteout_spec(Compression::Gzip, Compression::Zstd),
    );
    let s = new_store();
    let name = format!("{}/test/layers@{}", registry.addr(), built.manifest_digest);
    let (result, lines) = pull_as(&s.store, &client(), &name, None, None).await;
    let image = result.expect("pull by digest");
    assert_eq!(image.id, digest(&built.config_digest));
    assert_eq!(image.layers.len(), 3);
    assert!(s.store.tags_of(&image.id).expect("tags").is_empty());
    assert_eq!(s.store.resolve(&name).expect("by repo digest").id, image.id);
    assert_eq!(lines[0].id, built.manifest_digest);
    assert!(has_status(
        &lines,
        &format!("Status: Downloaded newer image for {name}")
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pull_picks_the_platform_from_an_index() {
    if !tools_present("pull_picks_the_platform") {
        return;
    }
    let registry = Registry::start();
    let (amd64, arm64) = fixtures::platform_specs();
    let (index_digest, built) = fixtures::push_index(&registry, "test/multi:1", &[amd64, arm64]);
    let name = format!("{}/test/multi:1", registry.addr());
    let client = client();

    let s = new_store();
    let arm = Platform::parse("linux/arm64").expect("platform");
    let image = pull_as(&s.store, &client, &name, Some(&arm), None)
        .await
        .0
        .expect("arm64 pull");
    assert_eq!(image.id, digest(&built[1].config_digest));
    assert_eq!(image.manifest, Some(digest(&built[1].manifest_digest)));
    assert!(image
        .repo_digests
        .contains(&format!("{}/test/multi@{index_digest}", registry.addr())));

    if Platform::host() == Platform::parse("linux/amd64").expect("platform") {
        let s = new_store();
        let image = pull_as(&s.store, &client, &name, None, None)
            .await
            .0
            .expect("host pull");
        assert_eq!(image.id, digest(&built[0].config_digest));
    }

    let s = new_store();
    let s390x = Platform::parse("linux/s390x").expect("platform");
    let err = pull_as(&s.store, &client, &name, Some(&s390x), None)
        .await
        .0
        .expect_err("no s390x entry");
    assert_eq!(err.http_status(), 404);
    assert_eq!(
        err.to_string(),
        "no matching manifest for linux/s390x in the manifest list entries"
    );
    assert!(s.store.list().expect("list").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_tag_and_repository_are_404s_worded_as_docker() {
    if !tools_present("missing_tag") {
        return;
    }
    let registry = Registry::start();
    fixtures::push_image(
        &registry,
        "test/busybox:1",
        &fixtures::busybox_spec(Compression::Gzip),
    );
    let s = new_store();
    let client = client();
    let addr = registry.addr();
    let err = pull_as(
        &s.store,
        &client,
        &format!("{addr}/test/busybox:nosuch"),
        None,
        None,
    )
    .await
    .0
    .expect_err("no such tag");
    assert_eq!(err.http_status(), 404);
    assert_eq!(
        err.to_string(),
        format!(
            "manifest for {addr}/test/busybox:nosuch not found: manifest unknown: manifest unknown"
        )
    );
    let err = pull_as(
        &s.store,
        &client,
        &format!("{addr}/nosuch/repo:1"),
        None,
        None,
    )
    .await
    .0
    .expect_err("no such repository");
    assert_eq!(err.http_status(), 404, "{err}");
    assert_eq!(
        err.to_string(),
        // This registry answers MANIFEST_UNKNOWN (not NAME_UNKNOWN) for a repository it
        // never saw, and Docker words it the same way against it.
        format!("manifest for {addr}/nosuch/repo:1 not found: manifest unknown: manifest unknown")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_auth_registry_needs_the_right_password() {
    if !tools_present("basic_auth") || !support::require_tool("htpasswd", "basic_auth") {
        return;
    }
    let registry = Registry::start_with_htpasswd("berth", "s3cret");
    let built = fixtures::push_image(
        &registry,
        "private/busybox:1",
        &fixtures::busybox_spec(Compression::Zstd),
    );
    let name = format!("{}/private/busybox:1", registry.addr());
    let client = client();

    let s = new_store();
    let err = pull_as(&s.store, &client, &name, None, None)
        .await
        .0
        .expect_err("anonymous pull refused");
    assert_eq!(err.http_status(), 401);
    assert!(
        err.to_string().ends_with("no basic auth credentials"),
        "{err}"
    );

    let err = pull_as(
        &s.store,
        &client,
        &name,
        None,
        Some(&basic("berth", "wrong")),
    )
    .await
    .0
    .expect_err("wrong password refused");
    assert_eq!(err.http_status(), 401, "{err}");
    assert!(s.store.list().expect("list").is_empty());

    let image = pull_as(
        &s.store,
        &client,
        &name,
        None,
        Some(&basic("berth", "s3cret")),
    )
    .await
    .0
    .expect("pull with credentials");
    assert_eq!(image.id, digest(&built.config_digest));

    let mut auth = basic("berth", "s3cret");
    auth.serveraddress = registry.addr();
    assert_eq!(client.login(&auth).await, Ok(None));
    auth.password = "wrong".into();
    let err = client.login(&auth).await.expect_err("bad login");
    assert_eq!(
        err,
        format!(
            "login attempt to http://{}/v2/ failed with status: 401 Unauthorized",
            registry.addr()
        )
    );

    // Push back with credentials: skopeo must see the same manifest.
    let target = format!("{}/private/copy:2", registry.addr());
    s.store.tag(&image.id, &reference(&target)).expect("tag");
    let (sink, _rx) = ProgressSink::channel();
    let pushed = push(
        &s.store,
        &client,
        &reference(&target),
        Some(&basic("berth", "s3cret")),
        &sink,
    )
    .await
    .expect("push with credentials");
    assert_eq!(pushed, digest(&built.manifest_digest));
    let raw = images::skopeo_raw_manifest(&target, registry.creds());
    assert_eq!(images::sha256(&raw), built.manifest_digest);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_mounts_skips_and_keeps_the_digest() {
    if !tools_present("push_mounts_skips") {
        return;
    }
    let registry = Registry::start();
    let other = Registry::start();
    let built = fixtures::push_image(
        &registry,
        "src/img:1",
        &fixtures::whiteout_spec(Compression::Gzip, Compression::None),
    );
    let s = new_store();
    let client = client();
    let image = pull_as(
        &s.store,
        &client,
        &format!("{}/src/img:1", registry.addr()),
        None,
        None,
    )
    .await
    .0
    .expect("pull");

    // Same registry, other repository: the layers are mounted, not uploaded.
    let target = format!("{}/dst/img:2", registry.addr());
    s.store.tag(&image.id, &reference(&target)).expect("tag");
    let (sink, mut rx) = ProgressSink::channel();
    let pushed = push(&s.store, &client, &reference(&target), None, &sink)
        .await
        .expect("push");
    let mut lines = Vec::new();
    while let Ok(l) = rx.try_recv() {
        lines.push(l);
    }
    let text = statuses(&lines);
    assert_eq!(pushed, digest(&built.manifest_digest));
    assert_eq!(
        text[0],
        format!(
            "The push refers to repository [{}/dst/img]",
            registry.addr()
        )
    );
    let mounted = format!("Mounted from {}/src/img", registry.addr());
    assert_eq!(
        lines.iter().filter(|l| l.status == mounted).count(),
        3,
        "{text:?}"
    );
    // The API layer reports the digest and size from the stored manifest blob.
    assert_eq!(
        s.store.blob_size(&pushed).expect("manifest stored"),
        built.manifest.len() as u64
    );
    let raw = images::skopeo_raw_manifest(&target, None);
    assert_eq!(images::sha256(&raw), built.manifest_digest);
    let recorded = s.store.resolve(&target).expect("image");
    assert!(recorded.repo_digests.contains(&format!(
        "{}/dst/img@{}",
        registry.addr(),
        built.manifest_digest
    )));

    // Again: the registry has every layer.
    let (sink, mut rx) = ProgressSink::channel();
    push(&s.store, &client, &reference(&target), None, &sink)
        .await
        .expect("second push");
    let mut exists = 0;
    while let Ok(l) = rx.try_recv() {
        assert_ne!(l.status, "Pushed");
        exists += usize::from(l.status == "Layer already exists");
    }
    assert_eq!(exists, 3);

    // Another registry: every layer is uploaded.
    let far = format!("{}/far/img:3", other.addr());
    s.store.tag(&image.id, &reference(&far)).expect("tag");
    let (sink, mut rx) = ProgressSink::channel();
    let pushed = push(&s.store, &client, &reference(&far), None, &sink)
        .await
        .expect("push elsewhere");
    assert_eq!(pushed, digest(&built.manifest_digest));
    let mut uploaded = 0;
    while let Ok(l) = rx.try_recv() {
        uploaded += usize::from(l.status == "Pushed");
    }
    assert_eq!(uploaded, 3);
    let raw = images::skopeo_raw_manifest(&far, None);
    assert_eq!(images::sha256(&raw), built.manifest_digest);

    let err = push(
        &s.store,
        &client,
        &reference(&format!("{}/never/tagged:1", other.addr())),
        None,
        &ProgressSink::discard(),
    )
    .await
    .expect_err("no such local image");
    assert_eq!(err.http_status(), 404);
    assert_eq!(
        err.to_string(),
        format!(
            "An image does not exist locally with the tag: {}/never/tagged",
            other.addr()
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupt_blob_fails_and_records_nothing() {
    if !tools_present("corrupt_blob") {
        return;
    }
    let registry = Registry::start();
    let built = fixtures::push_image(
        &registry,
        "test/corrupt:1",
        &fixtures::busybox_spec(Compression::Gzip),
    );
    let blob = registry.blob_data_path(&built.layers[0].digest);
    let len = std::fs::metadata(&blob).expect("blob in registry").len() as usize;
    std::fs::write(&blob, vec![0x5a; len]).expect("corrupt the blob");

    let s = new_store();
    let name = format!("{}/test/corrupt:1", registry.addr());
    let err = pull_as(&s.store, &client(), &name, None, None)
        .await
        .0
        .expect_err("corrupt blob refused");
    assert_eq!(
        err.to_string(),
        format!(
            "filesystem layer verification failed for digest {}",
            built.layers[0].digest
        )
    );
    assert!(s.store.list().expect("list").is_empty());
    assert!(!s.store.has_blob(&digest(&built.layers[0].digest)));
    assert!(s.store.resolve(&name).is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registry_killed_mid_pull_fails_then_a_new_pull_succeeds() {
    if !tools_present("registry_killed_mid_pull") {
        return;
    }
    let mut registry = Registry::start();
    let spec = fixtures::big_spec(7, 24 << 20, 2, Compression::None);
    let built = fixtures::push_image(&registry, "test/big:1", &spec);
    // 1 MiB/s per connection: the pull is surely in flight when the registry dies.
    let proxy = Proxy::start(&registry.addr(), 1 << 20);
    let name = format!("{}/test/big:1", proxy.addr());
    let s = new_store();
    let client = client();

    let pulling = {
        let (store, client, name) = (Arc::clone(&s.store), client.clone(), name.clone());
        tokio::spawn(async move { pull_as(&store, &client, &name, None, None).await })
    };
    let started = {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            if proxy.sent() > 2 << 20 {
                break true;
            }
            if std::time::Instant::now() > deadline {
                break false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    assert!(started, "the pull never got going");
    registry.kill();
    let (result, _) = tokio::time::timeout(Duration::from_secs(120), pulling)
        .await
        .expect("pull ends after the registry dies")
        .expect("pull task");
    let err = result.expect_err("pull fails when the registry dies");
    assert_eq!(err.http_status(), 500, "{err}");
    let url = format!("Get \"http://{}/v2/test/big/blobs/sha256:", proxy.addr());
    assert!(err.to_string().starts_with(&url), "{err}");
    assert!(s.store.list().expect("list").is_empty());

    registry.restart();
    proxy.set_rate(0);
    let image = pull_as(&s.store, &client, &name, None, None)
        .await
        .0
        .expect("pull after restart");
    assert_eq!(image.id, digest(&built.config_digest));
    assert_eq!(image.layers.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_of_an_image_without_a_manifest_generates_one() {
    if !tools_present("push_generates_manifest") {
        return;
    }
    let registry = Registry::start();
    let s = new_store();
    let mut tar = images::LayerTar::new();
    tar.file("hello.txt", b"hello from berth\n", 0o644);
    let tar = tar.finish();
    let blob = s
        .store
        .write_blob(&Compression::Gzip.compress(&tar))
        .expect("layer blob");
    let (diff_id, chain_id, size) = s.store.unpack_layer(&blob, None).expect("unpack");
    assert_eq!(diff_id.to_string(), images::sha256(&tar));
    let config = serde_json::json!({
        "architecture": "amd64",
        "os": "linux",
        "config": {"Cmd": ["/hello"]},
        "rootfs": {"type": "layers", "diff_ids": [diff_id.to_string()]},
    });
    let id = s
        .store
        .write_blob(&serde_json::to_vec(&config).expect("config json"))
        .expect("config blob");
    let record = ImageRecord {
        id: id.clone(),
        manifest: None,
        manifest_media_type: None,
        repo_digests: Vec::new(),
        layers: vec![berth::image::store::LayerRecord {
            blob: blob.clone(),
            media_type: String::new(),
            blob_size: s.store.blob_size(&blob).expect("size"),
            diff_id,
            chain_id,
            size,
        }],
        size,
        added: "2024-01-01T00:00:00Z".into(),
    };
    let target = format!("{}/made/here:v1", registry.addr());
    s.store
        .put_image(&record, &[reference(&target)])
        .expect("record image");

    let client = client();
    let pushed = push(
        &s.store,
        &client,
        &reference(&target),
        None,
        &ProgressSink::discard(),
    )
    .await
    .expect("push");
    let raw = images::skopeo_raw_manifest(&target, None);
    assert_eq!(images::sha256(&raw), pushed.to_string());
    let manifest: serde_json::Value = serde_json::from_slice(&raw).expect("manifest json");
    assert_eq!(
        manifest["mediaType"],
        "application/vnd.docker.distribution.manifest.v2+json"
    );
    assert_eq!(manifest["config"]["digest"], id.to_string());
    assert_eq!(
        manifest["layers"][0]["mediaType"],
        "application/vnd.docker.image.rootfs.diff.tar.gzip"
    );
    let recorded = s.store.resolve(&target).expect("image");
    assert_eq!(recorded.manifest, Some(pushed.clone()));

    // And it pulls back as the same image.
    let fresh = new_store();
    let image = pull_as(&fresh.store, &client, &target, None, None)
        .await
        .0
        .expect("pull back");
    assert_eq!(image.id, id);
    assert_eq!(image.manifest, Some(pushed));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_auth_registry_gets_one_token_for_a_whole_pull() {
    if !tools_present("token_auth") || !support::require_tool("openssl", "token_auth") {
        return;
    }
    // A real registry behind Bearer-token auth, with the test token server.
    let registry = Registry::start_with_token("berth", "t0ken");
    let built = fixtures::push_image(
        &registry,
        "tok/busybox:1",
        &fixtures::whiteout_spec(Compression::Gzip, Compression::Zstd),
    );
    let tokens = registry.token_server().expect("a token registry");
    let name = format!("{}/tok/busybox:1", registry.addr());
    let client = client();

    let s = new_store();
    let err = pull_as(
        &s.store,
        &client,
        &name,
        None,
        Some(&basic("berth", "nope")),
    )
    .await
    .0
    .expect_err("wrong password");
    assert_eq!(err.http_status(), 401);
    assert!(
        err.to_string()
            .ends_with("unauthorized: incorrect username or password"),
        "{err}"
    );

    let before = tokens.issued();
    let auth = basic("berth", "t0ken");
    let image = pull_as(&s.store, &client, &name, None, Some(&auth))
        .await
        .0
        .expect("pull with a token");
    assert_eq!(image.id, digest(&built.config_digest));
    let again = pull_as(&s.store, &client, &name, None, Some(&auth))
        .await
        .0
        .expect("second pull");
    assert_eq!(again.id, image.id);
    let after = tokens.issued();
    assert_eq!(
        after - before,
        1,
        "the token is cached across requests and pulls"
    );

    let mut login = basic("berth", "t0ken");
    login.serveraddress = format!("http://{}", registry.addr());
    assert_eq!(client.login(&login).await, Ok(None));
    login.password = "bad".into();
    assert_eq!(
        client.login(&login).await,
        Err(format!(
            "Get \"http://{}/v2/\": unauthorized: incorrect username or password",
            registry.addr()
        ))
    );
}
