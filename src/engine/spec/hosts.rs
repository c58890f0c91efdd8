//! The files Docker writes per container: `/etc/hosts` (libnetwork's `etchosts`),
//! `/etc/hostname`, and `/etc/resolv.conf` derived from the host's (libnetwork's
//! `resolvconf`). Pure: the caller reads the host's resolv.conf and writes the results.

use std::net::IpAddr;

use super::{ExtraHost, HostAddr, SpecError};

/// Docker's fixed `/etc/hosts` head, tab-separated.
const DEFAULT_HOSTS: [(&str, &str); 6] = [
    ("127.0.0.1", "localhost"),
    ("::1", "localhost ip6-localhost ip6-loopback"),
    ("fe00::0", "ip6-localnet"),
    ("ff00::0", "ip6-mcastprefix"),
    ("ff02::1", "ip6-allnodes"),
    ("ff02::2", "ip6-allrouters"),
];

/// What goes into a container's `/etc/hosts`.
#[derive(Clone, Debug, Default)]
pub struct HostsFile<'a> {
    pub hostname: &'a str,
    pub domainname: &'a str,
    /// `--add-host` entries, in order.
    pub extra_hosts: &'a [ExtraHost],
    /// The address `host-gateway` stands for; `None` when the network step has none.
    pub host_gateway: Option<IpAddr>,
    /// The container's own addresses; each gets a line naming the container.
    pub own_addresses: &'a [IpAddr],
}

/// Defaults, then `--add-host` lines, then the container's own lines, as a Docker container
/// sees its `/etc/hosts`.
pub fn render_hosts(file: &HostsFile<'_>) -> Result<String, SpecError> {
    let mut out = String::new();
    for (ip, names) in DEFAULT_HOSTS {
        out.push_str(&format!("{ip}\t{names}\n"));
    }
    for host in file.extra_hosts {
        let ip = match host.addr {
            HostAddr::Ip(ip) => ip,
            HostAddr::HostGateway => file.host_gateway.ok_or_else(|| {
                SpecError::invalid("unable to derive the IP value for host-gateway")
            })?,
        };
        out.push_str(&format!("{ip}\t{}\n", host.name));
    }
    let names = own_names(file.hostname, file.domainname);
    for ip in file.own_addresses {
        out.push_str(&format!("{ip}\t{names}\n"));
    }
    Ok(out)
}

/// `fqdn short` when the name has a domain part, else just the hostname.
fn own_names(hostname: &str, domainname: &str) -> String {
    let fqdn = if domainname.is_empty() {
        hostname.to_string()
    } else {
        format!("{hostname}.{domainname}")
    };
    match fqdn.split_once('.') {
        Some((short, _)) => format!("{fqdn} {short}"),
        None => fqdn,
    }
}

/// `/etc/hostname`: the hostname and a newline.
pub fn render_hostname(hostname: &str) -> String {
    format!("{hostname}\n")
}

/// `--dns`, `--dns-search`, `--dns-option` as given.
#[derive(Clone, Copy, Debug, Default)]
pub struct DnsOverrides<'a> {
    pub servers: &'a [String],
    pub search: &'a [String],
    pub options: &'a [String],
}

const FALLBACK_V4: [&str; 2] = ["8.8.8.8", "8.8.4.4"];
const FALLBACK_V6: [&str; 2] = ["2001:4860:4860::8888", "2001:4860:4860::8844"];

/// The container's `/etc/resolv.conf` from the host's content.
///
/// Without overrides: the host's file minus loopback nameservers (they cannot be reached
/// from another network namespace) and, unless `ipv6`, minus IPv6 ones; when none is left,
/// Google's public servers, as Docker does. With any override: a new file of `search`,
/// `nameserver` and `options` lines, each part taken from the override or else from the
/// host (unfiltered, like Docker).
pub fn render_resolv_conf(host: &str, overrides: &DnsOverrides<'_>, ipv6: bool) -> String {
    let any_override = !overrides.servers.is_empty()
        || !overrides.search.is_empty()
        || !overrides.options.is_empty();
    if any_override {
        return build_resolv_conf(host, overrides);
    }
    let mut out = String::new();
    for line in host.lines() {
        let drop =
            nameserver_of(line).is_some_and(|ns| is_loopback(ns) || (!ipv6 && ns.contains(':')));
        if !drop {
            out.push_str(line);
            out.push('\n');
        }
    }
    if nameservers(&out).is_empty() {
        let fallback = FALLBACK_V4
            .iter()
            .chain(if ipv6 { &FALLBACK_V6[..] } else { &[] });
        for ns in fallback {
            out.push_str(&format!("nameserver {ns}\n"));
        }
    }
    out
}

