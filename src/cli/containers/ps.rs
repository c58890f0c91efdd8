//! `berth ps` (`container ls`): the container list as the docker CLI prints it (its
//! `ContainerContext`: quoted, truncated commands, `5 seconds ago`, ports, names).
//!
//! `list` fetches, `render` formats; compose's `ps` can reuse either.

use clap::Args;
use serde_json::Value;

use crate::api::client::Client;
use crate::cli::engine::{filters_json, query};
use crate::cli::format::units::{ellipsis, human_size_with_precision, since, truncate_id};
use crate::cli::format::{render_list, Data, ListFormat};
use crate::image::reference::Reference;

const TABLE: &str =
    "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}";
const TABLE_WITH_SIZE: &str = "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}\t{{.Size}}";

#[derive(Debug, Clone, Default, Args)]
pub struct PsArgs {
    /// Show all containers (default shows just running)
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Filter output based on conditions provided
    #[arg(short = 'f', long = "filter", value_name = "filter")]
    pub filters: Vec<String>,
    /// Format output using a custom template: 'table', 'table TEMPLATE', 'json', or a Go template
    #[arg(long, value_name = "string")]
    pub format: Option<String>,
    /// Show n last created containers (includes all states)
    #[arg(short = 'n', long = "last", value_name = "int", default_value_t = -1,
          allow_hyphen_values = true)]
    pub last: i64,
    /// Show the latest created container (includes all states)
    #[arg(short = 'l', long)]
    pub latest: bool,
    /// Don't truncate output
    #[arg(long = "no-trunc")]
    pub no_trunc: bool,
    /// Only display container IDs
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Display total file sizes
    #[arg(short = 's', long)]
    pub size: bool,
}

pub async fn run(client: &Client, args: &PsArgs) -> anyhow::Result<()> {
    let containers = list(client, args).await?;
    print!("{}", render(&containers, args)?);
    Ok(())
}

/// `GET /containers/json` with what the flags ask for.
pub async fn list(client: &Client, args: &PsArgs) -> anyhow::Result<Vec<Value>> {
    let filters = filters_json(&args.filters, &[])?;
    let limit = if args.latest { 1 } else { args.last };
    let limit = if limit > 0 {
        limit.to_string()
    } else {
        String::new()
    };
    let wants_size = args.size || args.format.as_deref().is_some_and(|f| f.contains(".Size"));
    let path = format!(
        "/containers/json{}",
        query(&[
            ("all", if args.all { "1" } else { "" }),
            ("limit", &limit),
            ("size", if wants_size { "1" } else { "" }),
            ("filters", &filters),
        ])
    );
    Ok(client.get_json(&path).await?)
}

/// The list as the flags ask for it.
pub fn render(containers: &[Value], args: &PsArgs) -> anyhow::Result<String> {
    let source = args.format.as_deref().unwrap_or("");
    let format = if args.quiet && matches!(source.trim(), "" | "table") {
        ListFormat {
            table: false,
            template: "{{.ID}}".into(),
        }
    } else {
        ListFormat::parse(source, if args.size { TABLE_WITH_SIZE } else { TABLE })
    };
    let rows: Vec<Data> = containers.iter().map(|c| row(c, !args.no_trunc)).collect();
    render_list(&format, &header(), &rows)
        .map_err(|e| anyhow::anyhow!("template parsing error: {e}"))
}

fn header() -> Data {
    Data::map(
        [
            ("Command", "COMMAND"),
            ("CreatedAt", "CREATED AT"),
            ("ID", "CONTAINER ID"),
            ("Image", "IMAGE"),
            ("Labels", "LABELS"),
            ("LocalVolumes", "LOCAL VOLUMES"),
            ("Mounts", "MOUNTS"),
            ("Names", "NAMES"),
            ("Networks", "NETWORKS"),
            ("Platform", "PLATFORM"),
            ("Ports", "PORTS"),
            ("RunningFor", "CREATED"),
            ("Size", "SIZE"),
            ("State", "STATE"),
            ("Status", "STATUS"),
        ]
        .map(|(k, v)| (k, Data::str(v))),
    )
}

