//! `execute_up`: networks and volumes, then one task per service that starts as soon as
//! the services it waits for meet their conditions.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use futures_util::future::join_all;
use tokio::sync::{watch, Semaphore};

use super::conditions::{decide, wait_condition};
use super::container::{stop_and_remove, Ctx};
use super::reporter::Reporter;
use super::watch::Watcher;
use super::{ExecError, ExecOptions, Report};
use crate::compose::model::Project;
use crate::scheduler::convert::{self, Refs};
use crate::scheduler::engine_api::EngineApi;
use crate::scheduler::labels::Replica;
use crate::scheduler::plan::{ContainerAction, Plan, ResourceAction, ServicePlan};
use crate::scheduler::progress::{Resource, Sink};

/// A finished service task: its containers `(name, id)`, or why it failed.
type Outcome = Option<Result<Vec<(String, String)>, String>>;

pub(super) async fn execute(
    api: &EngineApi,
    project: &Project,
    plan: &Plan,
    opts: &ExecOptions,
    progress: Arc<dyn Sink>,
) -> Result<Report, ExecError> {
    let report = Reporter::new(progress);
    ensure_networks(api, project, plan, &report).await?;
    ensure_volumes(api, project, plan, &report).await?;
    let watcher = Watcher::start(api, &plan.project).await?;
    if plan.remove_orphans {
        for orphan in &plan.orphans {
            stop_and_remove(api, &report, orphan, opts.timeout, false).await?;
        }
    }
    let refs = service_refs(project, plan);
    let semaphore = opts.parallel.map(|n| Arc::new(Semaphore::new(n.max(1))));
    let mut senders = HashMap::new();
    let mut receivers = HashMap::new();
    for name in plan.services.keys() {
        let (tx, rx) = watch::channel::<Outcome>(None);
        senders.insert(name.clone(), tx);
        receivers.insert(name.clone(), rx);
    }
    let tasks = plan.services.values().map(|service_plan| {
        let tx = senders.remove(&service_plan.service);
        let receivers = &receivers;
        let (report, watcher, refs, semaphore) = (&report, &watcher, &refs, semaphore.clone());
        async move {
            let result = run_service(
                api,
                project,
                plan,
                service_plan,
                opts,
                ServiceEnv {
                    report,
                    watcher,
                    refs,
                    semaphore,
                    receivers,
                },
            )
            .await;
            if let Some(tx) = tx {
                let _ = tx.send(Some(result.clone()));
            }
            result
        }
    });
    let results = join_all(tasks).await;
    let mut containers = BTreeMap::new();
    let mut first_error = None;
    for result in results {
        match result {
            Ok(list) => containers.extend(list),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    if let Some(e) = first_error {
        return Err(ExecError::Dependency(e));
    }
    if opts.wait && !plan.no_start {
        let waited = wait_all(project, plan, &watcher, &containers, &report);
        match opts.wait_timeout {
            Some(limit) => tokio::time::timeout(limit, waited).await.map_err(|_| {
                ExecError::Other(format!(
                    "application not healthy after {}",
                    crate::compose::model::values::format_go_duration(limit.as_nanos() as i64)
                ))
            })??,
            None => waited.await?,
        }
    }
    Ok(Report { containers })
}

/// What every service task shares.
struct ServiceEnv<'a> {
    report: &'a Reporter,
    watcher: &'a Watcher,
    refs: &'a Refs,
    semaphore: Option<Arc<Semaphore>>,
    receivers: &'a HashMap<String, watch::Receiver<Outcome>>,
}

/// Waits for the service's dependencies, then carries out its container actions.
async fn run_service(
    api: &EngineApi,
    project: &Project,
    plan: &Plan,
    sp: &ServicePlan,
    opts: &ExecOptions,
    env: ServiceEnv<'_>,
) -> Result<Vec<(String, String)>, String> {
    for wait in &sp.waits {
        let Some(rx) = env.receivers.get(&wait.service) else {
            continue;
        };
        let mut rx = rx.clone();
        let outcome = match rx.wait_for(|o| o.is_some()).await {
            Ok(o) => o.clone().unwrap_or_else(|| Ok(Vec::new())),
            Err(_) => Err(format!("service {:?} did not finish", wait.service)),
        };
        let containers = match outcome {
            Ok(c) => c,
            Err(e) if wait.required => return Err(e),
            Err(_) => continue,
        };
        for (name, id) in containers {
            env.report.working(Resource::Container, &name, "Waiting");
            match wait_condition(env.watcher, &wait.service, &name, &id, &wait.condition).await {
                Ok(()) => {
                    let word = match wait.condition.as_str() {
                        "service_healthy" => "Healthy",
                        "service_completed_successfully" => "Exited",
                        _ => "Started",
                    };
                    env.report.done(Resource::Container, &name, word);
                }
                Err(message) if wait.required => {
                    env.report.error(Resource::Container, &name, &message);
                    return Err(message);
                }
                Err(message) => {
                    env.report
                        .warning(Resource::Container, &name, "Warning", &message);
                }
            }
        }
    }
    let Some(service) = project.services.get(&sp.service) else {
        return Err(format!("no such service: {}", sp.service));
    };
    let ctx = Ctx {
        api,
        project,
        service,
        refs: env.refs,
        image_digest: opts.image_digests.get(&sp.service).map(String::as_str),
        timeout: opts.timeout,
        report: env.report,
    };
    let start = !plan.no_start;
    let actions = sp.containers.iter().map(|action| {
        let (ctx, semaphore) = (&ctx, env.semaphore.clone());
        async move {
            let _permit = match &semaphore {
                Some(s) => s.clone().acquire_owned().await.ok(),
                None => None,
            };
            run_action(ctx, action, start).await
        }
    });
    let mut containers = Vec::new();
    for result in join_all(actions).await {
        match result {
            Ok(Some(pair)) => containers.push(pair),
            Ok(None) => {}
            Err(e) => return Err(e.to_string()),
        }
    }
    for (_, id) in &containers {
        env.watcher.track(id).await.map_err(|e| e.to_string())?;
    }
    Ok(containers)
}

/// One action; the container that exists afterwards, if any.
async fn run_action(
    ctx: &Ctx<'_>,
    action: &ContainerAction,
    start: bool,
) -> Result<Option<(String, String)>, ExecError> {
    Ok(match action {
        ContainerAction::Create { number, name } => {
            let id = ctx.create(*number, name, start).await?;
            Some((name.clone(), id))
        }
        ContainerAction::Recreate {
            old,
            inherit_volumes,
            ..
        } => {
            let refs = Refs {
                inherited_volumes: inherit_volumes.clone(),
                ..ctx.refs.clone()
            };
            let id = ctx.recreate(old, &refs, start).await?;
            Some((old.name.clone(), id))
        }
        ContainerAction::Start { container } => {
            if start {
                ctx.start(&container.id, &container.name).await?;
            }
            Some((container.name.clone(), container.id.clone()))
        }
        ContainerAction::Keep { container } => {
            ctx.report
                .done(Resource::Container, &container.name, "Running");
            Some((container.name.clone(), container.id.clone()))
        }
        ContainerAction::Restart { container } => {
            ctx.restart(container).await?;
            Some((container.name.clone(), container.id.clone()))
        }
        ContainerAction::Remove { container } => {
            stop_and_remove(ctx.api, ctx.report, container, ctx.timeout, false).await?;
            None
        }
    })
}

/// Service → the name of its first container, for `network_mode: service:x`,
/// `volumes_from` and `links`.
fn service_refs(project: &Project, plan: &Plan) -> Refs {
    let mut refs = Refs::default();
    for service in project.services.values() {
        let name = convert::container_name(project, service, &Replica::Number(1));
        refs.service_containers.insert(service.name.clone(), name);
    }
    for (name, sp) in &plan.services {
        let first = sp.containers.iter().find_map(|a| match a {
            ContainerAction::Create { name, .. } => Some(name.clone()),
            ContainerAction::Recreate { old: c, .. }
            | ContainerAction::Start { container: c }
            | ContainerAction::Keep { container: c }
            | ContainerAction::Restart { container: c } => Some(c.name.clone()),
            ContainerAction::Remove { .. } => None,
        });
        if let Some(first) = first {
            refs.service_containers.insert(name.clone(), first);
        }
    }
    refs
}

async fn ensure_networks(
    api: &EngineApi,
    project: &Project,
    plan: &Plan,
    report: &Reporter,
) -> Result<(), ExecError> {
    for (key, action) in &plan.networks {
        match action {
            ResourceAction::Exists { .. } => {}
            ResourceAction::External { name } => {
                if api.inspect_network(name).await?.is_none() {
                    return Err(ExecError::Other(format!(
                        "network {name} declared as external, but could not be found"
                    )));
                }
            }
            ResourceAction::Create { name } => {
                if api.inspect_network(name).await?.is_some() {
                    continue;
                }
                report.working(Resource::Network, name, "Creating");
                api.create_network(&convert::network_request(project, key))
                    .await
                    .inspect_err(|e| report.error(Resource::Network, name, &e.to_string()))?;
                report.done(Resource::Network, name, "Created");
            }
        }
    }
    Ok(())
}

async fn ensure_volumes(
    api: &EngineApi,
    project: &Project,
    plan: &Plan,
    report: &Reporter,
) -> Result<(), ExecError> {
    for (key, action) in &plan.volumes {
        match action {
            ResourceAction::Exists { .. } => {}
            ResourceAction::External { name } => {
                if api.inspect_volume(name).await?.is_none() {
                    return Err(ExecError::Other(format!(
                        "external volume \"{name}\" not found"
                    )));
                }
            }
            ResourceAction::Create { name } => {
                if api.inspect_volume(name).await?.is_some() {
                    continue;
                }
                report.working(Resource::Volume, name, "Creating");
                api.create_volume(&convert::volume_request(project, key))
                    .await?;
                report.done(Resource::Volume, name, "Created");
            }
        }
    }
    Ok(())
}

/// `up --wait`: every started container running and healthy (when it has a healthcheck),
/// or exited 0 when another service waits for it to complete.
async fn wait_all(
    project: &Project,
    plan: &Plan,
    watcher: &Watcher,
    containers: &BTreeMap<String, String>,
    report: &Reporter,
) -> Result<(), ExecError> {
    let one_shots: Vec<&String> = project
        .services
        .values()
        .flat_map(|s| s.depends_on.iter())
        .filter(|(_, d)| d.condition == "service_completed_successfully")
        .map(|(name, _)| name)
        .collect();
    let waits = plan.services.values().flat_map(|sp| {
        let service = sp.service.clone();
        let one_shot = one_shots.contains(&&service);
        sp.containers
            .iter()
            .filter_map(|a| match a {
                ContainerAction::Create { name, .. } => Some(name.clone()),
                ContainerAction::Recreate { old: c, .. }
                | ContainerAction::Start { container: c }
                | ContainerAction::Keep { container: c }
                | ContainerAction::Restart { container: c } => Some(c.name.clone()),
                ContainerAction::Remove { .. } => None,
            })
            .filter_map(|name| containers.get(&name).map(|id| (name, id.clone())))
            .map(move |(name, id)| (service.clone(), one_shot, name, id))
            .collect::<Vec<_>>()
    });
    let checks = waits.map(|(service, one_shot, name, id)| async move {
        report.working(Resource::Container, &name, "Waiting");
        let result = watcher
            .wait_for(&id, |seen| {
                if one_shot {
                    return decide(&service, &name, "service_completed_successfully", seen);
                }
                match (seen.state.as_str(), seen.health.as_deref()) {
                    (_, Some("unhealthy")) => Some(Err(format!("container {name} is unhealthy"))),
                    ("running", Some("healthy") | None) => Some(Ok(())),
                    ("exited" | "dead" | "removed", _) => {
                        Some(Err(format!("container {name} exited ({})", seen.exit_code)))
                    }
                    _ => None,
                }
            })
            .await;
        match &result {
            Ok(()) => report.done(
                Resource::Container,
                &name,
                if one_shot { "Exited" } else { "Healthy" },
            ),
            Err(e) => report.error(Resource::Container, &name, e),
        }
        result
    });
    for result in join_all(checks).await {
        result.map_err(ExecError::Dependency)?;
    }
    Ok(())
}
