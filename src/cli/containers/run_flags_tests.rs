//! Flag → create-body mapping, checked against bodies the real docker CLI 28 sent for the
//! same command lines (captured once against a listener that only recorded the request:
//! `testdata/docker_run_*.json`).

use clap::Parser;
use serde_json::Value;

use super::*;

#[derive(Parser)]
#[command(disable_help_flag = true)]
struct Wrap {
    #[arg(short = 'd', long)]
    detach: bool,
    #[command(flatten)]
    flags: ContainerFlags,
}

fn call(args: &[&str]) -> (CreateCall, bool) {
    let wrap = Wrap::try_parse_from(std::iter::once("run").chain(args.iter().copied()))
        .expect("flags parse");
    (
        to_create_call(&wrap.flags, wrap.detach).expect("maps"),
        wrap.detach,
    )
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
    }
}

/// Every field both bodies have must be equal; a field only ours has must be empty (Go
/// omits empty ones); fields berth does not model are skipped.
fn assert_matches(ours: &Value, docker: &Value, path: &str) {
    match (ours, docker) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, va) in a {
                match b.get(k) {
                    Some(vb) => assert_matches(va, vb, &format!("{path}.{k}")),
                    None => assert!(is_empty(va), "{path}.{k} = {va} not sent by docker"),
                }
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (va, vb)) in a.iter().zip(b).enumerate() {
                assert_matches(va, vb, &format!("{path}[{i}]"));
            }
        }
        (a, b) if is_empty(a) && is_empty(b) => {}
        (a, b) => assert_eq!(a, b, "at {path}"),
    }
}

#[test]
fn detached_run_body_matches_dockers() {
    let (call, _) = call(&[
        "-d",
        "--rm",
        "--name",
        "x",
        "-e",
        "A=1",
        "--entrypoint",
        "",
        "-v",
        "/a:/b:ro",
        "-v",
        "/anon",
        "--tmpfs",
        "/t:size=1m",
        "-l",
        "k=v",
        "-l",
        "k2",
        "-p",
        "8080:80",
        "-p",
        "127.0.0.1::53/udp",
        "-p",
        "7000-7001:70-71",
        "--expose",
        "90",
        "--restart",
        "no",
        "-m",
        "64m",
        "--memory-swap",
        "-1",
        "--cpus",
        "1.5",
        "--pids-limit",
        "10",
        "--init",
        "--stop-timeout",
        "3",
        "--stop-signal",
        "SIGINT",
        "--ulimit",
        "nofile=10:20",
        "--sysctl",
        "net.ipv4.ip_forward=1",
        "--device",
        "/dev/null",
        "--device",
        "/dev/zero:/dev/z:r",
        "--cap-add",
        "net_admin",
        "--cap-drop",
        "ALL",
        "--add-host",
        "a:1.2.3.4",
        "--dns",
        "8.8.8.8",
        "--shm-size",
        "1g",
        "--log-opt",
        "max-size=1m",
        "--mount",
        "type=tmpfs,target=/m,tmpfs-size=1024,tmpfs-mode=700",
        "--mount",
        "type=bind,src=/s,dst=/d,readonly,bind-propagation=rshared",
        "-w",
        "/w",
        "-u",
        "1:2",
        "-h",
        "hn",
        "busybox",
        "echo",
        "hi",
    ]);
    assert_eq!(call.name.as_deref(), Some("x"));
    let docker: Value =
        serde_json::from_str(include_str!("testdata/docker_run_detached.json")).expect("json");
    let ours = serde_json::to_value(&call.body).expect("encodes");
    assert_matches(&ours, &docker, "");
    // Spot checks that the comparison really covered the interesting fields.
    assert_eq!(ours["Entrypoint"], serde_json::json!([""]));
    assert_eq!(
        ours["HostConfig"]["PortBindings"]["71/tcp"][0]["HostPort"],
        "7001"
    );
    assert_eq!(
        ours["HostConfig"]["Mounts"][0]["TmpfsOptions"]["Mode"],
        0o700
    );
}

#[test]
fn interactive_run_body_matches_dockers() {
    let (call, _) = call(&[
        "-i",
        "--net",
        "host",
        "-P",
        "--restart",
        "on-failure:3",
        "--security-opt",
        "no-new-privileges",
        "--oom-kill-disable",
        "-c",
        "512",
        "--cpuset-cpus",
        "0",
        "--memory-reservation",
        "1k",
        "--group-add",
        "5",
        "--dns-search",
        "x",
        "--dns-option",
        "ndots:1",
        "--pid",
        "host",
        "--ipc",
        "host",
        "--uts",
        "host",
        "--read-only",
        "--privileged",
        "--platform",
        "linux/amd64",
        "--log-driver",
        "none",
        "--domainname",
        "d",
        "busybox",
    ]);
    assert_eq!(call.platform.as_deref(), Some("linux/amd64"));
    let docker: Value =
        serde_json::from_str(include_str!("testdata/docker_run_interactive.json")).expect("json");
    let ours = serde_json::to_value(&call.body).expect("encodes");
    assert_matches(&ours, &docker, "");
    assert_eq!(ours["StdinOnce"], true);
    assert_eq!(ours["Cmd"], Value::Null);
}

