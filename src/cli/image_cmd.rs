//! `berth image <verb>`: the management form of the image verbs (`ls`, `pull`, `rm`, ...),
//! plus the ones only it has: `inspect`, `history` and `prune`.

use std::io::{BufRead, Write};

use clap::{Args, Subcommand};

use super::engine::{filters_json, query, with_client, StatusError};
use super::format::data::indent_json;
use super::format::units::{ellipsis, human_size, human_size_with_precision, since, truncate_id};
use super::format::{render_list, Data, ListFormat, Template};
use super::{images, import, load_save, pull_push, tag_rmi};
use crate::api::client::{read_body, Client, ClientError};
use crate::api::types::{HistoryResponseItem, ImagesPruneResponse};

#[derive(Debug, Subcommand)]
pub enum ImageVerb {
    /// List images
    #[command(visible_alias = "list")]
    Ls(images::ImagesArgs),
    /// Download an image from a registry
    Pull(pull_push::PullArgs),
    /// Upload an image to a registry
    Push(pull_push::PushArgs),
    /// Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE
    Tag(tag_rmi::TagArgs),
    /// Remove one or more images
    #[command(visible_alias = "remove")]
    Rm(tag_rmi::RmiArgs),
    /// Load an image from a tar archive or STDIN
    Load(load_save::LoadArgs),
    /// Save one or more images to a tar archive (streamed to STDOUT by default)
    Save(load_save::SaveArgs),
    /// Import the contents from a tarball to create a filesystem image
    Import(import::ImportArgs),
    /// Show the history of an image
    History(HistoryArgs),
    /// Display detailed information on one or more images
    Inspect(InspectArgs),
    /// Remove unused images
    Prune(PruneArgs),
}

#[derive(Debug, Clone, Args)]
pub struct HistoryArgs {
    /// Print sizes and dates in human readable format
    #[arg(
        short = 'H',
        long = "human",
        default_value_t = true,
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        action = clap::ArgAction::Set
    )]
    pub human: bool,
    /// Format output using a custom template: 'table', 'table TEMPLATE', 'json', or a Go template
    #[arg(long)]
    pub format: Option<String>,
    /// Don't truncate output
    #[arg(long = "no-trunc")]
    pub no_trunc: bool,
    /// Only show image IDs
    #[arg(short = 'q', long)]
    pub quiet: bool,
    pub image: String,
}

