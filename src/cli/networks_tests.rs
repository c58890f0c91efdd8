//! The network verbs' bodies compared with what the real docker CLI 28.2.2 sent for the
//! same command lines (captured against a listener that only recorded requests), and
//! their output compared with what it printed for the same daemon answers.

use clap::Parser;
use serde_json::{json, Value};

use super::*;

#[derive(Parser)]
struct Wrap {
    #[command(subcommand)]
    verb: NetworkVerb,
}

fn parse(args: &[&str]) -> NetworkVerb {
    Wrap::try_parse_from(std::iter::once("network").chain(args.iter().copied()))
        .expect("flags parse")
        .verb
}

fn create_body(args: &[&str]) -> anyhow::Result<Value> {
    let NetworkVerb::Create(a) = parse(args) else {
        panic!("create expected");
    };
    Ok(serde_json::to_value(create_request(&a)?).expect("encodes"))
}

#[test]
fn create_body_matches_dockers() {
    let ours = create_body(&[
        "create",
        "--subnet",
        "10.9.0.0/16",
        "--gateway",
        "10.9.0.1",
        "--ip-range",
        "10.9.1.0/24",
        "--aux-address",
        "a=10.9.0.5",
        "--internal",
        "--attachable",
        "--label",
        "k=v",
        "-o",
        "com.docker.network.bridge.name=brx",
        "--ipv6",
        "--ipam-opt",
        "x=y",
        "n1",
    ])
    .expect("valid");
    let docker = json!({"Driver":"bridge","Scope":"","EnableIPv6":true,"IPAM":{"Driver":"default","Options":{"x":"y"},"Config":[{"Subnet":"10.9.0.0/16","IPRange":"10.9.1.0/24","Gateway":"10.9.0.1","AuxiliaryAddresses":{"a":"10.9.0.5"}}]},"Internal":true,"Attachable":true,"Ingress":false,"ConfigOnly":false,"ConfigFrom":null,"Options":{"com.docker.network.bridge.name":"brx"},"Labels":{"k":"v"},"Name":"n1","CheckDuplicate":true});
    assert_eq!(ours, docker);
    // Without --ipv6 docker leaves EnableIPv6 out; null reads the same on the daemon.
    let ours = create_body(&["create", "n2"]).expect("valid");
    let docker = json!({"Driver":"bridge","Scope":"","IPAM":{"Driver":"default","Options":{},"Config":[]},"Internal":false,"Attachable":false,"Ingress":false,"ConfigOnly":false,"ConfigFrom":null,"Options":{},"Labels":{},"Name":"n2","CheckDuplicate":true});
    let mut without_ipv6 = ours.clone();
    assert_eq!(
        without_ipv6
            .as_object_mut()
            .and_then(|o| o.remove("EnableIPv6")),
        Some(Value::Null)
    );
    assert_eq!(without_ipv6, docker);
}

#[test]
fn ipam_flags_are_checked_with_dockers_words() {
    let err = |args: &[&str]| create_body(args).expect_err("refused").to_string();
    assert_eq!(
        err(&["create", "--gateway", "10.0.0.1", "n"]),
        "every ip-range or gateway must have a corresponding subnet"
    );
    assert_eq!(
        err(&[
            "create",
            "--subnet",
            "10.0.0.0/8",
            "--subnet",
            "10.1.0.0/16",
            "n"
        ]),
        "multiple overlapping subnet configuration is not supported"
    );
    assert_eq!(
        err(&[
            "create",
            "--subnet",
            "10.0.0.0/8",
            "--gateway",
            "11.0.0.1",
            "n"
        ]),
        "no matching subnet for gateway 11.0.0.1"
    );
    assert_eq!(
        err(&[
            "create",
            "--subnet",
            "10.0.0.0/8",
            "--ip-range",
            "11.0.0.0/24",
            "n"
        ]),
        "no matching subnet for range 11.0.0.0/24"
    );
    assert_eq!(
        err(&[
            "create",
            "--subnet",
            "10.0.0.0/8",
            "--aux-address",
            "x=12.0.0.1",
            "n"
        ]),
        "no matching subnet for aux-address 12.0.0.1"
    );
    // A lone bad subnet is the daemon's to refuse, as docker sends it unchecked.
    let body = create_body(&["create", "--subnet", "bogus", "n"]).expect("sent");
    assert_eq!(body["IPAM"]["Config"], json!([{"Subnet": "bogus"}]));
    // Two subnets keep their order and get their own gateways.
    let body = create_body(&[
        "create",
        "--subnet",
        "10.2.0.0/16",
        "--subnet",
        "10.1.0.0/16",
        "--gateway",
        "10.1.0.1",
        "--gateway",
        "10.2.0.1",
        "n",
    ])
    .expect("valid");
    assert_eq!(
        body["IPAM"]["Config"],
        json!([
            {"Subnet": "10.2.0.0/16", "Gateway": "10.2.0.1"},
            {"Subnet": "10.1.0.0/16", "Gateway": "10.1.0.1"}
        ])
    );
}

