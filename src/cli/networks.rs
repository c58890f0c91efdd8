//! `berth network create|ls|inspect|rm|prune|connect|disconnect`: the docker CLI's
//! network verbs, with its flags, request bodies (checked against what docker 28 sends),
//! output and exit codes.
//!
//! Not done: swarm-only flags (`--scope swarm`, `--ingress`, `--config-from`) are sent
//! as given and left to the daemon; `--link-local-ip` and `--gw-priority` are not taken.

use std::collections::BTreeMap;
use std::net::IpAddr;

use anyhow::bail;
use clap::{Args, Subcommand};
use ipnet::IpNet;

use super::engine::{filters_json, percent_encode, query, with_client, StatusError};
use super::format::units::truncate_id;
use super::format::{render_list, Data, ListFormat};
use super::image_cmd::{confirm, inspect_paths};
use crate::api::client::{Client, ClientError};
use crate::api::container_types::EndpointSettings;
use crate::api::network_types::{
    Ipam, IpamConfig, NetworkConnectRequest, NetworkCreateRequest, NetworkCreateResponse,
    NetworkDisconnectRequest, NetworkPruneReport, NetworkResource,
};

#[derive(Debug, Subcommand)]
pub enum NetworkVerb {
    /// Create a network
    Create(CreateArgs),
    /// List networks
    #[command(visible_alias = "list")]
    Ls(LsArgs),
    /// Display detailed information on one or more networks
    Inspect(InspectArgs),
    /// Remove one or more networks
    #[command(visible_alias = "remove")]
    Rm(RmArgs),
    /// Remove all unused networks
    Prune(PruneArgs),
    /// Connect a container to a network
    Connect(ConnectArgs),
    /// Disconnect a container from a network
    Disconnect(DisconnectArgs),
}

#[derive(Debug, Clone, Default, Args)]
pub struct CreateArgs {
    /// Enable manual container attachment
    #[arg(long)]
    pub attachable: bool,
    /// Auxiliary IPv4 or IPv6 addresses used by Network driver
    #[arg(long = "aux-address", value_name = "map")]
    pub aux_address: Vec<String>,
    /// Driver to manage the Network
    #[arg(short = 'd', long, value_name = "string", default_value = "bridge")]
    pub driver: String,
    /// IPv4 or IPv6 Gateway for the master subnet
    #[arg(long, value_name = "strings")]
    pub gateway: Vec<String>,
    /// Create swarm routing-mesh network
    #[arg(long)]
    pub ingress: bool,
    /// Restrict external access to the network
    #[arg(long)]
    pub internal: bool,
    /// Allocate container ip from a sub-range
    #[arg(long = "ip-range", value_name = "strings")]
    pub ip_range: Vec<String>,
    /// IP Address Management Driver
    #[arg(long = "ipam-driver", value_name = "string", default_value = "default")]
    pub ipam_driver: String,
    /// Set IPAM driver specific options
    #[arg(long = "ipam-opt", value_name = "map")]
    pub ipam_opt: Vec<String>,
    /// Enable or disable IPv6 networking
    #[arg(long, num_args = 0..=1, default_missing_value = "true", require_equals = true)]
    pub ipv6: Option<bool>,
    /// Set metadata on a network
    #[arg(long, value_name = "list")]
    pub label: Vec<String>,
    /// Set driver specific options
    #[arg(short = 'o', long = "opt", value_name = "map")]
    pub opt: Vec<String>,
    /// Control the network's scope
    #[arg(long, value_name = "string")]
    pub scope: Option<String>,
    /// Subnet in CIDR format that represents a network segment
    #[arg(long, value_name = "strings")]
    pub subnet: Vec<String>,
    #[arg(value_name = "NETWORK")]
    pub name: String,
}

