//! The networking flags of `run`/`create` (`--network` in its short and advanced forms,
//! `--network-alias`, `--ip`, `--ip6`, `--mac-address`, `--link`, `--publish` long form)
//! turned into `HostConfig.NetworkMode`, `HostConfig.Links` and
//! `NetworkingConfig.EndpointsConfig` as the docker CLI 28's `parseNetworkOpts` does.
//!
//! Differences from docker 28 against an API 1.43 daemon: every `--network` is sent in
//! `EndpointsConfig` (docker 28 does so from API 1.44; berth's daemon takes them all),
//! and `--mac-address` goes both to the endpoint and to the container-wide `MacAddress`
//! (docker 28 refuses it below API 1.44). `--link-local-ip` and `gw-priority` are not
//! taken.

use std::collections::BTreeMap;

use anyhow::{anyhow, bail};
use serde_json::{json, Value};

use super::ContainerFlags;
use crate::api::container_types::EndpointSettings;

/// One `--network` value (`NetworkAttachmentOpts`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Attachment {
    target: String,
    aliases: Vec<String>,
    links: Vec<String>,
    ipv4: String,
    ipv6: String,
    mac: String,
    driver_opts: BTreeMap<String, String>,
}

/// What the networking flags put in the create body.
#[derive(Clone, Debug, PartialEq)]
pub struct Networking {
    pub network_mode: String,
    /// `HostConfig.Links`: every `--link`, whatever the network.
    pub links: Vec<String>,
    /// `NetworkingConfig`.
    pub networking_config: Value,
    /// `Config.MacAddress` (API < 1.44).
    pub mac_address: String,
}

/// Docker's `container.NetworkMode.IsUserDefined`.
fn is_user_defined(mode: &str) -> bool {
    !matches!(mode, "default" | "bridge" | "host" | "none") && !mode.starts_with("container:")
}

/// `--network name` or `--network name=n,alias=a,ip=...,driver-opt=k=v`.
fn parse_attachment(value: &str) -> anyhow::Result<Attachment> {
    if !value.contains('=') {
        return Ok(Attachment {
            target: value.to_owned(),
            ..Attachment::default()
        });
    }
    let invalid = |why: String| anyhow!("invalid argument {value:?} for \"--network\" flag: {why}");
    let mut a = Attachment::default();
    for field in value.split(',') {
        let Some((key, v)) = field.split_once('=') else {
            return Err(invalid(format!("invalid field {field}")));
        };
        match key.trim().to_lowercase().as_str() {
            "name" => a.target = v.to_owned(),
            "alias" => a.aliases.push(v.to_owned()),
            "ip" => a.ipv4 = v.to_owned(),
            "ip6" => a.ipv6 = v.to_owned(),
            "mac-address" => a.mac = v.to_owned(),
            "driver-opt" => {
                let (k, dv) = v.split_once('=').ok_or_else(|| {
                    invalid("invalid key value pair format in driver options".to_owned())
                })?;
                a.driver_opts
                    .insert(k.trim().to_owned(), dv.trim().to_owned());
            }
            other => return Err(invalid(format!("invalid field key {other}"))),
        }
    }
    Ok(a)
}

/// The docker CLI's `ValidateLink`: `name` or `name:alias`.
fn validate_link(link: &str) -> anyhow::Result<()> {
    if link.is_empty() {
        bail!("invalid argument \"\" for \"--link\" flag: empty string specified for links");
    }
    if link.split(':').count() > 2 {
        bail!("invalid argument {link:?} for \"--link\" flag: bad format for links: {link}");
    }
    Ok(())
}

/// `applyContainerOptions`: the short flags go to the first network.
fn apply_short_flags(a: &mut Attachment, flags: &ContainerFlags) -> anyhow::Result<()> {
    let conflict = |what: &str| anyhow!("conflicting options: cannot specify both {what}");
    let ip = flags.ip.clone().unwrap_or_default();
    let ip6 = flags.ip6.clone().unwrap_or_default();
    let mac = flags.mac_address.clone().unwrap_or_default();
    if !a.aliases.is_empty() && !flags.network_alias.is_empty() {
        return Err(conflict("--network-alias and per-network alias"));
    }
    if !a.ipv4.is_empty() && !ip.is_empty() {
        return Err(conflict("--ip and per-network IPv4 address"));
    }
    if !a.ipv6.is_empty() && !ip6.is_empty() {
        return Err(conflict("--ip6 and per-network IPv6 address"));
    }
    if !a.mac.is_empty() && !mac.is_empty() {
        return Err(conflict("--mac-address and per-network MAC address"));
    }
    if !flags.network_alias.is_empty() {
        a.aliases = flags.network_alias.clone();
    }
    // On a user-defined network `--link` is an endpoint alias; on the default bridge it is
    // a legacy link, sent in `HostConfig.Links` only.
    if is_user_defined(&a.target) && !flags.link.is_empty() {
        a.links = flags.link.clone();
    }
    if !ip.is_empty() {
        a.ipv4 = ip;
    }
    if !ip6.is_empty() {
        a.ipv6 = ip6;
    }
    if !mac.is_empty() {
        a.mac = mac;
    }
    Ok(())
}

