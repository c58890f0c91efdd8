//! `berth tag` and `berth rmi`: naming and removing local images, with the docker CLI's
//! checks and output (`Untagged: ...`, `Deleted: sha256:...`).

use anyhow::anyhow;
use clap::Args;

use super::engine::query;
use super::image_cmd::report_errors;
use crate::api::client::Client;
use crate::api::types::ImageDeleteResponseItem;
use crate::image::reference::Reference;

#[derive(Debug, Clone, Args)]
pub struct TagArgs {
    #[arg(value_name = "SOURCE_IMAGE[:TAG]")]
    pub source: String,
    #[arg(value_name = "TARGET_IMAGE[:TAG]")]
    pub target: String,
}

#[derive(Debug, Clone, Args)]
pub struct RmiArgs {
    /// Force removal of the image
    #[arg(short = 'f', long)]
    pub force: bool,
    /// Do not delete untagged parents
    #[arg(long = "no-prune")]
    pub no_prune: bool,
    #[arg(required = true, value_name = "IMAGE")]
    pub images: Vec<String>,
}

/// `POST /images/{source}/tag?repo=&tag=`, the target checked and normalised first.
pub async fn tag(client: &Client, args: &TagArgs) -> anyhow::Result<()> {
    if args.source.is_empty() {
        return Err(anyhow!(
            "Error parsing reference: \"\" is not a valid repository/tag: invalid reference format"
        ));
    }
    let target = Reference::parse_normalized(&args.target).map_err(|e| {
        anyhow!(
            "Error parsing reference: {:?} is not a valid repository/tag: {e}",
            args.target
        )
    })?;
    if target.digest.is_some() {
        return Err(anyhow!("refusing to create a tag with a digest reference"));
    }
    let target = target.with_default_tag();
    let path = format!(
        "/images/{}/tag{}",
        args.source,
        query(&[
            ("repo", &target.name()),
            ("tag", target.tag.as_deref().unwrap_or("")),
        ])
    );
    let _: serde_json::Value = client.send_json("POST", &path, &[], None).await?;
    Ok(())
}

/// `DELETE /images/{name}` for each image; prints what went, reports failures after.
pub async fn rmi(client: &Client, args: &RmiArgs) -> anyhow::Result<()> {
    let mut errors = Vec::new();
    for image in &args.images {
        let path = format!(
            "/images/{image}{}",
            query(&[
                ("force", if args.force { "1" } else { "" }),
                ("noprune", if args.no_prune { "1" } else { "" }),
            ])
        );
        match client
            .send_json::<Vec<ImageDeleteResponseItem>>("DELETE", &path, &[], None)
            .await
        {
            Ok(items) => print!("{}", removal_lines(&items)),
            Err(e) => errors.push(e.to_string()),
        }
    }
    report_errors(&errors)
}

fn removal_lines(items: &[ImageDeleteResponseItem]) -> String {
    let mut out = String::new();
    for item in items {
        match (&item.deleted, &item.untagged) {
            (Some(d), _) if !d.is_empty() => out.push_str(&format!("Deleted: {d}\n")),
            (_, Some(u)) => out.push_str(&format!("Untagged: {u}\n")),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removal_lines_as_docker() {
        let items = [
            ImageDeleteResponseItem {
                untagged: Some("busybox:latest".into()),
                deleted: None,
            },
            ImageDeleteResponseItem {
                untagged: None,
                deleted: Some("sha256:abc".into()),
            },
        ];
        assert_eq!(
            removal_lines(&items),
            "Untagged: busybox:latest\nDeleted: sha256:abc\n"
        );
    }
}
