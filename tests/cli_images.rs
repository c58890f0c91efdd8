//! The image verbs of the CLI against a real berth daemon: images made with `berth import`
//! from a busybox-static root filesystem, then listed, tagged, inspected, saved, removed,
//! loaded and pruned. Where the real docker CLI is installed, its output against the same
//! daemon is the reference, byte for byte, for every output that does not depend on the
//! clock.
//!
//! Each test starts its own daemon (own root and socket, stopped in Drop).

mod support;

use std::path::{Path, PathBuf};

use serde_json::Value;
use support::daemon::Daemon;

/// A tarball of a root filesystem holding `/bin/busybox` (busybox-static), in `dir`.
fn busybox_tar(dir: &Path) -> PathBuf {
    let rootfs = dir.join("rootfs");
    std::fs::create_dir_all(rootfs.join("bin")).expect("rootfs/bin");
    std::fs::copy("/bin/busybox", rootfs.join("bin/busybox")).expect("busybox-static is installed");
    let path = dir.join("rootfs.tar");
    let file = std::fs::File::create(&path).expect("tarball");
    let mut builder = tar::Builder::new(file);
    builder.append_dir_all(".", &rootfs).expect("tar rootfs");
    builder.finish().expect("finish tar");
    path
}

/// Whether this test can run (root for the daemon's layer ownership, busybox-static).
fn ready(test: &str) -> bool {
    support::require_root(test) && support::require_tool("busybox", test)
}

/// A daemon with `bb:1` imported; returns the image ID `import` printed.
fn daemon_with_image(extra: &[&str]) -> (Daemon, String) {
    let d = Daemon::start();
    let tar = busybox_tar(&d.scratch());
    let mut args = vec!["import"];
    args.extend_from_slice(extra);
    let tar = tar.to_string_lossy().into_owned();
    args.extend([tar.as_str(), "bb:1"]);
    let out = d.berth_ok(&args);
    let id = out.trim().to_owned();
    assert!(
        id.starts_with("sha256:") && id.len() == 71,
        "import prints the image ID: {out:?}"
    );
    (d, id)
}

fn short(id: &str) -> &str {
    &id["sha256:".len().."sha256:".len() + 12]
}

/// The docker CLI's stdout for the same command, when docker is installed.
fn docker_stdout(d: &Daemon, args: &[&str]) -> Option<String> {
    if support::which("docker").is_none() {
        eprintln!("SKIPPED (LOUD): docker CLI comparison: `docker` is not installed");
        return None;
    }
    let out = d.docker(args);
    Some(support::stdout_ok(
        &format!("docker {}", args.join(" ")),
        &out,
    ))
}

#[test]
fn images_table_quiet_and_formats() {
    if !ready("images_table_quiet_and_formats") {
        return;
    }
    let (d, id) = daemon_with_image(&[]);
    let table = d.berth_ok(&["images"]);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 2, "{table}");
    assert!(
        lines[0].starts_with("REPOSITORY   TAG       IMAGE ID       CREATED   "),
        "{table}"
    );
    assert!(lines[0].ends_with("   SIZE"), "{table}");
    assert!(
        lines[1].starts_with(&format!("bb           1         {}   ", short(&id))),
        "{table}"
    );
    assert!(lines[1].ends_with("MB"), "{table}");

    assert_eq!(d.berth_ok(&["images", "-q"]), format!("{}\n", short(&id)));
    assert_eq!(
        d.berth_ok(&["image", "ls", "-q", "--no-trunc"]),
        format!("{id}\n")
    );
    assert_eq!(
        d.berth_ok(&["images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"]),
        format!("bb:1 {}\n", short(&id))
    );
    let json = d.berth_ok(&["images", "--format", "json"]);
    let row: Value = serde_json::from_str(json.trim_end()).expect("one JSON object per line");
    assert_eq!(row["Repository"], "bb");
    assert_eq!(row["Tag"], "1");
    assert_eq!(row["Digest"], "<none>");
    assert_eq!(
        d.berth_ok(&["images", "bb:2"]).lines().count(),
        1,
        "only the header"
    );

    let bad = d.berth(&["images", "--format", "{{.Nope}}"]);
    let err = support::stderr_failed("images --format {{.Nope}}", &bad, 1);
    assert!(err.contains("can't evaluate field Nope"), "{err}");

    // Everything that does not depend on the clock prints as the docker CLI prints it.
    let stable = "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.Size}}\t{{.VirtualSize}}\t{{.CreatedAt}}";
    for args in [
        vec!["images", "--format", stable],
        vec!["images", "--digests", "--format", stable],
        vec!["images", "-q"],
        vec!["images", "--format", "{{json .}}"],
    ] {
        let Some(want) = docker_stdout(&d, &args) else {
            break;
        };
        let got = d.berth_ok(&args);
        // CreatedSince in `{{json .}}` may tick between the two runs.
        if args.contains(&"{{json .}}") {
            let strip = |s: &str| s.split("\"CreatedSince\"").next().unwrap_or("").to_owned();
            assert_eq!(strip(&got), strip(&want), "berth {args:?}");
        } else {
            assert_eq!(got, want, "berth {args:?}");
        }
    }
}

