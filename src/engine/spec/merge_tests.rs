//! Tests of [`super::resolve`]: one `check`-style helper and one rule per test.

use super::*;
use crate::engine::spec::create_request::{ContainerConfig, RestartPolicy};
use crate::engine::spec::{MountSpec, Ulimit};

const ID: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn ctx() -> ResolveContext<'static> {
    ResolveContext {
        id: ID,
        name: "/web",
        host_hostname: "hosty",
        host_cpus: 2,
    }
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn request(cfg: ContainerConfig, hc: HostConfig) -> CreateRequest {
    CreateRequest {
        config: cfg,
        host_config: hc,
        networking_config: None,
    }
}

fn with_cmd(cmd: &[&str]) -> ContainerConfig {
    ContainerConfig {
        cmd: Some(strings(cmd)),
        ..ContainerConfig::default()
    }
}

fn ok(cfg: ContainerConfig, hc: HostConfig, image: &ImageRunConfig) -> RunSpec {
    resolve(&request(cfg, hc), image, &ctx()).expect("resolves")
}

fn err(cfg: ContainerConfig, hc: HostConfig, image: &ImageRunConfig) -> String {
    resolve(&request(cfg, hc), image, &ctx())
        .map(|_| ())
        .unwrap_err()
        .to_string()
}

fn err_hc(hc: HostConfig) -> String {
    err(with_cmd(&["true"]), hc, &ImageRunConfig::default())
}

fn image(entrypoint: Option<&[&str]>, cmd: Option<&[&str]>) -> ImageRunConfig {
    ImageRunConfig {
        entrypoint: entrypoint.map(strings),
        cmd: cmd.map(strings),
        ..ImageRunConfig::default()
    }
}

#[test]
fn image_entrypoint_and_cmd_are_inherited() {
    let s = ok(
        ContainerConfig::default(),
        HostConfig::default(),
        &image(Some(&["/ep"]), Some(&["a"])),
    );
    assert_eq!((s.path.as_str(), s.args), ("/ep", strings(&["a"])));
}

#[test]
fn container_cmd_replaces_image_cmd_and_keeps_image_entrypoint() {
    let s = ok(
        with_cmd(&["b", "c"]),
        HostConfig::default(),
        &image(Some(&["/ep"]), Some(&["a"])),
    );
    assert_eq!(s.config.entrypoint, strings(&["/ep"]));
    assert_eq!((s.path.as_str(), s.args), ("/ep", strings(&["b", "c"])));
}

#[test]
fn container_entrypoint_drops_image_cmd() {
    let cfg = ContainerConfig {
        entrypoint: Some(strings(&["/mine"])),
        ..ContainerConfig::default()
    };
    let s = ok(
        cfg,
        HostConfig::default(),
        &image(Some(&["/ep"]), Some(&["a"])),
    );
    assert_eq!((s.path.as_str(), s.args.len()), ("/mine", 0));
    assert!(s.config.cmd.is_empty());
}

#[test]
fn container_entrypoint_and_cmd_are_both_used() {
    let cfg = ContainerConfig {
        entrypoint: Some(strings(&["/mine", "-x"])),
        cmd: Some(strings(&["y"])),
        ..ContainerConfig::default()
    };
    let s = ok(
        cfg,
        HostConfig::default(),
        &image(Some(&["/ep"]), Some(&["a"])),
    );
    assert_eq!((s.path.as_str(), s.args), ("/mine", strings(&["-x", "y"])));
}

#[test]
fn empty_string_entrypoint_clears_the_image_entrypoint() {
    let cfg = ContainerConfig {
        entrypoint: Some(strings(&[""])),
        cmd: Some(strings(&["sh"])),
        ..ContainerConfig::default()
    };
    let s = ok(
        cfg,
        HostConfig::default(),
        &image(Some(&["/ep"]), Some(&["a"])),
    );
    assert!(s.config.entrypoint.is_empty());
    assert_eq!((s.path.as_str(), s.args.len()), ("sh", 0));
}

