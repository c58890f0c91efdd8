//! `berth volume create|ls|inspect|rm|prune`: the docker CLI's volume verbs, with its
//! flags, request bodies, output and exit codes.
//!
//! Not done: cluster-volume flags (`--group`, `--scope`, `--sharing`, ...) and the `ls`
//! `--cluster` view; `volume update`.

use std::collections::BTreeMap;

use clap::{Args, Subcommand};

use super::engine::{filters_json, percent_encode, query, with_client};
use super::format::units::human_size;
use super::format::{render_list, Data, ListFormat};
use super::image_cmd::{confirm, inspect_paths, report_errors};
use super::networks::natural_cmp;
use crate::api::client::Client;
use crate::api::volume_types::{
    Volume, VolumeCreateRequest, VolumeListResponse, VolumePruneReport,
};

#[derive(Debug, Subcommand)]
pub enum VolumeVerb {
    /// Create a volume
    Create(CreateArgs),
    /// List volumes
    #[command(visible_alias = "list")]
    Ls(LsArgs),
    /// Display detailed information on one or more volumes
    Inspect(InspectArgs),
    /// Remove one or more volumes
    #[command(visible_alias = "remove")]
    Rm(RmArgs),
    /// Remove unused local volumes
    Prune(PruneArgs),
}

#[derive(Debug, Clone, Default, Args)]
pub struct CreateArgs {
    /// Specify volume driver name
    #[arg(short = 'd', long, value_name = "string", default_value = "local")]
    pub driver: String,
    /// Set metadata for a volume
    #[arg(long, value_name = "list")]
    pub label: Vec<String>,
    /// Set driver specific options
    #[arg(short = 'o', long = "opt", value_name = "map")]
    pub opt: Vec<String>,
    /// Specify volume name
    #[arg(long = "name", value_name = "string", hide = true)]
    pub name_flag: Option<String>,
    #[arg(value_name = "VOLUME")]
    pub name: Option<String>,
}

