//! `POST /networks/create`: a user-defined bridge network with its subnet(s), its Linux
//! bridge and firewall rules. Drivers other than `bridge` are refused with Docker's texts
//! (`host` and `null` exist once, as predefined networks; plugins are not supported).

use ipnet::IpNet;

use super::internal::ipam_error;
use super::open::{add_firewall, gateways, host_routes, taken_subnets};
use super::store::{self, NetworkRecord};
use super::{bridge_name, now_rfc3339, random_id, NetworkError, Networks};
use crate::api::network_types::{NetworkCreateRequest, NetworkCreateResponse};
use crate::net::ipam::{overlaps, pick_subnet, IpamError, SubnetPool};
use crate::net::link::{delete_link, ensure_bridge};

const OPT_BRIDGE_NAME: &str = "com.docker.network.bridge.name";
const OPT_MTU: &str = "com.docker.network.driver.mtu";

pub(super) async fn create(
    nets: &Networks,
    request: NetworkCreateRequest,
) -> Result<NetworkCreateResponse, NetworkError> {
    let name = request.name.clone();
    if name.is_empty() {
        return Err(NetworkError::Invalid(
            "network name must not be empty".into(),
        ));
    }
    if ["bridge", "host", "none", "default"].contains(&name.as_str()) {
        return Err(NetworkError::Forbidden(format!(
            "operation is not permitted on predefined {name} network "
        )));
    }
    match request.driver.as_str() {
        "" | "bridge" => {}
        "host" | "null" => {
            return Err(NetworkError::Forbidden(format!(
                "only one instance of \"{}\" network is allowed",
                request.driver
            )))
        }
        other => {
            return Err(NetworkError::NotFound(format!(
                "plugin \"{other}\" not found"
            )))
        }
    }
    if let Some(driver) = request.ipam.as_ref().map(|i| i.driver.as_str()) {
        if !driver.is_empty() && driver != "default" {
            return Err(NetworkError::NotFound(format!(
                "plugin \"{driver}\" not found"
            )));
        }
    }
    let mtu = match request.options.get(OPT_MTU) {
        Some(m) => m.parse::<u32>().map_err(|_| {
            NetworkError::Invalid(format!("invalid mtu {m}: it should be a number"))
        })?,
        None => nets.mtu,
    };
    let enable_ipv6 = request.enable_ipv6.unwrap_or(false);
    let mut user_pools = Vec::new();
    for c in request.ipam.iter().flat_map(|i| i.config.iter()) {
        if c.subnet.is_empty() {
            continue;
        }
        let pool =
            SubnetPool::from_user(&c.subnet, &c.gateway, &c.ip_range, &c.auxiliary_addresses)
                .map_err(ipam_error)?;
        if pool.is_v4() || enable_ipv6 {
            user_pools.push(pool);
        }
    }

    // One create or remove at a time: the subnet and name chosen below stay free until the
    // record is in the table.
    let _op = nets.ops.lock().await;
    let routed = if user_pools.iter().any(SubnetPool::is_v4) {
        Vec::new()
    } else {
        host_routes(&nets.netlink).await
    };
    let id = random_id()?;
    let record = {
        let mut records = nets.lock();
        if records.values().any(|r| r.name == name) {
            return Err(NetworkError::Conflict(format!(
                "network with name {name} already exists"
            )));
        }
        let bridge = match request.options.get(OPT_BRIDGE_NAME) {
            Some(b) if !b.is_empty() => {
                if b.len() > 15 {
                    return Err(NetworkError::Invalid(format!(
                        "invalid bridge name {b}: it must be at most 15 bytes"
                    )));
                }
                if records.values().any(|r| r.bridge == *b) {
                    return Err(NetworkError::Conflict(format!(
                        "bridge name {b} is already in use by another network"
                    )));
                }
                b.clone()
            }
            _ => bridge_name(&id),
        };
        let taken = taken_subnets(&records);
        for pool in &user_pools {
            if taken.iter().any(|t| overlaps(t, &pool.subnet)) {
                return Err(ipam_error(IpamError::Forbidden(
                    "Pool overlaps with other one on this address space".into(),
                )));
            }
        }
        let mut subnets = user_pools;
        if !subnets.iter().any(SubnetPool::is_v4) {
            let mut avoid: Vec<IpNet> = taken;
            avoid.extend_from_slice(&routed);
            let subnet = pick_subnet(&nets.pools, &avoid)
                .map_err(|e| NetworkError::Forbidden(e.to_string()))?;
            subnets.insert(0, SubnetPool::new(subnet));
        }
        let record = NetworkRecord {
            id: id.clone(),
            name: name.clone(),
            driver: "bridge".into(),
            created: now_rfc3339(),
            internal: request.internal,
            attachable: request.attachable,
            enable_ipv6,
            options: request.options.clone(),
            labels: request.labels.clone(),
            ipam_options: request.ipam.as_ref().and_then(|i| i.options.clone()),
            bridge,
            mtu,
            predefined: false,
            default_bridge: false,
            subnets,
            endpoints: Default::default(),
        };
        records.insert(id.clone(), record.clone());
        record
    };

    let made = ensure_bridge(&nets.netlink, &record.bridge, &gateways(&record), mtu).await;
    let saved = match made {
        Ok(_) => store::save(&nets.dir, &record),
        Err(e) => Err(anyhow::anyhow!("creating bridge {}: {e}", record.bridge)),
    };
    if let Err(e) = saved {
        nets.lock().remove(&id);
        // Only a bridge named after the ID is surely ours to delete.
        if record.bridge != bridge_name(&id) {
            return Err(NetworkError::Internal(e));
        }
        if let Err(del) = delete_link(&nets.netlink, &record.bridge).await {
            tracing::warn!("removing bridge {}: {del}", record.bridge);
        }
        return Err(NetworkError::Internal(e));
    }
    add_firewall(nets.firewall(), &record).await;
    nets.publish("create", &record, None);
    Ok(NetworkCreateResponse {
        id,
        warning: String::new(),
    })
}