#[test]
fn empty_string_entrypoint_without_cmd_is_no_command() {
    let cfg = ContainerConfig {
        entrypoint: Some(strings(&[""])),
        ..ContainerConfig::default()
    };
    assert_eq!(
        err(
            cfg,
            HostConfig::default(),
            &image(Some(&["/ep"]), Some(&["a"]))
        ),
        "no command specified"
    );
}

#[test]
fn empty_list_entrypoint_inherits_image_cmd_but_not_entrypoint() {
    let cfg = ContainerConfig {
        entrypoint: Some(vec![]),
        ..ContainerConfig::default()
    };
    let s = ok(
        cfg,
        HostConfig::default(),
        &image(Some(&["/ep"]), Some(&["a"])),
    );
    assert_eq!((s.path.as_str(), s.args.len()), ("a", 0));
}

#[test]
fn nothing_to_run_is_dockers_error() {
    assert_eq!(
        err(
            ContainerConfig::default(),
            HostConfig::default(),
            &ImageRunConfig::default()
        ),
        "no command specified"
    );
}

#[test]
fn env_puts_container_entries_first_and_keeps_unset_image_ones() {
    let img = ImageRunConfig {
        env: strings(&["PATH=/img", "A=image", "B=image"]),
        ..image(None, Some(&["x"]))
    };
    let cfg = ContainerConfig {
        env: strings(&["A=mine", "C=mine"]),
        ..ContainerConfig::default()
    };
    let s = ok(cfg, HostConfig::default(), &img);
    assert_eq!(
        s.config.env,
        strings(&["A=mine", "C=mine", "PATH=/img", "B=image"])
    );
}

#[test]
fn process_env_has_path_hostname_and_term_with_a_tty() {
    let cfg = ContainerConfig {
        tty: true,
        env: strings(&["X=1"]),
        ..with_cmd(&["sh"])
    };
    let s = ok(cfg, HostConfig::default(), &ImageRunConfig::default());
    assert_eq!(
        s.process_env,
        strings(&[DEFAULT_PATH, "HOSTNAME=0123456789ab", "TERM=xterm", "X=1"])
    );
}

#[test]
fn process_env_lets_the_image_path_replace_the_default() {
    let img = ImageRunConfig {
        env: strings(&["PATH=/only"]),
        ..image(None, Some(&["x"]))
    };
    let s = ok(ContainerConfig::default(), HostConfig::default(), &img);
    assert_eq!(
        s.process_env,
        strings(&["PATH=/only", "HOSTNAME=0123456789ab"])
    );
}

#[test]
fn bare_key_unsets_a_default_and_duplicates_append() {
    let env = replace_or_append_env(
        strings(&["PATH=/p", "HOSTNAME=h"]),
        &strings(&["HOSTNAME", "A=1", "A=2"]),
    );
    assert_eq!(env, strings(&["PATH=/p", "A=1", "A=2"]));
}

#[test]
fn empty_env_name_is_refused() {
    let cfg = ContainerConfig {
        env: strings(&["=x"]),
        ..with_cmd(&["sh"])
    };
    assert_eq!(
        err(cfg, HostConfig::default(), &ImageRunConfig::default()),
        "invalid environment variable: =x"
    );
}

#[test]
fn working_dir_defaults_to_root_is_cleaned_and_inherits_the_image() {
    let s = ok(
        with_cmd(&["sh"]),
        HostConfig::default(),
        &ImageRunConfig::default(),
    );
    assert_eq!(s.working_dir, "/");
    let img = ImageRunConfig {
        working_dir: "/app/".into(),
        ..ImageRunConfig::default()
    };
    assert_eq!(
        ok(with_cmd(&["sh"]), HostConfig::default(), &img).working_dir,
        "/app"
    );
    let cfg = ContainerConfig {
        working_dir: "/a/../b".into(),
        ..with_cmd(&["sh"])
    };
    assert_eq!(ok(cfg, HostConfig::default(), &img).working_dir, "/b");
}

#[test]
fn relative_working_dir_is_dockers_error() {
    let cfg = ContainerConfig {
        working_dir: "app".into(),
        ..with_cmd(&["sh"])
    };
    assert_eq!(
        err(cfg, HostConfig::default(), &ImageRunConfig::default()),
        "the working directory 'app' is invalid, it needs to be an absolute path"
    );
}

