//! `top`, `port`, `images`, `ls`, `events`, `version`: what the daemon knows of the project,
//! read by labels.

use std::collections::BTreeMap;

use anyhow::bail;
use futures_util::StreamExt;

use super::Context;
use crate::cli::format::table::tabwrite;
use crate::scheduler::labels;
use crate::scheduler::observe::ObservedContainer;

#[derive(Debug, clap::Args)]
pub struct TopArgs {
    pub services: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct PortArgs {
    /// tcp or udp
    #[arg(long, default_value = "tcp")]
    pub protocol: String,
    /// Index of the container if service has multiple replicas
    #[arg(long, default_value_t = 1)]
    pub index: u32,
    pub service: String,
    pub private_port: u16,
}

#[derive(Debug, clap::Args)]
pub struct ImagesArgs {
    /// Only display IDs
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Format the output. Values: [table | json]
    #[arg(long, default_value = "table")]
    pub format: String,
    pub services: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct LsArgs {
    /// Show all stopped Compose projects
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Only display project names
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Filter output based on conditions provided
    #[arg(long)]
    pub filter: Option<String>,
    /// Format the output. Values: [table | json]
    #[arg(long, default_value = "table")]
    pub format: String,
}

#[derive(Debug, clap::Args)]
pub struct EventsArgs {
    /// Output events as a stream of json objects
    #[arg(long)]
    pub json: bool,
    pub services: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct VersionArgs {
    /// Format the output. Values: [pretty | json]
    #[arg(short = 'f', long)]
    pub format: Option<String>,
    /// Shows only Compose's version number
    #[arg(long)]
    pub short: bool,
}

/// The running service containers of `services` (all when empty).
async fn containers(ctx: &Context, services: &[String]) -> anyhow::Result<Vec<ObservedContainer>> {
    let project = ctx.project_name()?;
    let api = ctx.api().await?;
    let observed = api.observe(&project).await?;
    Ok(observed
        .containers
        .into_iter()
        .filter(|c| !c.oneoff && (services.is_empty() || services.contains(&c.service)))
        .collect())
}

pub async fn top(ctx: &Context, args: TopArgs) -> anyhow::Result<()> {
    let api = ctx.api().await?;
    for c in containers(ctx, &args.services).await? {
        if c.state != "running" {
            continue;
        }
        let top = api.top_container(&c.id, None).await?;
        println!("{}", c.name);
        let answer = serde_json::to_value(&top)?;
        println!("{}", crate::cli::containers::top_stats::render_top(&answer));
    }
    Ok(())
}

pub async fn port(ctx: &Context, args: PortArgs) -> anyhow::Result<()> {
    let api = ctx.api().await?;
    let found = containers(ctx, std::slice::from_ref(&args.service)).await?;
    let Some(c) = found.iter().find(|c| c.number == args.index) else {
        bail!(
            "service {:?} has no container number {}",
            args.service,
            args.index
        );
    };
    let inspect = api.inspect_container(&c.id).await?;
    let key = format!("{}/{}", args.private_port, args.protocol);
    let bindings = serde_json::to_value(&inspect.network_settings)?;
    match bindings["Ports"][&key].as_array().and_then(|b| b.first()) {
        Some(b) => {
            let ip = b["HostIp"].as_str().unwrap_or_default();
            let ip = if ip.is_empty() { "0.0.0.0" } else { ip };
            println!("{ip}:{}", b["HostPort"].as_str().unwrap_or_default());
            Ok(())
        }
        None => bail!("no port {key} for container {}", c.name),
    }
}

pub async fn images(ctx: &Context, args: ImagesArgs) -> anyhow::Result<()> {
    let api = ctx.api().await?;
    let all = api.list_images().await?;
    let mut rows = Vec::new();
    for c in containers(ctx, &args.services).await? {
        let Some(image) = all.iter().find(|i| i.id == c.image_id) else {
            continue;
        };
        let (repo, tag) = image
            .repo_tags
            .first()
            .and_then(|t| t.rsplit_once(':'))
            .map(|(r, t)| (r.to_string(), t.to_string()))
            .unwrap_or_else(|| ("<none>".into(), "<none>".into()));
        rows.push((c.name.clone(), repo, tag, image.id.clone(), image.size));
    }
    if args.quiet {
        for (_, _, _, id, _) in &rows {
            println!("{}", id.trim_start_matches("sha256:"));
        }
        return Ok(());
    }
    if args.format == "json" {
        let list: Vec<serde_json::Value> = rows
            .iter()
            .map(|(c, r, t, id, size)| {
                serde_json::json!({"ContainerName": c, "Repository": r, "Tag": t, "ID": id, "Size": size})
            })
            .collect();
        println!("{}", serde_json::Value::Array(list));
        return Ok(());
    }
    let mut text = String::from("CONTAINER\tREPOSITORY\tTAG\tIMAGE ID\tSIZE\n");
    for (c, r, t, id, size) in rows {
        let short = id.trim_start_matches("sha256:");
        text.push_str(&format!(
            "{c}\t{r}\t{t}\t{}\t{}\n",
            &short[..short.len().min(12)],
            crate::cli::format::units::human_size(size as f64)
        ));
    }
    print!("{}", tabwrite(&text, 10, 3));
    Ok(())
}

/// One project's line in `ls`.
#[derive(Debug, Default, PartialEq)]
pub struct ProjectRow {
    pub name: String,
    /// `running(2)`, `exited(1), running(2)`.
    pub status: String,
    pub config_files: String,
    pub running: bool,
}

/// Groups containers by project, as `docker compose ls` shows them.
pub fn project_rows(
    containers: &[crate::api::container_types::ContainerSummary],
) -> Vec<ProjectRow> {
    let mut projects: BTreeMap<String, (BTreeMap<String, usize>, String)> = BTreeMap::new();
    for c in containers {
        let Some(name) = c.labels.get(labels::PROJECT) else {
            continue;
        };
        let entry = projects.entry(name.clone()).or_default();
        *entry.0.entry(c.state.clone()).or_default() += 1;
        if let Some(files) = c.labels.get(labels::CONFIG_FILES) {
            entry.1 = files.clone();
        }
    }
    projects
        .into_iter()
        .map(|(name, (states, files))| ProjectRow {
            status: states
                .iter()
                .map(|(s, n)| format!("{s}({n})"))
                .collect::<Vec<_>>()
                .join(", "),
            running: states.contains_key("running"),
            config_files: files,
            name,
        })
        .collect()
}

pub async fn ls(ctx: &Context, args: LsArgs) -> anyhow::Result<()> {
    let api = ctx.api().await?;
    let all = api.list_containers(&[labels::PROJECT.to_string()]).await?;
    let mut rows = project_rows(&all);
    rows.retain(|r| args.all || r.running);
    if let Some(filter) = &args.filter {
        match filter.split_once('=') {
            Some(("name", v)) => rows.retain(|r| r.name.contains(v)),
            _ => bail!("invalid filter {filter:?}"),
        }
    }
    if args.quiet {
        for r in rows {
            println!("{}", r.name);
        }
        return Ok(());
    }
    if args.format == "json" {
        let list: Vec<serde_json::Value> = rows
            .iter()
            .map(|r| serde_json::json!({"Name": r.name, "Status": r.status, "ConfigFiles": r.config_files}))
            .collect();
        println!("{}", serde_json::Value::Array(list));
        return Ok(());
    }
    let mut text = String::from("NAME\tSTATUS\tCONFIG FILES\n");
    for r in rows {
        text.push_str(&format!("{}\t{}\t{}\n", r.name, r.status, r.config_files));
    }
    print!("{}", tabwrite(&text, 10, 3));
    Ok(())
}

pub async fn events(ctx: &Context, args: EventsArgs) -> anyhow::Result<()> {
    let project = ctx.project_name()?;
    let api = ctx.api().await?;
    let mut filters = BTreeMap::new();
    filters.insert("type".to_string(), vec!["container".to_string()]);
    filters.insert(
        "label".to_string(),
        vec![format!("{}={project}", labels::PROJECT)],
    );
    let mut stream = api.events(&filters, None).await?;
    while let Some(event) = stream.next().await {
        let event = event?;
        let attrs = &event.actor.attributes;
        let service = attrs.get(labels::SERVICE).cloned().unwrap_or_default();
        if !args.services.is_empty() && !args.services.contains(&service) {
            continue;
        }
        let time = chrono::DateTime::from_timestamp_nanos(event.time_nano);
        if args.json {
            let mut shown: BTreeMap<&String, &String> = attrs.iter().collect();
            shown.retain(|k, _| !k.starts_with("com.docker.compose."));
            println!(
                "{}",
                serde_json::json!({
                    "action": event.action,
                    "attributes": shown,
                    "id": event.actor.id,
                    "service": service,
                    "time": time.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
                    "type": "container",
                })
            );
        } else {
            let shown: Vec<String> = attrs
                .iter()
                .filter(|(k, _)| k.as_str() == "image" || k.as_str() == "name")
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            println!(
                "{} container {} {} ({})",
                time.format("%Y-%m-%d %H:%M:%S%.6f"),
                event.action,
                event.actor.id,
                shown.join(", ")
            );
        }
    }
    Ok(())
}

pub async fn version(_ctx: &Context, args: VersionArgs) -> anyhow::Result<()> {
    let version = env!("CARGO_PKG_VERSION");
    if args.short {
        println!("{version}");
    } else if args.format.as_deref() == Some("json") {
        println!("{}", serde_json::json!({ "version": version }));
    } else {
        println!(
            "berth compose version {version} (compatible with Docker Compose v{})",
            labels::COMPOSE_VERSION
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::container_types::ContainerSummary;

    fn c(project: &str, state: &str) -> ContainerSummary {
        let mut c = ContainerSummary {
            state: state.into(),
            ..ContainerSummary::default()
        };
        c.labels.insert(labels::PROJECT.into(), project.into());
        c.labels.insert(
            labels::CONFIG_FILES.into(),
            format!("/p/{project}/compose.yaml"),
        );
        c
    }

    #[test]
    fn projects_are_grouped_with_their_states() {
        let rows = project_rows(&[
            c("b", "running"),
            c("a", "exited"),
            c("b", "exited"),
            c("b", "running"),
        ]);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].name, "a");
        assert!(!rows[0].running);
        assert_eq!(rows[1].status, "exited(1), running(2)");
        assert_eq!(rows[1].config_files, "/p/b/compose.yaml");
    }
}
