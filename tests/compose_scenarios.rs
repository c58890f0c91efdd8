//! Compose scenarios, run by the berth client against berth's daemon and, when it can run
//! here, against a real dockerd (Debian's docker.io, `--iptables=false`): the same client
//! must pass both. Each scenario is one function taking the target; each test below runs
//! one scenario on both targets. Root only (loud skip otherwise).

mod support;

use std::io::Read;
use std::process::Stdio;
use std::time::{Duration, Instant};

use support::compose::{Project, Target, IMAGE};

/// Runs `scenario` on berth's daemon, then on dockerd when available.
fn on_both(test: &str, scenario: fn(&Target)) {
    if !support::require_root(test) || !support::require_tool("busybox", test) {
        return;
    }
    let berth = Target::berth();
    scenario(&berth);
    drop(berth);
    match Target::dockerd(test) {
        Some(dockerd) => scenario(&dockerd),
        None => eprintln!("SKIPPED (LOUD): {test} on dockerd: dockerd cannot run here"),
    }
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A web server with a named volume, a published port and a healthcheck, and a client.
fn web_stack(port: u16) -> String {
    format!(
        r#"
services:
  web:
    image: {IMAGE}
    command: ["sh", "-c", "echo hello-$$HOSTNAME > /www/index.html && exec httpd -f -p 80 -h /www"]
    volumes: [site:/www]
    ports: ["127.0.0.1:{port}:80"]
    healthcheck:
      test: ["CMD", "wget", "-qO-", "http://127.0.0.1/"]
      interval: 1s
      retries: 5
  client:
    image: {IMAGE}
    command: ["sh", "-c", "wget -qO- http://web/ && exec sleep 3600"]
    environment: {{ MODE: one }}
    depends_on:
      web: {{ condition: service_healthy }}
volumes:
  site: {{}}
"#
    )
}

/// Bridges on the host, by name.
fn host_bridges() -> Vec<String> {
    let out = std::process::Command::new("ip")
        .args(["-o", "link", "show", "type", "bridge"])
        .output()
        .expect("ip runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            l.split(": ")
                .nth(1)
                .map(|n| n.split('@').next().unwrap_or(n).to_string())
        })
        .collect()
}

/// up then down leaves no container, network, volume or bridge of the project behind, and
/// while up the page is served on the published port and the client reached it by name.
fn up_down_leaves_the_host_as_it_was(t: &Target) {
    let port = support::free_port();
    let p = Project::new(t, &web_stack(port));
    p.ok(&["up", "-d", "--wait"]);
    let label = format!("com.docker.compose.project={}", p.name);
    assert_eq!(
        p.containers(),
        [format!("{}-client-1", p.name), format!("{}-web-1", p.name)]
    );
    let network = format!("{}_default", p.name);
    assert_eq!(
        t.resources_with("network", &label),
        std::slice::from_ref(&network)
    );
    assert_eq!(
        t.resources_with("volume", &label),
        [format!("{}_site", p.name)]
    );
    let out = t.cli(&["network", "inspect", "-f", "{{.Id}}", &network]);
    let id = support::stdout_ok("network inspect", &out)
        .trim()
        .to_string();
    let bridge = format!("br-{}", &id[..12]);
    assert!(host_bridges().contains(&bridge), "{bridge} while up");
    // The private dockerd runs without iptables and userland proxy, so it publishes no
    // port; berth's daemon must serve the page on the published port.
    if t.name() == "berth" {
        let page = http_get(port);
        assert!(page.starts_with("hello-"), "[{}] page: {page:?}", t.name());
    }
    let client = format!("{}-client-1", p.name);
    let logs = p.ok(&["compose", "logs", "--no-log-prefix", "client"]);
    assert!(
        logs.contains("hello-"),
        "[{}] client log: {logs:?}",
        t.name()
    );
    assert_eq!(t.inspect(&client, "{{.State.Status}}"), "running");
    p.ok(&["down", "-v"]);
    assert!(p.containers().is_empty());
    assert!(t.resources_with("network", &label).is_empty());
    assert!(t.resources_with("volume", &label).is_empty());
    assert!(!host_bridges().contains(&bridge), "{bridge} after down");
}

/// The body of `GET /` on 127.0.0.1:`port` (HTTP/1.0, so the server closes).
fn http_get(port: u16) -> String {
    use std::io::Write;
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return String::new();
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let _ = stream.write_all(b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n");
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.trim().to_string())
        .unwrap_or_default()
}

/// Changing one service's environment recreates that service only.
fn a_changed_variable_recreates_only_that_service(t: &Target) {
    let port = support::free_port();
    let p = Project::new(t, &web_stack(port));
    p.ok(&["up", "-d", "--wait"]);
    let web = format!("{}-web-1", p.name);
    let client = format!("{}-client-1", p.name);
    let (web_id, client_id) = (p.id(&web), p.id(&client));
    let noop = p.run(&["up", "-d"]);
    assert!(noop.status.success(), "{}", stderr(&noop));
    assert_eq!(
        (p.id(&web), p.id(&client)),
        (web_id.clone(), client_id.clone()),
        "no-op up"
    );
    p.write(&web_stack(port).replace("MODE: one", "MODE: two"));
    p.ok(&["up", "-d"]);
    assert_eq!(p.id(&web), web_id, "web untouched");
    assert_ne!(p.id(&client), client_id, "client recreated");
    let env = t.inspect(&client, "{{json .Config.Env}}");
    assert!(env.contains("MODE=two"), "{env}");
    assert_eq!(p.containers().len(), 2, "the old client is gone");
}

