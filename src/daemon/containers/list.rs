//! `GET /containers/json`: Docker's filters, newest first, and the summary fields.

use std::collections::BTreeMap;

use regex::Regex;

use super::create::run_spec;
use super::inspect::{mount_points, network_mode};
use super::network::attachments;
use super::network_settings::summary_ports;
use super::remove::dir_size;
use super::status::status_text;
use super::store::{Record, Status};
use super::{blocking, ContainerError, Containers, ListOptions};
use crate::api::container_types::{ContainerSummary, SummaryHostConfig, SummaryNetworkSettings};

const FILTERS: &[&str] = &[
    "id", "name", "label", "label!", "status", "exited", "ancestor", "before", "since", "health",
    "network", "volume", "is-task", "publish", "expose",
];
const STATUSES: &[&str] = &[
    "created",
    "restarting",
    "running",
    "removing",
    "paused",
    "exited",
    "dead",
];

impl Containers {
    pub(super) async fn list_containers(
        &self,
        options: &ListOptions,
    ) -> Result<Vec<ContainerSummary>, ContainerError> {
        let filters = &options.filters;
        validate_filters(filters)?;
        let mut records: Vec<(Record, std::path::PathBuf)> = self
            .all_entries()
            .into_iter()
            .map(|e| (e.snapshot(), e.dir.clone()))
            .collect();
        // Newest first; ties (same nanosecond) by ID for a stable order.
        records.sort_by(|a, b| b.0.created.cmp(&a.0.created).then(a.0.id.cmp(&b.0.id)));
        let created_of = |reference: &str| -> Result<String, ContainerError> {
            Ok(self.entry(reference)?.snapshot().created)
        };
        let before = filters.get("before").and_then(|v| v.first());
        let before = before.map(|r| created_of(r)).transpose()?;
        let since = filters.get("since").and_then(|v| v.first());
        let since = since.map(|r| created_of(r)).transpose()?;
        let ancestors = self.ancestor_ids(filters.get("ancestor")).await?;
        let all = options.all || options.limit > 0 || filters.contains_key("status");
        let now = chrono::Utc::now();
        let mut out = Vec::new();
        for (record, dir) in records {
            if !all && !record.state.status.is_running() {
                continue;
            }
            if before.as_ref().is_some_and(|b| record.created >= *b)
                || since.as_ref().is_some_and(|s| record.created <= *s)
            {
                continue;
            }
            if let Some(ids) = &ancestors {
                if !ids.contains(&record.image_id) && !ids.contains(&record.image) {
                    continue;
                }
            }
            if !matches(&record, filters) {
                continue;
            }
            let mut summary = summarize(&record, now);
            if let Ok(spec) = run_spec(&record) {
                summary.network_settings.networks = self.endpoint_settings(&record, &spec);
            }
            if options.size {
                let upper = dir.join("fs/upper");
                let size =
                    blocking("measuring the container", move || Ok(dir_size(&upper))).await?;
                summary.size_rw = Some(i64::try_from(size).unwrap_or(i64::MAX));
            }
            out.push(summary);
            if options.limit > 0 && out.len() >= options.limit {
                break;
            }
        }
        Ok(out)
    }

    /// Image IDs the `ancestor` filter accepts (names resolved through the store); names
    /// that resolve to nothing are kept as given, to match the recorded name.
    async fn ancestor_ids(
        &self,
        wanted: Option<&Vec<String>>,
    ) -> Result<Option<Vec<String>>, ContainerError> {
        let Some(wanted) = wanted else {
            return Ok(None);
        };
        let images = self.images.clone();
        let wanted = wanted.clone();
        blocking("resolving ancestors", move || {
            Ok(Some(
                wanted
                    .iter()
                    .map(|w| {
                        images
                            .resolve(w)
                            .map(|i| i.id.to_string())
                            .unwrap_or_else(|_| w.clone())
                    })
                    .collect(),
            ))
        })
        .await
    }
}

fn validate_filters(filters: &BTreeMap<String, Vec<String>>) -> Result<(), ContainerError> {
    for (key, values) in filters {
        if !FILTERS.contains(&key.as_str()) {
            return Err(ContainerError::Invalid(format!("invalid filter '{key}'")));
        }
        for v in values {
            let bad = match key.as_str() {
                "status" => !STATUSES.contains(&v.as_str()),
                "exited" => v.parse::<i32>().is_err(),
                "is-task" => !matches!(v.as_str(), "true" | "false"),
                _ => false,
            };
            if bad {
                return Err(ContainerError::Invalid(format!(
                    "invalid filter '{key}={v}'"
                )));
            }
        }
    }
    Ok(())
}

