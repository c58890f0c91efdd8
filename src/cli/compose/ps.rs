//! `ps`: the project's containers, as `docker compose ps` lists them (running ones unless
//! `-a`; `--services`, `-q`, `--status`, `--filter status=`, `--format table|json`).
//!
//! Not yet: Go templates in `--format`, and the `Publishers`/`Mounts` details in json.

use anyhow::bail;

use super::Context;
use crate::api::container_types::ContainerSummary;
use crate::cli::format::table::tabwrite;
use crate::cli::format::units::since;
use crate::scheduler::labels;

#[derive(Debug, clap::Args)]
pub struct PsArgs {
    /// Show all stopped containers (including those created by the run command)
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Only display IDs
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Display services
    #[arg(long)]
    pub services: bool,
    /// Filter services by status. Values: [paused | restarting | removing | running | dead | created | exited]
    #[arg(long)]
    pub status: Vec<String>,
    /// Filter services by a property (supported filters: status)
    #[arg(long)]
    pub filter: Option<String>,
    /// Format output using a custom template: 'table' (default), 'json'
    #[arg(long, default_value = "table")]
    pub format: String,
    /// Don't truncate output
    #[arg(long)]
    pub no_trunc: bool,
    /// Include orphaned services (not declared by project)
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub orphans: bool,
    pub service_names: Vec<String>,
}

pub async fn run(ctx: &Context, args: PsArgs) -> anyhow::Result<()> {
    let project = ctx.project_name()?;
    let api = ctx.api().await?;
    let mut statuses = args.status.clone();
    if let Some(filter) = &args.filter {
        match filter.split_once('=') {
            Some(("status", v)) => statuses.push(v.to_string()),
            _ => bail!("invalid filter {filter:?}"),
        }
    }
    let label = [format!("{}={project}", labels::PROJECT)];
    let mut containers = api.list_containers(&label).await?;
    containers.retain(|c| {
        let label = |k: &str| c.labels.get(k).cloned().unwrap_or_default();
        (args.all || c.state == "running" || !statuses.is_empty())
            && (args.all || !label(labels::ONEOFF).eq_ignore_ascii_case("true"))
            && (statuses.is_empty() || statuses.contains(&c.state))
            && (args.service_names.is_empty()
                || args.service_names.contains(&label(labels::SERVICE)))
    });
    containers.sort_by_key(name);
    print!("{}", render(&containers, &args)?);
    Ok(())
}

fn name(c: &ContainerSummary) -> String {
    c.names
        .first()
        .map(|n| n.trim_start_matches('/').to_string())
        .unwrap_or_default()
}

fn service(c: &ContainerSummary) -> String {
    c.labels.get(labels::SERVICE).cloned().unwrap_or_default()
}

/// The listing for the flags.
pub fn render(containers: &[ContainerSummary], args: &PsArgs) -> anyhow::Result<String> {
    let mut out = String::new();
    if args.services {
        let mut names: Vec<String> = containers.iter().map(service).collect();
        names.dedup();
        for n in names {
            out.push_str(&n);
            out.push('\n');
        }
        return Ok(out);
    }
    if args.quiet {
        for c in containers {
            out.push_str(if args.no_trunc {
                &c.id
            } else {
                &c.id[..c.id.len().min(12)]
            });
            out.push('\n');
        }
        return Ok(out);
    }
    match args.format.as_str() {
        "json" => {
            for c in containers {
                out.push_str(&json_row(c).to_string());
                out.push('\n');
            }
            Ok(out)
        }
        "table" => {
            let mut text = String::from("NAME\tIMAGE\tCOMMAND\tSERVICE\tCREATED\tSTATUS\tPORTS\n");
            for c in containers {
                let summary = serde_json::to_value(c)?;
                text.push_str(&format!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
                    name(c),
                    c.image,
                    crate::cli::containers::ps::command(&c.command, !args.no_trunc),
                    service(c),
                    since(c.created),
                    c.status,
                    crate::cli::containers::ps::ports(&summary),
                ));
            }
            Ok(tabwrite(&text, 10, 3))
        }
        other => bail!("unsupported --format {other:?}: berth supports table and json"),
    }
}

/// One container as Compose's `ps --format json` prints it.
fn json_row(c: &ContainerSummary) -> serde_json::Value {
    let label = |k: &str| c.labels.get(k).cloned().unwrap_or_default();
    let health = if c.status.ends_with("(healthy)") {
        "healthy"
    } else if c.status.ends_with("(unhealthy)") {
        "unhealthy"
    } else if c.status.ends_with("(health: starting)") {
        "starting"
    } else {
        ""
    };
    let exit_code = c
        .status
        .strip_prefix("Exited (")
        .and_then(|r| r.split(')').next())
        .and_then(|n| n.parse::<i64>().ok())
        .unwrap_or(0);
    let labels: Vec<String> = c.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let networks: Vec<&String> = c.network_settings.networks.keys().collect();
    serde_json::json!({
        "Command": format!("\"{}\"", c.command),
        "CreatedAt": chrono::DateTime::from_timestamp(c.created, 0)
            .map(|t| t.format("%Y-%m-%d %H:%M:%S +0000 UTC").to_string())
            .unwrap_or_default(),
        "ExitCode": exit_code,
        "Health": health,
        "ID": c.id,
        "Image": c.image,
        "Labels": labels.join(","),
        "LocalVolumes": c.mounts.iter().filter(|m| m.r#type == "volume").count().to_string(),
        "Name": name(c),
        "Names": name(c),
        "Networks": networks.iter().map(|n| n.as_str()).collect::<Vec<_>>().join(","),
        "Ports": crate::cli::containers::ps::ports(&serde_json::to_value(c).unwrap_or_default()),
        "Project": label(labels::PROJECT),
        "RunningFor": since(c.created),
        "Service": label(labels::SERVICE),
        "State": c.state,
        "Status": c.status,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        ps: PsArgs,
    }

    fn container(name: &str, service: &str) -> ContainerSummary {
        let mut c = ContainerSummary {
            id: format!("{name:0>64}"),
            names: vec![format!("/{name}")],
            image: "busybox".into(),
            command: "sleep 1000".into(),
            state: "running".into(),
            status: "Up 2 seconds (healthy)".into(),
            ..ContainerSummary::default()
        };
        c.labels.insert(labels::SERVICE.into(), service.into());
        c.labels.insert(labels::PROJECT.into(), "demo".into());
        c
    }

    #[test]
    fn table_services_and_json_read_as_composes() {
        let rows = [container("demo-db-1", "db"), container("demo-web-1", "web")];
        let args = Cli::try_parse_from(["ps"]).unwrap().ps;
        let table = render(&rows, &args).unwrap();
        let header = table.lines().next().unwrap();
        assert!(
            header.starts_with("NAME         IMAGE     COMMAND        SERVICE   CREATED"),
            "{header}"
        );
        assert!(
            table.contains("demo-web-1   busybox   \"sleep 1000\"   web"),
            "{table}"
        );
        let args = Cli::try_parse_from(["ps", "--services"]).unwrap().ps;
        assert_eq!(render(&rows, &args).unwrap(), "db\nweb\n");
        let args = Cli::try_parse_from(["ps", "--format", "json"]).unwrap().ps;
        let first: serde_json::Value =
            serde_json::from_str(render(&rows, &args).unwrap().lines().next().unwrap()).unwrap();
        assert_eq!(first["Service"], "db");
        assert_eq!(first["Health"], "healthy");
        assert_eq!(first["Project"], "demo");
    }
}
