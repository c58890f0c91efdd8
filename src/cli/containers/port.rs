//! `berth port`: a container's published ports from its inspect answer, as
//! `80/tcp -> 0.0.0.0:8080` lines, or the host addresses of one port.

use clap::Args;
use serde_json::Value;

use super::container_path;
use crate::api::client::Client;

#[derive(Debug, Clone, Args)]
pub struct PortArgs {
    #[arg(value_name = "CONTAINER")]
    pub container: String,
    /// PRIVATE_PORT[/PROTO]
    #[arg(value_name = "PRIVATE_PORT[/PROTO]")]
    pub port: Option<String>,
}

pub async fn run(client: &Client, args: &PortArgs) -> anyhow::Result<()> {
    let inspect: Value = client
        .get_json(&format!("{}/json", container_path(&args.container)))
        .await?;
    print!("{}", render(&inspect["NetworkSettings"]["Ports"], args)?);
    Ok(())
}

/// `ip:port`, brackets around IPv6 addresses.
fn host_address(binding: &Value) -> String {
    let ip = binding["HostIp"].as_str().unwrap_or("");
    let port = binding["HostPort"].as_str().unwrap_or("");
    if ip.contains(':') {
        format!("[{ip}]:{port}")
    } else {
        format!("{ip}:{port}")
    }
}

/// The lines for `ports` (`NetworkSettings.Ports`).
pub fn render(ports: &Value, args: &PortArgs) -> anyhow::Result<String> {
    let empty = serde_json::Map::new();
    let ports = ports.as_object().unwrap_or(&empty);
    let mut out = String::new();
    if let Some(wanted) = &args.port {
        let (port, proto) = wanted.split_once('/').unwrap_or((wanted, "tcp"));
        if port.parse::<u16>().is_err() {
            anyhow::bail!(
                "Error: invalid port ({port}): strconv.ParseUint: parsing {port:?}: invalid syntax"
            );
        }
        let key = format!("{port}/{proto}");
        if let Some(bindings) = ports.get(&key).and_then(Value::as_array) {
            for b in bindings {
                out.push_str(&host_address(b));
                out.push('\n');
            }
            return Ok(out);
        }
        anyhow::bail!(
            "Error: No public port '{key}' published for {}",
            args.container
        );
    }
    let mut keys: Vec<(&String, u32)> = ports
        .keys()
        .map(|k| {
            (
                k,
                k.split('/')
                    .next()
                    .and_then(|p| p.parse().ok())
                    .unwrap_or(0),
            )
        })
        .collect();
    keys.sort_by(|a, b| (a.1, a.0).cmp(&(b.1, b.0)));
    for (key, _) in keys {
        for b in ports[key].as_array().into_iter().flatten() {
            out.push_str(&format!("{key} -> {}\n", host_address(b)));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_and_looks_up_ports() {
        let ports = serde_json::json!({
            "80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}, {"HostIp": "::", "HostPort": "8080"}],
            "53/udp": null,
            "9000/tcp": [{"HostIp": "127.0.0.1", "HostPort": "9"}]
        });
        let all = PortArgs {
            container: "c".into(),
            port: None,
        };
        assert_eq!(
            render(&ports, &all).expect("ok"),
            "80/tcp -> 0.0.0.0:8080\n80/tcp -> [::]:8080\n9000/tcp -> 127.0.0.1:9\n"
        );
        let one = PortArgs {
            container: "c".into(),
            port: Some("9000".into()),
        };
        assert_eq!(render(&ports, &one).expect("ok"), "127.0.0.1:9\n");
        let none = PortArgs {
            container: "c".into(),
            port: Some("53/udp".into()),
        };
        assert_eq!(
            render(&ports, &none).expect_err("none").to_string(),
            "Error: No public port '53/udp' published for c"
        );
    }
}
