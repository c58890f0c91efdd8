//! IP address management, pure: default address pools split into subnets (Docker's
//! 172.17.0.0/16, 172.18-31.0.0/16, 192.168.0.0/16 in /20s), skipping subnets in use or
//! routed on the host; per-network address allocation (gateway, `--ip-range`, static
//! addresses, never two live endpoints with one address).
//!
//! No kernel access and no persistence here: the network manager hands in the subnets it
//! must avoid and stores [`SubnetPool`]s in its records. IPv6 pools are only what the user
//! gives (no default IPv6 pools yet).

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

/// Docker's text when every default subnet is taken.
pub const NO_DEFAULT_POOL: &str = "could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network";

/// One `default-address-pools` entry: `base` split into subnets of prefix `size`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolSpec {
    pub base: IpNet,
    pub size: u8,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum IpamError {
    /// 400: a malformed or inconsistent request.
    #[error("{0}")]
    Invalid(String),
    /// 403: an address or subnet already taken.
    #[error("{0}")]
    Forbidden(String),
    /// No free subnet or address left.
    #[error("{0}")]
    Exhausted(String),
}

/// Docker's default pools.
pub fn default_pools() -> Vec<PoolSpec> {
    let mut pools: Vec<PoolSpec> = (17u8..=31)
        .map(|b| PoolSpec {
            base: IpNet::new(IpAddr::V4(Ipv4Addr::new(172, b, 0, 0)), 16).expect("valid prefix"),
            size: 16,
        })
        .collect();
    pools.push(PoolSpec {
        base: IpNet::new(IpAddr::V4(Ipv4Addr::new(192, 168, 0, 0)), 16).expect("valid prefix"),
        size: 20,
    });
    pools
}

/// Whether two networks share an address.
pub fn overlaps(a: &IpNet, b: &IpNet) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

/// The first subnet carved from `pools` (IPv4 ones) that overlaps nothing in `taken`.
/// Default routes (`/0`) in `taken` are ignored, as Docker ignores them.
pub fn pick_subnet(pools: &[PoolSpec], taken: &[IpNet]) -> Result<IpNet, IpamError> {
    let taken: Vec<&IpNet> = taken.iter().filter(|n| n.prefix_len() > 0).collect();
    for pool in pools {
        if !matches!(pool.base, IpNet::V4(_)) || pool.size < pool.base.prefix_len() {
            continue;
        }
        let Ok(subnets) = pool.base.trunc().subnets(pool.size) else {
            continue;
        };
        for candidate in subnets {
            if !taken.iter().any(|t| overlaps(t, &candidate)) {
                return Ok(candidate);
            }
        }
    }
    Err(IpamError::Exhausted(NO_DEFAULT_POOL.to_owned()))
}

/// One subnet of a network and the addresses handed out in it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubnetPool {
    /// Without host bits (`172.18.0.0/16`).
    pub subnet: IpNet,
    pub gateway: IpAddr,
    /// `--ip-range`: where automatic addresses come from.
    #[serde(default)]
    pub range: Option<IpNet>,
    /// `--aux-address name=ip`: never handed out.
    #[serde(default)]
    pub aux: BTreeMap<String, IpAddr>,
    /// Owner (container ID) → address.
    #[serde(default)]
    pub allocated: BTreeMap<String, IpAddr>,
    /// The last address handed out automatically: the next search starts after it, so a
    /// released address is not reused at once.
    #[serde(default)]
    pub last: Option<IpAddr>,
    /// The user gave the subnet (static addresses are allowed only then, as Docker).
    #[serde(default)]
    pub user: bool,
}

fn to_u128(addr: IpAddr) -> u128 {
    match addr {
        IpAddr::V4(a) => u32::from(a) as u128,
        IpAddr::V6(a) => u128::from(a),
    }
}

fn from_u128(v4: bool, n: u128) -> IpAddr {
    if v4 {
        IpAddr::V4(Ipv4Addr::from(n as u32))
    } else {
        IpAddr::V6(Ipv6Addr::from(n))
    }
}