/// `key` or `key=value` against the labels.
pub(super) fn label_matches(labels: &BTreeMap<String, String>, want: &str) -> bool {
    match want.split_once('=') {
        Some((k, v)) => labels.get(k).is_some_and(|have| have == v),
        None => labels.contains_key(want),
    }
}

/// Docker's filter `Match`: an unanchored regular expression, or a substring when the
/// value is not a valid expression.
fn pattern_matches(pattern: &str, value: &str) -> bool {
    match Regex::new(pattern) {
        Ok(re) => re.is_match(value),
        Err(_) => value.contains(pattern),
    }
}

/// The filters that look at one record alone (values of one key are ORed, keys ANDed).
fn matches(record: &Record, filters: &BTreeMap<String, Vec<String>>) -> bool {
    let any = |key: &str, f: &dyn Fn(&str) -> bool| {
        filters
            .get(key)
            .is_none_or(|values| values.is_empty() || values.iter().any(|v| f(v)))
    };
    let labels = &record.request.config.labels;
    let spec = run_spec(record).ok();
    let mounts = spec
        .as_ref()
        .map(|s| mount_points(s, record))
        .unwrap_or_default();
    any("id", &|v| pattern_matches(v, &record.id))
        && any("name", &|v| {
            pattern_matches(v, &format!("/{}", record.name))
        })
        && filters
            .get("label")
            .is_none_or(|values| values.iter().all(|v| label_matches(labels, v)))
        && filters
            .get("label!")
            .is_none_or(|values| !values.iter().any(|v| label_matches(labels, v)))
        && any("status", &|v| v == record.state.status.as_str())
        && any("exited", &|v| {
            record.state.status == Status::Exited
                && v.parse::<i32>().is_ok_and(|c| c == record.state.exit_code)
        })
        && any("health", &|v| {
            let health = record.state.health.as_ref().map(|h| h.status.as_str());
            v == health.unwrap_or("none")
        })
        && any("is-task", &|v| v == "false")
        && any("network", &|v| {
            network_mode(&record.request.host_config.network_mode) == v
                || attachments(record)
                    .iter()
                    .any(|a| a.network_name == v || a.network_id == v)
        })
        && any("volume", &|v| {
            mounts
                .iter()
                .any(|m| m.destination == v || m.source == v || m.name == v)
        })
        && any("publish", &|v| port_listed(record, v, true))
        && any("expose", &|v| port_listed(record, v, false))
}

/// `publish=80[/tcp]` (a published container port) or `expose=80[/tcp]`.
fn port_listed(record: &Record, want: &str, published: bool) -> bool {
    let key = if want.contains('/') {
        want.to_string()
    } else {
        format!("{want}/tcp")
    };
    if published {
        record.request.host_config.port_bindings.contains_key(&key)
    } else {
        record.request.config.exposed_ports.contains_key(&key)
            || record.image_config.exposed_ports.contains_key(&key)
    }
}

/// Docker's summary `Command`: the path, then the args, each quoted when it has a space.
pub(super) fn command_text(path: &str, args: &[String]) -> String {
    let mut out = path.to_string();
    for a in args {
        out.push(' ');
        if a.contains(' ') {
            out.push_str(&format!("'{a}'"));
        } else {
            out.push_str(a);
        }
    }
    out
}

fn summarize(record: &Record, now: chrono::DateTime<chrono::Utc>) -> ContainerSummary {
    let spec = run_spec(record).ok();
    let command = spec
        .as_ref()
        .map(|s| command_text(&s.path, &s.args))
        .unwrap_or_default();
    let created = chrono::DateTime::parse_from_rfc3339(&record.created)
        .map(|t| t.timestamp())
        .unwrap_or(0);
    let ports = spec
        .as_ref()
        .map(|s| summary_ports(record, s))
        .unwrap_or_default();
    ContainerSummary {
        id: record.id.clone(),
        names: vec![format!("/{}", record.name)],
        image: record.image.clone(),
        image_id: record.image_id.clone(),
        command,
        created,
        ports,
        size_rw: None,
        size_root_fs: None,
        labels: record.request.config.labels.clone(),
        state: record.state.status.as_str().to_string(),
        status: status_text(&record.state, now),
        host_config: SummaryHostConfig {
            network_mode: network_mode(&record.request.host_config.network_mode),
        },
        network_settings: SummaryNetworkSettings::default(),
        mounts: spec
            .as_ref()
            .map(|s| mount_points(s, record))
            .unwrap_or_default(),
    }
}

