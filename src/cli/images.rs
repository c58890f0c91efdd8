//! `berth images` (and `berth image ls`): the image list as the docker CLI prints it, one
//! row per repository and tag (per digest with `--digests`), `<none>` for dangling images.
//!
//! `list` fetches, `render` formats; compose's `images` can reuse either.

use clap::Args;

use super::engine::{filters_json, query};
use super::format::units::{human_size, human_size_with_precision, since, truncate_id};
use super::format::{render_list, Data, ListFormat};
use crate::api::client::Client;
use crate::api::types::ImageSummary;
use crate::image::reference::Reference;

const TABLE: &str = "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}";
const TABLE_WITH_DIGEST: &str =
    "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}";
const NONE: &str = "<none>";

#[derive(Debug, Clone, Default, Args)]
pub struct ImagesArgs {
    /// Show all images (default hides intermediate images)
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Show digests
    #[arg(long)]
    pub digests: bool,
    /// Filter output based on conditions provided
    #[arg(short = 'f', long = "filter", value_name = "FILTER")]
    pub filters: Vec<String>,
    /// Format output using a custom template: 'table', 'table TEMPLATE', 'json', or a Go template
    #[arg(long)]
    pub format: Option<String>,
    /// Don't truncate output
    #[arg(long = "no-trunc")]
    pub no_trunc: bool,
    /// Only show image IDs
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Only images of this repository (and tag)
    #[arg(value_name = "REPOSITORY[:TAG]")]
    pub reference: Option<String>,
}

/// Prints the list.
pub async fn run(client: &Client, args: &ImagesArgs) -> anyhow::Result<()> {
    let images = list(client, args).await?;
    print!("{}", render(&images, args)?);
    Ok(())
}

/// `GET /images/json` with the filters and `all` the arguments ask for.
pub async fn list(client: &Client, args: &ImagesArgs) -> anyhow::Result<Vec<ImageSummary>> {
    let extra: Vec<(&str, String)> = args
        .reference
        .iter()
        .map(|r| ("reference", r.clone()))
        .collect();
    let filters = filters_json(&args.filters, &extra)?;
    let path = format!(
        "/images/json{}",
        query(&[
            ("all", if args.all { "1" } else { "" }),
            ("filters", &filters)
        ])
    );
    Ok(client.get_json(&path).await?)
}

/// The list in the format the arguments ask for.
pub fn render(images: &[ImageSummary], args: &ImagesArgs) -> anyhow::Result<String> {
    let source = args.format.as_deref().unwrap_or("");
    let format = if args.quiet && matches!(source.trim(), "" | "table") {
        ListFormat {
            table: false,
            template: "{{.ID}}".into(),
        }
    } else {
        ListFormat::parse(
            source,
            if args.digests {
                TABLE_WITH_DIGEST
            } else {
                TABLE
            },
        )
    };
    let rows: Vec<Data> = images
        .iter()
        .flat_map(|image| rows_of(image, args.digests))
        .map(|row| row.to_data(!args.no_trunc))
        .collect();
    render_list(&format, &header(), &rows)
        .map_err(|e| anyhow::anyhow!("template parsing error: {e}"))
}

fn header() -> Data {
    Data::map(
        [
            ("Containers", "CONTAINERS"),
            ("CreatedAt", "CREATED AT"),
            ("CreatedSince", "CREATED"),
            ("Digest", "DIGEST"),
            ("ID", "IMAGE ID"),
            ("Repository", "REPOSITORY"),
            ("SharedSize", "SHARED SIZE"),
            ("Size", "SIZE"),
            ("Tag", "TAG"),
            ("UniqueSize", "UNIQUE SIZE"),
            // Docker heads the deprecated column like the size it repeats.
            ("VirtualSize", "SIZE"),
        ]
        .map(|(k, v)| (k, Data::str(v))),
    )
}

/// One row of the table.
struct Row<'a> {
    image: &'a ImageSummary,
    repository: String,
    tag: String,
    digest: String,
}

impl Row<'_> {
    /// The row's template context: the docker CLI's `imageContext` fields, sorted by name
    /// as its JSON form is.
    fn to_data(&self, trunc: bool) -> Data {
        let image = self.image;
        let id = if trunc {
            truncate_id(&image.id)
        } else {
            image.id.clone()
        };
        let na_or =
            |n: i64, f: &dyn Fn(i64) -> String| if n == -1 { "N/A".to_owned() } else { f(n) };
        Data::map([
            (
                "Containers",
                Data::str(na_or(image.containers, &|n| n.to_string())),
            ),
            ("CreatedAt", Data::str(go_time_string(image.created))),
            ("CreatedSince", Data::str(since(image.created))),
            ("Digest", Data::str(self.digest.clone())),
            ("ID", Data::str(id)),
            ("Repository", Data::str(self.repository.clone())),
            (
                "SharedSize",
                Data::str(na_or(image.shared_size, &|n| human_size(n as f64))),
            ),
            (
                "Size",
                Data::str(human_size_with_precision(image.size as f64, 3)),
            ),
            ("Tag", Data::str(self.tag.clone())),
            (
                "UniqueSize",
                Data::str(if image.size == -1 || image.shared_size == -1 {
                    "N/A".to_owned()
                } else {
                    human_size((image.size - image.shared_size) as f64)
                }),
            ),
            ("VirtualSize", Data::str(human_size(image.size as f64))),
        ])
    }
}

/// Go's `time.Time.String()` of a Unix time in local time: `2024-05-01 10:00:00 +0000 UTC`.
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

fn is_dangling(image: &ImageSummary) -> bool {
    (image.repo_tags.is_empty() && image.repo_digests.is_empty())
        || (image.repo_tags == ["<none>:<none>"] && image.repo_digests == ["<none>@<none>"])
}

