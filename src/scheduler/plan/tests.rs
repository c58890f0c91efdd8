//! Golden tests of the planner: projects from compose text, observed state by hand.

use super::*;
use crate::scheduler::hash::service_config_hash;
use crate::scheduler::labels;
use crate::scheduler::test_project;

const BASE: &str = "services:\n  db:\n    image: busybox\n    healthcheck: { test: [CMD, 'true'] }\n  web:\n    image: busybox\n    environment: { MODE: one }\n    depends_on: { db: { condition: service_healthy, restart: true } }\n";

fn hash_of(project: &Project, service: &str) -> String {
    service_config_hash(&serde_json::to_value(&project.services[service]).unwrap())
}

/// A running container of `service` made from `project` as it is now.
fn running(project: &Project, service: &str, number: u32) -> ObservedContainer {
    let mut labels_map = BTreeMap::new();
    labels_map.insert(labels::PROJECT.to_string(), project.name.clone());
    ObservedContainer {
        id: format!("id-{service}-{number}"),
        name: format!("{}-{service}-{number}", project.name),
        service: service.into(),
        number,
        config_hash: hash_of(project, service),
        state: "running".into(),
        labels: labels_map,
        ..ObservedContainer::default()
    }
}

fn observed(containers: Vec<ObservedContainer>) -> Observed {
    Observed {
        project: "demo".into(),
        containers,
        ..Observed::default()
    }
}

fn lines(plan: &Plan) -> Vec<String> {
    plan.to_string().lines().map(str::to_string).collect()
}

#[test]
fn a_fresh_project_creates_everything() {
    let (_d, project) = test_project("demo", BASE);
    let plan = plan_up(&project, &observed(vec![]), &PlanOptions::default()).unwrap();
    assert_eq!(
        lines(&plan),
        [
            "Network demo_default  Create",
            "Container demo-db-1  Create",
            "Container demo-web-1  Create"
        ]
    );
    let web = &plan.services["web"];
    assert_eq!(
        web.waits,
        [Wait {
            service: "db".into(),
            condition: "service_healthy".into(),
            required: true
        }]
    );
}

#[test]
fn an_unchanged_project_keeps_everything() {
    let (_d, project) = test_project("demo", BASE);
    let obs = observed(vec![
        running(&project, "db", 1),
        running(&project, "web", 1),
    ]);
    let plan = plan_up(&project, &obs, &PlanOptions::default()).unwrap();
    assert!(plan
        .services
        .values()
        .flat_map(|s| &s.containers)
        .all(|a| matches!(a, ContainerAction::Keep { .. })));
}

#[test]
fn a_changed_variable_recreates_only_that_service() {
    let (_d, before) = test_project("demo", BASE);
    let obs = observed(vec![running(&before, "db", 1), running(&before, "web", 1)]);
    let (_d2, after) = test_project("demo", &BASE.replace("MODE: one", "MODE: two"));
    let plan = plan_up(&after, &obs, &PlanOptions::default()).unwrap();
    assert!(matches!(
        plan.services["db"].containers[0],
        ContainerAction::Keep { .. }
    ));
    assert!(matches!(
        plan.services["web"].containers[0],
        ContainerAction::Recreate {
            reason: RecreateReason::ConfigChanged,
            ..
        }
    ));
}

#[test]
fn a_recreated_dependency_restarts_dependents_that_ask() {
    let (_d, before) = test_project("demo", BASE);
    let obs = observed(vec![running(&before, "db", 1), running(&before, "web", 1)]);
    let (_d2, after) = test_project(
        "demo",
        &BASE.replace(
            "image: busybox\n    healthcheck",
            "image: busybox:2\n    healthcheck",
        ),
    );
    let plan = plan_up(&after, &obs, &PlanOptions::default()).unwrap();
    assert!(matches!(
        plan.services["db"].containers[0],
        ContainerAction::Recreate { .. }
    ));
    assert!(matches!(
        plan.services["web"].containers[0],
        ContainerAction::Restart { .. }
    ));
}

#[test]
fn scale_up_and_down_by_number() {
    let (_d, project) = test_project("demo", BASE);
    let obs = observed(vec![
        running(&project, "db", 1),
        running(&project, "web", 1),
    ]);
    let mut opts = PlanOptions::default();
    opts.scale.insert("web".into(), 3);
    let plan = plan_up(&project, &obs, &opts).unwrap();
    let web: Vec<String> = lines(&plan)
        .into_iter()
        .filter(|l| l.contains("-web-"))
        .collect();
    assert_eq!(
        web,
        [
            "Container demo-web-1  Running",
            "Container demo-web-2  Create",
            "Container demo-web-3  Create"
        ]
    );
    let obs = observed(vec![
        running(&project, "db", 1),
        running(&project, "web", 1),
        running(&project, "web", 2),
        running(&project, "web", 3),
    ]);
    opts.scale.insert("web".into(), 1);
    let plan = plan_up(&project, &obs, &opts).unwrap();
    let web: Vec<String> = lines(&plan)
        .into_iter()
        .filter(|l| l.contains("-web-"))
        .collect();
    assert_eq!(
        web,
        [
            "Container demo-web-1  Running",
            "Container demo-web-2  Remove (scale down)",
            "Container demo-web-3  Remove (scale down)"
        ]
    );
}

