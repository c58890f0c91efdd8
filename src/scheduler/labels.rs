//! The `com.docker.compose.*` labels: the only link between a project and what the daemon
//! holds for it. Names and values as Docker Compose v2.40.3 writes them, so that a project
//! made by `docker compose` and one made by berth look the same.
//!

use std::collections::BTreeMap;

use crate::compose::model::{Project, ServiceConfig};

pub const PROJECT: &str = "com.docker.compose.project";
pub const SERVICE: &str = "com.docker.compose.service";
pub const CONTAINER_NUMBER: &str = "com.docker.compose.container-number";
pub const ONEOFF: &str = "com.docker.compose.oneoff";
pub const CONFIG_HASH: &str = "com.docker.compose.config-hash";
/// The image digest (`sha256:…` image ID) the container was created from.
pub const IMAGE: &str = "com.docker.compose.image";
/// `db:service_healthy:false,cache:service_started:true` (service:condition:restart).
pub const DEPENDS_ON: &str = "com.docker.compose.depends_on";
pub const VERSION: &str = "com.docker.compose.version";
pub const WORKING_DIR: &str = "com.docker.compose.project.working_dir";
pub const CONFIG_FILES: &str = "com.docker.compose.project.config_files";
pub const ENVIRONMENT_FILE: &str = "com.docker.compose.project.environment_file";
/// The ID of the container a recreated container replaces.
pub const REPLACE: &str = "com.docker.compose.replace";
/// On networks: the network's key in the project.
pub const NETWORK: &str = "com.docker.compose.network";
/// On volumes: the volume's key in the project.
pub const VOLUME: &str = "com.docker.compose.volume";
/// On one-off containers (`run`): a unique slug.
pub const SLUG: &str = "com.docker.compose.slug";
/// The Compose version berth writes in [`VERSION`]: the Compose it is compatible with.
pub const COMPOSE_VERSION: &str = "2.40.3";

/// Which container of a service: replica `number`, or a one-off (`run`) with its slug.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Replica {
    Number(u32),
    OneOff { slug: String },
}

/// The labels of a service's container: the service's own `labels:` plus every
/// `com.docker.compose.*` label Compose writes (project, service, number, oneoff,
/// config-hash, image, depends_on, version, working_dir, config_files, environment_file
/// when present, replace when given).
pub fn container_labels(
    project: &Project,
    service: &ServiceConfig,
    replica: &Replica,
    config_hash: &str,
    image_digest: Option<&str>,
    replaces: Option<&str>,
) -> BTreeMap<String, String> {
    let mut labels = service.labels.0.clone();
    labels.extend(project_labels(project));
    labels.insert(SERVICE.into(), service.name.clone());
    labels.insert(CONFIG_HASH.into(), config_hash.into());
    labels.insert(DEPENDS_ON.into(), depends_on_value(service));
    if let Some(digest) = image_digest {
        labels.insert(IMAGE.into(), digest.into());
    }
    if let Some(old) = replaces {
        labels.insert(REPLACE.into(), old.into());
    }
    match replica {
        Replica::Number(n) => {
            labels.insert(CONTAINER_NUMBER.into(), n.to_string());
            labels.insert(ONEOFF.into(), "False".into());
        }
        Replica::OneOff { slug } => {
            labels.insert(CONTAINER_NUMBER.into(), "1".into());
            labels.insert(ONEOFF.into(), "True".into());
            labels.insert(SLUG.into(), slug.clone());
        }
    }
    labels
}

/// The labels every resource of the project carries.
fn project_labels(project: &Project) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    labels.insert(PROJECT.into(), project.name.clone());
    labels.insert(VERSION.into(), COMPOSE_VERSION.into());
    labels.insert(
        WORKING_DIR.into(),
        project.working_dir.to_string_lossy().into_owned(),
    );
    labels.insert(CONFIG_FILES.into(), project.compose_files.join(","));
    labels
}

/// A project network's labels (its own `labels:` + project, network key, version).
pub fn network_labels(project: &Project, key: &str) -> BTreeMap<String, String> {
    let mut labels = project
        .networks
        .get(key)
        .map(|n| n.labels.0.clone())
        .unwrap_or_default();
    labels.insert(PROJECT.into(), project.name.clone());
    labels.insert(NETWORK.into(), key.into());
    labels.insert(VERSION.into(), COMPOSE_VERSION.into());
    labels
}

/// A project volume's labels (its own `labels:` + project, volume key, version).
pub fn volume_labels(project: &Project, key: &str) -> BTreeMap<String, String> {
    let mut labels = project
        .volumes
        .get(key)
        .map(|v| v.labels.0.clone())
        .unwrap_or_default();
    labels.insert(PROJECT.into(), project.name.clone());
    labels.insert(VOLUME.into(), key.into());
    labels.insert(VERSION.into(), COMPOSE_VERSION.into());
    labels
}

/// The `depends_on` label value of a service (sorted by dependency name).
pub fn depends_on_value(service: &ServiceConfig) -> String {
    service
        .depends_on
        .iter()
        .map(|(name, dep)| {
            let condition = if dep.condition.is_empty() {
                "service_started"
            } else {
                dep.condition.as_str()
            };
            format!("{name}:{condition}:{}", dep.restart)
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Parses a `depends_on` label value back: `(service, condition, restart)`; entries that do
/// not parse are skipped (labels come from other tools too).
pub fn parse_depends_on(value: &str) -> Vec<(String, String, bool)> {
    value
        .split(',')
        .filter_map(|entry| {
            let mut parts = entry.trim().split(':');
            let service = parts.next().filter(|s| !s.is_empty())?;
            let condition = parts.next().unwrap_or("service_started");
            let restart = parts.next() == Some("true");
            Some((service.to_string(), condition.to_string(), restart))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depends_on_label_round_trips() {
        let parsed = parse_depends_on("db:service_healthy:false,cache:service_started:true");
        assert_eq!(
            parsed,
            [
                ("db".to_string(), "service_healthy".to_string(), false),
                ("cache".to_string(), "service_started".to_string(), true)
            ]
        );
        assert!(parse_depends_on("").is_empty());
    }
}