/// The docker CLI's `imageEntries`: tags grouped by repository, each tag once (or once per
/// digest of its repository with `--digests`), then repositories known only by digest.
fn rows_of(image: &ImageSummary, show_digests: bool) -> Vec<Row<'_>> {
    let row = |repository: &str, tag: &str, digest: &str| Row {
        image,
        repository: repository.to_owned(),
        tag: tag.to_owned(),
        digest: digest.to_owned(),
    };
    if is_dangling(image) {
        return vec![row(NONE, NONE, NONE)];
    }
    let mut tags: Vec<(String, Vec<String>)> = Vec::new();
    for r in image
        .repo_tags
        .iter()
        .filter_map(|t| Reference::parse_normalized(t).ok())
    {
        if let Some(tag) = &r.tag {
            push_grouped(&mut tags, r.familiar_name(), tag.clone());
        }
    }
    let mut digests: Vec<(String, Vec<String>)> = Vec::new();
    for r in image
        .repo_digests
        .iter()
        .filter_map(|d| Reference::parse_normalized(d).ok())
    {
        if let Some(digest) = &r.digest {
            push_grouped(&mut digests, r.familiar_name(), digest.to_string());
        }
    }
    let mut rows = Vec::new();
    for (repository, repo_tags) in &tags {
        let position = digests.iter().position(|(name, _)| name == repository);
        let repo_digests = position.map(|i| digests.remove(i).1).unwrap_or_default();
        for tag in repo_tags {
            if !show_digests || repo_digests.is_empty() {
                rows.push(row(repository, tag, NONE));
                continue;
            }
            for digest in &repo_digests {
                rows.push(row(repository, tag, digest));
            }
        }
    }
    for (repository, repo_digests) in &digests {
        if show_digests {
            for digest in repo_digests {
                rows.push(row(repository, NONE, digest));
            }
        } else {
            rows.push(row(repository, NONE, ""));
        }
    }
    rows
}

fn push_grouped(groups: &mut Vec<(String, Vec<String>)>, key: String, value: String) {
    match groups.iter_mut().find(|(k, _)| *k == key) {
        Some((_, values)) => values.push(value),
        None => groups.push((key, vec![value])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    const DIGEST: &str = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

    fn image(tags: &[&str], digests: &[&str]) -> ImageSummary {
        ImageSummary {
            id: ID.into(),
            repo_tags: tags.iter().map(|s| s.to_string()).collect(),
            repo_digests: digests.iter().map(|s| s.to_string()).collect(),
            created: chrono::Utc::now().timestamp() - 15 * 86400,
            size: 4_261_216,
            shared_size: -1,
            containers: -1,
            ..Default::default()
        }
    }

    fn check(images: &[ImageSummary], args: &ImagesArgs, want: &str) {
        assert_eq!(render(images, args).expect("renders"), want);
    }

    #[test]
    fn default_table() {
        let images = [
            image(
                &["busybox:latest", "busybox:1"],
                &[&format!("busybox@{DIGEST}")],
            ),
            image(&[], &[]),
        ];
        check(
            &images,
            &ImagesArgs::default(),
            "REPOSITORY   TAG       IMAGE ID       CREATED       SIZE\n\
             busybox      latest    0123456789ab   2 weeks ago   4.26MB\n\
             busybox      1         0123456789ab   2 weeks ago   4.26MB\n\
             <none>       <none>    0123456789ab   2 weeks ago   4.26MB\n",
        );
    }

    #[test]
    fn digests_column_and_digest_only_repositories() {
        let images = [image(
            &["127.0.0.1:5000/app:v1"],
            &[
                &format!("127.0.0.1:5000/app@{DIGEST}"),
                &format!("other/x@{DIGEST}"),
            ],
        )];
        let args = ImagesArgs {
            digests: true,
            format: Some("{{.Repository}} {{.Tag}} {{.Digest}}".into()),
            ..Default::default()
        };
        check(
            &images,
            &args,
            &format!("127.0.0.1:5000/app v1 {DIGEST}\nother/x <none> {DIGEST}\n"),
        );
        let args = ImagesArgs {
            format: Some("{{.Repository}}:{{.Tag}}".into()),
            ..Default::default()
        };
        check(&images, &args, "127.0.0.1:5000/app:v1\nother/x:<none>\n");
    }

    #[test]
    fn quiet_and_no_trunc() {
        let images = [image(&["a:1"], &[])];
        let quiet = ImagesArgs {
            quiet: true,
            ..Default::default()
        };
        check(&images, &quiet, "0123456789ab\n");
        let full = ImagesArgs {
            quiet: true,
            no_trunc: true,
            ..Default::default()
        };
        check(&images, &full, &format!("{ID}\n"));
    }

    #[test]
    fn json_format_is_one_sorted_object_per_line() {
        let images = [image(&["a:1"], &[])];
        let args = ImagesArgs {
            format: Some("json".into()),
            ..Default::default()
        };
        let out = render(&images, &args).expect("renders");
        let value: serde_json::Value = serde_json::from_str(out.trim_end()).expect("json line");
        assert_eq!(value["Repository"], "a");
        assert_eq!(value["Containers"], "N/A");
        assert_eq!(value["Digest"], "<none>");
        assert!(out.contains(r#""Digest":"\u003cnone\u003e""#), "{out}");
        assert!(out.starts_with("{\"Containers\":"), "{out}");
    }

    #[test]
    fn bad_template_is_a_parsing_error() {
        let args = ImagesArgs {
            format: Some("{{.ID".into()),
            ..Default::default()
        };
        assert_eq!(
            render(&[], &args).expect_err("invalid").to_string(),
            "template parsing error: template: :1: unclosed action"
        );
    }
}
