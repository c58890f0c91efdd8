//! `berth cp`: files between a container and the host through the archive API
//! (`GET`/`HEAD`/`PUT /containers/{id}/archive`), `-` for a tar on stdin or stdout, with the
//! docker CLI's naming rules: into an existing directory the source keeps its name,
//! otherwise it takes the destination's.
//!
//! Not done yet: `-L/--follow-link` (accepted, ignored), `-a/--archive` ownership, progress
//! output; the host-side tar is built in memory.

use std::io::Write;
use std::path::{Component, Path, PathBuf};

use anyhow::{anyhow, bail, Context};
use clap::Args;
use http_body_util::BodyExt;

use super::container_path;
use crate::api::client::{read_body, Client, ClientError};
use crate::cli::engine::query;

#[derive(Debug, Clone, Args)]
pub struct CpArgs {
    /// Archive mode (copy all uid/gid information)
    #[arg(short = 'a', long)]
    pub archive: bool,
    /// Always follow symbol link in SRC_PATH
    #[arg(short = 'L', long = "follow-link")]
    pub follow_link: bool,
    /// Suppress progress output during copy
    #[arg(short = 'q', long)]
    pub quiet: bool,
    #[arg(value_name = "SRC")]
    pub src: String,
    #[arg(value_name = "DEST")]
    pub dest: String,
}

/// One side of a copy.
#[derive(Debug, PartialEq, Eq)]
pub enum Endpoint {
    Local(String),
    Container { container: String, path: String },
}

/// The docker CLI's `splitCpArg`: an absolute or `./` path is local; else `name:path` is
/// in a container.
pub fn split_cp_arg(arg: &str) -> Endpoint {
    if arg.starts_with('/') || arg.starts_with('.') {
        return Endpoint::Local(arg.to_owned());
    }
    match arg.split_once(':') {
        Some((container, path)) if !container.is_empty() => Endpoint::Container {
            container: container.to_owned(),
            path: path.to_owned(),
        },
        _ => Endpoint::Local(arg.to_owned()),
    }
}

pub async fn run(client: &Client, args: &CpArgs) -> anyhow::Result<()> {
    match (split_cp_arg(&args.src), split_cp_arg(&args.dest)) {
        (Endpoint::Container { container, path }, Endpoint::Local(dest)) => {
            copy_from(client, &container, &path, &dest).await
        }
        (Endpoint::Local(src), Endpoint::Container { container, path }) => {
            copy_to(client, &src, &container, &path).await
        }
        (Endpoint::Local(_), Endpoint::Local(_)) => {
            bail!("must specify at least one container source")
        }
        _ => bail!("copying between containers is not supported"),
    }
}

fn archive_path(container: &str, path: &str) -> String {
    format!(
        "{}/archive{}",
        container_path(container),
        query(&[("path", path)])
    )
}

/// Container → host: the tar to stdout for `-`, else extracted under the naming rules.
async fn copy_from(client: &Client, container: &str, path: &str, dest: &str) -> anyhow::Result<()> {
    if path.is_empty() {
        bail!("destination can not be empty");
    }
    let response = client
        .send_stream("GET", &archive_path(container, path), &[], None)
        .await?;
    if dest == "-" {
        let mut body = response.into_body();
        let mut out = std::io::stdout();
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| anyhow!("reading the archive: {e}"))?;
            if let Ok(data) = frame.into_data() {
                out.write_all(&data)?;
            }
        }
        out.flush()?;
        return Ok(());
    }
    let tar = read_body(response).await?;
    let dest = Path::new(dest);
    let (dir, rename) = local_target(dest, path.ends_with('/'))?;
    extract(&tar, &dir, rename.as_deref())
}

/// Where to extract on the host: into `dest` itself when it is a directory (keep the
/// source's name), else into its parent under `dest`'s name.
fn local_target(
    dest: &Path,
    source_is_dir_hint: bool,
) -> anyhow::Result<(PathBuf, Option<String>)> {
    if dest.is_dir() {
        return Ok((dest.to_path_buf(), None));
    }
    if dest.to_string_lossy().ends_with('/') {
        bail!(
            "destination directory {:?} does not exist",
            dest.display().to_string()
        );
    }
    let _ = source_is_dir_hint;
    let parent = dest
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !parent.is_dir() {
        bail!(
            "destination directory {:?} does not exist",
            parent.display().to_string()
        );
    }
    let name = dest
        .file_name()
        .ok_or_else(|| anyhow!("invalid destination {}", dest.display()))?
        .to_string_lossy()
        .into_owned();
    Ok((parent.to_path_buf(), Some(name)))
}

/// Extracts `tar` into `dir`, the first path component renamed to `rename` when given;
/// entries that would leave `dir` are refused.
fn extract(tar: &[u8], dir: &Path, rename: Option<&str>) -> anyhow::Result<()> {
    let mut archive = tar::Archive::new(tar);
    archive.set_preserve_permissions(true);
    archive.set_overwrite(true);
    for entry in archive.entries().context("reading the archive")? {
        let mut entry = entry.context("reading the archive")?;
        let path = entry.path().context("reading the archive")?.into_owned();
        let mut parts = path
            .components()
            .filter(|c| !matches!(c, Component::CurDir));
        let Some(first) = parts.next() else { continue };
        let rest: PathBuf = parts.collect();
        if rest
            .components()
            .any(|c| !matches!(c, Component::Normal(_)))
            || !matches!(first, Component::Normal(_))
        {
            bail!("invalid path in the archive: {}", path.display());
        }
        let first = match rename {
            Some(name) => PathBuf::from(name),
            None => PathBuf::from(first.as_os_str()),
        };
        let target = dir.join(first).join(rest);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        entry
            .unpack(&target)
            .with_context(|| format!("extracting {}", target.display()))?;
    }
    Ok(())
}