#[test]
fn hostname_defaults_to_the_short_id_or_the_hosts_name_on_host_network() {
    let s = ok(
        with_cmd(&["sh"]),
        HostConfig::default(),
        &ImageRunConfig::default(),
    );
    assert_eq!(s.config.hostname, "0123456789ab");
    let hc = HostConfig {
        network_mode: "host".into(),
        ..HostConfig::default()
    };
    assert_eq!(
        ok(with_cmd(&["sh"]), hc, &ImageRunConfig::default())
            .config
            .hostname,
        "hosty"
    );
    let cfg = ContainerConfig {
        hostname: "web".into(),
        ..with_cmd(&["sh"])
    };
    assert_eq!(
        ok(cfg, HostConfig::default(), &ImageRunConfig::default())
            .config
            .hostname,
        "web"
    );
}

#[test]
fn stop_signal_defaults_to_sigterm_and_parses_names_and_numbers() {
    let s = ok(
        with_cmd(&["sh"]),
        HostConfig::default(),
        &ImageRunConfig::default(),
    );
    assert_eq!((s.stop_signal, s.stop_timeout), (15, 10));
    for (raw, n) in [("SIGKILL", 9), ("KILL", 9), ("9", 9), ("sigusr1", 10)] {
        let cfg = ContainerConfig {
            stop_signal: raw.into(),
            ..with_cmd(&["sh"])
        };
        assert_eq!(
            ok(cfg, HostConfig::default(), &ImageRunConfig::default()).stop_signal,
            n
        );
    }
    let img = ImageRunConfig {
        stop_signal: "SIGQUIT".into(),
        ..ImageRunConfig::default()
    };
    assert_eq!(
        ok(with_cmd(&["sh"]), HostConfig::default(), &img).stop_signal,
        3
    );
}

#[test]
fn bad_stop_signal_is_dockers_error_and_stop_timeout_is_kept() {
    let cfg = ContainerConfig {
        stop_signal: "SIGNOPE".into(),
        ..with_cmd(&["sh"])
    };
    assert_eq!(
        err(cfg, HostConfig::default(), &ImageRunConfig::default()),
        "Invalid signal: SIGNOPE"
    );
    let cfg = ContainerConfig {
        stop_timeout: Some(3),
        ..with_cmd(&["sh"])
    };
    assert_eq!(
        ok(cfg, HostConfig::default(), &ImageRunConfig::default()).stop_timeout,
        3
    );
}

#[test]
fn labels_merge_with_the_container_winning() {
    let img = ImageRunConfig {
        labels: BTreeMap::from([("a".into(), "img".into()), ("b".into(), "img".into())]),
        ..ImageRunConfig::default()
    };
    let cfg = ContainerConfig {
        labels: BTreeMap::from([("a".into(), "me".into())]),
        ..with_cmd(&["sh"])
    };
    let s = ok(cfg, HostConfig::default(), &img);
    assert_eq!(
        s.config.labels,
        BTreeMap::from([("a".into(), "me".into()), ("b".into(), "img".into())])
    );
}

#[test]
fn user_and_exposed_ports_and_volumes_merge_with_the_image() {
    let img = ImageRunConfig {
        user: "nobody".into(),
        exposed_ports: BTreeMap::from([("80/tcp".into(), serde_json::json!({}))]),
        volumes: BTreeMap::from([("/data".into(), serde_json::json!({}))]),
        ..ImageRunConfig::default()
    };
    let cfg = ContainerConfig {
        exposed_ports: BTreeMap::from([("443/tcp".into(), serde_json::json!({}))]),
        ..with_cmd(&["sh"])
    };
    let s = ok(cfg, HostConfig::default(), &img);
    assert_eq!(s.config.user, "nobody");
    assert_eq!(s.config.exposed_ports.len(), 2);
    assert_eq!(
        s.mounts,
        vec![MountSpec::Volume {
            name: None,
            destination: "/data".into(),
            read_only: false,
            copy_data: true
        }]
    );
}

