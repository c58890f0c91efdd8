//! The manager's rules without containers: a fake usage check plays the container side.

use std::sync::{Arc, Mutex};

use super::*;

async fn open() -> (tempfile::TempDir, Arc<Volumes>) {
    let root = tempfile::tempdir().expect("tempdir");
    let volumes = Volumes::open(root.path()).await.expect("open");
    (root, volumes)
}

fn named(name: &str) -> VolumeCreateRequest {
    VolumeCreateRequest {
        name: name.into(),
        ..VolumeCreateRequest::default()
    }
}

#[tokio::test]
async fn create_inspect_list_and_remove_a_named_volume() {
    let (root, v) = open().await;
    let created = v
        .create(VolumeCreateRequest {
            name: "data".into(),
            labels: Some([("env".to_string(), "prod".to_string())].into()),
            ..VolumeCreateRequest::default()
        })
        .unwrap();
    assert_eq!(created.driver, "local");
    assert_eq!(created.scope, "local");
    let data = root.path().join("volumes/data/_data");
    assert_eq!(created.mountpoint, data.display().to_string());
    assert!(data.is_dir());
    assert!(root.path().join("volumes/data/volume.json").is_file());
    // The same name again answers the existing volume, labels and all.
    let again = v.create(named("data")).unwrap();
    assert_eq!(again, created);
    assert_eq!(v.get("data").unwrap(), created);
    assert_eq!(v.list(&FilterMap::new()).unwrap().len(), 1);
    // Survives a reopen.
    let reopened = Volumes::open(root.path()).await.unwrap();
    assert_eq!(reopened.get("data").unwrap(), created);
    v.remove("data", false).unwrap();
    assert!(!root.path().join("volumes/data").exists());
    assert_eq!(
        v.get("data").unwrap_err().to_string(),
        "get data: no such volume"
    );
    assert!(matches!(
        v.remove("data", false),
        Err(VolumeError::NotFound(_))
    ));
    v.remove("data", true)
        .expect("force ignores a missing volume");
}

#[tokio::test]
async fn bad_names_options_and_drivers_are_refused_with_dockers_texts() {
    let (_root, v) = open().await;
    let e = v.create(named("a/b")).unwrap_err();
    assert!(matches!(e, VolumeError::Invalid(_)));
    assert!(e
        .to_string()
        .starts_with("create a/b: \"a/b\" includes invalid characters"));
    let e = v
        .create(VolumeCreateRequest {
            name: "opts".into(),
            driver_opts: Some([("bogus".to_string(), "1".to_string())].into()),
            ..VolumeCreateRequest::default()
        })
        .unwrap_err();
    assert_eq!(e.to_string(), "create opts: invalid option: \"bogus\"");
    let e = v
        .create(VolumeCreateRequest {
            name: "plug".into(),
            driver: "nfsplugin".into(),
            ..VolumeCreateRequest::default()
        })
        .unwrap_err();
    assert!(matches!(e, VolumeError::NotFound(_)));
}

#[tokio::test]
async fn anonymous_volumes_get_hex_names_and_dockers_label() {
    let (_root, v) = open().await;
    let anon = v.create_anonymous().unwrap();
    assert_eq!(anon.name.len(), 64);
    assert_eq!(
        anon.labels.as_ref().and_then(|l| l.get(ANONYMOUS_LABEL)),
        Some(&String::new())
    );
}

#[tokio::test]
async fn volumes_in_use_are_kept_from_rm_and_prune() {
    let (_root, v) = open().await;
    let users: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let seen = users.clone();
    v.set_usage_check(Box::new(move |name| {
        seen.lock()
            .unwrap()
            .iter()
            .filter(|(vol, _)| vol == name)
            .map(|(_, c)| VolumeUser {
                container_id: c.clone(),
                running: false,
            })
            .collect()
    }));
    v.create(named("busy")).unwrap();
    v.create(named("idle")).unwrap();
    let anon_used = v.create_anonymous().unwrap().name;
    let anon_free = v.create_anonymous().unwrap().name;
    users.lock().unwrap().push(("busy".into(), "c1".into()));
    users.lock().unwrap().push(("busy".into(), "c2".into()));
    users.lock().unwrap().push((anon_used.clone(), "c3".into()));
    let e = v.remove("busy", true).unwrap_err();
    assert!(matches!(e, VolumeError::Conflict(_)));
    assert_eq!(e.to_string(), "remove busy: volume is in use - [c1, c2]");

    let dangling: FilterMap = [("dangling".to_string(), vec!["true".to_string()])].into();
    let mut names: Vec<String> = v
        .list(&dangling)
        .unwrap()
        .into_iter()
        .map(|x| x.name)
        .collect();
    names.sort();
    let mut want = vec!["idle".to_string(), anon_free.clone()];
    want.sort();
    assert_eq!(names, want);

    std::fs::write(v.data_path(&anon_free).join("f"), b"12345").unwrap();
    let report = v.prune(&FilterMap::new()).unwrap();
    assert_eq!(report.volumes_deleted, Some(vec![anon_free]));
    assert_eq!(report.space_reclaimed, 5);
    let all: FilterMap = [("all".to_string(), vec!["true".to_string()])].into();
    let report = v.prune(&all).unwrap();
    assert_eq!(report.volumes_deleted, Some(vec!["idle".to_string()]));
    let report = v.prune(&all).unwrap();
    assert_eq!(report.volumes_deleted, None);
    assert!(v.get("busy").is_ok() && v.get(&anon_used).is_ok());
}

#[tokio::test]
async fn acquire_and_release_of_a_plain_volume_answer_its_data_dir() {
    let (_root, v) = open().await;
    v.create(named("plain")).unwrap();
    let use_ = MountUse {
        container_id: "c1",
        destination: "/data",
        read_write: true,
    };
    let path = v.acquire("plain", &use_).unwrap();
    assert_eq!(path, v.data_path("plain"));
    v.release("plain", "c1");
    v.release("plain", "c1");
    assert!(matches!(
        v.acquire("missing", &use_),
        Err(VolumeError::NotFound(_))
    ));
}