#[derive(Debug, Clone, Default, Args)]
pub struct LsArgs {
    /// Provide filter values (e.g. "driver=bridge")
    #[arg(short = 'f', long = "filter", value_name = "filter")]
    pub filters: Vec<String>,
    /// Format output using a custom template: 'table', 'table TEMPLATE', 'json', or a Go template
    #[arg(long, value_name = "string")]
    pub format: Option<String>,
    /// Do not truncate the output
    #[arg(long = "no-trunc")]
    pub no_trunc: bool,
    /// Only display network IDs
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Args)]
pub struct InspectArgs {
    /// Format output using a custom template: 'json', or a Go template
    #[arg(short = 'f', long, value_name = "string")]
    pub format: Option<String>,
    /// Verbose output for diagnostics
    #[arg(short = 'v', long)]
    pub verbose: bool,
    #[arg(value_name = "NETWORK", required = true)]
    pub networks: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct RmArgs {
    /// Do not error if the network does not exist
    #[arg(short = 'f', long)]
    pub force: bool,
    #[arg(value_name = "NETWORK", required = true)]
    pub networks: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct PruneArgs {
    /// Provide filter values (e.g. "until=<timestamp>")
    #[arg(long = "filter", value_name = "filter")]
    pub filters: Vec<String>,
    /// Do not prompt for confirmation
    #[arg(short = 'f', long)]
    pub force: bool,
}

#[derive(Debug, Clone, Args)]
pub struct ConnectArgs {
    /// Add network-scoped alias for the container
    #[arg(long, value_name = "strings")]
    pub alias: Vec<String>,
    /// driver options for the network
    #[arg(long = "driver-opt", value_name = "strings")]
    pub driver_opt: Vec<String>,
    /// IPv4 address (e.g., "172.30.100.104")
    #[arg(long, value_name = "ip")]
    pub ip: Option<String>,
    /// IPv6 address (e.g., "2001:db8::33")
    #[arg(long, value_name = "ip")]
    pub ip6: Option<String>,
    /// Add link to another container
    #[arg(long, value_name = "list")]
    pub link: Vec<String>,
    #[arg(value_name = "NETWORK")]
    pub network: String,
    #[arg(value_name = "CONTAINER")]
    pub container: String,
}

#[derive(Debug, Clone, Args)]
pub struct DisconnectArgs {
    /// Force the container to disconnect from a network
    #[arg(short = 'f', long)]
    pub force: bool,
    #[arg(value_name = "NETWORK")]
    pub network: String,
    #[arg(value_name = "CONTAINER")]
    pub container: String,
}

pub fn run(host: Option<&str>, verb: NetworkVerb) -> anyhow::Result<()> {
    with_client(host, |c| async move {
        match verb {
            NetworkVerb::Create(a) => create(&c, &a).await,
            NetworkVerb::Ls(a) => ls(&c, &a).await,
            NetworkVerb::Inspect(a) => inspect(&c, &a).await,
            NetworkVerb::Rm(a) => rm(&c, &a).await,
            NetworkVerb::Prune(a) => prune(&c, &a).await,
            NetworkVerb::Connect(a) => connect(&c, &a).await,
            NetworkVerb::Disconnect(a) => disconnect(&c, &a).await,
        }
    })
}

fn network_path(name: &str) -> String {
    format!("/networks/{}", percent_encode(name))
}

/// `network create`: prints the new network's ID.
pub async fn create(client: &Client, args: &CreateArgs) -> anyhow::Result<()> {
    let body = create_request(args)?;
    let created: NetworkCreateResponse = client
        .send_json(
            "POST",
            "/networks/create",
            &[],
            Some(serde_json::to_value(&body)?),
        )
        .await?;
    if !created.warning.is_empty() {
        eprintln!("{}", created.warning);
    }
    println!("{}", created.id);
    Ok(())
}

/// The body docker 28 sends for `network create` at API 1.43.
pub fn create_request(args: &CreateArgs) -> anyhow::Result<NetworkCreateRequest> {
    let ipam_config = consolidate_ipam(
        &args.subnet,
        &args.ip_range,
        &args.gateway,
        &key_values(&args.aux_address),
    )?;
    Ok(NetworkCreateRequest {
        name: args.name.clone(),
        check_duplicate: Some(true),
        driver: args.driver.clone(),
        scope: args.scope.clone().unwrap_or_default(),
        internal: args.internal,
        attachable: args.attachable,
        ingress: args.ingress,
        ipam: Some(Ipam {
            driver: args.ipam_driver.clone(),
            options: Some(key_values(&args.ipam_opt)),
            config: ipam_config,
        }),
        enable_ipv6: args.ipv6,
        options: key_values(&args.opt),
        labels: key_values(&args.label),
        config_only: false,
        config_from: None,
    })
}

/// `k=v` flags as a map; a bare `k` maps to `""` (the docker CLI's `MapOpts`).
fn key_values(flags: &[String]) -> BTreeMap<String, String> {
    flags
        .iter()
        .map(|f| {
            let (k, v) = f.split_once('=').unwrap_or((f, ""));
            (k.to_owned(), v.to_owned())
        })
        .collect()
}

/// The docker CLI's `consolidateIpam`: each range, gateway and auxiliary address goes
/// with the subnet that contains it; subnets keep the order they were given in.
pub fn consolidate_ipam(
    subnets: &[String],
    ranges: &[String],
    gateways: &[String],
    aux: &BTreeMap<String, String>,
) -> anyhow::Result<Vec<IpamConfig>> {
    if subnets.len() < ranges.len() || subnets.len() < gateways.len() {
        bail!("every ip-range or gateway must have a corresponding subnet");
    }
    let mut configs: Vec<IpamConfig> = Vec::new();
    for s in subnets {
        for existing in &configs {
            if subnet_matches(s, &existing.subnet)? || subnet_matches(&existing.subnet, s)? {
                bail!("multiple overlapping subnet configuration is not supported");
            }
        }
        configs.push(IpamConfig {
            subnet: s.clone(),
            ..IpamConfig::default()
        });
    }
    for r in ranges {
        let mut matched = false;
        for c in configs.iter_mut() {
            if !subnet_matches(&c.subnet, r)? {
                continue;
            }
            if !c.ip_range.is_empty() {
                bail!(
                    "cannot configure multiple ranges ({r}, {}) on the same subnet ({})",
                    c.ip_range,
                    c.subnet
                );
            }
            c.ip_range = r.clone();
            matched = true;
        }
        if !matched {
            bail!("no matching subnet for range {r}");
        }
    }
    for g in gateways {
        let mut matched = false;
        for c in configs.iter_mut() {
            if !subnet_matches(&c.subnet, g)? {
                continue;
            }
            if !c.gateway.is_empty() {
                bail!(
                    "cannot configure multiple gateways ({g}, {}) for the same subnet ({})",
                    c.gateway,
                    c.subnet
                );
            }
            c.gateway = g.clone();
            matched = true;
        }
        if !matched {
            bail!("no matching subnet for gateway {g}");
        }
    }
    for (key, address) in aux {
        let mut matched = false;
        for c in configs.iter_mut() {
            if subnet_matches(&c.subnet, address)? {
                c.auxiliary_addresses.insert(key.clone(), address.clone());
                matched = true;
            }
        }
        if !matched {
            bail!("no matching subnet for aux-address {address}");
        }
    }
    Ok(configs)
}

/// Whether `data` (an address or the address of a CIDR) lies in `subnet`.
fn subnet_matches(subnet: &str, data: &str) -> anyhow::Result<bool> {
    let net: IpNet = subnet
        .parse()
        .map_err(|_| anyhow::anyhow!("invalid subnet: invalid CIDR address: {subnet}"))?;
    let ip = if data.contains('/') {
        data.parse::<IpNet>()
            .map(|n| Some(n.addr()))
            .map_err(|_| anyhow::anyhow!("invalid CIDR address: {data}"))?
    } else {
        data.parse::<IpAddr>().ok()
    };
    Ok(ip.is_some_and(|ip| net.contains(&ip)))
}

const LS_TABLE: &str = "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}";

/// `network ls`: sorted by name in natural order, as the docker CLI.
pub async fn ls(client: &Client, args: &LsArgs) -> anyhow::Result<()> {
    let filters = filters_json(&args.filters, &[])?;
    let path = format!("/networks{}", query(&[("filters", &filters)]));
    let networks: Vec<NetworkResource> = client.get_json(&path).await?;
    print!("{}", render_ls(networks, args)?);
    Ok(())
}

fn render_ls(mut networks: Vec<NetworkResource>, args: &LsArgs) -> anyhow::Result<String> {
    networks.sort_by(|a, b| natural_cmp(&a.name, &b.name));
    let source = args.format.as_deref().unwrap_or("");
    let format = if args.quiet && matches!(source.trim(), "" | "table") {
        ListFormat {
            table: false,
            template: "{{.ID}}".into(),
        }
    } else {
        ListFormat::parse(source, LS_TABLE)
    };
    let rows: Vec<Data> = networks.iter().map(|n| ls_row(n, !args.no_trunc)).collect();
    let header = Data::map(
        [
            ("CreatedAt", "CREATED AT"),
            ("Driver", "DRIVER"),
            ("ID", "NETWORK ID"),
            ("IPv4", "IPV4"),
            ("IPv6", "IPV6"),
            ("Internal", "INTERNAL"),
            ("Labels", "LABELS"),
            ("Name", "NAME"),
            ("Scope", "SCOPE"),
        ]
        .map(|(k, v)| (k, Data::str(v))),
    );
    render_list(&format, &header, &rows).map_err(|e| anyhow::anyhow!("template parsing error: {e}"))
}

/// The docker CLI's `networkContext`, fields sorted as its JSON form. `IPv4` reads
/// `false`: API 1.43 has no `EnableIPv4`, and docker 28 prints it so against berth.
fn ls_row(n: &NetworkResource, trunc: bool) -> Data {
    let labels = n
        .labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",");
    Data::map([
        ("CreatedAt", Data::str(go_time(&n.created))),
        ("Driver", Data::str(n.driver.clone())),
        (
            "ID",
            Data::str(if trunc {
                truncate_id(&n.id)
            } else {
                n.id.clone()
            }),
        ),
        ("IPv4", Data::str("false")),
        ("IPv6", Data::str(n.enable_ipv6.to_string())),
        ("Internal", Data::str(n.internal.to_string())),
        ("Labels", Data::str(labels)),
        ("Name", Data::str(n.name.clone())),
        ("Scope", Data::str(n.scope.clone())),
    ])
}

/// Go's `time.Time.String()` of an RFC 3339 time: `2024-05-01 10:00:00.5 +0000 UTC`
/// (fraction without trailing zeros); the text as given when it does not parse.
fn go_time(rfc3339: &str) -> String {
    let Ok(t) = chrono::DateTime::parse_from_rfc3339(rfc3339) else {
        return rfc3339.to_owned();
    };
    let nanos = t.timestamp_subsec_nanos();
    let fraction = if nanos == 0 {
        String::new()
    } else {
        format!(".{nanos:09}").trim_end_matches('0').to_owned()
    };
    let offset = t.format("%z").to_string();
    let zone = if t.offset().local_minus_utc() == 0 {
        "UTC".to_owned()
    } else {
        offset.clone()
    };
    format!(
        "{}{fraction} {offset} {zone}",
        t.format("%Y-%m-%d %H:%M:%S")
    )
}

/// `sortorder.NaturalLess` as an ordering: runs of digits compare as numbers (fewer
/// leading zeros first on a tie), digits sort before other bytes, the rest bytewise.
pub fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        let (da, db) = (a[i].is_ascii_digit(), b[j].is_ascii_digit());
        if da != db {
            return if da {
                Ordering::Less
            } else {
                Ordering::Greater
            };
        }
        if !da {
            if a[i] != b[j] {
                return a[i].cmp(&b[j]);
            }
            i += 1;
            j += 1;
            continue;
        }
        while i < a.len() && a[i] == b'0' {
            i += 1;
        }
        while j < b.len() && b[j] == b'0' {
            j += 1;
        }
        let (start_a, start_b) = (i, j);
        while i < a.len() && a[i].is_ascii_digit() {
            i += 1;
        }
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        let (na, nb) = (&a[start_a..i], &b[start_b..j]);
        let by_number = na.len().cmp(&nb.len()).then_with(|| na.cmp(nb));
        if by_number.is_ne() {
            return by_number;
        }
        if start_a != start_b {
            return start_a.cmp(&start_b);
        }
    }
    // Go's tie-break compares the whole lengths.
    a.len().cmp(&b.len())
}