#[test]
fn healthcheck_fields_fall_back_to_the_image() {
    let img = ImageRunConfig {
        healthcheck: Some(Healthcheck {
            test: strings(&["CMD", "true"]),
            interval: 5_000_000_000,
            retries: 3,
            ..Healthcheck::default()
        }),
        ..ImageRunConfig::default()
    };
    let cfg = ContainerConfig {
        healthcheck: Some(Healthcheck {
            retries: 7,
            ..Healthcheck::default()
        }),
        ..with_cmd(&["sh"])
    };
    let h = ok(cfg, HostConfig::default(), &img)
        .config
        .healthcheck
        .expect("merged");
    assert_eq!(
        (h.test, h.interval, h.retries),
        (strings(&["CMD", "true"]), 5_000_000_000, 7)
    );
}

#[test]
fn short_healthcheck_durations_are_dockers_errors() {
    let cfg = ContainerConfig {
        healthcheck: Some(Healthcheck {
            interval: 10,
            ..Healthcheck::default()
        }),
        ..with_cmd(&["sh"])
    };
    assert_eq!(
        err(cfg, HostConfig::default(), &ImageRunConfig::default()),
        "Interval in Healthcheck cannot be less than 1ms"
    );
    let cfg = ContainerConfig {
        healthcheck: Some(Healthcheck {
            retries: -1,
            ..Healthcheck::default()
        }),
        ..with_cmd(&["sh"])
    };
    assert_eq!(
        err(cfg, HostConfig::default(), &ImageRunConfig::default()),
        "Retries in Healthcheck cannot be negative"
    );
}

fn restart(name: &str, max: i64) -> HostConfig {
    HostConfig {
        restart_policy: RestartPolicy {
            name: name.into(),
            maximum_retry_count: max,
        },
        ..HostConfig::default()
    }
}

#[test]
fn restart_policies_parse() {
    let run = |hc| ok(with_cmd(&["sh"]), hc, &ImageRunConfig::default()).restart;
    assert_eq!(run(restart("", 0)), Restart::No);
    assert_eq!(run(restart("no", 0)), Restart::No);
    assert_eq!(run(restart("always", 0)), Restart::Always);
    assert_eq!(run(restart("unless-stopped", 0)), Restart::UnlessStopped);
    assert_eq!(
        run(restart("on-failure", 3)),
        Restart::OnFailure { max_retries: 3 }
    );
}

#[test]
fn bad_restart_policies_are_dockers_errors() {
    assert_eq!(
        err_hc(restart("sometimes", 0)),
        "invalid restart policy 'sometimes'"
    );
    assert_eq!(
        err_hc(restart("always", 2)),
        "maximum retry count cannot be used with restart policy 'always'"
    );
    assert_eq!(
        err_hc(restart("on-failure", -1)),
        "maximum retry count cannot be negative"
    );
}

#[test]
fn auto_remove_with_a_restart_policy_is_dockers_error() {
    let hc = HostConfig {
        auto_remove: true,
        ..restart("always", 0)
    };
    assert_eq!(
        err_hc(hc),
        "can't create 'AutoRemove' container with restart policy"
    );
    let hc = HostConfig {
        auto_remove: true,
        ..restart("no", 0)
    };
    assert!(ok(with_cmd(&["sh"]), hc, &ImageRunConfig::default()).auto_remove);
}

#[test]
fn shm_size_defaults_to_64_mib_and_refuses_negatives() {
    let s = ok(
        with_cmd(&["sh"]),
        HostConfig::default(),
        &ImageRunConfig::default(),
    );
    assert_eq!(s.shm_size, 64 * 1024 * 1024);
    let hc = HostConfig {
        shm_size: -1,
        ..HostConfig::default()
    };
    assert_eq!(err_hc(hc), "SHM size can not be less than 0");
}

