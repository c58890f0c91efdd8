//! `berth load` and `berth save`: image tarballs (docker-archive or OCI layout) streamed
//! to and from the daemon, never held in memory.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context};
use clap::Args;
use http_body_util::BodyExt;

use super::engine::{query, stdout_is_terminal, with_client};
use super::progress::{show_stream, ProgressDisplay};
use crate::api::client::Client;

#[derive(Debug, Clone, Args)]
pub struct LoadArgs {
    /// Read from tar archive file, instead of STDIN
    #[arg(short = 'i', long, value_name = "FILE")]
    pub input: Option<PathBuf>,
    /// Suppress the load output
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Args)]
pub struct SaveArgs {
    /// Write to a file, instead of STDOUT
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[arg(required = true, value_name = "IMAGE")]
    pub images: Vec<String>,
}

/// An I/O error worded as Go's `*PathError` (`open x: no such file or directory`).
pub fn go_path_error(op: &str, path: &Path, e: &std::io::Error) -> anyhow::Error {
    let text = e.to_string();
    let text = text
        .split(" (os error")
        .next()
        .unwrap_or(&text)
        .to_lowercase();
    anyhow!("{op} {}: {text}", path.display())
}

/// `POST /images/load` with the tarball from `-i` or stdin.
pub async fn load(client: &Client, args: &LoadArgs) -> anyhow::Result<()> {
    let body: Box<dyn tokio::io::AsyncRead + Send + Unpin> = match &args.input {
        Some(path) => Box::new(
            tokio::fs::File::open(path)
                .await
                .map_err(|e| go_path_error("open", path, &e))?,
        ),
        None => {
            if std::io::stdin().is_terminal() {
                bail!("requested load from stdin, but stdin is empty");
            }
            Box::new(tokio::io::stdin())
        }
    };
    let terminal = stdout_is_terminal();
    // Off a terminal Docker asks for the quiet form: no progress, only the result lines.
    let quiet = args.quiet || !terminal;
    let path = format!(
        "/images/load{}",
        query(&[("quiet", if quiet { "1" } else { "" })])
    );
    let response = client.send_stream("POST", &path, &[], Some(body)).await?;
    let is_json = response
        .headers()
        .get(hyper::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let mut stdout = std::io::stdout();
    if is_json {
        let mut display = ProgressDisplay::new(&mut stdout, terminal);
        return show_stream(response, &mut display).await;
    }
    copy_body(response, &mut stdout).await
}

/// Streams an answer's body into `out`.
async fn copy_body(
    response: hyper::Response<hyper::body::Incoming>,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let mut body = response.into_body();
    while let Some(frame) = body.frame().await {
        let frame = frame.context("reading the daemon's answer")?;
        if let Some(data) = frame.data_ref() {
            out.write_all(data)?;
        }
    }
    out.flush()?;
    Ok(())
}

/// `save`: refuses a terminal as Docker does, before bothering the daemon.
pub fn run_save(host: Option<&str>, args: &SaveArgs) -> anyhow::Result<()> {
    if args.output.is_none() && stdout_is_terminal() {
        bail!("cowardly refusing to save to a terminal. Use the -o flag or redirect");
    }
    if let Some(output) = &args.output {
        check_output_path(output)?;
    }
    with_client(host, |client| async move { save(&client, args).await })
}

/// `GET /images/get?names=...` into `-o FILE` (written beside it, then renamed) or stdout.
pub async fn save(client: &Client, args: &SaveArgs) -> anyhow::Result<()> {
    let pairs: Vec<(&str, &str)> = args.images.iter().map(|n| ("names", n.as_str())).collect();
    let path = format!("/images/get{}", query(&pairs));
    let response = client.send_stream("GET", &path, &[], None).await?;
    let Some(output) = &args.output else {
        return copy_body(response, &mut std::io::stdout()).await;
    };
    let dir = output
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = output
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let written = async {
        let mut file = std::fs::File::create(&tmp).map_err(|e| go_path_error("open", &tmp, &e))?;
        copy_body(response, &mut file).await?;
        file.sync_all()?;
        std::fs::rename(&tmp, output).map_err(|e| go_path_error("rename", output, &e))
    }
    .await;
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written.context("failed to save image")
}

/// Docker's `ValidateOutputPath`: the directory must exist and the target must not be one.
fn check_output_path(path: &Path) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !dir.is_dir() {
        bail!(
            "failed to save image: invalid output path: directory {:?} does not exist",
            dir.display().to_string()
        );
    }
    if path.is_dir() {
        bail!(
            "failed to save image: invalid output path: {:?} must be a file",
            path.display().to_string()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_style_path_errors() {
        let e = std::io::Error::from(std::io::ErrorKind::NotFound);
        let raw = std::io::Error::from_raw_os_error(2);
        assert_eq!(
            go_path_error("open", Path::new("/x.tar"), &raw).to_string(),
            "open /x.tar: no such file or directory"
        );
        assert!(go_path_error("open", Path::new("/x"), &e)
            .to_string()
            .starts_with("open /x: "));
    }

    #[test]
    fn output_path_checks() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(check_output_path(&dir.path().join("a.tar")).is_ok());
        let missing = dir.path().join("nope/a.tar");
        assert!(check_output_path(&missing)
            .expect_err("missing dir")
            .to_string()
            .contains("does not exist"));
        assert!(check_output_path(dir.path())
            .expect_err("a dir")
            .to_string()
            .contains("must be a file"));
    }
}