/// `network inspect`: the daemon's JSON, an indented array or each through `--format`.
/// Networks that fail are reported after the others, and exit 1.
pub async fn inspect(client: &Client, args: &InspectArgs) -> anyhow::Result<()> {
    let suffix = if args.verbose { "?verbose=true" } else { "" };
    let paths: Vec<String> = args
        .networks
        .iter()
        .map(|name| format!("{}{suffix}", network_path(name)))
        .collect();
    inspect_paths(client, &paths, args.format.as_deref()).await
}

/// `network rm`: each name on stdout once removed; errors on stderr, then docker 28's
/// closing `exit status 1` line, and exit 1. `-f` ignores networks that do not exist.
pub async fn rm(client: &Client, args: &RmArgs) -> anyhow::Result<()> {
    let mut failed = false;
    for name in &args.networks {
        let result = client
            .send_json::<serde_json::Value>("DELETE", &network_path(name), &[], None)
            .await;
        match result {
            Ok(_) => println!("{name}"),
            Err(ClientError::Api { status: 404, .. }) if args.force => {}
            Err(e) => {
                eprintln!("{e}");
                failed = true;
            }
        }
    }
    if failed {
        eprintln!("exit status 1");
        return Err(StatusError(1).into());
    }
    Ok(())
}

const PRUNE_WARNING: &str = "WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue?";

