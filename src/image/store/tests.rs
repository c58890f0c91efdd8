//! Store tests against temporary directories: blobs, layers, images, references, delete, gc,
//! crash leftovers and reopening.

use std::io::Write;
use std::path::Path;

use super::*;
use crate::image::reference::Reference;

fn open_store() -> (tempfile::TempDir, ImageStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = ImageStore::open(dir.path()).unwrap();
    (dir, store)
}

/// A plain tar holding `files` (path, content), mode 0644.
fn tar_of(files: &[(&str, &str)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, content) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(content.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(1_700_000_000);
        header.set_entry_type(tar::EntryType::Regular);
        builder
            .append_data(&mut header, path, content.as_bytes())
            .unwrap();
    }
    builder.into_inner().unwrap()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

fn d(s: &str) -> Digest {
    Digest::of_bytes(s.as_bytes())
}

fn r(s: &str) -> Reference {
    Reference::parse_normalized(s).unwrap()
}

/// Stores the layer blobs, unpacks them and records an image whose config is `config`.
fn add_image(store: &ImageStore, config: &str, layers: &[Vec<u8>], tags: &[&str]) -> ImageRecord {
    let mut records = Vec::new();
    let mut parent: Option<Digest> = None;
    for blob in layers {
        let blob_digest = store.write_blob(blob).unwrap();
        let (diff_id, chain_id, size) = store.unpack_layer(&blob_digest, parent.as_ref()).unwrap();
        records.push(LayerRecord {
            blob: blob_digest,
            media_type: "application/vnd.oci.image.layer.v1.tar".into(),
            blob_size: blob.len() as u64,
            diff_id,
            chain_id: chain_id.clone(),
            size,
        });
        parent = Some(chain_id);
    }
    let image = ImageRecord {
        id: store.write_blob(config.as_bytes()).unwrap(),
        manifest: None,
        manifest_media_type: None,
        repo_digests: Vec::new(),
        size: records.iter().map(|l| l.size).sum(),
        layers: records,
        added: "2024-01-01T00:00:00Z".into(),
    };
    let tags: Vec<Reference> = tags.iter().map(|t| r(t)).collect();
    store.put_image(&image, &tags).unwrap();
    image
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn not_found_message(store: &ImageStore, name: &str) -> String {
    match store.resolve(name) {
        Err(e @ StoreError::NotFound(_)) => e.to_string(),
        other => panic!("{name}: expected NotFound, got {:?}", other.map(|i| i.id)),
    }
}

// --- blobs ---

#[test]
fn ingest_commits_under_its_digest() {
    let (dir, store) = open_store();
    let mut ingest = store.ingest().unwrap();
    ingest.write_all(b"hello ").unwrap();
    ingest.write_all(b"world").unwrap();
    assert_eq!(ingest.written(), 11);
    let digest = ingest.commit(Some(&d("hello world"))).unwrap();
    assert_eq!(digest, d("hello world"));
    assert!(store.has_blob(&digest));
    assert_eq!(store.read_blob(&digest).unwrap(), b"hello world");
    assert_eq!(
        store.blob_path(&digest),
        dir.path().join("blobs/sha256").join(digest.hex())
    );
    assert!(names_in(&dir.path().join("ingest")).is_empty());
}

#[test]
fn digest_mismatch_stores_nothing() {
    let (dir, store) = open_store();
    let mut ingest = store.ingest().unwrap();
    ingest.write_all(b"corrupt").unwrap();
    let err = ingest.commit(Some(&d("expected"))).unwrap_err();
    match err {
        StoreError::DigestMismatch { expected, actual } => {
            assert_eq!(expected, d("expected"));
            assert_eq!(actual, d("corrupt"));
        }
        other => panic!("expected a mismatch, got {other}"),
    }
    assert!(!store.has_blob(&d("corrupt")));
    assert!(names_in(&dir.path().join("blobs/sha256")).is_empty());
    assert!(names_in(&dir.path().join("ingest")).is_empty());
}

#[test]
fn dropped_ingest_leaves_nothing() {
    let (dir, store) = open_store();
    let mut ingest = store.ingest().unwrap();
    ingest.write_all(b"half a blob").unwrap();
    drop(ingest);
    assert!(names_in(&dir.path().join("ingest")).is_empty());
    assert!(names_in(&dir.path().join("blobs/sha256")).is_empty());
}

#[test]
fn writing_the_same_blob_twice_keeps_one() {
    let (dir, store) = open_store();
    let a = store.write_blob(b"same").unwrap();
    let b = store.write_blob(b"same").unwrap();
    assert_eq!(a, b);
    assert_eq!(
        names_in(&dir.path().join("blobs/sha256")),
        vec![a.hex().to_string()]
    );
    assert_eq!(store.blob_size(&a).unwrap(), 4);
    assert!(store.read_blob(&d("absent")).is_err());
}

// --- layers ---

#[test]
fn chain_ids_follow_the_oci_formula() {
    let (a, b, c) = (d("a"), d("b"), d("c"));
    let ab = Digest::of_bytes(format!("{a} {b}").as_bytes());
    let abc = Digest::of_bytes(format!("{ab} {c}").as_bytes());
    assert_eq!(chain_ids(&[a.clone(), b, c]), vec![a.clone(), ab, abc]);
    assert_eq!(chain_id(None, &a), a);
}

#[test]
fn unpack_layer_keys_directories_by_chain_id() {
    let (dir, store) = open_store();
    let base = tar_of(&[("etc/hostname", "base\n")]);
    let top = tar_of(&[("app/run", "top\n")]);
    let base_blob = store.write_blob(&base).unwrap();
    let top_blob = store.write_blob(&gzip(&top)).unwrap();
    let (diff0, chain0, size0) = store.unpack_layer(&base_blob, None).unwrap();
    assert_eq!(diff0, Digest::of_bytes(&base));
    assert_eq!(chain0, diff0);
    assert_eq!(size0, base.len() as u64);
    let (diff1, chain1, _) = store.unpack_layer(&top_blob, Some(&chain0)).unwrap();
    assert_eq!(
        diff1,
        Digest::of_bytes(&top),
        "diff ID is of the uncompressed tar"
    );
    assert_eq!(chain1, chain_id(Some(&chain0), &diff1));
    assert!(store.has_layer(&chain1));
    let hostname = std::fs::read_to_string(store.layer_dir(&chain0).join("etc/hostname")).unwrap();
    assert_eq!(hostname, "base\n");
    assert!(store.layer_dir(&chain1).join("app/run").is_file());
    // Again: nothing new, no leftovers.
    assert_eq!(
        store.unpack_layer(&top_blob, Some(&chain0)).unwrap().1,
        chain1
    );
    let layers = names_in(&dir.path().join("layers"));
    assert_eq!(layers.len(), 2, "{layers:?}");
}

#[test]
fn unpack_layer_needs_its_blob_and_parent() {
    let (_dir, store) = open_store();
    assert!(matches!(
        store.unpack_layer(&d("nope"), None),
        Err(StoreError::Invalid(_))
    ));
    let blob = store.write_blob(&tar_of(&[("f", "x")])).unwrap();
    let err = store
        .unpack_layer(&blob, Some(&d("no parent")))
        .unwrap_err();
    assert!(err.to_string().contains("is not unpacked"), "{err}");
}

#[test]
fn a_refused_layer_leaves_no_directory() {
    let (dir, store) = open_store();
    let blob = store.write_blob(&[b'x'; 2048]).unwrap();
    assert!(store.unpack_layer(&blob, None).is_err());
    assert!(names_in(&dir.path().join("layers")).is_empty());
}

// --- images and references ---

#[test]
fn resolve_in_docker_order() {
    let (_dir, store) = open_store();
    let layer = tar_of(&[("bin/sh", "#!")]);
    let mut image = add_image(&store, r#"{"n":1}"#, &[layer], &["busybox", "org/app:v1"]);
    let id = image.id.clone();
    let digest = d("manifest");
    image.repo_digests = vec![format!("busybox@{digest}")];
    store.put_image(&image, &[]).unwrap();
    let found = |name: &str| store.resolve(name).map(|i| i.id).ok();
    for name in [
        id.as_str(),
        id.hex(),
        &id.hex()[..12],
        &id.hex()[..1],
        &format!("sha256:{}", &id.hex()[..5]),
        "busybox",
        "busybox:latest",
        "docker.io/library/busybox:latest",
        "library/busybox",
        "org/app:v1",
        &format!("busybox@{digest}"),
        &format!("busybox:other@{digest}"),
        &format!("docker.io/library/busybox@{digest}"),
    ] {
        assert_eq!(found(name), Some(id.clone()), "{name}");
    }
    // Stored normalised.
    assert_eq!(
        store.image(&id).unwrap().unwrap().repo_digests,
        vec![format!("docker.io/library/busybox@{digest}")]
    );
    assert_eq!(
        not_found_message(&store, "org/app"),
        "No such image: org/app:latest"
    );
    assert_eq!(
        not_found_message(&store, "nope"),
        "No such image: nope:latest"
    );
    assert_eq!(
        not_found_message(&store, &format!("other@{digest}")),
        format!("No such image: other@{digest}")
    );
    let missing = d("missing");
    assert_eq!(
        not_found_message(&store, missing.hex()),
        format!("No such image: {missing}")
    );
    assert!(matches!(store.resolve("Bad"), Err(StoreError::Invalid(_))));
}

#[test]
fn an_ambiguous_id_prefix_finds_nothing() {
    let (_dir, store) = open_store();
    // Find two configs whose IDs share a first hex digit.
    let mut ids: Vec<(String, Digest)> = (0..40)
        .map(|n| {
            let config = format!("{{\"n\":{n}}}");
            let id = Digest::of_bytes(config.as_bytes());
            (config, id)
        })
        .collect();
    ids.sort_by(|a, b| a.1.cmp(&b.1));
    let pair = ids
        .windows(2)
        .find(|w| w[0].1.hex()[..1] == w[1].1.hex()[..1])
        .expect("40 IDs share a first digit somewhere");
    add_image(&store, &pair[0].0, &[], &[]);
    add_image(&store, &pair[1].0, &[], &[]);
    let shared = &pair[0].1.hex()[..1];
    assert_eq!(
        not_found_message(&store, shared),
        format!("No such image: {shared}:latest")
    );
    assert_eq!(store.resolve(&pair[1].1.hex()[..20]).unwrap().id, pair[1].1);
}

#[test]
fn a_reference_wins_over_an_id_prefix() {
    let (_dir, store) = open_store();
    let first = add_image(&store, "{}", &[], &[]);
    let prefix = first.id.hex()[..6].to_string();
    let second = add_image(&store, r#"{"x":2}"#, &[], &[&prefix]);
    assert_eq!(store.resolve(&prefix).unwrap().id, second.id);
}

#[test]
fn put_image_refuses_missing_objects_and_bad_chains() {
    let (_dir, store) = open_store();
    let mut image = add_image(&store, "{}", &[tar_of(&[("a", "1")])], &["x"]);
    image.manifest = Some(d("never stored"));
    let err = store.put_image(&image, &[]).unwrap_err();
    assert!(err.to_string().contains("is not in the store"), "{err}");
    image.manifest = None;
    image.layers[0].chain_id = d("wrong");
    let err = store.put_image(&image, &[]).unwrap_err();
    assert!(err.to_string().contains("chain ID"), "{err}");
}

#[test]
fn putting_an_image_again_merges_it() {
    let (_dir, store) = open_store();
    let mut image = add_image(&store, "{}", &[], &["a"]);
    let first_added = image.added.clone();
    image.added = "2030-01-01T00:00:00Z".into();
    image.repo_digests = vec![format!("a@{}", d("m1"))];
    store
        .put_image(&image, &[r(&format!("b@{}", d("m2"))), r("c:1")])
        .unwrap();
    let stored = store.image(&image.id).unwrap().unwrap();
    assert_eq!(stored.added, first_added);
    assert_eq!(stored.repo_digests.len(), 2);
    let tags: Vec<String> = store
        .tags_of(&image.id)
        .unwrap()
        .iter()
        .map(Reference::familiar)
        .collect();
    assert_eq!(tags, vec!["a:latest", "c:1"]);
}

#[test]
fn tags_move_and_leave_the_old_image_dangling() {
    let (_dir, store) = open_store();
    let old = add_image(&store, r#"{"v":1}"#, &[], &["app"]);
    let new = add_image(&store, r#"{"v":2}"#, &[], &[]);
    store.tag(&new.id, &r("app")).unwrap();
    store.tag(&new.id, &r("app:2")).unwrap();
    assert_eq!(store.resolve("app").unwrap().id, new.id);
    assert!(store.tags_of(&old.id).unwrap().is_empty());
    let tags: Vec<String> = store
        .tags_of(&new.id)
        .unwrap()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        tags,
        vec!["docker.io/library/app:2", "docker.io/library/app:latest"]
    );
    assert_eq!(
        store.list().unwrap().len(),
        2,
        "the old image stays, dangling"
    );
    let err = store
        .tag(&new.id, &r(&format!("app@{}", d("m"))))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "refusing to create a tag with a digest reference"
    );
    assert!(matches!(
        store.tag(&d("none"), &r("x")),
        Err(StoreError::NotFound(_))
    ));
}

// --- delete ---

#[test]
fn deleting_one_of_several_tags_only_untags() {
    let (dir, store) = open_store();
    let image = add_image(&store, "{}", &[tar_of(&[("f", "1")])], &["a", "b:1"]);
    let report = store.delete("a", false).unwrap();
    assert_eq!(
        report,
        DeleteReport {
            untagged: vec!["a:latest".into()],
            deleted: vec![]
        }
    );
    assert!(store.image(&image.id).unwrap().is_some());
    assert_eq!(names_in(&dir.path().join("layers")).len(), 1);
}

#[test]
fn deleting_the_last_tag_deletes_the_image_and_its_objects() {
    let (dir, store) = open_store();
    let layers = [tar_of(&[("f", "1")]), tar_of(&[("g", "2")])];
    let mut image = add_image(&store, "{}", &layers, &["a"]);
    let digest_ref = format!("a@{}", d("m"));
    image.repo_digests = vec![digest_ref.clone()];
    store.put_image(&image, &[]).unwrap();
    let report = store.delete("a", false).unwrap();
    assert_eq!(report.untagged, vec!["a:latest".to_string(), digest_ref]);
    let chains: Vec<Digest> = image
        .layers
        .iter()
        .rev()
        .map(|l| l.chain_id.clone())
        .collect();
    assert_eq!(report.deleted, [vec![image.id.clone()], chains].concat());
    assert!(store.image(&image.id).unwrap().is_none());
    assert!(names_in(&dir.path().join("blobs/sha256")).is_empty());
    assert!(names_in(&dir.path().join("layers")).is_empty());
    assert!(matches!(store.resolve("a"), Err(StoreError::NotFound(_))));
}

#[test]
fn deleting_by_id_with_several_repositories_needs_force() {
    let (_dir, store) = open_store();
    let image = add_image(&store, "{}", &[], &["a", "b"]);
    let err = store.delete(&image.id.hex()[..12], false).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "conflict: unable to delete {} (must be forced) - image is referenced in multiple repositories",
            image.id.short()
        )
    );
    let report = store.delete(&image.id.hex()[..12], true).unwrap();
    assert_eq!(report.untagged, vec!["a:latest", "b:latest"]);
    assert_eq!(report.deleted, vec![image.id.clone()]);
}

#[test]
fn deleting_by_id_with_one_tag_untags_it() {
    let (_dir, store) = open_store();
    let image = add_image(&store, "{}", &[], &["a:1"]);
    let report = store.delete(image.id.as_str(), false).unwrap();
    assert_eq!(report.untagged, vec!["a:1"]);
    assert_eq!(report.deleted, vec![image.id]);
}

#[test]
fn deleting_by_repo_digest_keeps_the_tags() {
    let (_dir, store) = open_store();
    let mut image = add_image(&store, "{}", &[], &["a"]);
    image.repo_digests = vec![format!("a@{}", d("m"))];
    store.put_image(&image, &[]).unwrap();
    let report = store.delete(&format!("a@{}", d("m")), false).unwrap();
    assert_eq!(report.untagged, vec![format!("a@{}", d("m"))]);
    assert!(report.deleted.is_empty());
    assert!(store
        .image(&image.id)
        .unwrap()
        .unwrap()
        .repo_digests
        .is_empty());
}

#[test]
fn shared_layers_stay_while_another_image_uses_them() {
    let (dir, store) = open_store();
    let base = tar_of(&[("base", "b")]);
    let one = add_image(&store, r#"{"n":1}"#, std::slice::from_ref(&base), &["one"]);
    let two = add_image(
        &store,
        r#"{"n":2}"#,
        &[base, tar_of(&[("x", "y")])],
        &["two"],
    );
    let report = store.delete("one", false).unwrap();
    assert_eq!(report.deleted, vec![one.id.clone()], "no layer went");
    assert!(store.has_layer(&two.layers[0].chain_id));
    assert!(store.has_blob(&two.layers[0].blob));
    assert_eq!(names_in(&dir.path().join("layers")).len(), 2);
    assert!(!store.has_blob(&one.id));
}

#[test]
fn containers_using_an_image_guard_it() {
    let (_dir, store) = open_store();
    let image = add_image(&store, "{}", &[], &["a"]);
    let running = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let flag = running.clone();
    let id = image.id.clone();
    store.set_usage_check(Box::new(move |asked| {
        (*asked == id).then(|| ContainerUse {
            container_id: "0123456789abcdef0123".into(),
            running: flag.load(std::sync::atomic::Ordering::SeqCst),
        })
    }));
    let short = image.id.short().to_string();
    let by_id = |force| {
        store
            .delete(image.id.as_str(), force)
            .map_err(|e| e.to_string())
    };
    assert_eq!(
        by_id(true).unwrap_err(),
        format!("conflict: unable to delete {short} (cannot be forced) - image is being used by running container 0123456789ab")
    );
    assert_eq!(
        store.delete("a", false).unwrap_err().to_string(),
        format!("conflict: unable to remove repository reference \"a\" (must force) - container 0123456789ab is using its referenced image {short}")
    );
    running.store(false, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(
        by_id(false).unwrap_err(),
        format!("conflict: unable to delete {short} (must be forced) - image is being used by stopped container 0123456789ab")
    );
    assert_eq!(by_id(true).unwrap().deleted, vec![image.id.clone()]);
}

#[test]
fn forced_untag_keeps_an_image_a_running_container_uses() {
    let (_dir, store) = open_store();
    let image = add_image(&store, "{}", &[], &["a"]);
    store.set_usage_check(Box::new(|_| {
        Some(ContainerUse {
            container_id: "c".into(),
            running: true,
        })
    }));
    let report = store.delete("a", true).unwrap();
    assert_eq!(report.untagged, vec!["a:latest"]);
    assert!(report.deleted.is_empty());
    assert!(store.image(&image.id).unwrap().is_some());
}

// --- gc, crashes, reopening ---

#[test]
fn gc_spares_fresh_and_recorded_objects_and_reopening_releases_pins() {
    let dir = tempfile::tempdir().unwrap();
    let (image, orphan) = {
        let store = ImageStore::open(dir.path()).unwrap();
        let image = add_image(&store, "{}", &[tar_of(&[("f", "1")])], &["kept"]);
        let orphan = store.write_blob(b"fetched, not yet recorded").unwrap();
        let orphan_blob = store.write_blob(&tar_of(&[("o", "o")])).unwrap();
        store.unpack_layer(&orphan_blob, None).unwrap();
        // A pull in progress: its objects are pinned.
        assert_eq!(store.gc().unwrap(), GcReport::default());
        assert!(store.has_blob(&orphan));
        (image, orphan)
    };
    let store = ImageStore::open(dir.path()).unwrap();
    let report = store.gc().unwrap();
    assert_eq!((report.blobs_removed, report.layers_removed), (2, 1));
    assert!(report.bytes_freed > 0);
    assert!(!store.has_blob(&orphan));
    assert!(store.has_blob(&image.id) && store.has_blob(&image.layers[0].blob));
    assert!(store.has_layer(&image.layers[0].chain_id));
    assert_eq!(store.gc().unwrap(), GcReport::default());
}

#[test]
fn open_removes_crash_leftovers_and_keeps_data() {
    let dir = tempfile::tempdir().unwrap();
    let image = {
        let store = ImageStore::open(dir.path()).unwrap();
        add_image(&store, "{}", &[tar_of(&[("f", "1")])], &["kept:1"])
    };
    let root = dir.path();
    std::fs::write(root.join("ingest/0123456789abcdef"), b"half").unwrap();
    std::fs::create_dir_all(root.join("layers/tmp-0123/etc")).unwrap();
    let unrecorded = d("renamed but not recorded");
    std::fs::create_dir_all(root.join("layers").join(unrecorded.hex()).join("x")).unwrap();
    let store = ImageStore::open(root).unwrap();
    assert!(names_in(&root.join("ingest")).is_empty());
    assert_eq!(
        names_in(&root.join("layers")),
        vec![image.layers[0].chain_id.hex().to_string()]
    );
    assert_eq!(
        store.resolve("kept:1").unwrap(),
        store.image(&image.id).unwrap().unwrap()
    );
    assert!(store.has_layer(&image.layers[0].chain_id));
}

#[test]
fn a_record_without_its_directory_is_forgotten() {
    let dir = tempfile::tempdir().unwrap();
    let chain = {
        let store = ImageStore::open(dir.path()).unwrap();
        let blob = store.write_blob(&tar_of(&[("f", "1")])).unwrap();
        store.unpack_layer(&blob, None).unwrap().1
    };
    std::fs::remove_dir_all(dir.path().join("layers").join(chain.hex())).unwrap();
    let store = ImageStore::open(dir.path()).unwrap();
    assert!(!store.has_layer(&chain));
    assert!(store.layer_row(&chain).unwrap().is_none());
}

#[test]
fn a_second_opener_is_refused() {
    let (dir, _store) = open_store();
    match ImageStore::open(dir.path()) {
        Err(StoreError::Locked(path)) => assert_eq!(path, dir.path()),
        Err(e) => panic!("expected Locked, got {e}"),
        Ok(_) => panic!("opened twice"),
    }
}

#[test]
fn gc_running_beside_writers_never_breaks_an_image() {
    let (_dir, store) = open_store();
    let store = std::sync::Arc::new(store);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let collector = {
        let (store, stop) = (store.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                store.gc().unwrap();
            }
        })
    };
    for n in 0..20 {
        let layer = tar_of(&[("n", &n.to_string())]);
        let image = add_image(
            &store,
            &format!("{{\"n\":{n}}}"),
            &[layer],
            &[&format!("img:{n}")],
        );
        if n % 2 == 0 {
            store.delete(&format!("img:{n}"), false).unwrap();
            assert!(!store.has_blob(&image.id));
        }
    }
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    collector.join().unwrap();
    for image in store.list().unwrap() {
        assert!(store.has_blob(&image.id));
        for layer in &image.layers {
            assert!(store.has_blob(&layer.blob) && store.has_layer(&layer.chain_id));
        }
    }
    assert_eq!(store.list().unwrap().len(), 10);
}
