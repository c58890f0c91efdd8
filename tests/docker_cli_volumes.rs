//! The real docker CLI against berth's volume endpoints: `volume create/ls/inspect/rm`,
//! `run -v NAME:/path`, and Docker's error texts over the raw socket.
//!
//! Needs root, the docker CLI and busybox-static; each missing piece is a LOUD skip.

mod support;

use support::daemon::{unix_request, Daemon};
use support::images::fixtures;

fn ok(d: &Daemon, args: &[&str]) -> String {
    let out = d.docker(args);
    support::stdout_ok(&format!("docker {}", args.join(" ")), &out)
}

fn message(body: &[u8]) -> String {
    let value: serde_json::Value = serde_json::from_slice(body)
        .unwrap_or_else(|_| panic!("JSON error body: {}", String::from_utf8_lossy(body)));
    value["message"].as_str().unwrap_or_default().to_owned()
}

#[test]
fn volume_errors_use_dockers_words() {
    let d = Daemon::start();
    let (status, body) = unix_request(&d.socket(), "GET", "/v1.43/volumes/nope").unwrap();
    assert_eq!(status, 404);
    assert_eq!(message(&body), "get nope: no such volume");
    let (status, body) = unix_request(&d.socket(), "DELETE", "/volumes/nope").unwrap();
    assert_eq!(status, 404);
    assert_eq!(message(&body), "get nope: no such volume");
    let (status, _) = unix_request(&d.socket(), "DELETE", "/volumes/nope?force=1").unwrap();
    assert_eq!(status, 204);
    let (status, body) = unix_request(
        &d.socket(),
        "GET",
        "/volumes?filters=%7B%22color%22%3A%5B%22red%22%5D%7D",
    )
    .unwrap();
    assert_eq!(status, 400);
    assert_eq!(message(&body), "invalid filter 'color'");
    let (status, body) = unix_request(&d.socket(), "GET", "/volumes").unwrap();
    assert_eq!(status, 200);
    assert_eq!(
        String::from_utf8_lossy(&body).trim(),
        r#"{"Volumes":[],"Warnings":null}"#
    );
}

#[test]
fn docker_volume_create_ls_inspect_rm_and_run_with_a_volume() {
    let test = "docker_volume_create_ls_inspect_rm_and_run_with_a_volume";
    if !support::require_tool("docker", test) || !support::require_root(test) {
        return;
    }
    let d = Daemon::start();
    assert_eq!(
        ok(&d, &["volume", "create", "--label", "team=a", "shared"]).trim(),
        "shared"
    );
    let ls = ok(&d, &["volume", "ls"]);
    let lines: Vec<Vec<&str>> = ls.lines().map(|l| l.split_whitespace().collect()).collect();
    assert_eq!(
        lines,
        [vec!["DRIVER", "VOLUME", "NAME"], vec!["local", "shared"]]
    );
    assert_eq!(
        ok(&d, &["volume", "ls", "-q", "--filter", "label=team=a"]).trim(),
        "shared"
    );
    assert_eq!(
        ok(
            &d,
            &[
                "volume",
                "inspect",
                "--format",
                "{{.Driver}} {{.Scope}} {{.Labels.team}}",
                "shared"
            ]
        )
        .trim(),
        "local local a"
    );

    let tar = d.scratch().join("rootfs.tar");
    std::fs::write(&tar, fixtures::busybox_rootfs_tar()).expect("write rootfs tar");
    ok(&d, &["import", &tar.display().to_string(), "busybox:test"]);
    ok(
        &d,
        &[
            "run",
            "--rm",
            "--network",
            "none",
            "-v",
            "shared:/data",
            "busybox:test",
            "sh",
            "-c",
            "echo via-docker > /data/f",
        ],
    );
    let out = ok(
        &d,
        &[
            "run",
            "--rm",
            "--network",
            "none",
            "-v",
            "shared:/data",
            "busybox:test",
            "cat",
            "/data/f",
        ],
    );
    assert_eq!(out, "via-docker\n");
    assert_eq!(ok(&d, &["volume", "rm", "shared"]).trim(), "shared");
    assert_eq!(ok(&d, &["volume", "ls", "-q"]).trim(), "");
    let out = d.docker(&["volume", "rm", "shared"]);
    let err = support::stderr_failed("docker volume rm of a missing volume", &out, 1);
    assert!(err.contains("no such volume"), "{err}");
}