/// The usable host addresses of `net`: without the network address, and for IPv4 without
/// the broadcast address (both kept for /31 and /32).
fn host_bounds(net: &IpNet) -> (u128, u128) {
    let first = to_u128(net.network());
    let last = to_u128(net.broadcast());
    let v4 = matches!(net, IpNet::V4(_));
    let max = if v4 { 32 } else { 128 };
    if net.prefix_len() + 1 >= max {
        (first, last)
    } else if v4 {
        (first + 1, last - 1)
    } else {
        (first + 1, last)
    }
}

fn parse_net(kind: &str, text: &str) -> Result<IpNet, IpamError> {
    text.parse::<IpNet>()
        .map_err(|_| IpamError::Invalid(format!("invalid {kind} {text}: invalid CIDR address")))
}

fn parse_addr(kind: &str, text: &str) -> Result<IpAddr, IpamError> {
    text.parse::<IpAddr>().map_err(|_| {
        IpamError::Invalid(format!(
            "invalid {kind}: ParseAddr(\"{text}\"): unable to parse IP"
        ))
    })
}

impl SubnetPool {
    /// A subnet the user asked for (`--subnet`, `--gateway`, `--ip-range`,
    /// `--aux-address`), validated with Docker's texts. The gateway defaults to the first
    /// host address.
    pub fn from_user(
        subnet: &str,
        gateway: &str,
        range: &str,
        aux: &BTreeMap<String, String>,
    ) -> Result<SubnetPool, IpamError> {
        let net = parse_net("subnet", subnet)?;
        if net.trunc() != net {
            return Err(IpamError::Invalid(format!(
                "invalid subnet {net}: it should be {}",
                net.trunc()
            )));
        }
        let range = if range.is_empty() {
            None
        } else {
            let r = parse_net("ip-range", range)?;
            if r.trunc() != r {
                return Err(IpamError::Invalid(format!(
                    "invalid ip-range {r}: it should be {}",
                    r.trunc()
                )));
            }
            if !net.contains(&r) {
                return Err(IpamError::Invalid(format!(
                    "invalid ip-range {r}: parent subnet {net} doesn't contain ip-range {r}"
                )));
            }
            Some(r)
        };
        let mut pool = SubnetPool::new(net);
        pool.user = true;
        pool.range = range;
        if !gateway.is_empty() {
            let gw = parse_addr("gateway address", gateway)?;
            if !net.contains(&gw) {
                return Err(IpamError::Invalid(format!(
                    "invalid gateway address: {gw} does not belong to subnet {net}"
                )));
            }
            pool.gateway = gw;
        }
        for (name, text) in aux {
            let a = parse_addr("auxiliary address", text)?;
            if !net.contains(&a) {
                return Err(IpamError::Invalid(format!(
                    "invalid auxiliary address {name}: {a} does not belong to subnet {net}"
                )));
            }
            pool.aux.insert(name.clone(), a);
        }
        Ok(pool)
    }

    /// An automatic subnet: the gateway is the first host address.
    pub fn new(subnet: IpNet) -> SubnetPool {
        let subnet = subnet.trunc();
        let v4 = matches!(subnet, IpNet::V4(_));
        let gateway = from_u128(v4, host_bounds(&subnet).0);
        SubnetPool {
            subnet,
            gateway,
            range: None,
            aux: BTreeMap::new(),
            allocated: BTreeMap::new(),
            last: None,
            user: false,
        }
    }

    pub fn is_v4(&self) -> bool {
        matches!(self.subnet, IpNet::V4(_))
    }

    /// `addr` with the subnet's prefix (`172.18.0.2/16`).
    pub fn with_prefix(&self, addr: IpAddr) -> IpNet {
        IpNet::new(addr, self.subnet.prefix_len()).unwrap_or_else(|_| IpNet::from(addr))
    }

    /// The gateway with the subnet's prefix, as the bridge carries it.
    pub fn gateway_net(&self) -> IpNet {
        self.with_prefix(self.gateway)
    }

    fn in_use(&self, addr: IpAddr) -> bool {
        addr == self.gateway
            || self.aux.values().any(|a| *a == addr)
            || self.allocated.values().any(|a| *a == addr)
    }

    /// What `owner` holds here.
    pub fn address_of(&self, owner: &str) -> Option<IpAddr> {
        self.allocated.get(owner).copied()
    }