/// The `/etc/resolv.conf` of a container on a user-defined network, as Docker writes it
/// for its embedded DNS server: `servers` (`127.0.0.11`) as the only nameservers, the
/// search domains and options of the overrides or else of the host, and `ndots:0` unless
/// an `ndots` option is given. `--dns` servers are not written (Docker makes them the
/// embedded server's upstreams).
pub fn render_internal_resolv_conf(
    host: &str,
    servers: &[IpAddr],
    overrides: &DnsOverrides<'_>,
) -> String {
    let servers: Vec<String> = servers.iter().map(IpAddr::to_string).collect();
    let mut options = if overrides.options.is_empty() {
        last_directive(host, "options")
    } else {
        overrides.options.to_vec()
    };
    if !options.iter().any(|o| o.starts_with("ndots:")) {
        options.push("ndots:0".into());
    }
    build_resolv_conf(
        host,
        &DnsOverrides {
            servers: &servers,
            search: overrides.search,
            options: &options,
        },
    )
}

fn build_resolv_conf(host: &str, overrides: &DnsOverrides<'_>) -> String {
    let pick = |mine: &[String], theirs: Vec<String>| {
        if mine.is_empty() {
            theirs
        } else {
            mine.to_vec()
        }
    };
    let servers = pick(overrides.servers, nameservers(host));
    let search = pick(overrides.search, last_directive(host, "search"));
    let options = pick(overrides.options, last_directive(host, "options"));
    let mut out = String::new();
    let search = search.join(" ");
    // `--dns-search .` means "no search domains".
    if !search.is_empty() && search.trim() != "." {
        out.push_str(&format!("search {search}\n"));
    }
    for ns in servers {
        out.push_str(&format!("nameserver {ns}\n"));
    }
    let options = options.join(" ");
    if !options.trim().is_empty() {
        out.push_str(&format!("options {options}\n"));
    }
    out
}

/// Content without its comment (`#` or `;` to the end of the line).
fn uncommented(line: &str) -> &str {
    line.split(['#', ';']).next().unwrap_or_default()
}

/// The address of a `nameserver` line.
fn nameserver_of(line: &str) -> Option<&str> {
    let mut fields = uncommented(line).split_whitespace();
    match (fields.next(), fields.next(), fields.next()) {
        (Some("nameserver"), Some(ns), None) => Some(ns),
        _ => None,
    }
}

fn nameservers(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(nameserver_of)
        .map(String::from)
        .collect()
}

/// The fields of the last `search` or `options` line, which is the one the resolver uses.
fn last_directive(text: &str, directive: &str) -> Vec<String> {
    text.lines()
        .rev()
        .find_map(|l| {
            let mut fields = uncommented(l).split_whitespace();
            (fields.next() == Some(directive)).then(|| fields.map(String::from).collect())
        })
        .unwrap_or_default()
}