#[test]
fn tag_and_rmi() {
    if !ready("tag_and_rmi") {
        return;
    }
    let (d, id) = daemon_with_image(&[]);
    d.berth_ok(&["tag", "bb:1", "example.com/org/app:v2"]);
    d.berth_ok(&["image", "tag", "bb:1", "other"]);
    let listed = d.berth_ok(&["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    let mut names: Vec<&str> = listed.lines().collect();
    names.sort_unstable();
    assert_eq!(names, ["bb:1", "example.com/org/app:v2", "other:latest"]);

    let bad = d.berth(&["tag", "bb:1", "Bad:Name"]);
    let err = support::stderr_failed("tag to an invalid name", &bad, 1);
    assert!(err.contains("is not a valid repository/tag"), "{err}");

    assert_eq!(
        d.berth_ok(&["rmi", "example.com/org/app:v2"]),
        "Untagged: example.com/org/app:v2\n"
    );
    assert_eq!(
        d.berth_ok(&["image", "rm", "other"]),
        "Untagged: other:latest\n"
    );
    // The image, then its layers no other image uses, as Docker lists them.
    let removed = d.berth_ok(&["rmi", "bb:1"]);
    assert!(
        removed.starts_with(&format!("Untagged: bb:1\nDeleted: {id}\n")),
        "{removed}"
    );
    assert!(
        removed
            .lines()
            .skip(1)
            .all(|l| l.starts_with("Deleted: sha256:")),
        "{removed}"
    );
    assert_eq!(d.berth_ok(&["images", "-q"]), "");

    let missing = d.berth(&["rmi", "nope"]);
    let err = support::stderr_failed("rmi nope", &missing, 1);
    assert_eq!(
        err,
        "Error response from daemon: No such image: nope:latest\n"
    );
}

#[test]
fn inspect_and_history() {
    if !ready("inspect_and_history") {
        return;
    }
    let (d, id) = daemon_with_image(&["-c", "CMD [\"sh\"]", "-m", "from busybox"]);
    let text = d.berth_ok(&["image", "inspect", "bb:1"]);
    assert!(
        text.starts_with("[\n    {\n        \"Id\": \""),
        "4-space indent: {text}"
    );
    let inspected = d.inspect("bb:1");
    assert_eq!(inspected["Id"], id);
    assert_eq!(inspected["Config"]["Cmd"], serde_json::json!(["sh"]));
    assert_eq!(
        d.berth_ok(&[
            "image",
            "inspect",
            "-f",
            "{{.Id}} {{json .Config.Cmd}} {{index .RepoTags 0}}",
            "bb:1"
        ]),
        format!("{id} [\"sh\"] bb:1\n")
    );
    let partial = d.berth(&["image", "inspect", "bb:1", "nope"]);
    let err = support::stderr_failed("inspect with a missing image", &partial, 1);
    assert!(err.contains("No such image: nope"), "{err}");
    let shown: Value = serde_json::from_slice(&partial.stdout).expect("the found image is printed");
    assert_eq!(shown.as_array().map(Vec::len), Some(1));

    let history = d.berth_ok(&["image", "history", "bb:1"]);
    let lines: Vec<&str> = history.lines().collect();
    assert!(lines[0].starts_with("IMAGE          CREATED"), "{history}");
    assert!(
        lines[0].contains("CREATED BY") && lines[0].ends_with("COMMENT"),
        "{history}"
    );
    assert!(lines[1].starts_with(short(&id)), "{history}");
    assert!(lines[1].ends_with("from busybox"), "{history}");
    assert_eq!(
        d.berth_ok(&["image", "history", "-q", "bb:1"]),
        format!("{}\n", short(&id))
    );

    for args in [
        vec!["image", "inspect", "bb:1"],
        vec![
            "image",
            "inspect",
            "-f",
            "{{.Os}}/{{.Architecture}} {{.Size}} {{.Config.Cmd}}",
            "bb:1",
        ],
        vec!["image", "history", "--no-trunc", "-H=false", "bb:1"],
    ] {
        let Some(want) = docker_stdout(&d, &args) else {
            break;
        };
        assert_eq!(d.berth_ok(&args), want, "berth {args:?}");
    }
}

#[test]
fn save_rmi_load_brings_the_same_image_back() {
    if !ready("save_rmi_load_brings_the_same_image_back") {
        return;
    }
    let (d, id) = daemon_with_image(&[]);
    let archive = d.scratch().join("bb.tar");
    let archive_arg = archive.to_string_lossy().into_owned();
    assert_eq!(d.berth_ok(&["save", "-o", &archive_arg, "bb:1"]), "");
    let size = std::fs::metadata(&archive).expect("archive written").len();
    assert!(size > 1_000_000, "the archive holds busybox: {size} bytes");
    // Only the finished archive is left in the directory (no temporary file).
    assert_eq!(std::fs::read_dir(d.scratch()).expect("scratch").count(), 3);

    d.berth_ok(&["rmi", "bb:1"]);
    assert_eq!(d.berth_ok(&["images", "-q"]), "");
    assert_eq!(
        d.berth_ok(&["load", "-i", &archive_arg]),
        "Loaded image: bb:1\n"
    );
    assert_eq!(
        d.berth_ok(&["images", "-q", "--no-trunc"]),
        format!("{id}\n")
    );

    // Saving to stdout streams the same archive.
    let out = d.berth(&["image", "save", "bb:1"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout.len() as u64, size);

    let missing = d.berth(&["load", "-i", "/nonexistent.tar"]);
    let err = support::stderr_failed("load of a missing file", &missing, 1);
    assert_eq!(err, "open /nonexistent.tar: no such file or directory\n");
}

#[test]
fn prune_removes_only_dangling_images() {
    if !ready("prune_removes_only_dangling_images") {
        return;
    }
    let (d, id) = daemon_with_image(&[]);
    // The same root filesystem with another message is another, untagged image.
    let tar = d.scratch().join("rootfs.tar");
    let dangling = d
        .berth_ok(&["import", "-m", "dangling", &tar.to_string_lossy()])
        .trim()
        .to_owned();
    assert_ne!(dangling, id);
    let listed = d.berth_ok(&[
        "images",
        "--format",
        "{{.Repository}} {{.Tag}} {{.ID}}",
        "-f",
        "dangling=true",
    ]);
    assert_eq!(listed, format!("<none> <none> {}\n", short(&dangling)));

    let out = d.berth_ok(&["image", "prune", "-f"]);
    assert!(
        out.starts_with(&format!(
            "Deleted Images:\ndeleted: {dangling}\n\nTotal reclaimed space: "
        )),
        "{out}"
    );
    assert_eq!(
        d.berth_ok(&["images", "-q", "--no-trunc"]),
        format!("{id}\n")
    );
    assert_eq!(
        d.berth_ok(&["image", "prune", "-f"]),
        "Total reclaimed space: 0B\n"
    );

    // Without -f it asks, and anything but y keeps the images.
    let mut child = d
        .berth_cmd(&["image", "prune", "-a"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("berth runs");
    use std::io::Write;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"n\n")
        .expect("answer");
    let out = child.wait_with_output().expect("prune ends");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "WARNING! This will remove all images without at least one container associated to them.\nAre you sure you want to continue? [y/N] "
    );
    assert_eq!(
        d.berth_ok(&["images", "-q", "--no-trunc"]),
        format!("{id}\n")
    );
}

#[test]
fn version_and_info() {
    if !ready("version_and_info") {
        return;
    }
    let d = Daemon::start();
    let version = d.berth_ok(&["version"]);
    assert!(
        version.starts_with("Client: berth\n Version:           "),
        "{version}"
    );
    assert!(
        version.contains("\n  API version:      1.43 (minimum version 1.24)\n"),
        "{version}"
    );
    assert_eq!(
        d.berth_ok(&["version", "--format", "{{.Server.APIVersion}}"]),
        "1.43\n"
    );
    let json: Value =
        serde_json::from_str(&d.berth_ok(&["version", "--format", "json"])).expect("json");
    assert_eq!(json["Client"]["ApiVersion"], "1.43");
    assert_eq!(d.berth_ok(&["info", "--format", "{{.Images}}"]), "0\n");
    let info = d.berth_ok(&["info"]);
    assert!(info.contains("\nServer:\n Containers: 0\n"), "{info}");
    assert!(
        info.contains(&format!(" Docker Root Dir: {}\n", d.root().display())),
        "{info}"
    );
}
