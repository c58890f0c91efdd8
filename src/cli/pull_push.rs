//! `berth pull` and `berth push`: one image to or from a registry, with the daemon's
//! progress shown as the docker CLI shows it and credentials from the docker config sent
//! in `X-Registry-Auth`.
//!
//! `pull`/`push` take a writer for the progress so compose's pull can show its own.

use std::io::Write;

use anyhow::{anyhow, Context};
use clap::Args;

use super::docker_config::{auth_key_for_domain, ConfigFile};
use super::engine::{query, stdout_is_terminal};
use super::progress::{show_stream, ProgressDisplay};
use crate::api::client::{registry_auth_header, Client};
use crate::image::reference::Reference;

#[derive(Debug, Clone, Args)]
pub struct PullArgs {
    /// Set platform if server is multi-platform capable
    #[arg(long, value_name = "PLATFORM", env = "DOCKER_DEFAULT_PLATFORM")]
    pub platform: Option<String>,
    /// Suppress verbose output
    #[arg(short = 'q', long)]
    pub quiet: bool,
    #[arg(value_name = "NAME[:TAG|@DIGEST]")]
    pub name: String,
}

#[derive(Debug, Clone, Args)]
pub struct PushArgs {
    /// Suppress verbose output
    #[arg(short = 'q', long)]
    pub quiet: bool,
    #[arg(value_name = "NAME[:TAG]")]
    pub name: String,
}

pub async fn run_pull(client: &Client, args: &PullArgs) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout();
    let reference = pull(client, args, &mut stdout, stdout_is_terminal()).await?;
    // Printed even with -q, as Docker does.
    println!("{reference}");
    Ok(())
}

/// Pulls `args.name`; progress goes to `out` unless quiet. Returns the full reference
/// pulled (`docker.io/library/busybox:latest`).
pub async fn pull(
    client: &Client,
    args: &PullArgs,
    out: &mut dyn Write,
    terminal: bool,
) -> anyhow::Result<Reference> {
    let named = Reference::parse_normalized(&args.name)?;
    if named.is_name_only() && !args.quiet {
        writeln!(out, "Using default tag: latest")?;
    }
    let reference = named.with_default_tag();
    let tag = match (&reference.digest, &reference.tag) {
        (Some(digest), _) => digest.to_string(),
        (None, Some(tag)) => tag.clone(),
        (None, None) => String::new(),
    };
    let path = format!(
        "/images/create{}",
        query(&[
            ("fromImage", &reference.name()),
            ("tag", &tag),
            ("platform", args.platform.as_deref().unwrap_or("")),
        ])
    );
    let headers = [auth_header(&reference)?];
    post_with_progress(client, &path, &headers, args.quiet, out, terminal).await?;
    Ok(reference)
}

pub async fn run_push(client: &Client, args: &PushArgs) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout();
    let reference = push(client, args, &mut stdout, stdout_is_terminal()).await?;
    if args.quiet {
        println!("{reference}");
    }
    Ok(())
}

/// Pushes `args.name` (its `latest` tag when it names none); progress goes to `out`
/// unless quiet. Returns the full reference pushed.
pub async fn push(
    client: &Client,
    args: &PushArgs,
    out: &mut dyn Write,
    terminal: bool,
) -> anyhow::Result<Reference> {
    let named = Reference::parse_normalized(&args.name)?;
    if named.digest.is_some() {
        return Err(anyhow!("cannot push a digest reference"));
    }
    if named.is_name_only() && !args.quiet {
        writeln!(out, "Using default tag: latest")?;
    }
    let reference = named.with_default_tag();
    let tag = reference.tag.clone().unwrap_or_default();
    let path = format!(
        "/images/{}/push{}",
        reference.familiar_name(),
        query(&[("tag", &tag)])
    );
    let headers = [auth_header(&reference)?];
    post_with_progress(client, &path, &headers, args.quiet, out, terminal).await?;
    Ok(reference)
}

/// Posts to a streaming endpoint (pull, push) and shows its progress lines on `out`,
/// in place on a terminal; nothing when quiet. An error line in the stream is an error.
async fn post_with_progress(
    client: &Client,
    path: &str,
    headers: &[(&str, String)],
    quiet: bool,
    out: &mut dyn Write,
    terminal: bool,
) -> anyhow::Result<()> {
    let response = client.send_stream("POST", path, headers, None).await?;
    let mut sink = std::io::sink();
    let target: &mut dyn Write = if quiet { &mut sink } else { out };
    let mut display = ProgressDisplay::new(target, terminal && !quiet);
    show_stream(response, &mut display).await
}

/// `X-Registry-Auth` for the reference's registry, from the user's docker config.
fn auth_header(reference: &Reference) -> anyhow::Result<(&'static str, String)> {
    let config = ConfigFile::load()?;
    let key = auth_key_for_domain(&reference.domain);
    let auth = config
        .auth_config(&key)
        .with_context(|| format!("reading credentials for {key}"))?;
    Ok(registry_auth_header(&auth))
}