/// `network prune`: asks first unless `-f`; a "no" ends quietly with exit 0, as docker 28.
pub async fn prune(client: &Client, args: &PruneArgs) -> anyhow::Result<()> {
    if !args.force && !confirm(PRUNE_WARNING)? {
        return Ok(());
    }
    let filters = filters_json(&args.filters, &[])?;
    let path = format!("/networks/prune{}", query(&[("filters", &filters)]));
    let report: NetworkPruneReport = client.send_json("POST", &path, &[], None).await?;
    print!("{}", prune_output(&report));
    Ok(())
}

/// `Deleted Networks:` and the names, then the blank line `Fprintln` adds; nothing when
/// nothing was removed.
fn prune_output(report: &NetworkPruneReport) -> String {
    let deleted = report.networks_deleted.as_deref().unwrap_or_default();
    if deleted.is_empty() {
        return String::new();
    }
    let mut out = "Deleted Networks:\n".to_owned();
    for name in deleted {
        out.push_str(name);
        out.push('\n');
    }
    out.push('\n');
    out
}

/// `network connect`: silent on success.
pub async fn connect(client: &Client, args: &ConnectArgs) -> anyhow::Result<()> {
    let body = connect_request(args);
    client
        .send_json::<serde_json::Value>(
            "POST",
            &format!("{}/connect", network_path(&args.network)),
            &[],
            Some(serde_json::to_value(&body)?),
        )
        .await?;
    Ok(())
}

