//! `berth top` (the daemon's `ps` table through a tabwriter) and `berth stats --no-stream`
//! (one sample per container, with the docker CLI's CPU, memory, network and block I/O
//! computations). Not done yet: the live refreshing `stats` screen (without
//! `--no-stream` one sample is printed too).

use clap::Args;
use serde_json::Value;

use super::container_path;
use crate::api::client::Client;
use crate::cli::engine::query;
use crate::cli::format::units::{bytes_size, human_size_with_precision, truncate_id};
use crate::cli::format::{render_list, tabwrite, Data, ListFormat};

#[derive(Debug, Clone, Args)]
pub struct TopArgs {
    #[arg(value_name = "CONTAINER")]
    pub container: String,
    /// ps options
    #[arg(
        value_name = "ps OPTIONS",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub ps_args: Vec<String>,
}

#[derive(Debug, Clone, Default, Args)]
pub struct StatsArgs {
    /// Show all containers (default shows just running)
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Format output using a custom template
    #[arg(long, value_name = "string")]
    pub format: Option<String>,
    /// Disable streaming stats and only pull the first result
    #[arg(long = "no-stream")]
    pub no_stream: bool,
    /// Do not truncate output
    #[arg(long = "no-trunc")]
    pub no_trunc: bool,
    #[arg(value_name = "CONTAINER")]
    pub containers: Vec<String>,
}

pub async fn top(client: &Client, args: &TopArgs) -> anyhow::Result<()> {
    let ps_args = args.ps_args.join(" ");
    let path = format!(
        "{}/top{}",
        container_path(&args.container),
        query(&[("ps_args", &ps_args)])
    );
    let answer: Value = client.get_json(&path).await?;
    print!("{}", render_top(&answer));
    Ok(())
}

/// Titles and processes, tab-separated, through Go's tabwriter `(20, 1, 3, ' ', 0)`.
pub fn render_top(answer: &Value) -> String {
    let cells = |row: &Value| -> String {
        row.as_array()
            .map(|r| {
                r.iter()
                    .map(|c| c.as_str().unwrap_or(""))
                    .collect::<Vec<_>>()
                    .join("\t")
            })
            .unwrap_or_default()
    };
    let mut text = cells(&answer["Titles"]);
    text.push('\n');
    for p in answer["Processes"].as_array().into_iter().flatten() {
        text.push_str(&cells(p));
        text.push('\n');
    }
    tabwrite(&text, 20, 3)
}

const STATS_TABLE: &str = "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}";

pub async fn stats(client: &Client, args: &StatsArgs) -> anyhow::Result<()> {
    let names = if args.containers.is_empty() {
        let list: Vec<Value> = client
            .get_json(&format!(
                "/containers/json{}",
                query(&[("all", if args.all { "1" } else { "" })])
            ))
            .await?;
        list.iter()
            .filter_map(|c| c["Id"].as_str().map(str::to_owned))
            .collect()
    } else {
        args.containers.clone()
    };
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for name in &names {
        let path = format!("{}/stats?stream=false", container_path(name));
        match client.get_json::<Value>(&path).await {
            Ok(sample) => rows.push(stats_row(&sample, name, !args.no_trunc)),
            Err(e) => errors.push(e.to_string()),
        }
    }
    let format = ListFormat::parse(args.format.as_deref().unwrap_or(""), STATS_TABLE);
    let out = render_list(&format, &stats_header(), &rows)
        .map_err(|e| anyhow::anyhow!("template parsing error: {e}"))?;
    print!("{out}");
    crate::cli::image_cmd::report_errors(&errors)
}

fn stats_header() -> Data {
    Data::map(
        [
            ("BlockIO", "BLOCK I/O"),
            ("CPUPerc", "CPU %"),
            ("Container", "CONTAINER"),
            ("ID", "CONTAINER ID"),
            ("MemPerc", "MEM %"),
            ("MemUsage", "MEM USAGE / LIMIT"),
            ("Name", "NAME"),
            ("NetIO", "NET I/O"),
            ("PIDs", "PIDS"),
        ]
        .map(|(k, v)| (k, Data::str(v))),
    )
}

