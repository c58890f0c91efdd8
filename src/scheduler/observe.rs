//! What exists for a project, as the daemon reports it: its containers, networks and
//! volumes found by the `com.docker.compose.project` label. Read by `up` (to plan), `down`
//! (which needs no compose file), `ps`, `logs` and the rest.
//!

use std::collections::BTreeMap;

use crate::api::container_types::ContainerSummary;
use crate::api::network_types::NetworkResource;
use crate::api::volume_types::Volume;
use crate::scheduler::labels;

/// A project's resources on the daemon.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Observed {
    pub project: String,
    /// Sorted by service, then number (one-offs last).
    pub containers: Vec<ObservedContainer>,
    /// Daemon networks labelled with the project, by project key (label
    /// `com.docker.compose.network`).
    pub networks: BTreeMap<String, ObservedNetwork>,
    /// Daemon volumes labelled with the project, by project key.
    pub volumes: BTreeMap<String, ObservedVolume>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ObservedContainer {
    pub id: String,
    /// Without the leading `/`.
    pub name: String,
    pub service: String,
    /// 0 when the label is missing or does not parse.
    pub number: u32,
    pub oneoff: bool,
    pub config_hash: String,
    /// Label `com.docker.compose.image`.
    pub image_digest: String,
    /// The summary's `ImageID`.
    pub image_id: String,
    /// `created`, `running`, `paused`, `restarting`, `exited`, `dead`, `removing`.
    pub state: String,
    /// The summary's `Status` text (`Up 3 seconds (healthy)`).
    pub status: String,
    /// `healthy`, `unhealthy`, `starting`, or `None` without a healthcheck, read from
    /// `Status`.
    pub health: Option<String>,
    /// Seconds since the epoch.
    pub created: i64,
    /// Network name → network ID, from the summary.
    pub networks: BTreeMap<String, String>,
    /// Named and anonymous volumes mounted: destination → volume name.
    pub volumes: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ObservedNetwork {
    pub id: String,
    pub name: String,
    pub labels: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ObservedVolume {
    pub name: String,
    pub labels: BTreeMap<String, String>,
}

impl Observed {
    /// Builds the view from the three list answers (already filtered by the project label;
    /// entries of other projects are dropped anyway).
    pub fn from_lists(
        project: &str,
        containers: Vec<ContainerSummary>,
        networks: Vec<NetworkResource>,
        volumes: Vec<Volume>,
    ) -> Observed {
        let ours = |labels: &BTreeMap<String, String>| {
            labels.get(labels::PROJECT).map(String::as_str) == Some(project)
        };
        let mut containers: Vec<ObservedContainer> = containers
            .into_iter()
            .filter(|c| ours(&c.labels))
            .map(ObservedContainer::from_summary)
            .collect();
        containers.sort_by(|a, b| {
            (a.oneoff, &a.service, a.number, &a.name)
                .cmp(&(b.oneoff, &b.service, b.number, &b.name))
        });
        let networks = networks
            .into_iter()
            .filter(|n| ours(&n.labels))
            .filter_map(|n| {
                let key = n.labels.get(labels::NETWORK)?.clone();
                Some((
                    key,
                    ObservedNetwork {
                        id: n.id,
                        name: n.name,
                        labels: n.labels,
                    },
                ))
            })
            .collect();
        let volumes = volumes
            .into_iter()
            .filter_map(|v| {
                let labels = v.labels.unwrap_or_default();
                if !ours(&labels) {
                    return None;
                }
                let key = labels.get(labels::VOLUME)?.clone();
                Some((
                    key,
                    ObservedVolume {
                        name: v.name,
                        labels,
                    },
                ))
            })
            .collect();
        Observed {
            project: project.to_string(),
            containers,
            networks,
            volumes,
        }
    }

    /// The service's non-one-off containers, by number.
    pub fn service_containers(&self, service: &str) -> Vec<&ObservedContainer> {
        self.containers
            .iter()
            .filter(|c| !c.oneoff && c.service == service)
            .collect()
    }

    /// Service names that have containers (including services no longer in the file).
    pub fn services(&self) -> Vec<String> {
        let names: std::collections::BTreeSet<String> =
            self.containers.iter().map(|c| c.service.clone()).collect();
        names.into_iter().collect()
    }
}

impl ObservedContainer {
    fn from_summary(c: ContainerSummary) -> ObservedContainer {
        let label = |key: &str| c.labels.get(key).cloned().unwrap_or_default();
        let name = c
            .names
            .first()
            .map(|n| n.trim_start_matches('/').to_string())
            .unwrap_or_default();
        let volumes = c
            .mounts
            .iter()
            .filter(|m| m.r#type == "volume")
            .map(|m| (m.destination.clone(), m.name.clone()))
            .collect();
        let networks = c
            .network_settings
            .networks
            .iter()
            .map(|(name, endpoint)| (name.clone(), endpoint.network_id.clone()))
            .collect();
        ObservedContainer {
            service: label(labels::SERVICE),
            number: label(labels::CONTAINER_NUMBER).parse().unwrap_or(0),
            oneoff: label(labels::ONEOFF).eq_ignore_ascii_case("true"),
            config_hash: label(labels::CONFIG_HASH),
            image_digest: label(labels::IMAGE),
            health: health_of(&c.status),
            id: c.id,
            name,
            image_id: c.image_id,
            state: c.state,
            status: c.status,
            created: c.created,
            networks,
            volumes,
            labels: c.labels,
        }
    }

    /// Whether the container is up (running, or paused or restarting, which `up` leaves be).
    pub fn is_running(&self) -> bool {
        matches!(self.state.as_str(), "running" | "paused" | "restarting")
    }
}

/// `healthy`, `unhealthy` or `starting`, from a `Status` text such as `Up 3 seconds (healthy)`.
fn health_of(status: &str) -> Option<String> {
    if status.ends_with("(healthy)") {
        Some("healthy".into())
    } else if status.ends_with("(unhealthy)") {
        Some("unhealthy".into())
    } else if status.ends_with("(health: starting)") {
        Some("starting".into())
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(name: &str, project: &str, service: &str, number: &str) -> ContainerSummary {
        let mut c = ContainerSummary {
            id: format!("id-{name}"),
            names: vec![format!("/{name}")],
            state: "running".into(),
            status: "Up 2 seconds (health: starting)".into(),
            ..ContainerSummary::default()
        };
        c.labels.insert(labels::PROJECT.into(), project.into());
        c.labels.insert(labels::SERVICE.into(), service.into());
        c.labels
            .insert(labels::CONTAINER_NUMBER.into(), number.into());
        c.labels.insert(labels::ONEOFF.into(), "False".into());
        c
    }

    #[test]
    fn containers_are_read_from_labels_and_sorted() {
        let observed = Observed::from_lists(
            "demo",
            vec![
                summary("demo-web-2", "demo", "web", "2"),
                summary("other-web-1", "other", "web", "1"),
                summary("demo-db-1", "demo", "db", "1"),
                summary("demo-web-1", "demo", "web", "1"),
            ],
            Vec::new(),
            Vec::new(),
        );
        let names: Vec<&str> = observed
            .containers
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(names, ["demo-db-1", "demo-web-1", "demo-web-2"]);
        assert_eq!(observed.containers[0].health.as_deref(), Some("starting"));
        assert_eq!(observed.service_containers("web").len(), 2);
        assert_eq!(observed.services(), ["db", "web"]);
    }
}