#[test]
fn detach_attaches_nothing_and_tty_is_recorded() {
    let (c, _) = call(&["-d", "-it", "img"]);
    assert!(c.body.config.tty && c.body.config.open_stdin);
    assert!(!c.body.config.attach_stdin && !c.body.config.attach_stdout);
    let (c, _) = call(&["-a", "stderr", "img"]);
    assert!(c.body.config.attach_stderr && !c.body.config.attach_stdout);
}

#[test]
fn command_words_after_the_image_are_not_flags() {
    let (c, _) = call(&["img", "sh", "-c", "exit 3"]);
    assert_eq!(
        c.body.config.cmd,
        Some(vec!["sh".into(), "-c".into(), "exit 3".into()])
    );
}

#[test]
fn bad_values_are_refused_with_dockers_words() {
    let wrap = Wrap::try_parse_from(["run", "--rm", "--restart", "always", "img"]).expect("parses");
    assert_eq!(
        to_create_call(&wrap.flags, false)
            .expect_err("conflict")
            .to_string(),
        "conflicting options: cannot specify both --restart and --rm"
    );
    assert!(parse_restart("sometimes").is_err());
    assert!(parse_restart("always:3").is_err());
    assert!(parse_port_spec("1.2.3:80:80").is_err());
    assert!(parse_mount("type=bind,source=/a").is_err());
    assert!(parse_mount("type=volume,target=/a,bind-propagation=shared").is_err());
}

#[test]
fn env_names_take_our_value() {
    assert_eq!(validate_env("A=1=2").expect("ok"), "A=1=2");
    assert_eq!(
        validate_env("BERTH_SURELY_UNSET_VARIABLE").expect("ok"),
        "BERTH_SURELY_UNSET_VARIABLE"
    );
    assert!(validate_env("=x").is_err());
    let path = std::env::var("PATH").unwrap_or_default();
    assert_eq!(validate_env("PATH").expect("ok"), format!("PATH={path}"));
}

#[test]
fn env_files_skip_comments_and_refuse_spaces() {
    let lines =
        parse_kv_lines("f", "# c\n\n  A=1\nB= x \nBERTH_SURELY_UNSET_VARIABLE\n").expect("parses");
    assert_eq!(lines, ["A=1", "B= x "]);
    assert_eq!(
        parse_kv_lines("f", "A B=1\n")
            .expect_err("spaces")
            .to_string(),
        "variable 'A B' contains whitespaces (at f:1)"
    );
}

/// docker 28.2.2's body for `create --network mynet --network-alias a1 --network-alias a2
/// --ip 10.1.2.3 --ip6 fd00::3 --link other:o -p 127.0.0.1:8080:80 --publish
/// published=9090,target=90,protocol=udp,host_ip=127.0.0.2 --publish target=91 -P
/// --expose 100-101 busybox true`, captured against API 1.43.
#[test]
fn network_flags_body_matches_dockers() {
    let (call, _) = call(&[
        "--network",
        "mynet",
        "--network-alias",
        "a1",
        "--network-alias",
        "a2",
        "--ip",
        "10.1.2.3",
        "--ip6",
        "fd00::3",
        "--link",
        "other:o",
        "-p",
        "127.0.0.1:8080:80",
        "--publish",
        "published=9090,target=90,protocol=udp,host_ip=127.0.0.2",
        "--publish",
        "target=91",
        "-P",
        "--expose",
        "100-101",
        "busybox",
        "true",
    ]);
    let docker: Value =
        serde_json::from_str(include_str!("testdata/docker_run_network.json")).expect("json");
    let ours = serde_json::to_value(&call.body).expect("encodes");
    assert_matches(&ours, &docker, "");
    let ep = &ours["NetworkingConfig"]["EndpointsConfig"]["mynet"];
    assert_eq!(ep["Aliases"], serde_json::json!(["a1", "a2"]));
    assert_eq!(ep["IPAMConfig"]["IPv6Address"], "fd00::3");
    assert_eq!(ep["Links"], serde_json::json!(["other:o"]));
    assert_eq!(ours["HostConfig"]["Links"], serde_json::json!(["other:o"]));
    assert_eq!(ours["HostConfig"]["NetworkMode"], "mynet");
    assert_eq!(ours["HostConfig"]["PublishAllPorts"], true);
    assert_eq!(
        ours["HostConfig"]["PortBindings"]["90/udp"],
        serde_json::json!([{"HostIp": "", "HostPort": "9090"}])
    );
    assert_eq!(ours["ExposedPorts"]["101/tcp"], serde_json::json!({}));
}

