//! `berth login` and `berth logout`: credentials checked by the daemon (`POST /auth`) and
//! kept where the docker CLI keeps them (`docker_config`), so `docker` and berth share them.

use std::io::{BufRead, IsTerminal, Read, Write};

use anyhow::{anyhow, bail, Context};
use clap::Args;

use super::docker_config::{convert_to_hostname, ConfigFile, StoredIn, INDEX_SERVER};
use crate::api::client::Client;
use crate::api::types::AuthResponse;
use crate::image::registry::AuthConfig;

#[derive(Debug, Clone, Args)]
pub struct LoginArgs {
    /// Username
    #[arg(short = 'u', long)]
    pub username: Option<String>,
    /// Password or Personal Access Token (PAT)
    #[arg(short = 'p', long)]
    pub password: Option<String>,
    /// Take the Password or Personal Access Token (PAT) from stdin
    #[arg(long = "password-stdin")]
    pub password_stdin: bool,
    #[arg(value_name = "SERVER")]
    pub server: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct LogoutArgs {
    #[arg(value_name = "SERVER")]
    pub server: Option<String>,
}

/// The key credentials are stored under: Docker Hub's URL, else the registry's host[:port].
fn server_key(server: Option<&str>) -> String {
    match server {
        None | Some("") | Some("docker.io") | Some("index.docker.io") => INDEX_SERVER.to_owned(),
        Some(s) if s == INDEX_SERVER => INDEX_SERVER.to_owned(),
        Some(s) => convert_to_hostname(s),
    }
}

pub async fn login(client: &Client, args: &LoginArgs) -> anyhow::Result<()> {
    let server = server_key(args.server.as_deref());
    let mut config = ConfigFile::load()?;
    let mut auth = credentials_from_args(args, &server)?;
    let mut response = None;
    if args.username.is_none() && args.password.is_none() && !args.password_stdin {
        // Docker first tries what it already has.
        let stored = config.auth_config(&server).unwrap_or_default();
        if !stored.username.is_empty()
            && (!stored.password.is_empty() || !stored.identitytoken.is_empty())
        {
            eprintln!(
                "Authenticating with existing credentials... [Username: {}]",
                stored.username
            );
            if let Ok(r) = authenticate(client, &stored).await {
                auth = stored;
                response = Some(r);
            }
        }
    }
    let response = match response {
        Some(r) => r,
        None => {
            complete_interactively(&mut auth)?;
            authenticate(client, &auth).await?
        }
    };
    if !response.identity_token.is_empty() {
        auth.password.clear();
        auth.identitytoken = response.identity_token.clone();
    }
    let stored = config
        .store(&auth)
        .map_err(|e| anyhow!("Error saving credentials: {e:#}"))?;
    if stored == StoredIn::File {
        eprintln!(
            "\nWARNING! Your credentials are stored unencrypted in '{}'.\n\
             Configure a credential helper to remove this warning. See\n\
             https://docs.docker.com/go/credential-store/\n",
            config.path.display()
        );
    }
    let status = if response.status.is_empty() {
        "Login Succeeded"
    } else {
        &response.status
    };
    println!("{status}");
    Ok(())
}

/// The username and password the flags give (`--password-stdin` read here).
fn credentials_from_args(args: &LoginArgs, server: &str) -> anyhow::Result<AuthConfig> {
    let mut password = args.password.clone().unwrap_or_default();
    if args.password_stdin {
        if args.password.is_some() {
            bail!("--password and --password-stdin are mutually exclusive");
        }
        if args.username.is_none() {
            bail!("Must provide --username with --password-stdin");
        }
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("reading the password from stdin")?;
        password = text.trim_end_matches(['\n', '\r']).to_owned();
    } else if args.password.is_some() {
        eprintln!("WARNING! Using --password via the CLI is insecure. Use --password-stdin.");
    }
    Ok(AuthConfig {
        username: args.username.clone().unwrap_or_default().trim().to_owned(),
        password,
        serveraddress: server.to_owned(),
        ..Default::default()
    })
}

/// Asks for what is missing, as Docker does, on a terminal only.
fn complete_interactively(auth: &mut AuthConfig) -> anyhow::Result<()> {
    if !auth.username.is_empty() && !auth.password.is_empty() {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        bail!("Error: Cannot perform an interactive login from a non TTY device");
    }
    if auth.username.is_empty() {
        auth.username = prompt("Username: ")?.trim().to_owned();
        if auth.username.is_empty() {
            bail!("Error: Non-null Username Required");
        }
    }
    if auth.password.is_empty() {
        auth.password = prompt_hidden("Password: ")?;
        if auth.password.is_empty() {
            bail!("Error: Password Required");
        }
    }
    Ok(())
}

fn prompt(message: &str) -> anyhow::Result<String> {
    print!("{message}");
    std::io::stdout().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\n', '\r']).to_owned())
}

/// Reads a line with echo off (`stty -echo` on the terminal, restored afterwards).
fn prompt_hidden(message: &str) -> anyhow::Result<String> {
    let stty = |arg: &str| {
        std::process::Command::new("stty")
            .arg(arg)
            .stdin(std::process::Stdio::inherit())
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    };
    let hidden = stty("-echo");
    let line = prompt(message);
    if hidden {
        stty("echo");
        println!();
    }
    line
}

async fn authenticate(client: &Client, auth: &AuthConfig) -> anyhow::Result<AuthResponse> {
    let body = serde_json::to_value(auth)?;
    Ok(client.send_json("POST", "/auth", &[], Some(body)).await?)
}

/// Removes the stored credentials for the server (no daemon needed).
pub fn logout(args: &LogoutArgs) -> anyhow::Result<()> {
    let server = args.server.as_deref().unwrap_or("");
    let is_default = server.is_empty();
    let server = if is_default {
        INDEX_SERVER.to_owned()
    } else {
        server.to_owned()
    };
    let hostname = if is_default {
        server.clone()
    } else {
        convert_to_hostname(&server)
    };
    // Older clients stored URLs; every form Docker tries is tried.
    let mut candidates = vec![server.clone()];
    if !is_default {
        for c in [
            hostname.clone(),
            format!("http://{hostname}"),
            format!("https://{hostname}"),
        ] {
            if !candidates.contains(&c) {
                candidates.push(c);
            }
        }
    }
    println!("Removing login credentials for {hostname}");
    let mut config = ConfigFile::load()?;
    let mut errors = Vec::new();
    for candidate in &candidates {
        if let Err(e) = config.erase(candidate) {
            errors.push((candidate.clone(), e));
        }
    }
    if errors.len() == candidates.len() {
        eprintln!("WARNING: could not erase credentials:");
        for (server, e) in errors {
            println!("{server}: {e:#}");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_keys() {
        assert_eq!(server_key(None), INDEX_SERVER);
        assert_eq!(server_key(Some("docker.io")), INDEX_SERVER);
        assert_eq!(server_key(Some("127.0.0.1:5000")), "127.0.0.1:5000");
        assert_eq!(
            server_key(Some("https://127.0.0.1:5000/v2/")),
            "127.0.0.1:5000"
        );
    }

    #[test]
    fn password_stdin_needs_a_username() {
        let args = LoginArgs {
            username: None,
            password: None,
            password_stdin: true,
            server: None,
        };
        assert_eq!(
            credentials_from_args(&args, INDEX_SERVER)
                .expect_err("invalid")
                .to_string(),
            "Must provide --username with --password-stdin"
        );
    }
}