/// `until` of prune: a Unix timestamp, an RFC 3339 time, or a Go duration ago (`10m`,
/// `24h`).
pub(super) fn parse_until(value: &str) -> Result<i64, ContainerError> {
    let now = chrono::Utc::now().timestamp();
    if let Ok(n) = value.parse::<f64>() {
        return Ok(n as i64);
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(value) {
        return Ok(t.timestamp());
    }
    let (num, unit) = value.split_at(value.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(0));
    let n: f64 = num
        .parse()
        .map_err(|_| ContainerError::Invalid(format!("invalid filter 'until={value}'")))?;
    let secs = match unit {
        "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => {
            return Err(ContainerError::Invalid(format!(
                "invalid filter 'until={value}'"
            )))
        }
    };
    Ok(now - secs as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::daemon::containers::store::State;
    use crate::engine::spec::{CreateRequest, ImageRunConfig};

    fn record(name: &str, status: Status, code: i32) -> Record {
        let mut request = CreateRequest::default();
        request.config.cmd = Some(vec!["sh".into(), "-c".into(), "echo hi".into()]);
        request.config.labels.insert("app".into(), "web".into());
        Record {
            id: format!("{name:0<64}"),
            name: name.into(),
            created: "2024-01-01T00:00:00Z".into(),
            image: "busybox".into(),
            image_id: "sha256:1".into(),
            layers: vec![],
            request,
            image_config: ImageRunConfig::default(),
            host_hostname: String::new(),
            state: State {
                status,
                exit_code: code,
                ..State::default()
            },
            restart_count: 0,
            networks: None,
            sandbox: None,
            volumes: Default::default(),
        }
    }

    fn f(pairs: &[(&str, &str)]) -> BTreeMap<String, Vec<String>> {
        let mut m: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (k, v) in pairs {
            m.entry(k.to_string()).or_default().push(v.to_string());
        }
        m
    }

    #[test]
    fn filters_match_like_dockers() {
        let r = record("web", Status::Exited, 3);
        assert!(matches(&r, &f(&[("name", "we")])));
        assert!(!matches(&r, &f(&[("name", "^db")])));
        assert!(matches(&r, &f(&[("name", "^/web$")])));
        assert!(matches(
            &r,
            &f(&[("status", "running"), ("status", "exited")])
        ));
        assert!(!matches(&r, &f(&[("status", "running")])));
        assert!(matches(&r, &f(&[("exited", "3")])));
        assert!(!matches(&r, &f(&[("exited", "0")])));
        assert!(matches(&r, &f(&[("label", "app"), ("label", "app=web")])));
        assert!(!matches(&r, &f(&[("label", "app"), ("label", "app=db")])));
        assert!(!matches(&r, &f(&[("label!", "app")])));
        assert!(matches(&r, &f(&[("id", "web0")])));
        assert!(matches(&r, &f(&[("network", "default")])));
        assert!(matches(&r, &f(&[("health", "none"), ("is-task", "false")])));
    }

    #[test]
    fn bad_filters_get_dockers_text() {
        let e = validate_filters(&f(&[("bogus", "1")])).unwrap_err();
        assert_eq!(e.to_string(), "invalid filter 'bogus'");
        let e = validate_filters(&f(&[("status", "up")])).unwrap_err();
        assert_eq!(e.to_string(), "invalid filter 'status=up'");
        validate_filters(&f(&[("status", "paused"), ("exited", "137")])).unwrap();
    }

    #[test]
    fn commands_quote_args_with_spaces() {
        let args = vec!["-c".to_string(), "echo hi".to_string()];
        assert_eq!(command_text("sh", &args), "sh -c 'echo hi'");
        assert_eq!(command_text("top", &[]), "top");
    }

    #[test]
    fn summaries_carry_dockers_fields() {
        let r = record("web", Status::Created, 0);
        let s = summarize(&r, chrono::Utc::now());
        assert_eq!(s.names, vec!["/web"]);
        assert_eq!(s.command, "sh -c 'echo hi'");
        assert_eq!(s.state, "created");
        assert_eq!(s.status, "Created");
        assert_eq!(s.created, 1_704_067_200);
        assert_eq!(s.host_config.network_mode, "default");
    }

    #[test]
    fn until_accepts_timestamps_and_durations() {
        assert_eq!(parse_until("1700000000").unwrap(), 1_700_000_000);
        let ago = parse_until("1h").unwrap();
        assert!((chrono::Utc::now().timestamp() - 3600 - ago).abs() < 5);
        assert!(parse_until("soon").is_err());
    }
}