/// What docker 28 sent for the same flags on the default network (captured).
#[test]
fn default_network_gets_the_short_flags_and_legacy_links() {
    let (c, _) = call(&["--ip", "10.0.0.5", "busybox"]);
    let ours = serde_json::to_value(&c.body).expect("encodes");
    assert_eq!(ours["HostConfig"]["NetworkMode"], "default");
    assert_eq!(
        ours["NetworkingConfig"]["EndpointsConfig"]["default"]["IPAMConfig"],
        serde_json::json!({"IPv4Address": "10.0.0.5"})
    );
    // On the default bridge a link is a legacy link: HostConfig only.
    let (c, _) = call(&["--link", "other:o", "busybox"]);
    let ours = serde_json::to_value(&c.body).expect("encodes");
    assert_eq!(ours["HostConfig"]["Links"], serde_json::json!(["other:o"]));
    assert_eq!(
        ours["NetworkingConfig"]["EndpointsConfig"]["default"]["Links"],
        Value::Null
    );
    // One network and no options: no endpoint, the daemon makes it.
    let (c, _) = call(&["--network", "a", "busybox"]);
    let ours = serde_json::to_value(&c.body).expect("encodes");
    assert_eq!(
        ours["NetworkingConfig"],
        serde_json::json!({"EndpointsConfig": {}})
    );
    let (c, _) = call(&["--network", "host", "-p", "80", "busybox"]);
    assert_eq!(c.body.host_config.network_mode, "host");
    // Advanced syntax and several networks (docker 28 at API 1.44 sends them all).
    let (c, _) = call(&[
        "--network",
        "name=a,alias=x,ip=10.0.0.2,driver-opt=k=v",
        "--network",
        "b",
        "--mac-address",
        "02:42:ac:11:00:09",
        "busybox",
    ]);
    let ours = serde_json::to_value(&c.body).expect("encodes");
    let eps = &ours["NetworkingConfig"]["EndpointsConfig"];
    assert_eq!(eps["a"]["Aliases"], serde_json::json!(["x"]));
    assert_eq!(eps["a"]["IPAMConfig"]["IPv4Address"], "10.0.0.2");
    assert_eq!(eps["a"]["DriverOpts"], serde_json::json!({"k": "v"}));
    assert_eq!(eps["a"]["MacAddress"], "02:42:ac:11:00:09");
    assert_eq!(eps["b"]["Aliases"], Value::Null);
    assert_eq!(ours["MacAddress"], "02:42:ac:11:00:09");
    assert_eq!(ours["HostConfig"]["NetworkMode"], "a");
}

#[test]
fn network_flag_errors_are_dockers() {
    let err = |args: &[&str]| {
        let wrap = Wrap::try_parse_from(std::iter::once("run").chain(args.iter().copied()))
            .expect("parses");
        to_create_call(&wrap.flags, false)
            .expect_err("refused")
            .to_string()
    };
    assert_eq!(
        err(&["--mac-address", "bogus", "img"]),
        "bogus is not a valid mac address"
    );
    assert_eq!(
        err(&["--link", "a:b:c", "img"]),
        "invalid argument \"a:b:c\" for \"--link\" flag: bad format for links: a:b:c"
    );
    assert_eq!(
        err(&["--network", "host", "--network", "mynet", "img"]),
        "conflicting options: cannot attach both user-defined and non-user-defined network-modes"
    );
    assert_eq!(
        err(&["--network-alias", "x", "img"]),
        "network-scoped aliases are only supported for user-defined networks"
    );
    assert_eq!(
        err(&["--network-alias", "x", "--network", "bridge", "img"]),
        "network-scoped aliases are only supported for user-defined networks"
    );
    assert_eq!(
        err(&["--network", "a", "--network", "a", "img"]),
        "network \"a\" is specified multiple times"
    );
    assert_eq!(
        err(&["--network", "b,driver-opt=k=v", "img"]),
        "invalid argument \"b,driver-opt=k=v\" for \"--network\" flag: invalid field b"
    );
    assert_eq!(
        err(&["--publish", "published=80", "img"]),
        "no port specified: 80:/tcp<empty>"
    );
    assert_eq!(
        err(&["--publish", "target=90,bogus", "img"]),
        "invalid publish opts format (should be name=value but got 'bogus')"
    );
    assert_eq!(
        err(&["--expose", "bogus", "img"]),
        "invalid range format for --expose: bogus, error: strconv.ParseUint: parsing \"bogus\": invalid syntax"
    );
}