fn is_loopback(ns: &str) -> bool {
    ns.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "127.0.0.1\tlocalhost\n\
        ::1\tlocalhost ip6-localhost ip6-loopback\n\
        fe00::0\tip6-localnet\n\
        ff00::0\tip6-mcastprefix\n\
        ff02::1\tip6-allnodes\n\
        ff02::2\tip6-allrouters\n";

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn hosts_has_dockers_head_then_extra_hosts_then_the_container() {
        let extra = [
            ExtraHost {
                name: "db".into(),
                addr: HostAddr::Ip(ip("10.0.0.5")),
            },
            ExtraHost {
                name: "gw".into(),
                addr: HostAddr::HostGateway,
            },
        ];
        let text = render_hosts(&HostsFile {
            hostname: "0123456789ab",
            domainname: "",
            extra_hosts: &extra,
            host_gateway: Some(ip("172.17.0.1")),
            own_addresses: &[ip("172.17.0.2")],
        })
        .expect("renders");
        assert_eq!(
            text,
            format!("{HEAD}10.0.0.5\tdb\n172.17.0.1\tgw\n172.17.0.2\t0123456789ab\n")
        );
    }

    #[test]
    fn hosts_without_addresses_is_just_the_head() {
        assert_eq!(render_hosts(&HostsFile::default()).expect("renders"), HEAD);
    }

    #[test]
    fn own_line_names_the_fqdn_and_the_short_name() {
        let line = |h, d| {
            render_hosts(&HostsFile {
                hostname: h,
                domainname: d,
                own_addresses: &[ip("10.1.1.1")],
                ..HostsFile::default()
            })
            .expect("renders")
            .lines()
            .last()
            .map(String::from)
        };
        assert_eq!(
            line("web", "example.com"),
            Some("10.1.1.1\tweb.example.com web".into())
        );
        assert_eq!(line("web.corp", ""), Some("10.1.1.1\tweb.corp web".into()));
    }

    #[test]
    fn host_gateway_without_an_address_is_dockers_error() {
        let extra = [ExtraHost {
            name: "gw".into(),
            addr: HostAddr::HostGateway,
        }];
        assert_eq!(
            render_hosts(&HostsFile {
                extra_hosts: &extra,
                ..HostsFile::default()
            }),
            Err(SpecError::invalid(
                "unable to derive the IP value for host-gateway"
            ))
        );
    }

    #[test]
    fn hostname_file_is_the_name_and_a_newline() {
        assert_eq!(render_hostname("web"), "web\n");
    }

    #[test]
    fn resolv_conf_drops_loopback_and_ipv6_servers_keeping_the_rest() {
        let host = "# generated\nnameserver 127.0.0.53\nnameserver 10.0.0.2\nnameserver ::1\n\
                    nameserver fd00::1\nsearch corp.example\noptions edns0 trust-ad\n";
        assert_eq!(
            render_resolv_conf(host, &DnsOverrides::default(), false),
            "# generated\nnameserver 10.0.0.2\nsearch corp.example\noptions edns0 trust-ad\n"
        );
        assert!(render_resolv_conf(host, &DnsOverrides::default(), true)
            .contains("nameserver fd00::1\n"));
    }

    #[test]
    fn resolv_conf_falls_back_to_public_servers_when_only_loopback_is_left() {
        let host = "nameserver 127.0.0.53\noptions edns0\nsearch lan\n";
        assert_eq!(
            render_resolv_conf(host, &DnsOverrides::default(), false),
            "options edns0\nsearch lan\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n"
        );
        let v6 = render_resolv_conf("", &DnsOverrides::default(), true);
        assert_eq!(
            v6,
            "nameserver 8.8.8.8\nnameserver 8.8.4.4\nnameserver 2001:4860:4860::8888\nnameserver 2001:4860:4860::8844\n"
        );
    }

    #[test]
    fn resolv_conf_overrides_replace_only_their_part() {
        let host = "nameserver 10.0.0.2\nsearch old.example\nsearch lan\noptions ndots:2\n";
        let servers = vec!["1.1.1.1".to_string(), "9.9.9.9".to_string()];
        let text = render_resolv_conf(
            host,
            &DnsOverrides {
                servers: &servers,
                ..DnsOverrides::default()
            },
            false,
        );
        assert_eq!(
            text,
            "search lan\nnameserver 1.1.1.1\nnameserver 9.9.9.9\noptions ndots:2\n"
        );
        let search = vec!["a.example".to_string(), "b.example".to_string()];
        let options = vec!["timeout:1".to_string()];
        let text = render_resolv_conf(
            host,
            &DnsOverrides {
                search: &search,
                options: &options,
                ..DnsOverrides::default()
            },
            false,
        );
        assert_eq!(
            text,
            "search a.example b.example\nnameserver 10.0.0.2\noptions timeout:1\n"
        );
    }

    #[test]
    fn internal_resolv_conf_names_the_embedded_server_with_ndots_0() {
        let host = "nameserver 10.255.255.53\nsearch lan\noptions edns0\n";
        let servers = [ip("127.0.0.11")];
        assert_eq!(
            render_internal_resolv_conf(host, &servers, &DnsOverrides::default()),
            "search lan\nnameserver 127.0.0.11\noptions edns0 ndots:0\n"
        );
        let dns = vec!["1.1.1.1".to_string()];
        let options = vec!["ndots:2".to_string()];
        let text = render_internal_resolv_conf(
            host,
            &servers,
            &DnsOverrides {
                servers: &dns,
                options: &options,
                ..DnsOverrides::default()
            },
        );
        assert_eq!(text, "search lan\nnameserver 127.0.0.11\noptions ndots:2\n");
    }

    #[test]
    fn dns_search_dot_means_no_search_line() {
        let search = vec![".".to_string()];
        let text = render_resolv_conf(
            "nameserver 10.0.0.2\nsearch lan\n",
            &DnsOverrides {
                search: &search,
                ..DnsOverrides::default()
            },
            false,
        );
        assert_eq!(text, "nameserver 10.0.0.2\n");
    }
}