#[test]
fn namespace_modes_parse() {
    let hc = HostConfig {
        pid_mode: "host".into(),
        ipc_mode: "container:db".into(),
        uts_mode: "host".into(),
        network_mode: "container:db".into(),
        ..HostConfig::default()
    };
    let ns = ok(with_cmd(&["sh"]), hc, &ImageRunConfig::default()).namespaces;
    assert_eq!(ns.pid, PidMode::Host);
    assert_eq!(ns.ipc, IpcMode::Container("db".into()));
    assert_eq!(ns.uts, UtsMode::Host);
    assert_eq!(ns.network, NetworkMode::Container("db".into()));
    for (mode, want) in [
        ("shareable", IpcMode::Shareable),
        ("none", IpcMode::None),
        ("", IpcMode::Private),
    ] {
        let hc = HostConfig {
            ipc_mode: mode.into(),
            ..HostConfig::default()
        };
        assert_eq!(
            ok(with_cmd(&["sh"]), hc, &ImageRunConfig::default())
                .namespaces
                .ipc,
            want
        );
    }
    let hc = HostConfig {
        network_mode: "mynet".into(),
        ..HostConfig::default()
    };
    assert_eq!(
        ok(with_cmd(&["sh"]), hc, &ImageRunConfig::default())
            .namespaces
            .network,
        NetworkMode::Named("mynet".into())
    );
}

#[test]
fn bad_namespace_modes_are_dockers_errors() {
    let hc = |f: fn(&mut HostConfig)| {
        let mut hc = HostConfig::default();
        f(&mut hc);
        err_hc(hc)
    };
    assert_eq!(
        hc(|h| h.pid_mode = "weird".into()),
        "invalid PID mode: weird"
    );
    assert_eq!(
        hc(|h| h.pid_mode = "container:".into()),
        "invalid PID mode: container:"
    );
    assert_eq!(
        hc(|h| h.ipc_mode = "weird".into()),
        "invalid IPC mode: weird"
    );
    assert_eq!(
        hc(|h| h.uts_mode = "private".into()),
        "invalid UTS mode: private"
    );
    assert_eq!(
        hc(|h| h.network_mode = "container:".into()),
        "Invalid network mode: invalid container format container:<name|id>"
    );
}

#[test]
fn shared_namespace_conflicts_are_dockers_errors() {
    let joined = HostConfig {
        network_mode: "container:db".into(),
        ..HostConfig::default()
    };
    let cfg = ContainerConfig {
        hostname: "x".into(),
        ..with_cmd(&["sh"])
    };
    assert_eq!(
        err(cfg.clone(), joined.clone(), &ImageRunConfig::default()),
        "conflicting options: hostname and the network mode"
    );
    let hc = HostConfig {
        dns: strings(&["1.1.1.1"]),
        ..joined.clone()
    };
    assert_eq!(err_hc(hc), "conflicting options: dns and the network mode");
    let hc = HostConfig {
        extra_hosts: strings(&["a:1.2.3.4"]),
        ..joined
    };
    assert_eq!(
        err_hc(hc),
        "conflicting options: custom host-to-IP mapping and the network mode"
    );
    let uts = HostConfig {
        uts_mode: "host".into(),
        ..HostConfig::default()
    };
    assert_eq!(
        err(cfg, uts, &ImageRunConfig::default()),
        "conflicting options: hostname and the UTS mode"
    );
}

#[test]
fn extra_hosts_parse_including_ipv6_and_host_gateway() {
    let hc = HostConfig {
        extra_hosts: strings(&["db:10.0.0.2", "v6:::1", "gw:host-gateway"]),
        ..HostConfig::default()
    };
    let hosts = ok(with_cmd(&["sh"]), hc, &ImageRunConfig::default()).extra_hosts;
    assert_eq!(hosts[0].addr, HostAddr::Ip("10.0.0.2".parse().expect("ip")));
    assert_eq!(hosts[1].addr, HostAddr::Ip("::1".parse().expect("ip")));
    assert_eq!(
        (hosts[2].name.as_str(), &hosts[2].addr),
        ("gw", &HostAddr::HostGateway)
    );
}

#[test]
fn bad_extra_hosts_are_dockers_errors() {
    let hc = |h: &str| HostConfig {
        extra_hosts: strings(&[h]),
        ..HostConfig::default()
    };
    assert_eq!(
        err_hc(hc("nocolon")),
        "bad format for add-host: \"nocolon\""
    );
    assert_eq!(
        err_hc(hc(":1.2.3.4")),
        "bad format for add-host: \":1.2.3.4\""
    );
    assert_eq!(
        err_hc(hc("db:999.1.1.1")),
        "invalid IP address in add-host: \"999.1.1.1\""
    );
}