/// The docker CLI's `ContainerContext` of one summary, fields sorted as its JSON form.
pub fn row(c: &Value, trunc: bool) -> Data {
    let s = |key: &str| c[key].as_str().unwrap_or("").to_owned();
    let id = if trunc {
        truncate_id(&s("Id"))
    } else {
        s("Id")
    };
    let created = c["Created"].as_i64().unwrap_or(0);
    let labels = c["Labels"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default();
    let mounts: Vec<&Value> = c["Mounts"]
        .as_array()
        .map(|m| m.iter().collect())
        .unwrap_or_default();
    let mount_names = mounts
        .iter()
        .map(|m| {
            let name = m["Name"]
                .as_str()
                .filter(|n| !n.is_empty())
                .or(m["Source"].as_str())
                .unwrap_or("");
            if trunc {
                ellipsis(name, 15)
            } else {
                name.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(",");
    let local_volumes = mounts
        .iter()
        .filter(|m| m["Driver"].as_str() == Some("local"))
        .count();
    let mut networks: Vec<&String> = c["NetworkSettings"]["Networks"]
        .as_object()
        .map(|m| m.keys().collect())
        .unwrap_or_default();
    networks.sort();
    let networks = networks
        .iter()
        .map(|n| n.as_str())
        .collect::<Vec<_>>()
        .join(",");
    Data::map([
        ("Command", Data::str(command(&s("Command"), trunc))),
        ("CreatedAt", Data::str(go_time_string(created))),
        ("ID", Data::str(id)),
        ("Image", Data::str(image(c, trunc))),
        ("Labels", Data::str(labels)),
        ("LocalVolumes", Data::str(local_volumes.to_string())),
        ("Mounts", Data::str(mount_names)),
        ("Names", Data::str(names(c, trunc))),
        ("Networks", Data::str(networks)),
        ("Platform", Data::Null),
        ("Ports", Data::str(ports(c))),
        ("RunningFor", Data::str(since(created))),
        ("Size", Data::str(size(c))),
        ("State", Data::str(s("State"))),
        ("Status", Data::str(s("Status"))),
    ])
}

/// `strconv.Quote` of the command, cut to 20 characters with `…` first.
pub fn command(command: &str, trunc: bool) -> String {
    let command = if trunc {
        ellipsis(command, 20)
    } else {
        command.to_owned()
    };
    go_quote(&command)
}

/// Go's `strconv.Quote`: printable characters kept, `"` and `\` escaped, the rest as Go
/// escapes.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '\x0b' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Names without their leading `/`; truncated output leaves out link names (`/a/b`).
fn names(c: &Value, trunc: bool) -> String {
    let all: Vec<&str> = c["Names"]
        .as_array()
        .map(|n| n.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    all.iter()
        .map(|n| n.strip_prefix('/').unwrap_or(n))
        .filter(|n| !trunc || !n.contains('/'))
        .collect::<Vec<_>>()
        .join(",")
}

/// The image as the docker CLI shows it: a short ID when the container was made from an
/// ID, else the familiar name without a digest.
fn image(c: &Value, trunc: bool) -> String {
    let image = c["Image"].as_str().unwrap_or("");
    if image.is_empty() {
        return "<no image>".into();
    }
    if !trunc {
        return image.to_owned();
    }
    let image_id = c["ImageID"].as_str().unwrap_or("");
    if truncate_id(image_id) == truncate_id(image) {
        return truncate_id(image);
    }
    match Reference::parse_normalized(image) {
        Ok(r) => {
            let name = r.familiar_name();
            match &r.tag {
                Some(tag) => format!("{name}:{tag}"),
                None => name,
            }
        }
        Err(_) => image.to_owned(),
    }
}

/// `SIZE`: `2B (virtual 4.26MB)`.
fn size(c: &Value) -> String {
    let rw = human_size_with_precision(c["SizeRw"].as_i64().unwrap_or(0) as f64, 3);
    match c["SizeRootFs"].as_i64().unwrap_or(0) {
        0 => rw,
        root => format!(
            "{rw} (virtual {})",
            human_size_with_precision(root as f64, 3)
        ),
    }
}

/// The docker CLI's `DisplayablePorts`: `0.0.0.0:8080->80/tcp, 53/udp`, consecutive ports
/// of the same mapping collapsed into ranges, sorted.
pub fn ports(c: &Value) -> String {
    struct Port {
        ip: String,
        private: u64,
        public: Option<u64>,
        proto: String,
    }
    let mut list: Vec<Port> = c["Ports"]
        .as_array()
        .map(|ports| {
            ports
                .iter()
                .map(|p| Port {
                    ip: p["IP"].as_str().unwrap_or("").to_owned(),
                    private: p["PrivatePort"].as_u64().unwrap_or(0),
                    public: p["PublicPort"].as_u64().filter(|&n| n != 0),
                    proto: p["Type"].as_str().unwrap_or("tcp").to_owned(),
                })
                .collect()
        })
        .unwrap_or_default();
    list.sort_by(|a, b| {
        (a.public.is_none(), &a.ip, a.public, a.private, &a.proto).cmp(&(
            b.public.is_none(),
            &b.ip,
            b.public,
            b.private,
            &b.proto,
        ))
    });
    // (ip, proto, first private, last private, first public) runs.
    let mut groups: Vec<(String, String, u64, u64, Option<u64>)> = Vec::new();
    for p in &list {
        if let Some(last) = groups.last_mut() {
            let next_public = last.4.map(|pub_start| pub_start + (last.3 - last.2) + 1);
            if last.0 == p.ip
                && last.1 == p.proto
                && last.3 + 1 == p.private
                && next_public == p.public
            {
                last.3 = p.private;
                continue;
            }
        }
        groups.push((
            p.ip.clone(),
            p.proto.clone(),
            p.private,
            p.private,
            p.public,
        ));
    }
    let range = |a: u64, b: u64| {
        if a == b {
            a.to_string()
        } else {
            format!("{a}-{b}")
        }
    };
    groups
        .iter()
        .map(|(ip, proto, first, last, public)| match public {
            Some(pub_start) => {
                let host = if ip.contains(':') {
                    format!("[{ip}]")
                } else {
                    ip.clone()
                };
                format!(
                    "{host}:{}->{}/{proto}",
                    range(*pub_start, pub_start + (last - first)),
                    range(*first, *last)
                )
            }
            None => format!("{}/{proto}", range(*first, *last)),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Go's `time.Time.String()` of a Unix time in local time.
fn go_time_string(unix: i64) -> String {
    use chrono::TimeZone;
    match chrono::Local.timestamp_opt(unix, 0).single() {
        Some(t) => {
            let zone = if t.offset().local_minus_utc() == 0 {
                "UTC".to_owned()
            } else {
                t.format("%:z").to_string()
            };
            format!("{} {zone}", t.format("%Y-%m-%d %H:%M:%S %z"))
        }
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(created: i64) -> Value {
        serde_json::json!({
            "Id": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "Names": ["/web", "/other/alias"],
            "Image": "busybox@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "ImageID": "sha256:bbbb",
            "Command": "sh -c 'echo hello world; sleep 1000'",
            "Created": created,
            "State": "running",
            "Status": "Up 5 seconds",
            "Ports": [
                {"IP": "0.0.0.0", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"},
                {"IP": "0.0.0.0", "PrivatePort": 81, "PublicPort": 8081, "Type": "tcp"},
                {"PrivatePort": 53, "Type": "udp"}
            ],
            "Labels": {"a": "1"},
            "SizeRw": 12, "SizeRootFs": 4261216,
            "Mounts": [],
            "NetworkSettings": {"Networks": {"bridge": {}}}
        })
    }

    #[test]
    fn default_table_is_dockers() {
        let now = chrono::Utc::now().timestamp();
        let out = render(&[summary(now - 5)], &PsArgs::default()).expect("renders");
        let want = "CONTAINER ID   IMAGE     COMMAND                  CREATED         STATUS         PORTS                                  NAMES\n\
                    0123456789ab   busybox   \"sh -c 'echo hello w…\"   5 seconds ago   Up 5 seconds   0.0.0.0:8080-8081->80-81/tcp, 53/udp   web\n";
        assert_eq!(out, want);
    }

    #[test]
    fn quiet_size_and_formats() {
        let now = chrono::Utc::now().timestamp();
        let quiet = PsArgs {
            quiet: true,
            ..PsArgs::default()
        };
        assert_eq!(
            render(&[summary(now)], &quiet).expect("renders"),
            "0123456789ab\n"
        );
        let format = PsArgs {
            format: Some("{{.Names}} {{.Size}} {{.Labels}} {{.Networks}}".into()),
            no_trunc: true,
            ..PsArgs::default()
        };
        assert_eq!(
            render(&[summary(now)], &format).expect("renders"),
            "web,other/alias 12B (virtual 4.26MB) a=1 bridge\n"
        );
    }

    #[test]
    fn commands_are_quoted_as_go_does() {
        assert_eq!(command("echo \"hi\"", true), "\"echo \\\"hi\\\"\"");
        assert_eq!(
            command("/bin/sh -c 'a long command line'", true),
            "\"/bin/sh -c 'a long …\""
        );
        assert_eq!(command("a\tb", false), "\"a\\tb\"");
    }

    #[test]
    fn images_lose_their_digest_and_ids_are_short() {
        let c = serde_json::json!({"Image": "sha256:0123456789abcdef", "ImageID": "sha256:0123456789abcdef"});
        assert_eq!(image(&c, true), "0123456789ab");
        let c = serde_json::json!({"Image": "docker.io/library/busybox:1.36", "ImageID": "x"});
        assert_eq!(image(&c, true), "busybox:1.36");
        assert_eq!(image(&c, false), "docker.io/library/busybox:1.36");
    }
}