/// `--scale` grows a service to three replicas and shrinks it back to one.
fn scale_one_three_one(t: &Target) {
    let p = Project::new(
        t,
        &format!("services:\n  w:\n    image: {IMAGE}\n    command: [sleep, '3600']\n"),
    );
    p.ok(&["up", "-d"]);
    let one = vec![format!("{}-w-1", p.name)];
    assert_eq!(p.containers(), one);
    let first = p.id(&one[0]);
    p.ok(&["up", "-d", "--scale", "w=3"]);
    let three: Vec<String> = (1..=3).map(|n| format!("{}-w-{n}", p.name)).collect();
    assert_eq!(p.containers(), three);
    assert_eq!(p.id(&one[0]), first, "replica 1 kept");
    p.ok(&["scale", "w=1"]);
    assert_eq!(p.containers(), one);
    assert_eq!(p.id(&one[0]), first, "replica 1 kept on scale down");
}

/// A service removed from the file is an orphan: warned about, kept, then removed with
/// `--remove-orphans`.
fn orphans_are_warned_then_removed(t: &Target) {
    let two = format!(
        "services:\n  a: {{ image: {IMAGE}, command: [sleep, '3600'] }}\n  b: {{ image: {IMAGE}, command: [sleep, '3600'] }}\n"
    );
    let p = Project::new(t, &two);
    p.ok(&["up", "-d"]);
    p.write(&format!(
        "services:\n  a: {{ image: {IMAGE}, command: [sleep, '3600'] }}\n"
    ));
    let out = p.run(&["up", "-d"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("Found orphan containers"),
        "{}",
        stderr(&out)
    );
    assert_eq!(p.containers().len(), 2, "orphan kept");
    p.ok(&["up", "-d", "--remove-orphans"]);
    assert_eq!(p.containers(), [format!("{}-a-1", p.name)]);
}

/// `up --wait` returns once the one-shot dependency completed and the app runs; the app
/// started after the migration ended and after the database was healthy.
fn wait_with_a_one_shot_dependency_and_health_gating(t: &Target) {
    let compose = format!(
        r#"
services:
  db:
    image: {IMAGE}
    command: ["sh", "-c", "sleep 2; touch /tmp/ready; exec sleep 3600"]
    healthcheck: {{ test: ["CMD-SHELL", "test -f /tmp/ready"], interval: 1s, retries: 20 }}
  migrate:
    image: {IMAGE}
    command: ["sh", "-c", "sleep 1; echo migrated"]
    depends_on: {{ db: {{ condition: service_healthy }} }}
  app:
    image: {IMAGE}
    command: [sleep, "3600"]
    depends_on:
      db: {{ condition: service_healthy }}
      migrate: {{ condition: service_completed_successfully }}
"#
    );
    let p = Project::new(t, &compose);
    let started = Instant::now();
    p.ok(&["up", "-d", "--wait"]);
    assert!(
        started.elapsed() >= Duration::from_secs(3),
        "waited for health and migration"
    );
    let time = |name: &str, format: &str| {
        let text = t.inspect(&format!("{}-{name}-1", p.name), format);
        chrono::DateTime::parse_from_rfc3339(&text).unwrap_or_else(|e| panic!("{text}: {e}"))
    };
    let db_started = time("db", "{{.State.StartedAt}}");
    let migrate_started = time("migrate", "{{.State.StartedAt}}");
    let migrate_finished = time("migrate", "{{.State.FinishedAt}}");
    let app_started = time("app", "{{.State.StartedAt}}");
    assert!(
        migrate_started - db_started >= chrono::Duration::seconds(2),
        "migrate waited for db health"
    );
    assert!(
        app_started >= migrate_finished,
        "app waited for the migration"
    );
    assert_eq!(
        t.inspect(&format!("{}-migrate-1", p.name), "{{.State.ExitCode}}"),
        "0"
    );
    assert_eq!(
        t.inspect(&format!("{}-db-1", p.name), "{{.State.Health.Status}}"),
        "healthy"
    );
}

/// A failed one-shot dependency stops the chain with Compose's message.
fn a_failed_dependency_stops_up(t: &Target) {
    let compose = format!(
        "services:\n  migrate: {{ image: {IMAGE}, command: [sh, -c, 'exit 3'] }}\n  app:\n    image: {IMAGE}\n    command: [sleep, '3600']\n    depends_on: {{ migrate: {{ condition: service_completed_successfully }} }}\n"
    );
    let p = Project::new(t, &compose);
    let out = p.run(&["up", "-d"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("service \"migrate\" didn't complete successfully: exit 3"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        p.containers(),
        [format!("{}-migrate-1", p.name)],
        "app never created"
    );
}

/// A service in a profile starts only when its profile is enabled.
fn profiles_select_services(t: &Target) {
    let compose = format!(
        "services:\n  a: {{ image: {IMAGE}, command: [sleep, '3600'] }}\n  debug: {{ image: {IMAGE}, command: [sleep, '3600'], profiles: [dev] }}\n"
    );
    let p = Project::new(t, &compose);
    p.ok(&["up", "-d"]);
    assert_eq!(p.containers(), [format!("{}-a-1", p.name)]);
    p.ok(&["--profile", "dev", "up", "-d"]);
    assert_eq!(
        p.containers(),
        [format!("{}-a-1", p.name), format!("{}-debug-1", p.name)]
    );
}

/// `down` keeps named volumes; `down -v` removes them.
fn down_v_removes_named_volumes(t: &Target) {
    let compose = format!(
        "services:\n  a: {{ image: {IMAGE}, command: [sleep, '3600'], volumes: [data:/data] }}\nvolumes:\n  data: {{}}\n"
    );
    let p = Project::new(t, &compose);
    let label = format!("com.docker.compose.project={}", p.name);
    p.ok(&["up", "-d"]);
    p.ok(&["down"]);
    assert_eq!(
        t.resources_with("volume", &label),
        [format!("{}_data", p.name)]
    );
    p.ok(&["up", "-d"]);
    p.ok(&["down", "-v"]);
    assert!(t.resources_with("volume", &label).is_empty());
}

/// `logs -f` keeps following a service container across a restart.
fn logs_follow_across_a_restart(t: &Target) {
    let compose = format!(
        "services:\n  s:\n    image: {IMAGE}\n    command: [sh, -c, 'echo boot-$$(date +%s%N); exec sleep 3600']\n"
    );
    let p = Project::new(t, &compose);
    p.ok(&["up", "-d"]);
    let mut follower = p
        .cmd(&["compose", "logs", "-f", "--no-log-prefix", "s"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("logs -f");
    std::thread::sleep(Duration::from_millis(800));
    p.ok(&["compose", "restart", "-t", "1", "s"]);
    std::thread::sleep(Duration::from_millis(1500));
    let _ = follower.kill();
    let mut out = String::new();
    let _ = follower
        .stdout
        .take()
        .expect("stdout")
        .read_to_string(&mut out);
    let _ = follower.wait();
    let boots = out.lines().filter(|l| l.starts_with("boot-")).count();
    assert!(boots >= 2, "[{}] lines from both runs: {out:?}", t.name());
}

/// Two `up` at once on one project are serialised: no duplicate replicas.
fn two_ups_at_once_are_serialised(t: &Target) {
    let p = Project::new(
        t,
        &format!(
            "services:\n  w:\n    image: {IMAGE}\n    command: [sleep, '3600']\n    scale: 2\n"
        ),
    );
    let a = p
        .cmd(&["up", "-d"])
        .stderr(Stdio::piped())
        .spawn()
        .expect("up a");
    let b = p
        .cmd(&["up", "-d"])
        .stderr(Stdio::piped())
        .spawn()
        .expect("up b");
    let (a, b) = (
        a.wait_with_output().expect("a"),
        b.wait_with_output().expect("b"),
    );
    assert!(a.status.success(), "{}", stderr(&a));
    assert!(b.status.success(), "{}", stderr(&b));
    assert_eq!(
        p.containers(),
        [format!("{}-w-1", p.name), format!("{}-w-2", p.name)]
    );
}

#[test]
fn scenario_up_down_leaves_the_host_as_it_was() {
    on_both("scenario_up_down", up_down_leaves_the_host_as_it_was);
}

#[test]
fn scenario_a_changed_variable_recreates_only_that_service() {
    on_both(
        "scenario_changed_env",
        a_changed_variable_recreates_only_that_service,
    );
}

#[test]
fn scenario_scale_one_three_one() {
    on_both("scenario_scale", scale_one_three_one);
}

#[test]
fn scenario_orphans() {
    on_both("scenario_orphans", orphans_are_warned_then_removed);
}

#[test]
fn scenario_wait_and_health_gating() {
    on_both(
        "scenario_wait",
        wait_with_a_one_shot_dependency_and_health_gating,
    );
}

#[test]
fn scenario_failed_dependency() {
    on_both("scenario_failed_dependency", a_failed_dependency_stops_up);
}

#[test]
fn scenario_profiles() {
    on_both("scenario_profiles", profiles_select_services);
}

#[test]
fn scenario_down_v() {
    on_both("scenario_down_v", down_v_removes_named_volumes);
}

#[test]
fn scenario_logs_follow_across_a_restart() {
    on_both("scenario_logs_follow", logs_follow_across_a_restart);
}

#[test]
fn scenario_two_ups_at_once() {
    on_both("scenario_two_ups", two_ups_at_once_are_serialised);
}