#[test]
fn bad_port_specs_are_dockers_errors() {
    let hc = HostConfig {
        port_bindings: BTreeMap::from([("80x/tcp".into(), None)]),
        ..HostConfig::default()
    };
    assert_eq!(err_hc(hc), "invalid port specification: \"80x\"");
    let hc = HostConfig {
        port_bindings: BTreeMap::from([(
            "8000-8001/tcp".into(),
            Some(vec![crate::engine::spec::PortBinding {
                host_ip: String::new(),
                host_port: "70000".into(),
            }]),
        )]),
        ..HostConfig::default()
    };
    assert_eq!(err_hc(hc), "invalid port specification: \"70000\"");
}

#[test]
fn memory_rules_are_dockers() {
    let mem = |m: i64, swap: i64, res: i64| HostConfig {
        memory: m,
        memory_swap: swap,
        memory_reservation: res,
        ..HostConfig::default()
    };
    assert_eq!(
        err_hc(mem(1 << 20, 0, 0)),
        "Minimum memory limit allowed is 6MB"
    );
    assert_eq!(
        err_hc(mem(64 << 20, 32 << 20, 0)),
        "Minimum memoryswap limit should be larger than memory limit, see usage"
    );
    assert_eq!(
        err_hc(mem(0, 64 << 20, 0)),
        "You should always set the Memory limit when using Memoryswap limit, see usage"
    );
    assert_eq!(
        err_hc(mem(64 << 20, 0, 128 << 20)),
        "Minimum memory limit can not be less than memory reservation limit, see usage"
    );
    assert_eq!(
        err_hc(mem(0, 0, 1 << 20)),
        "Minimum memory reservation allowed is 6MB"
    );
    let r = ok(
        with_cmd(&["sh"]),
        mem(64 << 20, 0, 0),
        &ImageRunConfig::default(),
    )
    .resources;
    assert_eq!(
        r.memory_swap,
        128 << 20,
        "swap defaults to twice the memory"
    );
    let r = ok(
        with_cmd(&["sh"]),
        mem(64 << 20, -1, 0),
        &ImageRunConfig::default(),
    )
    .resources;
    assert_eq!(r.memory_swap, -1);
}

#[test]
fn cpu_and_pids_rules_are_dockers() {
    let hc = HostConfig {
        nano_cpus: 3_000_000_000,
        ..HostConfig::default()
    };
    assert_eq!(
        err_hc(hc),
        "Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available"
    );
    let hc = HostConfig {
        cpu_shares: -5,
        pids_limit: Some(0),
        ..HostConfig::default()
    };
    let r = ok(with_cmd(&["sh"]), hc, &ImageRunConfig::default()).resources;
    assert_eq!((r.cpu_shares, r.pids_limit), (2, None));
    let hc = HostConfig {
        cpu_shares: 1 << 20,
        pids_limit: Some(50),
        nano_cpus: 1_500_000_000,
        ..HostConfig::default()
    };
    let r = ok(with_cmd(&["sh"]), hc, &ImageRunConfig::default()).resources;
    assert_eq!(
        (r.cpu_shares, r.pids_limit, r.nano_cpus),
        (262_144, Some(50), 1_500_000_000)
    );
}

fn sysctl(key: &str, hc: HostConfig) -> Result<(), String> {
    let hc = HostConfig {
        sysctls: BTreeMap::from([(key.to_string(), "1".to_string())]),
        ..hc
    };
    resolve(
        &request(with_cmd(&["sh"]), hc),
        &ImageRunConfig::default(),
        &ctx(),
    )
    .map(|_| ())
    .map_err(|e| e.to_string())
}

#[test]
fn namespaced_sysctls_are_allowed() {
    for key in [
        "kernel.shmmax",
        "kernel.msgmax",
        "kernel.sem",
        "fs.mqueue.msg_max",
        "net.ipv4.ip_forward",
        "kernel.domainname",
    ] {
        assert_eq!(sysctl(key, HostConfig::default()), Ok(()), "{key}");
    }
}