#[derive(Debug, Clone, Args)]
pub struct InspectArgs {
    /// Format output using a custom template: 'json', or a Go template
    #[arg(short = 'f', long)]
    pub format: Option<String>,
    #[arg(required = true, value_name = "IMAGE")]
    pub images: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct PruneArgs {
    /// Remove all unused images, not just dangling ones
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Provide filter values (e.g. "until=<timestamp>")
    #[arg(long = "filter", value_name = "FILTER")]
    pub filters: Vec<String>,
    /// Do not prompt for confirmation
    #[arg(short = 'f', long)]
    pub force: bool,
}

pub fn run(host: Option<&str>, verb: ImageVerb) -> anyhow::Result<()> {
    match verb {
        ImageVerb::Ls(args) => with_client(host, |c| async move { images::run(&c, &args).await }),
        ImageVerb::Pull(args) => {
            with_client(
                host,
                |c| async move { pull_push::run_pull(&c, &args).await },
            )
        }
        ImageVerb::Push(args) => {
            with_client(
                host,
                |c| async move { pull_push::run_push(&c, &args).await },
            )
        }
        ImageVerb::Tag(args) => with_client(host, |c| async move { tag_rmi::tag(&c, &args).await }),
        ImageVerb::Rm(args) => with_client(host, |c| async move { tag_rmi::rmi(&c, &args).await }),
        ImageVerb::Load(args) => {
            with_client(host, |c| async move { load_save::load(&c, &args).await })
        }
        ImageVerb::Save(args) => load_save::run_save(host, &args),
        ImageVerb::Import(args) => {
            with_client(host, |c| async move { import::run(&c, &args).await })
        }
        ImageVerb::History(args) => with_client(host, |c| async move { history(&c, &args).await }),
        ImageVerb::Inspect(args) => with_client(host, |c| async move { inspect(&c, &args).await }),
        ImageVerb::Prune(args) => with_client(host, |c| async move { prune(&c, &args).await }),
    }
}

const HISTORY_TABLE: &str =
    "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}";

/// `image history`: the image's layers, newest first.
pub async fn history(client: &Client, args: &HistoryArgs) -> anyhow::Result<()> {
    let items: Vec<HistoryResponseItem> = client
        .get_json(&format!("/images/{}/history", args.image))
        .await?;
    print!("{}", render_history(&items, args)?);
    Ok(())
}

fn render_history(items: &[HistoryResponseItem], args: &HistoryArgs) -> anyhow::Result<String> {
    let source = args.format.as_deref().unwrap_or("");
    let format = if args.quiet && matches!(source.trim(), "" | "table") {
        ListFormat {
            table: false,
            template: "{{.ID}}".into(),
        }
    } else {
        ListFormat::parse(source, HISTORY_TABLE)
    };
    let trunc = !args.no_trunc;
    let rows: Vec<Data> = items
        .iter()
        .map(|h| history_row(h, trunc, args.human))
        .collect();
    let header = Data::map(
        [
            ("Comment", "COMMENT"),
            ("CreatedAt", "CREATED AT"),
            ("CreatedBy", "CREATED BY"),
            // Without -H the column holds the timestamp, and Docker heads it so.
            (
                "CreatedSince",
                if args.human { "CREATED" } else { "CREATED AT" },
            ),
            ("ID", "IMAGE"),
            ("Size", "SIZE"),
        ]
        .map(|(k, v)| (k, Data::str(v))),
    );
    render_list(&format, &header, &rows).map_err(|e| anyhow::anyhow!("template parsing error: {e}"))
}

/// The docker CLI's `historyContext`.
fn history_row(h: &HistoryResponseItem, trunc: bool, human: bool) -> Data {
    let created_at = rfc3339_local(h.created);
    let created_by = h.created_by.replace('\t', " ");
    Data::map([
        ("Comment", Data::str(h.comment.clone())),
        ("CreatedAt", Data::str(created_at.clone())),
        (
            "CreatedBy",
            Data::str(if trunc {
                ellipsis(&created_by, 45)
            } else {
                created_by
            }),
        ),
        (
            "CreatedSince",
            Data::str(if human { since(h.created) } else { created_at }),
        ),
        (
            "ID",
            Data::str(if trunc {
                truncate_id(&h.id)
            } else {
                h.id.clone()
            }),
        ),
        (
            "Size",
            Data::str(if human {
                human_size_with_precision(h.size as f64, 3)
            } else {
                h.size.to_string()
            }),
        ),
    ])
}

fn rfc3339_local(unix: i64) -> String {
    use chrono::TimeZone;
    chrono::Local
        .timestamp_opt(unix, 0)
        .single()
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// `image inspect`: the daemon's JSON for each image, as an indented array, or each run
/// through `--format`. Images that fail are reported after the others, and exit 1.
pub async fn inspect(client: &Client, args: &InspectArgs) -> anyhow::Result<()> {
    let paths: Vec<String> = args
        .images
        .iter()
        .map(|name| format!("/images/{name}/json"))
        .collect();
    inspect_paths(client, &paths, args.format.as_deref()).await
}

/// The `--format` of the inspect verbs: none (an indented array), `json`, or a template.
pub(crate) fn inspect_template(format: Option<&str>) -> anyhow::Result<Option<Template>> {
    Ok(match format.map(str::trim) {
        None | Some("") => None,
        Some("json") => Some(Template::parse("{{json .}}")?),
        Some(text) => Some(
            Template::parse(text).map_err(|e| anyhow::anyhow!("template parsing error: {e}"))?,
        ),
    })
}

/// `docker <object> inspect`: `GET` each path, print what answered through
/// [`render_inspect`], then the failures, and exit 1 when any.
pub(crate) async fn inspect_paths(
    client: &Client,
    paths: &[String],
    format: Option<&str>,
) -> anyhow::Result<()> {
    let template = inspect_template(format)?;
    let mut raws = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        match fetch_raw(client, path).await {
            Ok(raw) => raws.push(raw),
            Err(e) => errors.push(e.to_string()),
        }
    }
    print!("{}", render_inspect(&raws, template.as_ref())?);
    report_errors(&errors)
}

/// `docker inspect`'s output for the objects' raw JSON: an array indented by four spaces,
/// or the template executed once per object.
pub(crate) fn render_inspect(
    raws: &[String],
    template: Option<&Template>,
) -> anyhow::Result<String> {
    let mut out = String::new();
    match template {
        None => {
            out.push_str(&indent_json(&format!("[{}]", raws.join(",")), "    "));
            out.push('\n');
        }
        Some(t) => {
            for raw in raws {
                let data: Data = serde_json::from_str(raw)?;
                let text = t
                    .execute(&data)
                    .map_err(|e| anyhow::anyhow!("template parsing error: {e}"))?;
                out.push_str(&text);
                out.push('\n');
            }
        }
    }
    Ok(out)
}

/// The answer to `GET path` as text, unparsed (kept byte for byte, as the docker CLI does).
pub(crate) async fn fetch_raw(client: &Client, path: &str) -> Result<String, ClientError> {
    let response = client.send_stream("GET", path, &[], None).await?;
    let body = read_body(response).await?;
    Ok(String::from_utf8_lossy(&body).trim().to_owned())
}

/// Prints the errors of a multi-object verb on stderr, one per line; exit 1 when any.
pub fn report_errors(errors: &[String]) -> anyhow::Result<()> {
    if errors.is_empty() {
        return Ok(());
    }
    eprintln!("{}", errors.join("\n"));
    Err(StatusError(1).into())
}

const DANGLING_WARNING: &str =
    "WARNING! This will remove all dangling images.\nAre you sure you want to continue?";
const ALL_WARNING: &str = "WARNING! This will remove all images without at least one container associated to them.\nAre you sure you want to continue?";

/// `image prune`: removes dangling (or with `-a` all unused) images after asking.
pub async fn prune(client: &Client, args: &PruneArgs) -> anyhow::Result<()> {
    let warning = if args.all {
        ALL_WARNING
    } else {
        DANGLING_WARNING
    };
    if !args.force && !confirm(warning)? {
        return Ok(());
    }
    let dangling = if args.all { "false" } else { "true" };
    let filters = filters_json(&args.filters, &[("dangling", dangling.to_owned())])?;
    let path = format!("/images/prune{}", query(&[("filters", &filters)]));
    let report: ImagesPruneResponse = client.send_json("POST", &path, &[], None).await?;
    print!("{}", prune_report(&report));
    Ok(())
}

fn prune_report(report: &ImagesPruneResponse) -> String {
    let mut out = String::new();
    let deleted = report.images_deleted.as_deref().unwrap_or_default();
    if !deleted.is_empty() {
        out.push_str("Deleted Images:\n");
        for item in deleted {
            match (&item.untagged, &item.deleted) {
                (Some(u), _) if !u.is_empty() => out.push_str(&format!("untagged: {u}\n")),
                (_, Some(d)) => out.push_str(&format!("deleted: {d}\n")),
                _ => {}
            }
        }
        out.push('\n');
    }
    out.push_str(&format!(
        "Total reclaimed space: {}\n",
        human_size(report.space_reclaimed as f64)
    ));
    out
}

/// Docker's `PromptForConfirmation`: `message [y/N] `, yes only for `y`/`Y`.
pub fn confirm(message: &str) -> anyhow::Result<bool> {
    print!("{message} [y/N] ");
    std::io::stdout().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::types::ImageDeleteResponseItem;

    fn args(human: bool, no_trunc: bool) -> HistoryArgs {
        HistoryArgs {
            human,
            format: None,
            no_trunc,
            quiet: false,
            image: "x".into(),
        }
    }

    fn item() -> HistoryResponseItem {
        HistoryResponseItem {
            id: "sha256:0123456789abcdef0123456789abcdef".into(),
            created: chrono::Utc::now().timestamp() - 3 * 86400,
            created_by: "/bin/sh -c #(nop) ADD file:0123456789abcdef in / ".into(),
            size: 4_261_216,
            comment: "imported".into(),
            ..Default::default()
        }
    }

    #[test]
    fn history_table_truncates_like_docker() {
        let out = render_history(&[item()], &args(true, false)).expect("renders");
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines[0],
            "IMAGE          CREATED      CREATED BY                                      SIZE      COMMENT"
        );
        assert_eq!(
            lines[1],
            "0123456789ab   3 days ago   /bin/sh -c #(nop) ADD file:0123456789abcdef …   4.26MB    imported"
        );
    }

    #[test]
    fn history_without_human_shows_bytes_and_rfc3339() {
        let a = HistoryArgs {
            format: Some("{{.Size}} {{.CreatedSince}}".into()),
            ..args(false, true)
        };
        let out = render_history(&[item()], &a).expect("renders");
        assert!(out.starts_with("4261216 20"), "{out}");
        assert!(
            out.trim_end().ends_with('Z') || out.contains('+') || out.contains('-'),
            "{out}"
        );
    }

    #[test]
    fn prune_report_lists_and_totals() {
        let report = ImagesPruneResponse {
            images_deleted: Some(vec![
                ImageDeleteResponseItem {
                    untagged: Some("a:1".into()),
                    deleted: None,
                },
                ImageDeleteResponseItem {
                    untagged: None,
                    deleted: Some("sha256:abc".into()),
                },
            ]),
            space_reclaimed: 1_234_567,
        };
        assert_eq!(
            prune_report(&report),
            "Deleted Images:\nuntagged: a:1\ndeleted: sha256:abc\n\nTotal reclaimed space: 1.235MB\n"
        );
        assert_eq!(
            prune_report(&ImagesPruneResponse::default()),
            "Total reclaimed space: 0B\n"
        );
    }
}
