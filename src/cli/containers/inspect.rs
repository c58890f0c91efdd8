//! `berth inspect` (containers, then images, as the docker CLI tries them) and
//! `berth container inspect`: the daemon's JSON as an array indented by 4 spaces, or each
//! object through `-f/--format`. Objects not found are reported after the others; exit 1.

use clap::Args;

use super::container_path;
use crate::api::client::{Client, ClientError};
use crate::cli::image_cmd::{fetch_raw, inspect_template, render_inspect, report_errors};

#[derive(Debug, Clone, Default, Args)]
pub struct InspectArgs {
    /// Format output using a custom template: 'json', or a Go template
    #[arg(short = 'f', long, value_name = "string")]
    pub format: Option<String>,
    /// Display total file sizes if the type is container
    #[arg(short = 's', long)]
    pub size: bool,
    /// Return JSON for specified type
    #[arg(long = "type", value_name = "string")]
    pub kind: Option<String>,
    #[arg(value_name = "NAME|ID", required = true)]
    pub names: Vec<String>,
}

/// What an inspected object is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Container,
    Image,
    Any,
}

pub async fn run(client: &Client, args: &InspectArgs) -> anyhow::Result<()> {
    let kind = match args.kind.as_deref() {
        None | Some("") => Kind::Any,
        Some("container") => Kind::Container,
        Some("image") => Kind::Image,
        Some(other) => anyhow::bail!("\"{other}\" is not a valid value for --type"),
    };
    inspect(client, args, kind).await
}

/// `container inspect`: containers only.
pub async fn run_containers(client: &Client, args: &InspectArgs) -> anyhow::Result<()> {
    inspect(client, args, Kind::Container).await
}

async fn inspect(client: &Client, args: &InspectArgs, kind: Kind) -> anyhow::Result<()> {
    let template = inspect_template(args.format.as_deref())?;
    let mut raws = Vec::new();
    let mut errors = Vec::new();
    for name in &args.names {
        match fetch(client, name, kind, args.size).await {
            Ok(Some(raw)) => raws.push(raw),
            Ok(None) => errors.push(match kind {
                Kind::Container => format!("Error: No such container: {name}"),
                Kind::Image => format!("Error: No such image: {name}"),
                Kind::Any => format!("Error: No such object: {name}"),
            }),
            Err(e) => errors.push(e.to_string()),
        }
    }
    print!("{}", render_inspect(&raws, template.as_ref())?);
    report_errors(&errors)
}

/// The raw JSON of `name` as a container, then as an image; `None` when neither exists.
async fn fetch(
    client: &Client,
    name: &str,
    kind: Kind,
    size: bool,
) -> Result<Option<String>, ClientError> {
    if kind != Kind::Image {
        let path = format!(
            "{}/json{}",
            container_path(name),
            if size { "?size=1" } else { "" }
        );
        match fetch_raw(client, &path).await {
            Err(ClientError::Api { status: 404, .. }) => {}
            other => return other.map(Some),
        }
    }
    if kind != Kind::Container {
        let path = format!("/images/{}/json", crate::cli::engine::percent_encode(name));
        match fetch_raw(client, &path).await {
            Err(ClientError::Api { status: 404, .. }) => {}
            other => return other.map(Some),
        }
    }
    Ok(None)
}