/// `parseNetworkAttachmentOpt`: the endpoint settings for one attachment.
fn endpoint(a: &Attachment) -> anyhow::Result<EndpointSettings> {
    if a.target.trim().is_empty() {
        bail!("no name set for network");
    }
    if !is_user_defined(&a.target) {
        if !a.aliases.is_empty() {
            bail!("network-scoped aliases are only supported for user-defined networks");
        }
        if !a.links.is_empty() {
            bail!("links are only supported for user-defined networks");
        }
    }
    let mut ep = EndpointSettings {
        aliases: (!a.aliases.is_empty()).then(|| a.aliases.clone()),
        links: (!a.links.is_empty()).then(|| a.links.clone()),
        driver_opts: (!a.driver_opts.is_empty()).then(|| a.driver_opts.clone()),
        ..EndpointSettings::default()
    };
    if !a.ipv4.is_empty() || !a.ipv6.is_empty() {
        let mut ipam = serde_json::Map::new();
        if !a.ipv4.is_empty() {
            ipam.insert("IPv4Address".into(), a.ipv4.clone().into());
        }
        if !a.ipv6.is_empty() {
            ipam.insert("IPv6Address".into(), a.ipv6.clone().into());
        }
        ep.ipam_config = Some(Value::Object(ipam));
    }
    if !a.mac.is_empty() {
        if !is_mac(a.mac.trim()) {
            bail!("{} is not a valid mac address", a.mac);
        }
        ep.mac_address = a.mac.clone();
    }
    Ok(ep)
}

/// Go's `net.ParseMAC` for the 6-byte forms (`aa:bb:..`, `aa-bb-..`, `aabb.ccdd.eeff`).
fn is_mac(s: &str) -> bool {
    let hex_pairs = |parts: Vec<&str>| {
        parts.len() == 6
            && parts
                .iter()
                .all(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_hexdigit()))
    };
    let dotted = || {
        let parts: Vec<&str> = s.split('.').collect();
        parts.len() == 3
            && parts
                .iter()
                .all(|p| p.len() == 4 && p.chars().all(|c| c.is_ascii_hexdigit()))
    };
    hex_pairs(s.split(':').collect()) || hex_pairs(s.split('-').collect()) || dotted()
}

/// `parseNetworkOpts` and the parts of `parse` that use its result.
pub fn networking(flags: &ContainerFlags) -> anyhow::Result<Networking> {
    for link in &flags.link {
        validate_link(link)?;
    }
    let attachments = flags
        .network
        .iter()
        .map(|n| parse_attachment(n))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut endpoints = serde_json::Map::new();
    if attachments.is_empty() {
        let mut a = Attachment {
            target: "default".into(),
            ..Attachment::default()
        };
        apply_short_flags(&mut a, flags)?;
        let ep = endpoint(&a)?;
        // docker 28 sends an empty `default` endpoint too; leaving it out means the same
        // to a daemon (it makes the endpoint) and spares it resolving the alias.
        if ep != EndpointSettings::default() {
            endpoints.insert("default".into(), serde_json::to_value(ep)?);
        }
    }
    let (mut user_defined, mut predefined) = (false, false);
    for (i, mut a) in attachments.iter().cloned().enumerate() {
        if is_user_defined(&a.target) {
            user_defined = true;
        } else {
            predefined = true;
        }
        if i == 0 {
            apply_short_flags(&mut a, flags)?;
        }
        let ep = endpoint(&a)?;
        if endpoints.contains_key(&a.target) {
            bail!("network {:?} is specified multiple times", a.target);
        }
        // One network without options: docker leaves its endpoint to the daemon.
        if i == 0 && attachments.len() == 1 && ep == EndpointSettings::default() {
            continue;
        }
        endpoints.insert(a.target.clone(), serde_json::to_value(ep)?);
    }
    if user_defined && predefined {
        bail!("conflicting options: cannot attach both user-defined and non-user-defined network-modes");
    }
    let network_mode = attachments
        .first()
        .map_or_else(|| "default".to_owned(), |a| a.target.clone());
    Ok(Networking {
        network_mode,
        links: flags.link.clone(),
        networking_config: json!({ "EndpointsConfig": endpoints }),
        mac_address: flags.mac_address.clone().unwrap_or_default(),
    })
}

/// The docker CLI's `convertToStandardNotation`: `--publish published=8080,target=80,
/// protocol=udp` becomes `8080:80/udp` (`host_ip` and `mode` are swarm's and dropped, as
/// docker does); short forms are kept.
pub fn publish_standard_notation(spec: &str) -> anyhow::Result<String> {
    if !spec.contains('=') {
        return Ok(spec.to_owned());
    }
    let mut params: BTreeMap<&str, &str> = BTreeMap::from([("protocol", "tcp")]);
    for param in spec.split(',') {
        match param.split_once('=') {
            Some((k, v)) if !k.is_empty() => {
                params.insert(k, v);
            }
            _ => bail!("invalid publish opts format (should be name=value but got '{param}')"),
        }
    }
    let get = |k: &str| params.get(k).copied().unwrap_or("");
    Ok(format!(
        "{}:{}/{}",
        get("published"),
        get("target"),
        get("protocol")
    ))
}
