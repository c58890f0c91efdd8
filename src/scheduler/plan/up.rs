//! `plan_up`: per service, in dependency order (so a recreated service is known before its
//! `network_mode`/`volumes_from` dependents are planned), what to do with each replica slot.

use std::collections::{BTreeMap, BTreeSet};

use super::{
    ContainerAction, Plan, PlanError, PlanOptions, Recreate, RecreateReason, ResourceAction,
    ServicePlan, Wait,
};
use crate::compose::model::{Project, ServiceConfig};
use crate::scheduler::convert;
use crate::scheduler::graph::ServiceGraph;
use crate::scheduler::hash::service_config_hash;
use crate::scheduler::labels::Replica;
use crate::scheduler::observe::{Observed, ObservedContainer};

pub(super) fn plan(
    project: &Project,
    observed: &Observed,
    opts: &PlanOptions,
) -> Result<Plan, PlanError> {
    for name in &opts.services {
        if !project.services.contains_key(name) {
            return Err(PlanError::NoSuchService(name.clone()));
        }
    }
    let in_plan = |name: &str| {
        !opts.no_deps || opts.services.is_empty() || opts.services.iter().any(|s| s == name)
    };
    let named = |name: &str| opts.services.is_empty() || opts.services.iter().any(|s| s == name);
    let edges = project.dependency_edges();
    let graph = ServiceGraph::new(
        project.services.keys().cloned(),
        edges
            .iter()
            .flat_map(|(s, deps)| deps.iter().map(move |d| (s.clone(), d.clone())))
            .filter(|(_, d)| project.services.contains_key(d)),
    )?;
    let mut services = BTreeMap::new();
    let mut recreated = BTreeSet::new();
    for level in graph.levels()? {
        for name in level {
            if !in_plan(&name) {
                continue;
            }
            let service = &project.services[&name];
            let mode = if named(&name) || opts.recreate_deps {
                opts.recreate
            } else {
                Recreate::Diverged
            };
            let plan = plan_service(project, service, observed, opts, mode, &recreated);
            if plan
                .containers
                .iter()
                .any(|a| matches!(a, ContainerAction::Recreate { .. }))
            {
                recreated.insert(name.clone());
            }
            services.insert(name, plan);
        }
    }
    mark_restarts(project, &mut services, &recreated);
    let orphans = observed
        .containers
        .iter()
        .filter(|c| {
            !c.oneoff
                && !project.services.contains_key(&c.service)
                && !project.disabled_services.contains_key(&c.service)
        })
        .cloned()
        .collect();
    Ok(Plan {
        project: project.name.clone(),
        networks: project
            .networks
            .iter()
            .map(|(key, n)| {
                let name = convert::network_name(project, key);
                let action = if n.external {
                    ResourceAction::External { name }
                } else if observed.networks.contains_key(key) {
                    ResourceAction::Exists { name }
                } else {
                    ResourceAction::Create { name }
                };
                (key.clone(), action)
            })
            .collect(),
        volumes: project
            .volumes
            .iter()
            .map(|(key, v)| {
                let name = convert::volume_name(project, key);
                let action = if v.external {
                    ResourceAction::External { name }
                } else if observed.volumes.contains_key(key) {
                    ResourceAction::Exists { name }
                } else {
                    ResourceAction::Create { name }
                };
                (key.clone(), action)
            })
            .collect(),
        services,
        orphans,
        remove_orphans: opts.remove_orphans,
        no_start: opts.no_start,
    })
}

