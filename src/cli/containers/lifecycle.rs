//! `stop kill restart rm pause unpause wait rename`: one API call per container, the name
//! as given printed after success, `Error response from daemon: ...` on stderr after a
//! failure and exit 1 when any failed, as the docker CLI does.

use clap::Args;

use super::{container_path, for_each};
use crate::api::client::{Client, ClientError};
use crate::cli::engine::{query, StatusError};

#[derive(Debug, Clone, Args)]
pub struct StopArgs {
    /// Signal to send to the container
    #[arg(short = 's', long, value_name = "string")]
    pub signal: Option<String>,
    /// Seconds to wait before killing the container
    #[arg(
        short = 't',
        long = "time",
        visible_alias = "timeout",
        value_name = "int",
        allow_hyphen_values = true
    )]
    pub time: Option<i64>,
    #[arg(value_name = "CONTAINER", required = true)]
    pub containers: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct KillArgs {
    /// Signal to send to the container
    #[arg(short = 's', long, value_name = "string")]
    pub signal: Option<String>,
    #[arg(value_name = "CONTAINER", required = true)]
    pub containers: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct RmArgs {
    /// Force the removal of a running container (uses SIGKILL)
    #[arg(short = 'f', long)]
    pub force: bool,
    /// Remove the specified link
    #[arg(short = 'l', long)]
    pub link: bool,
    /// Remove anonymous volumes associated with the container
    #[arg(short = 'v', long)]
    pub volumes: bool,
    #[arg(value_name = "CONTAINER", required = true)]
    pub containers: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct NamesArgs {
    #[arg(value_name = "CONTAINER", required = true)]
    pub containers: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct RenameArgs {
    #[arg(value_name = "CONTAINER")]
    pub container: String,
    #[arg(value_name = "NEW_NAME")]
    pub new_name: String,
}

async fn post(client: &Client, path: String) -> Result<(), ClientError> {
    client
        .send_json::<serde_json::Value>("POST", &path, &[], None)
        .await
        .map(drop)
}

/// `stop` and `restart` share their query.
fn stop_query(signal: &Option<String>, time: Option<i64>) -> String {
    let t = time.map(|t| t.to_string()).unwrap_or_default();
    query(&[("signal", signal.as_deref().unwrap_or("")), ("t", &t)])
}

pub async fn stop(client: &Client, args: &StopArgs) -> anyhow::Result<()> {
    let q = stop_query(&args.signal, args.time);
    for_each(&args.containers, |name| {
        post(client, format!("{}/stop{q}", container_path(&name)))
    })
    .await
}

pub async fn restart(client: &Client, args: &StopArgs) -> anyhow::Result<()> {
    let q = stop_query(&args.signal, args.time);
    for_each(&args.containers, |name| {
        post(client, format!("{}/restart{q}", container_path(&name)))
    })
    .await
}

pub async fn kill(client: &Client, args: &KillArgs) -> anyhow::Result<()> {
    let q = query(&[("signal", args.signal.as_deref().unwrap_or(""))]);
    for_each(&args.containers, |name| {
        post(client, format!("{}/kill{q}", container_path(&name)))
    })
    .await
}

pub async fn rm(client: &Client, args: &RmArgs) -> anyhow::Result<()> {
    let q = query(&[
        ("force", if args.force { "1" } else { "" }),
        ("v", if args.volumes { "1" } else { "" }),
        ("link", if args.link { "1" } else { "" }),
    ]);
    let mut failed = false;
    for name in &args.containers {
        let path = format!("{}{q}", container_path(name));
        match client
            .send_json::<serde_json::Value>("DELETE", &path, &[], None)
            .await
        {
            Ok(_) => println!("{name}"),
            // As the docker CLI: `rm -f` of a missing container is not an error.
            Err(ClientError::Api { status: 404, .. }) if args.force => {}
            Err(e) => {
                eprintln!("{e}");
                failed = true;
            }
        }
    }
    if failed {
        return Err(StatusError(1).into());
    }
    Ok(())
}

pub async fn pause(client: &Client, args: &NamesArgs) -> anyhow::Result<()> {
    for_each(&args.containers, |name| {
        post(client, format!("{}/pause", container_path(&name)))
    })
    .await
}

pub async fn unpause(client: &Client, args: &NamesArgs) -> anyhow::Result<()> {
    for_each(&args.containers, |name| {
        post(client, format!("{}/unpause", container_path(&name)))
    })
    .await
}

/// `berth wait`: each container's exit code, one per line.
pub async fn wait(client: &Client, args: &NamesArgs) -> anyhow::Result<()> {
    let mut failed = false;
    for name in &args.containers {
        let path = format!("{}/wait", container_path(name));
        match client
            .send_json::<serde_json::Value>("POST", &path, &[], None)
            .await
        {
            Ok(answer) => match answer["Error"]["Message"]
                .as_str()
                .filter(|m| !m.is_empty())
            {
                Some(message) => {
                    eprintln!("{message}");
                    failed = true;
                }
                None => println!("{}", answer["StatusCode"].as_i64().unwrap_or(0)),
            },
            Err(e) => {
                eprintln!("{e}");
                failed = true;
            }
        }
    }
    if failed {
        return Err(StatusError(1).into());
    }
    Ok(())
}

pub async fn rename(client: &Client, args: &RenameArgs) -> anyhow::Result<()> {
    let new_name = args.new_name.trim();
    if args.container.trim().is_empty() || new_name.is_empty() {
        anyhow::bail!("Error: neither old nor new names may be empty");
    }
    let path = format!(
        "{}/rename{}",
        container_path(&args.container),
        query(&[("name", new_name)])
    );
    post(client, path).await?;
    Ok(())
}