/// Host → container: stdin's tar for `-`, else the source tarred under the naming rules.
async fn copy_to(client: &Client, src: &str, container: &str, path: &str) -> anyhow::Result<()> {
    if path.is_empty() {
        bail!("destination can not be empty");
    }
    if src == "-" {
        let body: Box<dyn tokio::io::AsyncRead + Send + Unpin> = Box::new(tokio::io::stdin());
        client
            .send_stream("PUT", &archive_path(container, path), &[], Some(body))
            .await?;
        return Ok(());
    }
    let source = Path::new(src);
    let meta = std::fs::symlink_metadata(source)
        .map_err(|_| anyhow!("lstat {src}: no such file or directory"))?;
    // An existing directory takes the source under its own name; anything else names the
    // copy after the destination's last element.
    let dest_is_dir = match client
        .send_stream("HEAD", &archive_path(container, path), &[], None)
        .await
    {
        Ok(response) => stat_is_dir(response.headers()),
        // A HEAD answer has no body to say why: the PUT below reports the daemon's words.
        Err(ClientError::Api { .. }) => false,
        Err(e) => return Err(e.into()),
    };
    let (dir, name) = if dest_is_dir {
        let name = source
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| ".".into());
        (path.to_owned(), name)
    } else {
        if path.ends_with('/') {
            bail!("Error response from daemon: Could not find the file {path} in container {container}");
        }
        let p = Path::new(path);
        let parent = p
            .parent()
            .map(|p| p.to_string_lossy().into_owned())
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| "/".into());
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| anyhow!("invalid destination {path}"))?;
        (parent, name)
    };
    let mut builder = tar::Builder::new(Vec::new());
    builder.follow_symlinks(false);
    if meta.is_dir() {
        builder.append_dir_all(&name, source)?;
    } else {
        builder.append_path_with_name(source, &name)?;
    }
    let tar = builder.into_inner()?;
    let body: Box<dyn tokio::io::AsyncRead + Send + Unpin> = Box::new(std::io::Cursor::new(tar));
    client
        .send_stream("PUT", &archive_path(container, &dir), &[], Some(body))
        .await?;
    Ok(())
}

/// Whether the `X-Docker-Container-Path-Stat` header describes a directory (Go's
/// `os.ModeDir` bit).
fn stat_is_dir(headers: &hyper::HeaderMap) -> bool {
    use base64::Engine;
    let Some(value) = headers.get("X-Docker-Container-Path-Stat") else {
        return false;
    };
    let Ok(json) = base64::engine::general_purpose::STANDARD.decode(value.as_bytes()) else {
        return false;
    };
    let Ok(stat) = serde_json::from_slice::<serde_json::Value>(&json) else {
        return false;
    };
    stat["mode"].as_u64().is_some_and(|m| m & (1 << 31) != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_split_as_docker() {
        assert_eq!(
            split_cp_arg("web:/etc/hosts"),
            Endpoint::Container {
                container: "web".into(),
                path: "/etc/hosts".into()
            }
        );
        assert_eq!(split_cp_arg("/tmp/a:b"), Endpoint::Local("/tmp/a:b".into()));
        assert_eq!(split_cp_arg("./a:b"), Endpoint::Local("./a:b".into()));
        assert_eq!(split_cp_arg("-"), Endpoint::Local("-".into()));
        assert_eq!(split_cp_arg("file"), Endpoint::Local("file".into()));
        assert_eq!(split_cp_arg(":x"), Endpoint::Local(":x".into()));
    }

    fn tar_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, data) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            // Written raw: the builder itself refuses `..`, a hostile archive does not.
            h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
            h.set_cksum();
            b.append(&h, *data).expect("append");
        }
        b.into_inner().expect("tar")
    }

    #[test]
    fn extraction_follows_the_naming_rules() {
        let dir = tempfile::tempdir().expect("tempdir");
        let tar = tar_of(&[("d/a.txt", b"a"), ("d/sub/b.txt", b"b")]);
        // Into an existing directory: the source keeps its name.
        let (into, rename) = local_target(dir.path(), false).expect("target");
        extract(&tar, &into, rename.as_deref()).expect("extracts");
        assert_eq!(
            std::fs::read(dir.path().join("d/sub/b.txt")).expect("b"),
            b"b"
        );
        // To a new name: the root entry takes it.
        let (into, rename) = local_target(&dir.path().join("copy"), false).expect("target");
        extract(&tar, &into, rename.as_deref()).expect("extracts");
        assert_eq!(
            std::fs::read(dir.path().join("copy/a.txt")).expect("a"),
            b"a"
        );
        assert!(local_target(&dir.path().join("nope/x"), false).is_err());
        let evil = tar_of(&[("d/../../escape", b"x")]);
        assert!(extract(&evil, dir.path(), None).is_err());
    }
}