/// One sample as the docker CLI's `StatsEntry` prints it.
pub fn stats_row(s: &Value, asked_as: &str, trunc: bool) -> Data {
    let u = |v: &Value| v.as_u64().unwrap_or(0) as f64;
    // CPU: the share of the system's time since the previous sample, times the CPUs.
    let cpu_delta = u(&s["cpu_stats"]["cpu_usage"]["total_usage"])
        - u(&s["precpu_stats"]["cpu_usage"]["total_usage"]);
    let system_delta =
        u(&s["cpu_stats"]["system_cpu_usage"]) - u(&s["precpu_stats"]["system_cpu_usage"]);
    let mut online = u(&s["cpu_stats"]["online_cpus"]);
    if online == 0.0 {
        online = s["cpu_stats"]["cpu_usage"]["percpu_usage"]
            .as_array()
            .map_or(0.0, |a| a.len() as f64);
    }
    let cpu = if system_delta > 0.0 && cpu_delta > 0.0 {
        cpu_delta / system_delta * online * 100.0
    } else {
        0.0
    };
    // Memory: usage less the inactive page cache (v1 `total_inactive_file`, v2
    // `inactive_file`), as `calculateMemUsageUnixNoCache`.
    let mem = &s["memory_stats"];
    let usage = u(&mem["usage"]);
    let inactive = mem["stats"]["total_inactive_file"]
        .as_u64()
        .or(mem["stats"]["inactive_file"].as_u64())
        .unwrap_or(0) as f64;
    let used = if inactive < usage {
        usage - inactive
    } else {
        usage
    };
    let limit = u(&mem["limit"]);
    let mem_perc = if limit != 0.0 {
        used / limit * 100.0
    } else {
        0.0
    };
    let (mut rx, mut tx) = (0.0, 0.0);
    for net in s["networks"]
        .as_object()
        .into_iter()
        .flat_map(|m| m.values())
    {
        rx += u(&net["rx_bytes"]);
        tx += u(&net["tx_bytes"]);
    }
    let (mut read, mut write) = (0.0, 0.0);
    for entry in s["blkio_stats"]["io_service_bytes_recursive"]
        .as_array()
        .into_iter()
        .flatten()
    {
        match entry["op"].as_str().map(str::to_lowercase).as_deref() {
            Some("read") => read += u(&entry["value"]),
            Some("write") => write += u(&entry["value"]),
            _ => {}
        }
    }
    let id = s["id"].as_str().unwrap_or(asked_as);
    let name = s["name"].as_str().unwrap_or("");
    let pair = |a: f64, b: f64| {
        format!(
            "{} / {}",
            human_size_with_precision(a, 3),
            human_size_with_precision(b, 3)
        )
    };
    Data::map([
        ("BlockIO", Data::str(pair(read, write))),
        ("CPUPerc", Data::str(format!("{cpu:.2}%"))),
        ("Container", Data::str(asked_as)),
        (
            "ID",
            Data::str(if trunc {
                truncate_id(id)
            } else {
                id.to_owned()
            }),
        ),
        ("MemPerc", Data::str(format!("{mem_perc:.2}%"))),
        (
            "MemUsage",
            Data::str(format!("{} / {}", bytes_size(used), bytes_size(limit))),
        ),
        ("Name", Data::str(name.strip_prefix('/').unwrap_or(name))),
        ("NetIO", Data::str(pair(rx, tx))),
        (
            "PIDs",
            Data::str(s["pids_stats"]["current"].as_u64().unwrap_or(0).to_string()),
        ),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_follow_dockers_computations() {
        let sample = serde_json::json!({
            "id": "0123456789abcdef", "name": "/web",
            "cpu_stats": {"cpu_usage": {"total_usage": 2_000_000_000u64}, "system_cpu_usage": 20_000_000_000u64, "online_cpus": 2},
            "precpu_stats": {"cpu_usage": {"total_usage": 1_000_000_000u64}, "system_cpu_usage": 10_000_000_000u64},
            "memory_stats": {"usage": 10_485_760, "limit": 104_857_600, "stats": {"total_inactive_file": 5_242_880}},
            "networks": {"eth0": {"rx_bytes": 1000, "tx_bytes": 2000}},
            "blkio_stats": {"io_service_bytes_recursive": [{"op": "Read", "value": 4096}, {"op": "Write", "value": 0}]},
            "pids_stats": {"current": 3}
        });
        let format = ListFormat::parse("", STATS_TABLE);
        let out = render_list(&format, &stats_header(), &[stats_row(&sample, "web", true)])
            .expect("renders");
        assert_eq!(
            out,
            "CONTAINER ID   NAME      CPU %     MEM USAGE / LIMIT   MEM %     NET I/O     BLOCK I/O    PIDS\n\
             0123456789ab   web       20.00%    5MiB / 100MiB       5.00%     1kB / 2kB   4.1kB / 0B   3\n"
        );
    }

    #[test]
    fn top_is_a_tabwriter_table() {
        let answer = serde_json::json!({
            "Titles": ["UID", "PID", "CMD"],
            "Processes": [["root", "12", "sleep 100"]]
        });
        assert_eq!(
            render_top(&answer),
            "UID                 PID                 CMD\nroot                12                  sleep 100\n"
        );
    }
}
