//! What every engine verb shares: the small tokio runtime it runs on, the `Client` for the
//! daemon named by `-H`/`BERTH_HOST` (started when nothing answers), the dispatch from
//! parsed arguments to the verb functions, and small helpers (query strings, filters).
//!
//! The verb functions (`images::list`, `pull_push::pull`, ...) take a `Client` and their
//! arguments and know nothing of how they were invoked, so compose verbs can call them too.

use std::future::Future;
use std::io::IsTerminal;

use anyhow::{bail, Context};

use super::{
    containers, daemon_cmd, image_cmd, images, import, load_save, login, pull_push, system,
    tag_rmi, EngineCli, EngineVerb,
};
use crate::api::client::Client;

/// An error already reported on stderr: only its exit code is left to give.
#[derive(Debug, thiserror::Error)]
#[error("exit status {0}")]
pub struct StatusError(pub i32);

/// Runs one parsed engine command; returns the exit code.
pub fn run(cli: EngineCli) -> i32 {
    let host = cli.host.as_deref();
    let result = match cli.command {
        EngineVerb::Daemon(args) => daemon_cmd::run(host, &args),
        EngineVerb::Images(args) => {
            with_client(host, |c| async move { images::run(&c, &args).await })
        }
        EngineVerb::Image { command } => image_cmd::run(host, command),
        EngineVerb::Pull(args) => {
            with_client(
                host,
                |c| async move { pull_push::run_pull(&c, &args).await },
            )
        }
        EngineVerb::Push(args) => {
            with_client(
                host,
                |c| async move { pull_push::run_push(&c, &args).await },
            )
        }
        EngineVerb::Tag(args) => {
            with_client(host, |c| async move { tag_rmi::tag(&c, &args).await })
        }
        EngineVerb::Rmi(args) => {
            with_client(host, |c| async move { tag_rmi::rmi(&c, &args).await })
        }
        EngineVerb::Load(args) => {
            with_client(host, |c| async move { load_save::load(&c, &args).await })
        }
        EngineVerb::Save(args) => load_save::run_save(host, &args),
        EngineVerb::Import(args) => {
            with_client(host, |c| async move { import::run(&c, &args).await })
        }
        EngineVerb::Login(args) => {
            with_client(host, |c| async move { login::login(&c, &args).await })
        }
        EngineVerb::Logout(args) => login::logout(&args),
        EngineVerb::Version(args) => system::version(host, &args),
        EngineVerb::Info(args) => {
            with_client(host, |c| async move { system::info(&c, &args).await })
        }
        EngineVerb::Container { command } => containers::run_verb(host, command, true),
        EngineVerb::Network { command } => super::networks::run(host, command),
        EngineVerb::Volume { command } => super::volumes::run(host, command),
        EngineVerb::Containers(verb) => containers::run_verb(host, verb, false),
    };
    super::exit_code(result)
}

/// A current-thread runtime: the CLI does one thing at a time, and streams are I/O-bound.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// Connects to (or starts) the daemon and runs `f` with its client.
pub fn with_client<F, Fut>(host: Option<&str>, f: F) -> anyhow::Result<()>
where
    F: FnOnce(Client) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    runtime()?.block_on(async move {
        let client = connect(host).await?;
        f(client).await
    })
}

/// The client for `host` with a daemon answering behind it.
pub async fn connect(host: Option<&str>) -> anyhow::Result<Client> {
    let client = Client::from_host(host)?;
    client.ensure_daemon().await?;
    Ok(client)
}

/// `?a=1&b=x` from pairs with values percent-encoded; empty values are left out.
pub fn query(pairs: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (key, value) in pairs.iter().filter(|(_, v)| !v.is_empty()) {
        out.push(if out.is_empty() { '?' } else { '&' });
        out.push_str(key);
        out.push('=');
        out.push_str(&percent_encode(value));
    }
    out
}

/// Encodes everything but RFC 3986's unreserved characters.
pub fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `-f key=value` flags as the API's `filters` JSON (`{"key":{"value":true}}`), with
/// extra pairs added; empty when there is nothing to filter.
pub fn filters_json(flags: &[String], extra: &[(&str, String)]) -> anyhow::Result<String> {
    let mut filters: std::collections::BTreeMap<String, std::collections::BTreeMap<String, bool>> =
        Default::default();
    for flag in flags {
        let Some((key, value)) = flag.split_once('=') else {
            bail!("bad format of filter (expected name=value)");
        };
        filters
            .entry(key.trim().to_lowercase())
            .or_default()
            .insert(value.to_owned(), true);
    }
    for (key, value) in extra {
        filters
            .entry((*key).to_owned())
            .or_default()
            .insert(value.clone(), true);
    }
    if filters.is_empty() {
        return Ok(String::new());
    }
    Ok(serde_json::to_string(&filters)?)
}

/// Whether stdout is a terminal (progress bars, `save`'s refusal, `load`'s quiet default).
pub fn stdout_is_terminal() -> bool {
    std::io::stdout().is_terminal()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_encodes_and_skips_empty_values() {
        assert_eq!(
            query(&[
                ("fromImage", "docker.io/library/busybox"),
                ("tag", ""),
                ("platform", "linux/amd64")
            ]),
            "?fromImage=docker.io%2Flibrary%2Fbusybox&platform=linux%2Famd64"
        );
        assert_eq!(query(&[("a", "")]), "");
    }

    #[test]
    fn filters_become_dockers_json() {
        let json = filters_json(
            &["dangling=true".into(), "label=a=b".into()],
            &[("reference", "busybox".into())],
        )
        .expect("valid");
        assert_eq!(
            json,
            r#"{"dangling":{"true":true},"label":{"a=b":true},"reference":{"busybox":true}}"#
        );
        assert_eq!(filters_json(&[], &[]).expect("valid"), "");
        assert_eq!(
            filters_json(&["nope".into()], &[])
                .expect_err("invalid")
                .to_string(),
            "bad format of filter (expected name=value)"
        );
    }
}
