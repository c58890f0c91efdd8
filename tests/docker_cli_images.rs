//! The real docker CLI against berth's socket (`docker -H unix://SOCK ...`): version, info,
//! images, pull, tag, rmi, save and load, each exiting 0 with the expected effect, checked
//! through berth's API and the fixture's digests.

mod support;

use support::daemon::Daemon;
use support::images::{fixtures, Compression};
use support::registry::{self, Registry};

fn tools(test: &str) -> bool {
    support::require_tool("docker", test)
        && registry::require(test)
        && support::require_tool("skopeo", test)
}

fn ok(d: &Daemon, args: &[&str]) -> String {
    let out = d.docker(args);
    support::stdout_ok(&format!("docker {}", args.join(" ")), &out)
}

#[test]
fn docker_version_and_info() {
    if !support::require_tool("docker", "docker_version_and_info") {
        return;
    }
    let d = Daemon::start();
    let version = ok(&d, &["version", "--format", "{{json .Server}}"]);
    let server: serde_json::Value = serde_json::from_str(&version).expect("server JSON");
    assert_eq!(server["ApiVersion"], "1.43", "{version}");
    assert_eq!(server["MinAPIVersion"], "1.24", "{version}");
    assert_eq!(server["Os"], "linux");

    let plain = ok(&d, &["version"]);
    assert!(plain.contains("Server:"), "{plain}");

    let info = ok(&d, &["info", "--format", "{{json .}}"]);
    let info: serde_json::Value = serde_json::from_str(&info).expect("info JSON");
    assert_eq!(info["Images"], 0, "{info}");
    assert_eq!(info["OSType"], "linux");
    assert_eq!(
        info["DockerRootDir"],
        d.root().display().to_string(),
        "{info}"
    );
    // The human form prints without "ERROR:" lines from missing fields.
    let out = d.docker(&["info"]);
    let text = support::stdout_ok("docker info", &out);
    assert!(text.contains("Server:"), "{text}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("ERROR"), "{err}");
}

#[test]
fn docker_pull_images_tag_rmi() {
    if !tools("docker_pull_images_tag_rmi") {
        return;
    }
    let reg = Registry::start();
    let d = Daemon::start();
    let image = fixtures::push_image(
        &reg,
        "cli/busybox:1",
        &fixtures::busybox_spec(Compression::Gzip),
    );
    let reference = format!("{}/cli/busybox:1", reg.addr());

    let out = ok(&d, &["pull", &reference]);
    assert!(
        out.contains(&format!("Digest: {}", image.manifest_digest)),
        "{out}"
    );
    assert!(
        out.contains(&format!("Status: Downloaded newer image for {reference}")),
        "{out}"
    );
    let out = ok(&d, &["pull", &reference]);
    assert!(out.contains("Status: Image is up to date"), "{out}");

    let listed = ok(
        &d,
        &["images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"],
    );
    let short = &image.config_digest[7..19];
    assert_eq!(listed.trim(), format!("{reference} {short}"));
    let table = ok(&d, &["images"]);
    assert!(table.starts_with("REPOSITORY"), "{table}");

    ok(&d, &["tag", &reference, "local/copy:2"]);
    let tags = ok(
        &d,
        &[
            "image",
            "inspect",
            "--format",
            "{{json .RepoTags}}",
            &image.config_digest,
        ],
    );
    let mut tags: Vec<String> = serde_json::from_str(&tags).unwrap();
    tags.sort();
    let mut expected = ["local/copy:2".to_string(), reference.clone()];
    expected.sort();
    assert_eq!(tags, expected);

    let out = ok(&d, &["rmi", "local/copy:2"]);
    assert_eq!(out.trim(), "Untagged: local/copy:2");
    let out = ok(&d, &["rmi", &reference]);
    assert!(
        out.contains(&format!("Deleted: {}", image.config_digest)),
        "{out}"
    );
    assert!(ok(&d, &["images", "-q"]).trim().is_empty());
    assert!(d.image_list().is_empty());

    // Docker's error for an unknown image, exit 1.
    let out = d.docker(&["rmi", "nope:1"]);
    let err = support::stderr_failed("docker rmi nope:1", &out, 1);
    assert!(err.contains("No such image: nope:1"), "{err}");
}

#[test]
fn docker_save_and_load() {
    if !tools("docker_save_and_load") {
        return;
    }
    let reg = Registry::start();
    let d = Daemon::start();
    let spec = fixtures::whiteout_spec(Compression::Gzip, Compression::Zstd);
    let image = fixtures::push_image(&reg, "cli/saved:1", &spec);
    let reference = format!("{}/cli/saved:1", reg.addr());
    ok(&d, &["pull", &reference]);

    let archive = d.scratch().join("saved.tar");
    ok(&d, &["save", "-o", archive.to_str().unwrap(), &reference]);
    assert!(std::fs::metadata(&archive).unwrap().len() > 0);
    ok(&d, &["rmi", &reference]);
    assert!(d.image_list().is_empty());

    let out = ok(&d, &["load", "-i", archive.to_str().unwrap()]);
    assert!(out.contains(&format!("Loaded image: {reference}")), "{out}");
    let id = ok(&d, &["image", "inspect", "--format", "{{.Id}}", &reference]);
    assert_eq!(id.trim(), image.config_digest);

    // berth's own save, loaded by the docker CLI through berth again: same ID.
    let again = d.scratch().join("again.tar");
    d.berth_ok(&["save", "-o", again.to_str().unwrap(), &reference]);
    ok(&d, &["rmi", &reference]);
    let out = ok(&d, &["load", "--input", again.to_str().unwrap()]);
    assert!(out.contains(&format!("Loaded image: {reference}")), "{out}");
    let id = ok(&d, &["image", "inspect", "--format", "{{.Id}}", &reference]);
    assert_eq!(id.trim(), image.config_digest);
}
