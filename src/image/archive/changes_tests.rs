//! Tests of `--change` parsing, one per instruction family, with Docker's error texts.

use super::*;

fn check(changes: &[&str]) -> Result<RunConfig, String> {
    let mut config = RunConfig::default();
    let changes: Vec<String> = changes.iter().map(|s| s.to_string()).collect();
    apply_changes(&mut config, &changes)?;
    Ok(config)
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn cmd_json_and_shell_forms() {
    let c = check(&[r#"CMD ["sh", "-c", "echo hi"]"#]).unwrap();
    assert_eq!(c.cmd, Some(strings(&["sh", "-c", "echo hi"])));
    let c = check(&["cmd echo $HOME"]).unwrap();
    assert_eq!(c.cmd, Some(strings(&["/bin/sh", "-c", "echo $HOME"])));
}

#[test]
fn entrypoint_resets_cmd_unless_cmd_was_set_here() {
    let mut config = RunConfig {
        cmd: Some(strings(&["old"])),
        ..Default::default()
    };
    apply_changes(&mut config, &strings(&["ENTRYPOINT top -b"])).unwrap();
    assert_eq!(
        config.entrypoint,
        Some(strings(&["/bin/sh", "-c", "top -b"]))
    );
    assert_eq!(config.cmd, None);
    let c = check(&[r#"CMD ["-b"]"#, r#"ENTRYPOINT ["top"]"#]).unwrap();
    assert_eq!(c.cmd, Some(strings(&["-b"])));
    assert_eq!(c.entrypoint, Some(strings(&["top"])));
}

#[test]
fn env_both_forms_expansion_and_replacement() {
    let c = check(&[
        "ENV A=1 B=\"two words\"",
        "ENV C the rest of the line",
        "ENV D=$A/x A=3",
        "ENV E=${A}",
    ])
    .unwrap();
    assert_eq!(
        c.env,
        strings(&[
            "A=3",
            "B=two words",
            "C=the rest of the line",
            "D=1/x",
            "E=3"
        ])
    );
}

#[test]
fn env_errors_use_docker_words() {
    assert_eq!(
        check(&["ENV"]).unwrap_err(),
        "ENV requires at least one argument"
    );
    assert_eq!(
        check(&["ENV A"]).unwrap_err(),
        "ENV must have two arguments"
    );
    assert_eq!(
        check(&["ENV A=1 B"]).unwrap_err(),
        "Syntax error - can't find = in \"B\". Must be of the form: name=value"
    );
}

#[test]
fn invalid_instructions_are_refused_before_any_is_applied() {
    assert_eq!(
        check(&["ENV A=1", "RUN echo hi"]).unwrap_err(),
        "run is not a valid change command"
    );
    assert_eq!(
        check(&["FOO bar"]).unwrap_err(),
        "foo is not a valid change command"
    );
}

#[test]
fn expose_label_user_workdir_volume_stopsignal() {
    let c = check(&[
        "EXPOSE 80 53/UDP 8000-8001",
        "LABEL a=b \"c d\"=e",
        "LABEL legacy some value",
        "USER nobody",
        "WORKDIR /srv",
        "WORKDIR app/../data",
        r#"VOLUME ["/data", "/logs"]"#,
        "VOLUME /cache /tmp/x",
        "STOPSIGNAL SIGQUIT",
    ])
    .unwrap();
    let ports: Vec<_> = c.exposed_ports.keys().cloned().collect();
    assert_eq!(
        ports,
        strings(&["53/udp", "80/tcp", "8000/tcp", "8001/tcp"])
    );
    assert_eq!(c.labels.get("a").map(String::as_str), Some("b"));
    assert_eq!(c.labels.get("c d").map(String::as_str), Some("e"));
    assert_eq!(
        c.labels.get("legacy").map(String::as_str),
        Some("some value")
    );
    assert_eq!(c.user, "nobody");
    assert_eq!(c.working_dir, "/srv/data");
    let volumes: Vec<_> = c.volumes.keys().cloned().collect();
    assert_eq!(volumes, strings(&["/cache", "/data", "/logs", "/tmp/x"]));
    assert_eq!(c.stop_signal, "SIGQUIT");
}

#[test]
fn argument_errors() {
    assert_eq!(
        check(&["USER"]).unwrap_err(),
        "USER requires exactly one argument"
    );
    assert_eq!(
        check(&["EXPOSE"]).unwrap_err(),
        "EXPOSE requires at least one argument"
    );
    assert_eq!(
        check(&["EXPOSE abc"]).unwrap_err(),
        "invalid containerPort: abc"
    );
    assert_eq!(
        check(&["STOPSIGNAL SIGNOPE"]).unwrap_err(),
        "Invalid signal: SIGNOPE"
    );
    assert!(check(&["STOPSIGNAL 9"]).is_ok());
    assert!(check(&["STOPSIGNAL SIGRTMIN+3"]).is_ok());
    assert_eq!(
        check(&[r#"VOLUME [""]"#]).unwrap_err(),
        "VOLUME specified can not be an empty string"
    );
}

#[test]
fn onbuild_keeps_the_trigger_and_refuses_chains() {
    let c = check(&["ONBUILD RUN echo  hi"]).unwrap();
    assert_eq!(c.on_build, strings(&["RUN echo  hi"]));
    assert_eq!(
        check(&["ONBUILD ONBUILD RUN x"]).unwrap_err(),
        "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"
    );
    assert_eq!(
        check(&["onbuild from scratch"]).unwrap_err(),
        "FROM isn't allowed as an ONBUILD trigger"
    );
}

#[test]
fn healthcheck_forms() {
    let c = check(&["HEALTHCHECK --interval=5s --retries=3 CMD curl -f http://x/"]).unwrap();
    let h = c.healthcheck.unwrap();
    assert_eq!(h.test, strings(&["CMD-SHELL", "curl -f http://x/"]));
    assert_eq!(h.interval, 5_000_000_000);
    assert_eq!(h.retries, 3);
    let c = check(&[r#"HEALTHCHECK CMD ["true"]"#]).unwrap();
    assert_eq!(c.healthcheck.unwrap().test, strings(&["CMD", "true"]));
    let c = check(&["HEALTHCHECK NONE"]).unwrap();
    assert_eq!(c.healthcheck.unwrap().test, strings(&["NONE"]));
    assert_eq!(
        check(&["HEALTHCHECK WAT"]).unwrap_err(),
        "Unknown type \"WAT\" in HEALTHCHECK (try CMD)"
    );
}

#[test]
fn go_durations() {
    assert_eq!(parse_go_duration("1h30m"), Some(5_400_000_000_000));
    assert_eq!(parse_go_duration("1.5s"), Some(1_500_000_000));
    assert_eq!(parse_go_duration("300ms"), Some(300_000_000));
    assert_eq!(parse_go_duration("5"), None);
    assert_eq!(parse_go_duration(""), None);
}

#[test]
fn run_config_serialises_with_docker_names_and_omits_empty() {
    let c = check(&["CMD [\"sh\"]", "EXPOSE 80"]).unwrap();
    let json = serde_json::to_string(&c).unwrap();
    assert_eq!(json, r#"{"ExposedPorts":{"80/tcp":{}},"Cmd":["sh"]}"#);
    assert_eq!(serde_json::to_string(&RunConfig::default()).unwrap(), "{}");
}
