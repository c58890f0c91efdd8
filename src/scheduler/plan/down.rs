//! `plan_down`: what `down` removes, dependents first; from the project when there is a
//! compose file, else from the labels alone.

use std::collections::{BTreeMap, BTreeSet};

use super::{DownOptions, DownPlan};
use crate::compose::model::Project;
use crate::scheduler::convert;
use crate::scheduler::graph::ServiceGraph;
use crate::scheduler::labels;
use crate::scheduler::observe::{Observed, ObservedContainer};

pub(super) fn plan(project: Option<&Project>, observed: &Observed, opts: &DownOptions) -> DownPlan {
    let known = |service: &str| match project {
        None => true,
        Some(p) => p.services.contains_key(service) || p.disabled_services.contains_key(service),
    };
    let containers: Vec<&ObservedContainer> = observed
        .containers
        .iter()
        .filter(|c| c.oneoff || known(&c.service) || opts.remove_orphans)
        .collect();
    let edges = dependency_edges(project, observed);
    let groups = order_groups(&containers, &edges);

    let networks = match project {
        Some(p) => p
            .networks
            .iter()
            .filter(|(key, n)| !n.external && observed.networks.contains_key(*key))
            .map(|(key, _)| convert::network_name(p, key))
            .collect(),
        None => observed.networks.values().map(|n| n.name.clone()).collect(),
    };
    let volumes = if !opts.volumes {
        Vec::new()
    } else {
        match project {
            Some(p) => p
                .volumes
                .iter()
                .filter(|(key, v)| !v.external && observed.volumes.contains_key(*key))
                .map(|(key, _)| convert::volume_name(p, key))
                .collect(),
            None => observed.volumes.values().map(|v| v.name.clone()).collect(),
        }
    };
    let images = match (project, opts.rmi.as_str()) {
        (Some(p), "all") => {
            let set: BTreeSet<String> = p.services.values().map(|s| p.image_name(s)).collect();
            set.into_iter().collect()
        }
        (Some(p), "local") => {
            let set: BTreeSet<String> = p
                .services
                .values()
                .filter(|s| s.image.is_empty())
                .map(|s| p.image_name(s))
                .collect();
            set.into_iter().collect()
        }
        _ => Vec::new(),
    };
    DownPlan {
        project: observed.project.clone(),
        containers: groups,
        networks,
        volumes,
        images,
    }
}

/// Service → its dependencies, from the project or else from the `depends_on` labels.
fn dependency_edges(
    project: Option<&Project>,
    observed: &Observed,
) -> BTreeMap<String, BTreeSet<String>> {
    if let Some(p) = project {
        return p.dependency_edges();
    }
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for c in &observed.containers {
        let deps = c
            .labels
            .get(labels::DEPENDS_ON)
            .map(|v| labels::parse_depends_on(v))
            .unwrap_or_default();
        edges
            .entry(c.service.clone())
            .or_default()
            .extend(deps.into_iter().map(|(s, _, _)| s));
    }
    edges
}

/// Groups of containers that can be stopped at once: dependents before their dependencies.
/// Containers of services outside the graph (or on a cycle) go in the first group.
fn order_groups(
    containers: &[&ObservedContainer],
    edges: &BTreeMap<String, BTreeSet<String>>,
) -> Vec<Vec<ObservedContainer>> {
    let services: BTreeSet<String> = containers.iter().map(|c| c.service.clone()).collect();
    let graph = ServiceGraph::new(
        services.iter().cloned(),
        edges
            .iter()
            .filter(|(s, _)| services.contains(*s))
            .flat_map(|(s, deps)| deps.iter().map(move |d| (s.clone(), d.clone())))
            .filter(|(_, d)| services.contains(d)),
    );
    let levels = graph
        .and_then(|g| g.levels())
        .unwrap_or_else(|_| vec![services.iter().cloned().collect()]);
    let mut groups: Vec<Vec<ObservedContainer>> = levels
        .iter()
        .rev()
        .map(|level| {
            containers
                .iter()
                .filter(|c| level.contains(&c.service))
                .map(|c| (*c).clone())
                .collect()
        })
        .filter(|g: &Vec<ObservedContainer>| !g.is_empty())
        .collect();
    let placed: BTreeSet<&str> = levels.iter().flatten().map(String::as_str).collect();
    let rest: Vec<ObservedContainer> = containers
        .iter()
        .filter(|c| !placed.contains(c.service.as_str()))
        .map(|c| (*c).clone())
        .collect();
    if !rest.is_empty() {
        groups.insert(0, rest);
    }
    groups
}
