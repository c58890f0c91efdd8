use super::*;
use crate::scheduler::test_project;

fn request(yaml: &str, service: &str, refs: &Refs) -> CreateRequest {
    let (_dir, project) = test_project("demo", yaml);
    let service = project.services.get(service).expect("service").clone();
    container_request(ContainerInput {
        project: &project,
        service: &service,
        replica: &Replica::Number(2),
        config_hash: "abc",
        image_digest: Some("sha256:1"),
        replaces: None,
        refs,
    })
    .expect("converts")
}

#[test]
fn a_service_becomes_composes_create_body() {
    let req = request(
        r#"
services:
  web:
    image: busybox
    command: ["httpd", "-f"]
    environment: { B: "2", A: "1" }
    ports: ["127.0.0.1:8080:80"]
    volumes: ["data:/data", "/srv:/srv:ro", "/anon"]
    restart: unless-stopped
    healthcheck: { test: ["CMD", "true"], interval: 2s, retries: 5 }
    networks: [front, back]
networks: { front: {}, back: {} }
volumes: { data: {} }
"#,
        "web",
        &Refs::default(),
    );
    assert_eq!(req.name, "demo-web-2");
    let b = &req.body;
    assert_eq!(b["Image"], "busybox");
    assert_eq!(b["Cmd"], json!(["httpd", "-f"]));
    assert_eq!(b["Env"], json!(["A=1", "B=2"]));
    assert_eq!(b["Labels"]["com.docker.compose.project"], "demo");
    assert_eq!(b["Labels"]["com.docker.compose.service"], "web");
    assert_eq!(b["Labels"]["com.docker.compose.container-number"], "2");
    assert_eq!(b["Labels"]["com.docker.compose.oneoff"], "False");
    assert_eq!(b["Labels"]["com.docker.compose.config-hash"], "abc");
    assert_eq!(b["Labels"]["com.docker.compose.image"], "sha256:1");
    assert_eq!(b["Healthcheck"]["Interval"], 2_000_000_000i64);
    assert_eq!(b["Healthcheck"]["Retries"], 5);
    assert_eq!(b["ExposedPorts"], json!({"80/tcp": {}}));
    let hc = &b["HostConfig"];
    assert_eq!(
        hc["PortBindings"]["80/tcp"],
        json!([{"HostIp": "127.0.0.1", "HostPort": "8080"}])
    );
    assert_eq!(hc["RestartPolicy"]["Name"], "unless-stopped");
    assert_eq!(hc["Binds"], json!(["/srv:/srv:ro"]));
    assert_eq!(hc["Mounts"][0]["Source"], "demo_data");
    assert_eq!(hc["Mounts"][1]["Source"], "");
    assert_eq!(hc["NetworkMode"], "demo_back");
    assert_eq!(
        b["NetworkingConfig"]["EndpointsConfig"]["demo_back"]["Aliases"],
        json!(["demo-web-2", "web"])
    );
    assert_eq!(req.extra_networks.len(), 1);
    assert_eq!(req.extra_networks[0].0, "demo_front");
}

#[test]
fn service_references_resolve_to_containers() {
    let yaml = "services:\n  a: { image: x }\n  b: { image: x, network_mode: 'service:a', volumes_from: [a] }\n";
    let mut refs = Refs::default();
    refs.service_containers
        .insert("a".into(), "demo-a-1".into());
    let req = request(yaml, "b", &refs);
    assert_eq!(req.body["HostConfig"]["NetworkMode"], "container:demo-a-1");
    assert_eq!(req.body["HostConfig"]["VolumesFrom"], json!(["demo-a-1"]));
    let (_dir, project) = test_project("demo", yaml);
    let b = project.services["b"].clone();
    let err = container_request(ContainerInput {
        project: &project,
        service: &b,
        replica: &Replica::Number(1),
        config_hash: "",
        image_digest: None,
        replaces: None,
        refs: &Refs::default(),
    })
    .unwrap_err();
    assert!(
        matches!(err, ConvertError::MissingContainer { .. }),
        "{err}"
    );
}

#[test]
fn names_and_resources_follow_compose() {
    let (_dir, project) = test_project(
        "demo",
        "services:\n  s: { image: x, deploy: { replicas: 3 } }\nvolumes:\n  v: { name: shared }\n  w: {}\nnetworks:\n  n: { internal: true }\n",
    );
    let s = &project.services["s"];
    assert_eq!(desired_replicas(s, None), 3);
    assert_eq!(desired_replicas(s, Some(1)), 1);
    assert_eq!(volume_name(&project, "v"), "shared");
    assert_eq!(volume_name(&project, "w"), "demo_w");
    assert_eq!(network_name(&project, "n"), "demo_n");
    let net = network_request(&project, "n");
    assert_eq!(net["Internal"], true);
    assert_eq!(net["Labels"]["com.docker.compose.network"], "n");
    let one = container_name(
        &project,
        s,
        &Replica::OneOff {
            slug: "0123456789abcdef".into(),
        },
    );
    assert_eq!(one, "demo-s-run-0123456789ab");
}