fn plan_service(
    project: &Project,
    service: &ServiceConfig,
    observed: &Observed,
    opts: &PlanOptions,
    mode: Recreate,
    recreated: &BTreeSet<String>,
) -> ServicePlan {
    let name = &service.name;
    let hash = service_config_hash(&serde_json::to_value(service).unwrap_or_default());
    let desired = convert::desired_replicas(service, opts.scale.get(name).copied()) as usize;
    let digest = opts.image_digests.get(name);
    let dependency_recreated = service
        .network_mode
        .strip_prefix("service:")
        .into_iter()
        .chain(
            service
                .volumes_from
                .iter()
                .filter(|v| !v.starts_with("container:"))
                .map(|v| v.split_once(':').map_or(v.as_str(), |(t, _)| t)),
        )
        .find(|target| recreated.contains(*target))
        .map(str::to_string);

    let mut existing: Vec<&ObservedContainer> = observed.service_containers(name);
    existing.sort_by_key(|c| (c.number, c.created));
    let mut actions = Vec::new();
    let mut used = BTreeSet::new();
    // Scale down: the highest numbers go first.
    while existing.len() > desired {
        if let Some(c) = existing.pop() {
            actions.push(ContainerAction::Remove {
                container: c.clone(),
            });
        }
    }
    for c in existing {
        used.insert(c.number);
        let reason = if let Some(dep) = &dependency_recreated {
            Some(RecreateReason::DependencyRecreated(dep.clone()))
        } else if mode == Recreate::Always {
            Some(RecreateReason::Forced)
        } else if mode == Recreate::Never {
            None
        } else if c.config_hash != hash {
            Some(RecreateReason::ConfigChanged)
        } else if digest.is_some_and(|d| !c.image_digest.is_empty() && &c.image_digest != d) {
            Some(RecreateReason::ImageChanged)
        } else {
            None
        };
        let action = match reason {
            Some(reason) => ContainerAction::Recreate {
                old: c.clone(),
                reason,
                inherit_volumes: if opts.renew_anon_volumes {
                    BTreeMap::new()
                } else {
                    anonymous_volumes(service, c)
                },
            },
            None if !c.is_running() && !opts.no_start => ContainerAction::Start {
                container: c.clone(),
            },
            None => ContainerAction::Keep {
                container: c.clone(),
            },
        };
        actions.push(action);
    }
    let mut number = 1;
    while used.len() < desired {
        while used.contains(&number) {
            number += 1;
        }
        used.insert(number);
        actions.push(ContainerAction::Create {
            number,
            name: convert::container_name(project, service, &Replica::Number(number)),
        });
    }
    actions.sort_by_key(action_number);
    let waits = if opts.no_deps {
        Vec::new()
    } else {
        service
            .depends_on
            .iter()
            .filter(|(dep, _)| project.services.contains_key(*dep))
            .map(|(dep, d)| Wait {
                service: dep.clone(),
                condition: if d.condition.is_empty() {
                    "service_started".into()
                } else {
                    d.condition.clone()
                },
                required: d.required,
            })
            .collect()
    };
    ServicePlan {
        service: name.clone(),
        waits,
        containers: actions,
    }
}

fn action_number(action: &ContainerAction) -> u32 {
    match action {
        ContainerAction::Create { number, .. } => *number,
        ContainerAction::Recreate { old: c, .. }
        | ContainerAction::Start { container: c }
        | ContainerAction::Keep { container: c }
        | ContainerAction::Remove { container: c }
        | ContainerAction::Restart { container: c } => c.number,
    }
}

/// The old container's anonymous volumes (those the service does not name or bind, which
/// includes the image's `VOLUME`s), to mount again in the replacement.
fn anonymous_volumes(service: &ServiceConfig, old: &ObservedContainer) -> BTreeMap<String, String> {
    old.volumes
        .iter()
        .filter(|(target, _)| {
            !service
                .volumes
                .iter()
                .any(|v| &v.target == *target && !(v.kind == "volume" && v.source.is_empty()))
        })
        .map(|(t, n)| (t.clone(), n.clone()))
        .collect()
}

/// `depends_on: {restart: true}`: a kept dependent of a recreated service is restarted.
fn mark_restarts(
    project: &Project,
    services: &mut BTreeMap<String, super::ServicePlan>,
    recreated: &BTreeSet<String>,
) {
    for (name, plan) in services.iter_mut() {
        let Some(service) = project.services.get(name) else {
            continue;
        };
        let restart = service
            .depends_on
            .iter()
            .any(|(dep, d)| d.restart && recreated.contains(dep));
        if !restart {
            continue;
        }
        for action in &mut plan.containers {
            if let ContainerAction::Keep { container } = action {
                *action = ContainerAction::Restart {
                    container: container.clone(),
                };
            }
        }
    }
}
