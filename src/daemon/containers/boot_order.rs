//! After a crash or a reboot (the shims gone), containers whose restart policy brings them
//! back are restarted in dependency order, each waiting for its dependencies' conditions:
//! the order and conditions come from the `com.docker.compose.depends_on` label, resolved
//! to containers of the same `com.docker.compose.project`. Docker restarts them all at once;
//! a database's clients then fail until it is up. Containers without those labels (and
//! those on a dependency cycle) restart at once, as before. A dependency that does not meet
//! its condition within [`CONDITION_WAIT`] is logged and its dependents start anyway.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use super::entry::Entry;
use super::store::{Record, Status};
use super::Containers;
use crate::engine::shim::ExitRecord;

/// How long dependents wait for a dependency at daemon start.
const CONDITION_WAIT: Duration = Duration::from_secs(60);

const PROJECT: &str = "com.docker.compose.project";
const SERVICE: &str = "com.docker.compose.service";
const DEPENDS_ON: &str = "com.docker.compose.depends_on";
const ONEOFF: &str = "com.docker.compose.oneoff";

/// One container's place: (project, service) and its dependencies with their conditions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    pub id: String,
    pub key: Option<(String, String)>,
    pub deps: Vec<(String, String)>,
}

impl Node {
    pub fn of(record: &Record) -> Node {
        let labels = &record.request.config.labels;
        let oneoff = labels
            .get(ONEOFF)
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let key = match (labels.get(PROJECT), labels.get(SERVICE)) {
            (Some(p), Some(s)) if !oneoff => Some((p.clone(), s.clone())),
            _ => None,
        };
        let deps = labels
            .get(DEPENDS_ON)
            .map(|v| {
                v.split(',')
                    .filter_map(|e| {
                        let mut parts = e.trim().split(':');
                        let service = parts.next().filter(|s| !s.is_empty())?;
                        let condition = parts.next().unwrap_or("service_started");
                        Some((service.to_string(), condition.to_string()))
                    })
                    .collect()
            })
            .unwrap_or_default();
        Node {
            id: record.id.clone(),
            key,
            deps,
        }
    }
}

/// Groups to restart one after another: each group's dependencies are in earlier groups
/// (or not being restarted). Unlabelled containers, and any left on a cycle, go first.
pub fn groups(nodes: &[Node]) -> Vec<Vec<String>> {
    let services: BTreeSet<(String, String)> = nodes.iter().filter_map(|n| n.key.clone()).collect();
    let mut placed: BTreeSet<(String, String)> = BTreeSet::new();
    let mut remaining: Vec<&Node> = nodes.iter().filter(|n| n.key.is_some()).collect();
    let mut out = vec![nodes
        .iter()
        .filter(|n| n.key.is_none())
        .map(|n| n.id.clone())
        .collect::<Vec<_>>()];
    while !remaining.is_empty() {
        let ready: Vec<&Node> = remaining
            .iter()
            .copied()
            .filter(|n| {
                let (project, _) = n.key.clone().unwrap_or_default();
                n.deps.iter().all(|(service, _)| {
                    let dep = (project.clone(), service.clone());
                    !services.contains(&dep) || placed.contains(&dep)
                })
            })
            .collect();
        if ready.is_empty() {
            // A cycle: start the rest at once rather than never.
            out.push(remaining.iter().map(|n| n.id.clone()).collect());
            break;
        }
        for n in &ready {
            if let Some(key) = &n.key {
                placed.insert(key.clone());
            }
        }
        // A service's replicas all go in this group.
        out.push(ready.iter().map(|n| n.id.clone()).collect());
        remaining.retain(|n| !ready.iter().any(|r| r.id == n.id));
    }
    out.retain(|g| !g.is_empty());
    out
}

/// The strictest condition any dependent asks of `(project, service)`.
fn wanted_condition(nodes: &[Node], key: &(String, String)) -> Option<String> {
    let mut wanted: Option<String> = None;
    for n in nodes {
        let Some((project, _)) = &n.key else { continue };
        for (service, condition) in &n.deps {
            if project == &key.0 && service == &key.1 {
                let rank = |c: &str| match c {
                    "service_healthy" => 2,
                    "service_completed_successfully" => 3,
                    _ => 1,
                };
                if wanted.as_deref().map(rank).unwrap_or(0) < rank(condition) {
                    wanted = Some(condition.clone());
                }
            }
        }
    }
    wanted
}