#[derive(Debug, Clone, Default, Args)]
pub struct LsArgs {
    /// Provide filter values (e.g. "dangling=true")
    #[arg(short = 'f', long = "filter", value_name = "filter")]
    pub filters: Vec<String>,
    /// Format output using a custom template
    #[arg(long, value_name = "string")]
    pub format: Option<String>,
    /// Only display volume names
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Args)]
pub struct InspectArgs {
    /// Format output using a custom template
    #[arg(short = 'f', long, value_name = "string")]
    pub format: Option<String>,
    #[arg(value_name = "VOLUME", required = true)]
    pub volumes: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct RmArgs {
    /// Force the removal of one or more volumes
    #[arg(short = 'f', long)]
    pub force: bool,
    #[arg(value_name = "VOLUME", required = true)]
    pub volumes: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct PruneArgs {
    /// Remove all unused volumes, not just anonymous ones
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Provide filter values (e.g. "label=<label>")
    #[arg(long = "filter", value_name = "filter")]
    pub filters: Vec<String>,
    /// Do not prompt for confirmation
    #[arg(short = 'f', long)]
    pub force: bool,
}

pub fn run(host: Option<&str>, verb: VolumeVerb) -> anyhow::Result<()> {
    with_client(host, |c| async move {
        match verb {
            VolumeVerb::Create(a) => create(&c, &a).await,
            VolumeVerb::Ls(a) => ls(&c, &a).await,
            VolumeVerb::Inspect(a) => inspect(&c, &a).await,
            VolumeVerb::Rm(a) => rm(&c, &a).await,
            VolumeVerb::Prune(a) => prune(&c, &a).await,
        }
    })
}

fn volume_path(name: &str) -> String {
    format!("/volumes/{}", percent_encode(name))
}

fn key_values(flags: &[String]) -> BTreeMap<String, String> {
    flags
        .iter()
        .map(|f| {
            let (k, v) = f.split_once('=').unwrap_or((f, ""));
            (k.to_owned(), v.to_owned())
        })
        .collect()
}

/// The body docker sends for `volume create`.
pub fn create_request(args: &CreateArgs) -> anyhow::Result<VolumeCreateRequest> {
    let name = match (&args.name_flag, &args.name) {
        (Some(a), Some(b)) if a != b => anyhow::bail!(
            "conflicting options: cannot specify a volume-name through both --name and as a \
             positional arg"
        ),
        (Some(a), _) => a.clone(),
        (None, Some(b)) => b.clone(),
        (None, None) => String::new(),
    };
    Ok(VolumeCreateRequest {
        name,
        driver: args.driver.clone(),
        driver_opts: Some(key_values(&args.opt)),
        labels: Some(key_values(&args.label)),
    })
}

pub async fn create(client: &Client, args: &CreateArgs) -> anyhow::Result<()> {
    let body = create_request(args)?;
    let created: Volume = client
        .send_json(
            "POST",
            "/volumes/create",
            &[],
            Some(serde_json::to_value(&body)?),
        )
        .await?;
    println!("{}", created.name);
    Ok(())
}

const LS_TABLE: &str = "table {{.Driver}}\t{{.Name}}";

pub async fn ls(client: &Client, args: &LsArgs) -> anyhow::Result<()> {
    let filters = filters_json(&args.filters, &[])?;
    let path = format!("/volumes{}", query(&[("filters", &filters)]));
    let list: VolumeListResponse = client.get_json(&path).await?;
    for w in list.warnings.iter().flatten() {
        eprintln!("{w}");
    }
    print!("{}", render_ls(list.volumes, args)?);
    Ok(())
}

/// The `ls` output: docker's table, `-q` names, or a template.
pub fn render_ls(mut volumes: Vec<Volume>, args: &LsArgs) -> anyhow::Result<String> {
    volumes.sort_by(|a, b| natural_cmp(&a.name, &b.name));
    let source = args.format.as_deref().unwrap_or("");
    let format = if args.quiet && matches!(source.trim(), "" | "table") {
        ListFormat {
            table: false,
            template: "{{.Name}}".into(),
        }
    } else {
        ListFormat::parse(source, LS_TABLE)
    };
    let rows: Vec<Data> = volumes.iter().map(ls_row).collect();
    let header = Data::map(
        [
            ("Driver", "DRIVER"),
            ("Labels", "LABELS"),
            ("Links", "LINKS"),
            ("Mountpoint", "MOUNTPOINT"),
            ("Name", "VOLUME NAME"),
            ("Scope", "SCOPE"),
            ("Size", "SIZE"),
        ]
        .map(|(k, v)| (k, Data::str(v))),
    );
    render_list(&format, &header, &rows).map_err(|e| anyhow::anyhow!("template parsing error: {e}"))
}

fn ls_row(v: &Volume) -> Data {
    let labels = v
        .labels
        .iter()
        .flatten()
        .map(|(k, val)| format!("{k}={val}"))
        .collect::<Vec<_>>()
        .join(",");
    Data::map([
        ("Driver", Data::str(v.driver.clone())),
        ("Labels", Data::str(labels)),
        // Docker's list carries no usage data: both print N/A.
        ("Links", Data::str("N/A")),
        ("Mountpoint", Data::str(v.mountpoint.clone())),
        ("Name", Data::str(v.name.clone())),
        ("Scope", Data::str(v.scope.clone())),
        ("Size", Data::str("N/A")),
    ])
}

pub async fn inspect(client: &Client, args: &InspectArgs) -> anyhow::Result<()> {
    let paths: Vec<String> = args.volumes.iter().map(|n| volume_path(n)).collect();
    inspect_paths(client, &paths, args.format.as_deref()).await
}

pub async fn rm(client: &Client, args: &RmArgs) -> anyhow::Result<()> {
    let mut errors = Vec::new();
    let force = if args.force { "?force=1" } else { "" };
    for name in &args.volumes {
        let path = format!("{}{force}", volume_path(name));
        match client
            .send_json::<serde_json::Value>("DELETE", &path, &[], None)
            .await
        {
            Ok(_) => println!("{name}"),
            Err(e) => errors.push(e.to_string()),
        }
    }
    report_errors(&errors)
}

const PRUNE_WARNING: &str = "WARNING! This will remove anonymous local volumes not used by at least one container.\nAre you sure you want to continue?";
const PRUNE_ALL_WARNING: &str = "WARNING! This will remove all local volumes not used by at least one container.\nAre you sure you want to continue?";

pub async fn prune(client: &Client, args: &PruneArgs) -> anyhow::Result<()> {
    let warning = if args.all {
        PRUNE_ALL_WARNING
    } else {
        PRUNE_WARNING
    };
    if !args.force && !confirm(warning)? {
        return Ok(());
    }
    let extra: Vec<(&str, String)> = if args.all {
        vec![("all", "true".to_string())]
    } else {
        Vec::new()
    };
    let filters = filters_json(&args.filters, &extra)?;
    let path = format!("/volumes/prune{}", query(&[("filters", &filters)]));
    let report: VolumePruneReport = client.send_json("POST", &path, &[], None).await?;
    print!("{}", prune_output(&report));
    Ok(())
}

/// Docker's prune report: the names, then the space.
pub fn prune_output(report: &VolumePruneReport) -> String {
    let mut out = String::new();
    let deleted = report.volumes_deleted.as_deref().unwrap_or_default();
    if !deleted.is_empty() {
        out.push_str("Deleted Volumes:\n");
        for name in deleted {
            out.push_str(name);
            out.push('\n');
        }
        out.push('\n');
    }
    out.push_str(&format!(
        "Total reclaimed space: {}\n",
        human_size(report.space_reclaimed as f64)
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vol(name: &str) -> Volume {
        Volume {
            name: name.into(),
            driver: "local".into(),
            scope: "local".into(),
            ..Volume::default()
        }
    }

    #[test]
    fn ls_prints_dockers_table_sorted_naturally() {
        let out = render_ls(vec![vol("v10"), vol("v2")], &LsArgs::default()).unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines[0].split_whitespace().collect::<Vec<_>>(),
            ["DRIVER", "VOLUME", "NAME"]
        );
        assert!(
            lines[1].ends_with("v2") && lines[2].ends_with("v10"),
            "{out}"
        );
        let quiet = LsArgs {
            quiet: true,
            ..LsArgs::default()
        };
        assert_eq!(render_ls(vec![vol("a1")], &quiet).unwrap(), "a1\n");
    }

    #[test]
    fn create_bodies_and_prune_reports_match_docker() {
        let args = CreateArgs {
            driver: "local".into(),
            label: vec!["a=b".into()],
            opt: vec!["type=tmpfs".into(), "device=tmpfs".into()],
            name: Some("data".into()),
            ..CreateArgs::default()
        };
        let body = serde_json::to_value(create_request(&args).unwrap()).unwrap();
        assert_eq!(body["Name"], "data");
        assert_eq!(body["DriverOpts"]["type"], "tmpfs");
        assert_eq!(body["Labels"]["a"], "b");
        let report = VolumePruneReport {
            volumes_deleted: Some(vec!["x1".into()]),
            space_reclaimed: 5,
        };
        assert_eq!(
            prune_output(&report),
            "Deleted Volumes:\nx1\n\nTotal reclaimed space: 5B\n"
        );
        assert_eq!(
            prune_output(&VolumePruneReport::default()),
            "Total reclaimed space: 0B\n"
        );
    }
}