    /// Reserves `addr` for `owner`: Docker's errors when it is outside the subnet or taken.
    pub fn reserve(&mut self, owner: &str, addr: IpAddr) -> Result<(), IpamError> {
        if self.allocated.get(owner) == Some(&addr) {
            return Ok(());
        }
        if !self.subnet.contains(&addr) {
            return Err(IpamError::Invalid(format!(
                "Invalid address {addr}: It does not belong to any of this network's subnets"
            )));
        }
        if self.in_use(addr) {
            return Err(IpamError::Forbidden("Address already in use".to_owned()));
        }
        self.allocated.insert(owner.to_owned(), addr);
        Ok(())
    }

    /// Hands `owner` the next free address after the last one handed out (wrapping), from
    /// the ip-range when there is one. An owner that already holds one keeps it.
    pub fn allocate(&mut self, owner: &str) -> Result<IpAddr, IpamError> {
        if let Some(a) = self.allocated.get(owner) {
            return Ok(*a);
        }
        let v4 = self.is_v4();
        let (sub_lo, sub_hi) = host_bounds(&self.subnet);
        let (lo, hi) = match &self.range {
            Some(r) => {
                let (rl, rh) = (to_u128(r.network()), to_u128(r.broadcast()));
                (rl.max(sub_lo), rh.min(sub_hi))
            }
            None => (sub_lo, sub_hi),
        };
        let exhausted = || IpamError::Exhausted("no available addresses on this pool".to_owned());
        if lo > hi {
            return Err(exhausted());
        }
        let size = hi - lo + 1;
        let start = match self.last.map(to_u128) {
            Some(l) if l >= lo && l < hi => l + 1,
            _ => lo,
        };
        // Only taken addresses are skipped, so a free one turns up within `taken + 1` steps.
        let taken = (self.allocated.len() + self.aux.len() + 1) as u128;
        let steps = size.min(taken + 1);
        for i in 0..steps {
            let n = lo + (start - lo + i) % size;
            let addr = from_u128(v4, n);
            if !self.in_use(addr) {
                self.allocated.insert(owner.to_owned(), addr);
                self.last = Some(addr);
                return Ok(addr);
            }
        }
        Err(exhausted())
    }