impl Containers {
    /// Handles the exits found at start-up: those of unlabelled containers at once, the
    /// others in dependency order on a task of their own (the daemon serves meanwhile).
    pub(super) async fn restart_in_order(&self, dead: Vec<(Arc<Entry>, ExitRecord)>) {
        let Some(me) = self.me.upgrade() else { return };
        let nodes: Vec<Node> = dead.iter().map(|(e, _)| Node::of(&e.snapshot())).collect();
        let mut exits: BTreeMap<String, (Arc<Entry>, ExitRecord)> = dead
            .into_iter()
            .map(|(e, x)| (e.id.clone(), (e, x)))
            .collect();
        // Containers outside any project depend on nothing: their exits are recorded before
        // the daemon serves, as always.
        for node in nodes.iter().filter(|n| n.key.is_none()) {
            if let Some((entry, exit)) = exits.remove(&node.id) {
                self.handle_exit(&entry, exit).await;
            }
        }
        tokio::spawn(async move {
            for group in groups(&nodes) {
                let mut waits = Vec::new();
                for id in &group {
                    let Some((entry, exit)) = exits.remove(id) else {
                        continue;
                    };
                    me.handle_exit(&entry, exit).await;
                    let node = nodes.iter().find(|n| &n.id == id);
                    if let Some(condition) = node
                        .and_then(|n| n.key.as_ref())
                        .and_then(|k| wanted_condition(&nodes, k))
                    {
                        waits.push((entry, condition));
                    }
                }
                for (entry, condition) in waits {
                    if !wait_condition(&entry, &condition).await {
                        tracing::warn!(
                            container = %entry.id,
                            "{condition} not met within {}s after the daemon started; starting its dependents anyway",
                            CONDITION_WAIT.as_secs()
                        );
                    }
                }
            }
        });
    }
}

/// Waits (bounded) until the entry meets `condition`, woken by its state feed.
async fn wait_condition(entry: &Entry, condition: &str) -> bool {
    let mut feed = entry.observe();
    // Decided when met, or when it can no longer be met (stopped for good).
    let met = async move {
        let decided = feed
            .wait_for(|o| match condition {
                // Only this daemon's start counts: the record's health is the last run's.
                "service_healthy" => {
                    (o.starts > 0 && o.health.as_deref() == Some("healthy"))
                        || o.status == Status::Exited
                }
                _ => o.status == Status::Running || o.status == Status::Exited,
            })
            .await;
        match decided {
            Ok(o) => match condition {
                "service_healthy" => o.starts > 0 && o.health.as_deref() == Some("healthy"),
                "service_completed_successfully" => o.exit_code == 0,
                _ => true,
            },
            Err(_) => false,
        }
    };
    tokio::time::timeout(CONDITION_WAIT, met)
        .await
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(id: &str, service: &str, deps: &[(&str, &str)]) -> Node {
        Node {
            id: id.into(),
            key: Some(("p".into(), service.into())),
            deps: deps
                .iter()
                .map(|(s, c)| (s.to_string(), c.to_string()))
                .collect(),
        }
    }

    #[test]
    fn dependencies_come_first() {
        let nodes = vec![
            node(
                "a",
                "app",
                &[("db", "service_healthy"), ("cache", "service_started")],
            ),
            node("c", "cache", &[]),
            node("d", "db", &[("cache", "service_started")]),
            Node {
                id: "x".into(),
                key: None,
                deps: vec![],
            },
        ];
        assert_eq!(groups(&nodes), [vec!["x"], vec!["c"], vec!["d"], vec!["a"]]);
        assert_eq!(
            wanted_condition(&nodes, &("p".into(), "db".into())).as_deref(),
            Some("service_healthy")
        );
        assert_eq!(wanted_condition(&nodes, &("p".into(), "app".into())), None);
    }

    #[test]
    fn a_cycle_still_starts_everything() {
        let nodes = vec![
            node("a", "a", &[("b", "service_started")]),
            node("b", "b", &[("a", "service_started")]),
        ];
        let all: Vec<String> = groups(&nodes).concat();
        assert_eq!(all.len(), 2);
    }
}