#[test]
fn sysctls_outside_the_containers_namespaces_are_refused() {
    let host_net = HostConfig {
        network_mode: "host".into(),
        ..HostConfig::default()
    };
    assert_eq!(
        sysctl("net.ipv4.ip_forward", host_net),
        Err("sysctl \"net.ipv4.ip_forward\" not allowed in host network namespace".into())
    );
    let host_ipc = HostConfig {
        ipc_mode: "host".into(),
        ..HostConfig::default()
    };
    assert_eq!(
        sysctl("kernel.shmmax", host_ipc),
        Err("sysctl \"kernel.shmmax\" is not allowed in the hosts ipc namespace".into())
    );
    assert_eq!(
        sysctl("vm.swappiness", HostConfig::default()),
        Err("sysctl \"vm.swappiness\" is not in a separate kernel namespace".into())
    );
    assert_eq!(
        sysctl("kernel.hostname", HostConfig::default()),
        Err("sysctl \"kernel.hostname\" is not allowed as it conflicts with the OCI \"hostname\" field".into())
    );
    let host_uts = HostConfig {
        uts_mode: "host".into(),
        ..HostConfig::default()
    };
    assert!(sysctl("kernel.domainname", host_uts).is_err());
}

#[test]
fn ulimits_are_checked() {
    let u = |name: &str, soft, hard| HostConfig {
        ulimits: vec![Ulimit {
            name: name.into(),
            soft,
            hard,
        }],
        ..HostConfig::default()
    };
    assert_eq!(
        ok(
            with_cmd(&["sh"]),
            u("nofile", 10, 20),
            &ImageRunConfig::default()
        )
        .ulimits
        .len(),
        1
    );
    assert!(
        ok(
            with_cmd(&["sh"]),
            u("core", -1, -1),
            &ImageRunConfig::default()
        )
        .ulimits
        .len()
            == 1
    );
    assert_eq!(err_hc(u("files", 1, 1)), "invalid ulimit type: files");
    assert_eq!(
        err_hc(u("nofile", 30, 20)),
        "ulimit soft limit must be less than or equal to hard limit: 30 > 20"
    );
}

#[test]
fn binds_and_tmpfs_reach_the_spec_and_their_errors_propagate() {
    let hc = HostConfig {
        binds: strings(&["/h:/c:ro"]),
        tmpfs: BTreeMap::from([("/run".into(), "size=1m".into())]),
        ..HostConfig::default()
    };
    let s = ok(with_cmd(&["sh"]), hc, &ImageRunConfig::default());
    assert_eq!(s.mounts.len(), 2);
    let hc = HostConfig {
        binds: strings(&["/h:c"]),
        ..HostConfig::default()
    };
    assert!(err_hc(hc).starts_with("invalid volume specification: '/h:c'"));
}

#[test]
fn name_loses_its_slash_and_passthrough_fields_survive() {
    let hc = HostConfig {
        init: Some(true),
        privileged: true,
        readonly_rootfs: true,
        cap_add: strings(&["NET_ADMIN"]),
        group_add: strings(&["audio"]),
        ..HostConfig::default()
    };
    let s = ok(with_cmd(&["sh"]), hc, &ImageRunConfig::default());
    assert_eq!(s.name, "web");
    assert!(s.init && s.privileged && s.read_only_rootfs);
    assert_eq!(s.cap_add, strings(&["NET_ADMIN"]));
    assert_eq!(s.config.group_add, strings(&["audio"]));
}

#[test]
fn decodes_an_image_config_with_nulls() {
    let img: ImageRunConfig = serde_json::from_str(
        r#"{"User":"","Env":["PATH=/x"],"Entrypoint":null,"Cmd":["/bin/sh"],"WorkingDir":"",
            "Labels":null,"OnBuild":null,"Volumes":null,"ExposedPorts":{"80/tcp":{}}}"#,
    )
    .expect("decodes");
    assert_eq!(img.cmd, Some(strings(&["/bin/sh"])));
    assert!(img.labels.is_empty());
    assert_eq!(img.exposed_ports.len(), 1);
}
