//! `berth import`: a root filesystem tarball (a file, `-` for stdin, or an http(s) URL the
//! CLI downloads itself) becomes a one-layer image, with `--change` instructions applied by
//! the daemon as `docker import` does.

use anyhow::{anyhow, Context};
use clap::Args;
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;

use super::engine::{query, stdout_is_terminal};
use super::load_save::go_path_error;
use super::progress::{show_stream, ProgressDisplay};
use crate::api::client::Client;
use crate::image::reference::Reference;

#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    /// Apply Dockerfile instruction to the created image
    #[arg(short = 'c', long = "change", value_name = "CHANGE")]
    pub changes: Vec<String>,
    /// Set commit message for imported image
    #[arg(short = 'm', long)]
    pub message: Option<String>,
    /// Set platform if server is multi-platform capable
    #[arg(long)]
    pub platform: Option<String>,
    /// The tarball: a file, `-` for stdin, or an http(s) URL
    #[arg(value_name = "file|URL|-")]
    pub source: String,
    #[arg(value_name = "REPOSITORY[:TAG]")]
    pub reference: Option<String>,
}

type Body = Box<dyn tokio::io::AsyncRead + Send + Unpin>;

/// Imports and prints the new image's ID.
pub async fn run(client: &Client, args: &ImportArgs) -> anyhow::Result<()> {
    let repo = args.reference.as_deref().unwrap_or("");
    if !repo.is_empty() {
        Reference::parse_normalized(repo)?;
    }
    let body = open_source(&args.source).await?;
    let mut pairs: Vec<(&str, &str)> = vec![
        ("fromSrc", "-"),
        ("repo", repo),
        ("message", args.message.as_deref().unwrap_or("")),
        ("platform", args.platform.as_deref().unwrap_or("")),
    ];
    pairs.extend(args.changes.iter().map(|c| ("changes", c.as_str())));
    let path = format!("/images/create{}", query(&pairs));
    let response = client.send_stream("POST", &path, &[], Some(body)).await?;
    let mut stdout = std::io::stdout();
    let mut display = ProgressDisplay::new(&mut stdout, stdout_is_terminal());
    show_stream(response, &mut display).await
}

async fn open_source(source: &str) -> anyhow::Result<Body> {
    if source == "-" {
        return Ok(Box::new(tokio::io::stdin()));
    }
    if source.starts_with("http://") || source.starts_with("https://") {
        return download(source).await;
    }
    let path = std::path::Path::new(source);
    let file = tokio::fs::File::open(path)
        .await
        .map_err(|e| go_path_error("open", path, &e))?;
    Ok(Box::new(file))
}

/// Streams `url` through a pipe, so the tarball is never held whole in memory.
async fn download(url: &str) -> anyhow::Result<Body> {
    let response = reqwest::get(url)
        .await
        .with_context(|| format!("downloading {url}"))?;
    if !response.status().is_success() {
        return Err(anyhow!("downloading {url}: {}", response.status()));
    }
    let (mut writer, reader) = tokio::io::duplex(64 * 1024);
    tokio::spawn(async move {
        let mut chunks = response.bytes_stream();
        while let Some(Ok(chunk)) = chunks.next().await {
            if writer.write_all(&chunk).await.is_err() {
                return;
            }
        }
        // A cut-off download ends the body early; the daemon rejects the short tarball.
        let _ = writer.shutdown().await;
    });
    Ok(Box::new(reader))
}