    /// Frees what `owner` holds; absent is fine.
    pub fn release(&mut self, owner: &str) {
        self.allocated.remove(owner);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> IpNet {
        s.parse().expect("net")
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn default_pools_are_dockers() {
        let p = default_pools();
        assert_eq!(p.len(), 16);
        assert_eq!(p[0].base, net("172.17.0.0/16"));
        assert_eq!(p[14].base, net("172.31.0.0/16"));
        assert_eq!((p[15].base, p[15].size), (net("192.168.0.0/16"), 20));
    }

    #[test]
    fn carving_skips_taken_and_routed_subnets() {
        let pools = default_pools();
        assert_eq!(pick_subnet(&pools, &[]).unwrap(), net("172.17.0.0/16"));
        let taken = [net("0.0.0.0/0"), net("172.17.0.0/16"), net("172.18.5.0/24")];
        assert_eq!(pick_subnet(&pools, &taken).unwrap(), net("172.19.0.0/16"));
        let mut all: Vec<IpNet> = (17..=31).map(|b| net(&format!("172.{b}.0.0/16"))).collect();
        all.push(net("192.168.0.0/20"));
        assert_eq!(pick_subnet(&pools, &all).unwrap(), net("192.168.16.0/20"));
    }

    #[test]
    fn carving_from_configured_pools_and_exhaustion() {
        let pools = [PoolSpec {
            base: net("10.7.0.0/23"),
            size: 24,
        }];
        assert_eq!(pick_subnet(&pools, &[]).unwrap(), net("10.7.0.0/24"));
        assert_eq!(
            pick_subnet(&pools, &[net("10.7.0.0/24")]).unwrap(),
            net("10.7.1.0/24")
        );
        let err = pick_subnet(&pools, &[net("10.0.0.0/8")]).unwrap_err();
        assert_eq!(err.to_string(), NO_DEFAULT_POOL);
    }

    #[test]
    fn gateway_is_first_host_and_addresses_follow() {
        let mut p = SubnetPool::new(net("172.18.0.0/16"));
        assert_eq!(p.gateway, ip("172.18.0.1"));
        assert_eq!(p.allocate("a").unwrap(), ip("172.18.0.2"));
        assert_eq!(p.allocate("b").unwrap(), ip("172.18.0.3"));
        // Idempotent for one owner.
        assert_eq!(p.allocate("a").unwrap(), ip("172.18.0.2"));
        assert_eq!(p.with_prefix(ip("172.18.0.2")), net("172.18.0.2/16"));
    }

    #[test]
    fn released_address_is_not_reused_at_once() {
        let mut p = SubnetPool::new(net("10.1.0.0/24"));
        assert_eq!(p.allocate("a").unwrap(), ip("10.1.0.2"));
        p.release("a");
        assert_eq!(p.allocate("b").unwrap(), ip("10.1.0.3"));
    }

    #[test]
    fn allocation_wraps_and_exhausts() {
        let mut p = SubnetPool::new(net("10.1.0.0/29")); // hosts .1-.6, gateway .1
        for (i, o) in ["a", "b", "c", "d", "e"].iter().enumerate() {
            assert_eq!(p.allocate(o).unwrap(), ip(&format!("10.1.0.{}", i + 2)));
        }
        assert!(matches!(p.allocate("f"), Err(IpamError::Exhausted(_))));
        p.release("b");
        assert_eq!(p.allocate("f").unwrap(), ip("10.1.0.3"));
    }

    #[test]
    fn ip_range_gateway_and_aux_are_honoured() {
        let aux = BTreeMap::from([("host".to_string(), "10.2.1.0".to_string())]);
        let mut p =
            SubnetPool::from_user("10.2.0.0/16", "10.2.0.254", "10.2.1.0/24", &aux).expect("valid");
        assert_eq!(p.gateway, ip("10.2.0.254"));
        assert_eq!(p.allocate("a").unwrap(), ip("10.2.1.1"));
        let mut q = SubnetPool::from_user("10.3.0.0/24", "", "", &BTreeMap::new()).unwrap();
        assert_eq!(q.gateway, ip("10.3.0.1"));
        assert!(q.user);
        assert_eq!(q.allocate("a").unwrap(), ip("10.3.0.2"));
    }

    #[test]
    fn user_subnet_errors_use_dockers_texts() {
        let none = BTreeMap::new();
        let e = SubnetPool::from_user("10.2.0.1/16", "", "", &none).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid subnet 10.2.0.1/16: it should be 10.2.0.0/16"
        );
        let e = SubnetPool::from_user("10.2.0.0/16", "10.3.0.1", "", &none).unwrap_err();
        assert!(e.to_string().contains("does not belong to subnet"), "{e}");
        let e = SubnetPool::from_user("10.2.0.0/16", "", "10.3.0.0/24", &none).unwrap_err();
        assert!(e.to_string().contains("doesn't contain ip-range"), "{e}");
        assert!(SubnetPool::from_user("nonsense", "", "", &none).is_err());
    }

    #[test]
    fn static_addresses_must_be_inside_and_free() {
        let mut p = SubnetPool::new(net("10.4.0.0/24"));
        p.reserve("a", ip("10.4.0.9")).expect("free");
        assert_eq!(
            p.reserve("b", ip("10.4.0.9")).unwrap_err().to_string(),
            "Address already in use"
        );
        assert_eq!(
            p.reserve("b", ip("10.4.0.1")).unwrap_err().to_string(),
            "Address already in use"
        );
        assert_eq!(
            p.reserve("b", ip("10.5.0.9")).unwrap_err().to_string(),
            "Invalid address 10.5.0.9: It does not belong to any of this network's subnets"
        );
        // Automatic allocation steps around the static one.
        p.last = Some(ip("10.4.0.8"));
        assert_eq!(p.allocate("c").unwrap(), ip("10.4.0.10"));
    }

    #[test]
    fn ipv6_subnets_allocate_too() {
        let mut p = SubnetPool::from_user("fd00:1::/64", "", "", &BTreeMap::new()).unwrap();
        assert_eq!(p.gateway, ip("fd00:1::1"));
        assert_eq!(p.allocate("a").unwrap(), ip("fd00:1::2"));
        assert!(overlaps(&net("fd00::/16"), &net("fd00:1::/64")));
        assert!(!overlaps(&net("10.0.0.0/8"), &net("fd00:1::/64")));
    }
}