#[test]
fn stopped_containers_start_and_flags_steer_recreation() {
    let (_d, project) = test_project("demo", BASE);
    let mut db = running(&project, "db", 1);
    db.state = "exited".into();
    let obs = observed(vec![db, running(&project, "web", 1)]);
    let plan = plan_up(&project, &obs, &PlanOptions::default()).unwrap();
    assert!(matches!(
        plan.services["db"].containers[0],
        ContainerAction::Start { .. }
    ));
    let forced = PlanOptions {
        recreate: Recreate::Always,
        ..PlanOptions::default()
    };
    let plan = plan_up(&project, &obs, &forced).unwrap();
    assert!(matches!(
        plan.services["web"].containers[0],
        ContainerAction::Recreate {
            reason: RecreateReason::Forced,
            ..
        }
    ));
    let (_d2, after) = test_project("demo", &BASE.replace("MODE: one", "MODE: two"));
    let never = PlanOptions {
        recreate: Recreate::Never,
        ..PlanOptions::default()
    };
    let plan = plan_up(&after, &obs, &never).unwrap();
    assert!(matches!(
        plan.services["web"].containers[0],
        ContainerAction::Keep { .. }
    ));
}

#[test]
fn orphans_are_listed_and_kept_unless_asked() {
    let (_d, project) = test_project("demo", BASE);
    let mut old = running(&project, "web", 1);
    old.service = "old".into();
    old.name = "demo-old-1".into();
    let obs = observed(vec![
        running(&project, "db", 1),
        running(&project, "web", 1),
        old,
    ]);
    let plan = plan_up(&project, &obs, &PlanOptions::default()).unwrap();
    assert_eq!(plan.orphans.len(), 1);
    assert!(lines(&plan)
        .contains(&"Container demo-old-1  Orphan (kept; --remove-orphans removes it)".to_string()));
    let down = plan_down(Some(&project), &obs, &DownOptions::default());
    assert!(down.containers.iter().flatten().all(|c| c.service != "old"));
    let down = plan_down(
        Some(&project),
        &obs,
        &DownOptions {
            remove_orphans: true,
            ..DownOptions::default()
        },
    );
    assert!(down.containers.iter().flatten().any(|c| c.service == "old"));
}

#[test]
fn no_deps_plans_only_the_named_service() {
    let (_d, project) = test_project("demo", BASE);
    let opts = PlanOptions {
        services: vec!["web".into()],
        no_deps: true,
        ..PlanOptions::default()
    };
    let plan = plan_up(&project, &observed(vec![]), &opts).unwrap();
    assert_eq!(plan.services.keys().collect::<Vec<_>>(), ["web"]);
    assert!(plan.services["web"].waits.is_empty());
    let bad = PlanOptions {
        services: vec!["nope".into()],
        ..PlanOptions::default()
    };
    assert_eq!(
        plan_up(&project, &observed(vec![]), &bad).unwrap_err(),
        PlanError::NoSuchService("nope".into())
    );
}

#[test]
fn network_mode_dependents_are_recreated_with_their_target() {
    let yaml = "services:\n  a: { image: busybox, environment: { X: '1' } }\n  b: { image: busybox, network_mode: 'service:a' }\n";
    let (_d, before) = test_project("demo", yaml);
    let obs = observed(vec![running(&before, "a", 1), running(&before, "b", 1)]);
    let (_d2, after) = test_project("demo", &yaml.replace("X: '1'", "X: '2'"));
    let plan = plan_up(&after, &obs, &PlanOptions::default()).unwrap();
    assert!(matches!(
        &plan.services["b"].containers[0],
        ContainerAction::Recreate { reason: RecreateReason::DependencyRecreated(s), .. } if s == "a"
    ));
}

#[test]
fn down_stops_dependents_first_even_without_a_project() {
    let (_d, project) = test_project("demo", BASE);
    let mut web = running(&project, "web", 1);
    web.labels
        .insert(labels::DEPENDS_ON.into(), "db:service_healthy:true".into());
    let obs = observed(vec![running(&project, "db", 1), web]);
    let down = plan_down(None, &obs, &DownOptions::default());
    let order: Vec<Vec<&str>> = down
        .containers
        .iter()
        .map(|g| g.iter().map(|c| c.service.as_str()).collect())
        .collect();
    assert_eq!(order, [vec!["web"], vec!["db"]]);
}
