//! Records as the API shows them (`NetworkResource`), and `GET /networks`' filters.

use std::collections::BTreeMap;

use super::store::NetworkRecord;
use super::NetworkError;
use crate::api::network_types::{Ipam, IpamConfig, NetworkContainer, NetworkResource};

/// `with_containers`: inspect shows the attached containers, the list leaves them out.
pub(super) fn resource(r: &NetworkRecord, with_containers: bool) -> NetworkResource {
    let config = r
        .subnets
        .iter()
        .map(|s| IpamConfig {
            subnet: s.subnet.to_string(),
            ip_range: s.range.map(|n| n.to_string()).unwrap_or_default(),
            gateway: s.gateway.to_string(),
            auxiliary_addresses: s
                .aux
                .iter()
                .map(|(k, v)| (k.clone(), v.to_string()))
                .collect(),
        })
        .collect();
    let containers = if with_containers {
        r.endpoints
            .iter()
            .map(|(id, e)| {
                (
                    id.clone(),
                    NetworkContainer {
                        name: e.container_name.clone(),
                        endpoint_id: e.state.endpoint_id.clone(),
                        mac_address: e.state.mac.clone(),
                        ipv4_address: e.state.ipv4.map(|a| a.to_string()).unwrap_or_default(),
                        ipv6_address: e.state.ipv6.map(|a| a.to_string()).unwrap_or_default(),
                    },
                )
            })
            .collect()
    } else {
        BTreeMap::new()
    };
    NetworkResource {
        name: r.name.clone(),
        id: r.id.clone(),
        created: r.created.clone(),
        scope: "local".into(),
        driver: r.driver.clone(),
        enable_ipv6: r.enable_ipv6,
        ipam: Ipam {
            driver: "default".into(),
            options: r.ipam_options.clone(),
            config,
        },
        internal: r.internal,
        attachable: r.attachable,
        ingress: false,
        config_from: Default::default(),
        config_only: false,
        containers,
        options: r.options.clone(),
        labels: r.labels.clone(),
    }
}

const FILTERS: [&str; 7] = ["dangling", "driver", "id", "label", "name", "scope", "type"];

pub(super) fn list(
    records: &BTreeMap<String, NetworkRecord>,
    filters: &BTreeMap<String, Vec<String>>,
) -> Result<Vec<NetworkResource>, NetworkError> {
    for (key, values) in filters {
        if !FILTERS.contains(&key.as_str()) {
            return Err(NetworkError::Invalid(format!("invalid filter '{key}'")));
        }
        for v in values {
            match key.as_str() {
                "type" if v != "custom" && v != "builtin" => {
                    return Err(NetworkError::Invalid(format!(
                        "invalid filter: 'type'='{v}'"
                    )))
                }
                "dangling" if parse_bool(v).is_none() => {
                    return Err(NetworkError::Invalid(format!(
                        "invalid filter 'dangling={v}'"
                    )))
                }
                _ => {}
            }
        }
    }
    let mut out: Vec<NetworkResource> = records
        .values()
        .filter(|r| matches_all(r, filters))
        .map(|r| resource(r, false))
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
    Ok(out)
}

fn parse_bool(v: &str) -> Option<bool> {
    match v {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    }
}

/// Each filter key is satisfied by any of its values (Docker's semantics); labels need all.
fn matches_all(r: &NetworkRecord, filters: &BTreeMap<String, Vec<String>>) -> bool {
    filters.iter().all(|(key, values)| {
        if values.is_empty() {
            return true;
        }
        match key.as_str() {
            "name" => values.iter().any(|v| pattern_matches(v, &r.name)),
            "id" => values.iter().any(|v| pattern_matches(v, &r.id)),
            "driver" => values.contains(&r.driver),
            "scope" => values.iter().any(|v| v == "local"),
            "type" => values
                .iter()
                .any(|v| (v == "builtin" && r.predefined) || (v == "custom" && !r.predefined)),
            "dangling" => values.iter().any(|v| {
                let dangling = !r.predefined && r.endpoints.is_empty();
                parse_bool(v) == Some(dangling)
            }),
            "label" => values.iter().all(|v| label_matches(&r.labels, v)),
            _ => true,
        }
    })
}

/// Docker matches `name` and `id` as regular expressions (so a plain word is a substring).
fn pattern_matches(pattern: &str, text: &str) -> bool {
    match regex::Regex::new(pattern) {
        Ok(re) => re.is_match(text),
        Err(_) => text.contains(pattern),
    }
}

/// `key` or `key=value`.
pub(super) fn label_matches(labels: &BTreeMap<String, String>, filter: &str) -> bool {
    match filter.split_once('=') {
        Some((k, v)) => labels.get(k).is_some_and(|have| have == v),
        None => labels.contains_key(filter),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::daemon::networks::store::EndpointRecord;

    fn rec(name: &str, id: &str, predefined: bool) -> NetworkRecord {
        NetworkRecord {
            id: id.repeat(64),
            name: name.into(),
            driver: if predefined { "host" } else { "bridge" }.into(),
            predefined,
            ..NetworkRecord::default()
        }
    }

    fn names(records: &BTreeMap<String, NetworkRecord>, f: &[(&str, &str)]) -> Vec<String> {
        let mut filters: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (k, v) in f {
            filters
                .entry(k.to_string())
                .or_default()
                .push(v.to_string());
        }
        list(records, &filters)
            .expect("list")
            .into_iter()
            .map(|r| r.name)
            .collect()
    }

    #[test]
    fn filters_select_as_docker() {
        let mut used = rec("backend", "b", false);
        used.labels.insert("tier".into(), "db".into());
        used.endpoints
            .insert("c1".into(), EndpointRecord::default());
        let records: BTreeMap<String, NetworkRecord> =
            [rec("host", "a", true), used, rec("front", "c", false)]
                .into_iter()
                .map(|r| (r.id.clone(), r))
                .collect();
        assert_eq!(names(&records, &[]), ["backend", "front", "host"]);
        assert_eq!(names(&records, &[("name", "ro")]), ["front"]);
        assert_eq!(names(&records, &[("id", "bbbb")]), ["backend"]);
        assert_eq!(names(&records, &[("type", "builtin")]), ["host"]);
        assert_eq!(names(&records, &[("type", "custom")]), ["backend", "front"]);
        assert_eq!(names(&records, &[("label", "tier=db")]), ["backend"]);
        assert_eq!(
            names(&records, &[("label", "tier=web")]),
            Vec::<String>::new()
        );
        assert_eq!(names(&records, &[("driver", "host")]), ["host"]);
        assert_eq!(names(&records, &[("dangling", "true")]), ["front"]);
        assert_eq!(names(&records, &[("dangling", "0")]), ["backend", "host"]);
        let bad: BTreeMap<String, Vec<String>> = [("color".into(), vec!["x".into()])].into();
        assert_eq!(
            list(&records, &bad).unwrap_err().to_string(),
            "invalid filter 'color'"
        );
    }
}