/// The body docker 28 sends: `IPAMConfig`, `Aliases` and `DriverOpts` always present
/// (empty when not given), `Links` only when given.
pub fn connect_request(args: &ConnectArgs) -> NetworkConnectRequest {
    let mut ipam = serde_json::Map::new();
    if let Some(ip) = args.ip.as_deref().filter(|ip| !ip.is_empty()) {
        ipam.insert("IPv4Address".into(), ip.into());
    }
    if let Some(ip) = args.ip6.as_deref().filter(|ip| !ip.is_empty()) {
        ipam.insert("IPv6Address".into(), ip.into());
    }
    NetworkConnectRequest {
        container: args.container.clone(),
        endpoint_config: Some(EndpointSettings {
            ipam_config: Some(serde_json::Value::Object(ipam)),
            links: (!args.link.is_empty()).then(|| args.link.clone()),
            aliases: Some(args.alias.clone()),
            driver_opts: Some(key_values(&args.driver_opt)),
            ..EndpointSettings::default()
        }),
    }
}

/// `network disconnect`: silent on success.
pub async fn disconnect(client: &Client, args: &DisconnectArgs) -> anyhow::Result<()> {
    let body = NetworkDisconnectRequest {
        container: args.container.clone(),
        force: args.force,
    };
    client
        .send_json::<serde_json::Value>(
            "POST",
            &format!("{}/disconnect", network_path(&args.network)),
            &[],
            Some(serde_json::to_value(&body)?),
        )
        .await?;
    Ok(())
}

#[cfg(test)]
#[path = "networks_tests.rs"]
mod tests;
