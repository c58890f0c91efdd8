//! Where a registry domain is reached: `docker.io` at `https://registry-1.docker.io`, loopback
//! and configured insecure registries over plain HTTP, everything else over HTTPS.
//!
//! Pure: no I/O. Docker also tries HTTPS first for insecure registries; we go straight to
//! HTTP, because the registries we are told are insecure are the ones that only speak it.

use std::net::IpAddr;

use super::RegistryConfig;

/// `https://registry-1.docker.io`, `http://127.0.0.1:5000`: the URL prefix before `/v2/`.
pub fn base_url(domain: &str, config: &RegistryConfig) -> String {
    if domain == "docker.io" {
        return "https://registry-1.docker.io".to_string();
    }
    let scheme = if is_plain_http(domain, config) {
        "http"
    } else {
        "https"
    };
    format!("{scheme}://{domain}")
}

/// Whether `domain` (`host[:port]`) is spoken to over plain HTTP.
pub fn is_plain_http(domain: &str, config: &RegistryConfig) -> bool {
    let host = host_of(domain);
    if host == "localhost" {
        return true;
    }
    let ip = host.parse::<IpAddr>().ok();
    if ip.is_some_and(|ip| ip.is_loopback()) {
        return true;
    }
    config.insecure_registries.iter().any(|entry| {
        let entry = entry.trim();
        match entry.split_once('/') {
            Some((net, bits)) if !entry.contains("://") => {
                ip.is_some_and(|ip| cidr_contains(net, bits, ip))
            }
            _ => strip_scheme(entry).trim_end_matches('/') == domain,
        }
    })
}

/// The domain a `POST /auth` server address names: `https://index.docker.io/v1/` is Docker
/// Hub, `http://127.0.0.1:5000` is `127.0.0.1:5000`.
pub fn domain_of_server_address(address: &str) -> String {
    let rest = strip_scheme(address.trim());
    let host = rest.split('/').next().unwrap_or("");
    match host {
        "" | "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com" => {
            "docker.io".to_string()
        }
        other => other.to_ascii_lowercase(),
    }
}

fn strip_scheme(s: &str) -> &str {
    s.strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
        .unwrap_or(s)
}

/// The host of `host[:port]`, `[v6]:port` or a bare IPv6 address.
fn host_of(domain: &str) -> &str {
    if let Some(rest) = domain.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    if domain.matches(':').count() > 1 {
        return domain;
    }
    domain.split(':').next().unwrap_or(domain)
}

fn cidr_contains(net: &str, bits: &str, ip: IpAddr) -> bool {
    let (Ok(net), Ok(bits)) = (net.parse::<IpAddr>(), bits.parse::<u32>()) else {
        return false;
    };
    match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(a)) if bits <= 32 => {
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            u32::from(n) & mask == u32::from(a) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(a)) if bits <= 128 => {
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            u128::from(n) & mask == u128::from(a) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(entries: &[&str]) -> RegistryConfig {
        RegistryConfig {
            insecure_registries: entries.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn docker_hub_goes_to_registry_1() {
        assert_eq!(
            base_url("docker.io", &config(&[])),
            "https://registry-1.docker.io"
        );
    }

    #[test]
    fn loopback_is_plain_http() {
        let c = config(&[]);
        assert_eq!(base_url("127.0.0.1:5000", &c), "http://127.0.0.1:5000");
        assert_eq!(base_url("127.1.2.3:80", &c), "http://127.1.2.3:80");
        assert_eq!(base_url("localhost:5000", &c), "http://localhost:5000");
        assert_eq!(base_url("[::1]:5000", &c), "http://[::1]:5000");
        assert_eq!(base_url("ghcr.io", &c), "https://ghcr.io");
        assert_eq!(base_url("10.0.0.5:5000", &c), "https://10.0.0.5:5000");
    }

    #[test]
    fn insecure_registries_by_host_or_cidr() {
        let c = config(&["myreg.example:5000", "10.1.0.0/16"]);
        assert!(is_plain_http("myreg.example:5000", &c));
        assert!(!is_plain_http("myreg.example", &c));
        assert!(is_plain_http("10.1.200.3:5000", &c));
        assert!(!is_plain_http("10.2.0.1:5000", &c));
    }

    #[test]
    fn server_addresses_name_domains() {
        assert_eq!(
            domain_of_server_address("https://index.docker.io/v1/"),
            "docker.io"
        );
        assert_eq!(domain_of_server_address(""), "docker.io");
        assert_eq!(
            domain_of_server_address("http://127.0.0.1:5000"),
            "127.0.0.1:5000"
        );
        assert_eq!(
            domain_of_server_address("127.0.0.1:5000/"),
            "127.0.0.1:5000"
        );
    }
}
