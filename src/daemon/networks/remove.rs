//! `DELETE /networks/{id}`, `POST /networks/prune`, and the daemon's shutdown cleanup:
//! the bridge, its firewall rules and the record go together.

use std::collections::BTreeMap;

use super::open::remove_firewall;
use super::resource::label_matches;
use super::store::{self, NetworkRecord};
use super::{resolve, NetworkError, Networks};
use crate::net::link::delete_link;
use crate::net::nft::Firewall;

pub(super) async fn remove(nets: &Networks, reference: &str) -> Result<(), NetworkError> {
    let _op = nets.ops.lock().await;
    let record = {
        let records = nets.lock();
        let id = resolve(&records, reference)?;
        let r = &records[&id];
        if r.predefined {
            return Err(NetworkError::Forbidden(format!(
                "{} is a pre-defined network and cannot be removed",
                r.name
            )));
        }
        if !r.endpoints.is_empty() {
            return Err(NetworkError::Forbidden(format!(
                "error while removing network: network {} id {} has active endpoints",
                r.name, r.id
            )));
        }
        r.clone()
    };
    destroy(nets, &record).await
}

/// Deletes the kernel side, then the record; publishes `destroy`.
async fn destroy(nets: &Networks, record: &NetworkRecord) -> Result<(), NetworkError> {
    remove_firewall(nets.firewall(), record).await;
    if !record.bridge.is_empty() {
        delete_link(&nets.netlink, &record.bridge)
            .await
            .map_err(|e| anyhow::anyhow!("deleting bridge {}: {e}", record.bridge))?;
    }
    store::delete(&nets.dir, &record.id)?;
    nets.lock().remove(&record.id);
    nets.publish("destroy", record, None);
    Ok(())
}

pub(super) async fn prune(
    nets: &Networks,
    filters: &BTreeMap<String, Vec<String>>,
) -> Result<Vec<String>, NetworkError> {
    let mut until = None;
    for (key, values) in filters {
        match key.as_str() {
            "label" | "label!" => {}
            "until" => {
                for v in values {
                    until = Some(parse_until(v)?);
                }
            }
            _ => return Err(NetworkError::Invalid(format!("invalid filter '{key}'"))),
        }
    }
    let _op = nets.ops.lock().await;
    let candidates: Vec<NetworkRecord> = nets
        .lock()
        .values()
        .filter(|r| !r.predefined && r.endpoints.is_empty())
        .filter(|r| {
            let labels = filters.get("label").map(Vec::as_slice).unwrap_or_default();
            let not = filters.get("label!").map(Vec::as_slice).unwrap_or_default();
            labels.iter().all(|l| label_matches(&r.labels, l))
                && !not.iter().any(|l| label_matches(&r.labels, l))
        })
        .filter(|r| match until {
            Some(u) => chrono::DateTime::parse_from_rfc3339(&r.created)
                .map(|t| t.timestamp() < u)
                .unwrap_or(false),
            None => true,
        })
        .cloned()
        .collect();
    let mut removed = Vec::new();
    for record in candidates {
        match destroy(nets, &record).await {
            Ok(()) => removed.push(record.name.clone()),
            Err(e) => tracing::warn!("pruning network {}: {e}", record.name),
        }
    }
    Ok(removed)
}

pub(super) async fn shutdown(nets: &Networks) {
    let _op = nets.ops.lock().await;
    let (idle, in_use): (Vec<NetworkRecord>, usize) = {
        let records = nets.lock();
        let idle = records
            .values()
            .filter(|r| r.driver == "bridge" && r.endpoints.is_empty())
            .cloned()
            .collect();
        let in_use = records.values().filter(|r| !r.endpoints.is_empty()).count();
        (idle, in_use)
    };
    for record in idle {
        remove_firewall(nets.firewall(), &record).await;
        if let Err(e) = delete_link(&nets.netlink, &record.bridge).await {
            tracing::warn!("deleting bridge {}: {e}", record.bridge);
        }
    }
    if nets.firewall.is_some() && in_use == 0 {
        // `Firewall::delete` wants the only handle, which the port publisher shares: a
        // second handle on the same table (opened fresh) deletes it just as well.
        let table = nets.firewall_table.clone();
        let done = tokio::task::spawn_blocking(move || match Firewall::open(&table)? {
            Some(fw) => fw.delete(),
            None => Ok(()),
        })
        .await;
        match done {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!("deleting the nftables table: {e:#}"),
            Err(e) => tracing::warn!("deleting the nftables table: {e}"),
        }
    }
}

/// `until`: a Unix timestamp, an RFC 3339 time, or a Go duration ago (`10m`, `24h`).
fn parse_until(value: &str) -> Result<i64, NetworkError> {
    let invalid = || NetworkError::Invalid(format!("invalid filter 'until={value}'"));
    if let Ok(n) = value.parse::<f64>() {
        return Ok(n as i64);
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(value) {
        return Ok(t.timestamp());
    }
    let split = value
        .find(|c: char| c.is_ascii_alphabetic())
        .ok_or_else(invalid)?;
    let (num, unit) = value.split_at(split);
    let n: f64 = num.parse().map_err(|_| invalid())?;
    let secs = match unit {
        "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(invalid()),
    };
    Ok(chrono::Utc::now().timestamp() - secs as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn until_accepts_times_and_durations() {
        assert_eq!(parse_until("1700000000").unwrap(), 1_700_000_000);
        assert_eq!(parse_until("2024-01-01T00:00:00Z").unwrap(), 1_704_067_200);
        let ago = parse_until("1h").unwrap();
        assert!((chrono::Utc::now().timestamp() - 3600 - ago).abs() < 5);
        assert!(parse_until("soon").is_err());
    }
}