#[test]
fn connect_and_disconnect_bodies_match_dockers() {
    let NetworkVerb::Connect(a) = parse(&[
        "connect",
        "--alias",
        "a",
        "--alias",
        "b",
        "--ip",
        "10.0.0.9",
        "--ip6",
        "fd::9",
        "--link",
        "c2:x",
        "--driver-opt",
        "k=v",
        "net1",
        "ctr",
    ]) else {
        panic!("connect expected");
    };
    assert_eq!(a.network, "net1");
    let ours = serde_json::to_value(connect_request(&a)).expect("encodes");
    let docker = json!({"Container":"ctr","EndpointConfig":{"IPAMConfig":{"IPv4Address":"10.0.0.9","IPv6Address":"fd::9"},"Links":["c2:x"],"Aliases":["a","b"],"MacAddress":"","DriverOpts":{"k":"v"},"NetworkID":"","EndpointID":"","Gateway":"","IPAddress":"","IPPrefixLen":0,"IPv6Gateway":"","GlobalIPv6Address":"","GlobalIPv6PrefixLen":0}});
    assert_eq!(ours, docker);
    let NetworkVerb::Connect(a) = parse(&["connect", "net1", "ctr"]) else {
        panic!("connect expected");
    };
    let ours = serde_json::to_value(connect_request(&a)).expect("encodes");
    assert_eq!(ours["EndpointConfig"]["IPAMConfig"], json!({}));
    assert_eq!(ours["EndpointConfig"]["Aliases"], json!([]));
    assert_eq!(ours["EndpointConfig"]["DriverOpts"], json!({}));
    assert_eq!(ours["EndpointConfig"]["Links"], Value::Null);
    let NetworkVerb::Disconnect(d) = parse(&["disconnect", "-f", "net1", "ctr"]) else {
        panic!("disconnect expected");
    };
    let body = NetworkDisconnectRequest {
        container: d.container,
        force: d.force,
    };
    assert_eq!(
        serde_json::to_value(body).expect("encodes"),
        json!({"Container":"ctr","Force":true})
    );
}

fn listed() -> Vec<NetworkResource> {
    serde_json::from_value(json!([
        {"Name":"net10","Id":"aaaaaaaaaaaa1111111111111111111111111111111111111111111111111111","Created":"2024-05-01T10:00:00.123456789Z","Scope":"local","Driver":"bridge","EnableIPv6":false,"Internal":true,"Labels":{"a":"1"}},
        {"Name":"net9","Id":"bbbbbbbbbbbb2222222222222222222222222222222222222222222222222222","Created":"2024-05-01T10:00:00Z","Scope":"local","Driver":"bridge","EnableIPv6":true},
        {"Name":"Bridge","Id":"cccccccccccc","Created":"2024-05-01T10:00:00Z","Scope":"local","Driver":"bridge"}
    ]))
    .expect("decodes")
}

/// The docker CLI's output for the same three networks (captured).
#[test]
fn ls_prints_like_docker() {
    let ls = |args: &[&str]| {
        let NetworkVerb::Ls(a) = parse(args) else {
            panic!("ls expected");
        };
        render_ls(listed(), &a).expect("renders")
    };
    assert_eq!(
        ls(&["ls"]),
        "NETWORK ID     NAME      DRIVER    SCOPE\n\
         cccccccccccc   Bridge    bridge    local\n\
         bbbbbbbbbbbb   net9      bridge    local\n\
         aaaaaaaaaaaa   net10     bridge    local\n"
    );
    assert_eq!(
        ls(&["ls", "-q"]),
        "cccccccccccc\nbbbbbbbbbbbb\naaaaaaaaaaaa\n"
    );
    assert_eq!(
        ls(&[
            "ls",
            "--no-trunc",
            "--format",
            "{{.ID}} {{.Name}} {{.IPv6}} {{.Internal}} {{.Labels}} {{.CreatedAt}}"
        ]),
        "cccccccccccc Bridge false false  2024-05-01 10:00:00 +0000 UTC\n\
         bbbbbbbbbbbb2222222222222222222222222222222222222222222222222222 net9 true false  2024-05-01 10:00:00 +0000 UTC\n\
         aaaaaaaaaaaa1111111111111111111111111111111111111111111111111111 net10 false true a=1 2024-05-01 10:00:00.123456789 +0000 UTC\n"
    );
    let json_lines = ls(&["ls", "--format", "json"]);
    assert_eq!(
        json_lines.lines().next(),
        Some(
            r#"{"CreatedAt":"2024-05-01 10:00:00 +0000 UTC","Driver":"bridge","ID":"cccccccccccc","IPv4":"false","IPv6":"false","Internal":"false","Labels":"","Name":"Bridge","Scope":"local"}"#
        )
    );
    assert_eq!(
        ls(&[
            "ls",
            "--format",
            "table {{.Name}}\\t{{.IPv6}}\\t{{.Internal}}"
        ]),
        "NAME      IPV6      INTERNAL\n\
         Bridge    false     false\n\
         net9      true      false\n\
         net10     false     true\n"
    );
}

#[test]
fn natural_order_is_sortorders() {
    use std::cmp::Ordering::*;
    assert_eq!(natural_cmp("net9", "net10"), Less);
    assert_eq!(natural_cmp("Bridge", "bridge"), Less);
    assert_eq!(natural_cmp("a1", "ab"), Less);
    assert_eq!(natural_cmp("a01", "a1"), Greater);
    assert_eq!(natural_cmp("x", "x1"), Less);
    assert_eq!(natural_cmp("same", "same"), Equal);
}

#[test]
fn prune_output_is_dockers() {
    let report = NetworkPruneReport {
        networks_deleted: Some(vec!["n1".into(), "n2".into()]),
    };
    assert_eq!(prune_output(&report), "Deleted Networks:\nn1\nn2\n\n");
    assert_eq!(prune_output(&NetworkPruneReport::default()), "");
    assert_eq!(
        PRUNE_WARNING,
        "WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue?"
    );
}

#[test]
fn go_time_strings() {
    assert_eq!(
        go_time("2024-05-01T10:00:00.500Z"),
        "2024-05-01 10:00:00.5 +0000 UTC"
    );
    assert_eq!(
        go_time("2024-05-01T12:00:00+02:00"),
        "2024-05-01 12:00:00 +0200 +0200"
    );
    assert_eq!(go_time("garbage"), "garbage");
}
