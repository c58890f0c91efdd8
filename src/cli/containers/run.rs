//! `berth run`, `berth create` and `berth start`, in the docker CLI's order: create (pulling
//! the image when the daemon has none), attach (a hijacked connection) and
//! `wait?condition=next-exit` before start when not detached, then start, then the
//! container's exit code as ours. Daemon and flag errors exit 125, a command that cannot be
//! run 126, one that is not found 127.

use std::io::Write;

use anyhow::Context;
use clap::{ArgAction, Args};

use super::attach::{pump, spawn_signal_proxy};
use super::run_flags::{to_create_call, ContainerFlags, CreateCall};
use super::{container_path, for_each, tty};
use crate::api::client::{Client, ClientError};
use crate::api::container_types::CreateResponse;
use crate::cli::engine::{query, StatusError};
use crate::cli::pull_push::{pull, PullArgs};

#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Run container in background and print container ID
    #[arg(short = 'd', long)]
    pub detach: bool,
    /// Override the key sequence for detaching a container
    #[arg(long = "detach-keys", value_name = "string")]
    pub detach_keys: Option<String>,
    /// Proxy received signals to the process
    #[arg(long = "sig-proxy", action = ArgAction::Set, default_value_t = true,
          num_args = 0..=1, default_missing_value = "true", require_equals = true)]
    pub sig_proxy: bool,
    /// Print help
    #[arg(long, action = ArgAction::Help)]
    pub help: Option<bool>,
    #[command(flatten)]
    pub flags: ContainerFlags,
}

#[derive(Debug, Clone, Args)]
pub struct CreateArgs {
    /// Print help
    #[arg(long, action = ArgAction::Help)]
    pub help: Option<bool>,
    #[command(flatten)]
    pub flags: ContainerFlags,
}

#[derive(Debug, Clone, Args)]
pub struct StartArgs {
    /// Attach STDOUT/STDERR and forward signals
    #[arg(short = 'a', long)]
    pub attach: bool,
    /// Attach container's STDIN
    #[arg(short = 'i', long)]
    pub interactive: bool,
    /// Override the key sequence for detaching a container
    #[arg(long = "detach-keys", value_name = "string")]
    pub detach_keys: Option<String>,
    #[arg(value_name = "CONTAINER", required = true)]
    pub containers: Vec<String>,
}

/// The docker CLI's `reportError`: `berth: <message>` and the help hint, then `code`.
fn report(verb: &str, message: &str, code: i32) -> anyhow::Error {
    let message = message.trim_end_matches('.');
    eprintln!("berth: {message}\n\nRun 'berth {verb} --help' for more information");
    StatusError(code).into()
}

/// `berth create`: prints the new container's ID.
pub async fn create_verb(client: &Client, args: &CreateArgs) -> anyhow::Result<()> {
    let call =
        to_create_call(&args.flags, false).map_err(|e| report("create", &e.to_string(), 125))?;
    let id = create(client, &args.flags, &call)
        .await
        .map_err(|e| report("create", &e.to_string(), 125))?;
    println!("{id}");
    Ok(())
}

/// `POST /containers/create`, pulling the image first (`--pull always`) or when the daemon
/// has none (`missing`); warnings go to stderr, the ID to `--cidfile`.
pub async fn create(
    client: &Client,
    flags: &ContainerFlags,
    call: &CreateCall,
) -> anyhow::Result<String> {
    let pull_policy = flags.pull.as_str();
    if !matches!(pull_policy, "missing" | "always" | "never") {
        anyhow::bail!("invalid pull option: '{pull_policy}': must be one of \"always\", \"missing\" or \"never\"");
    }
    let cidfile = match &flags.cidfile {
        Some(path) => Some(CidFile::create(path)?),
        None => None,
    };
    if pull_policy == "always" {
        pull_image(client, flags).await?;
    }
    let path = format!(
        "/containers/create{}",
        query(&[
            ("name", flags.name.as_deref().unwrap_or("")),
            ("platform", call.platform.as_deref().unwrap_or("")),
        ])
    );
    let body = serde_json::to_value(&call.body)?;
    let response: CreateResponse = match client
        .send_json("POST", &path, &[], Some(body.clone()))
        .await
    {
        Err(ClientError::Api {
            status: 404,
            message,
        }) if pull_policy == "missing" && message.starts_with("No such image") => {
            eprintln!("Unable to find image '{}' locally", flags.image);
            pull_image(client, flags).await?;
            client.send_json("POST", &path, &[], Some(body)).await?
        }
        other => other?,
    };
    for warning in &response.warnings {
        eprintln!("WARNING: {warning}");
    }
    if let Some(cidfile) = cidfile {
        cidfile.write(&response.id)?;
    }
    Ok(response.id)
}

/// Pulls the image for `run`/`create`, progress on stderr as the docker CLI shows it.
async fn pull_image(client: &Client, flags: &ContainerFlags) -> anyhow::Result<()> {
    let args = PullArgs {
        platform: flags.platform.clone(),
        quiet: flags.quiet,
        name: flags.image.clone(),
    };
    let mut stderr = std::io::stderr();
    let terminal = std::io::IsTerminal::is_terminal(&stderr);
    pull(client, &args, &mut stderr, terminal).await?;
    stderr.flush()?;
    Ok(())
}

/// `--cidfile`: refused when the file exists; removed again when the create fails.
struct CidFile {
    path: String,
    written: bool,
}

impl CidFile {
    fn create(path: &str) -> anyhow::Result<CidFile> {
        if std::path::Path::new(path).exists() {
            anyhow::bail!("container ID file found, make sure the other container isn't running or delete {path}");
        }
        std::fs::File::create(path)
            .with_context(|| format!("failed to create the container ID file {path}"))?;
        Ok(CidFile {
            path: path.to_owned(),
            written: false,
        })
    }

    fn write(mut self, id: &str) -> anyhow::Result<()> {
        std::fs::write(&self.path, id).with_context(|| {
            format!("failed to write the container ID to the file {}", self.path)
        })?;
        self.written = true;
        Ok(())
    }
}

impl Drop for CidFile {
    fn drop(&mut self) {
        if !self.written {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// `berth run`.
pub async fn run_verb(client: &Client, args: &RunArgs) -> anyhow::Result<()> {
    let call =
        to_create_call(&args.flags, args.detach).map_err(|e| report("run", &e.to_string(), 125))?;
    let id = create(client, &args.flags, &call)
        .await
        .map_err(|e| report("run", &format!("{e:#}"), 125))?;
    if args.detach {
        start(client, &id)
            .await
            .map_err(|e| report("run", &e.to_string(), start_error_code(&e.to_string())))?;
        println!("{id}");
        return Ok(());
    }
    let config = &call.body.config;
    let attach = Attached {
        stdin: config.attach_stdin,
        stdout: config.attach_stdout,
        stderr: config.attach_stderr,
        tty: config.tty,
        sig_proxy: args.sig_proxy,
        auto_remove: call.body.host_config.auto_remove,
    };
    let code = attach_and_start(client, &id, &attach, "run").await?;
    if code != 0 {
        return Err(StatusError(code).into());
    }
    Ok(())
}

/// What is attached for `run` and `start -a` (and compose's `run`).
pub struct Attached {
    pub stdin: bool,
    pub stdout: bool,
    pub stderr: bool,
    pub tty: bool,
    pub sig_proxy: bool,
    pub auto_remove: bool,
}

/// Attach, wait, start, pump the streams; returns the container's exit code.
pub async fn attach_and_start(
    client: &Client,
    id: &str,
    a: &Attached,
    verb: &str,
) -> anyhow::Result<i32> {
    let flag = |b: bool| if b { "1" } else { "" };
    let attach_path = format!(
        "{}/attach{}",
        container_path(id),
        query(&[
            ("stream", "1"),
            ("stdin", flag(a.stdin)),
            ("stdout", flag(a.stdout)),
            ("stderr", flag(a.stderr)),
        ])
    );
    let any_stream = a.stdin || a.stdout || a.stderr;
    let conn = if any_stream {
        let (_, _, conn) = client
            .hijack("POST", &attach_path, None)
            .await
            .map_err(|e| report(verb, &e.to_string(), 125))?;
        Some(conn)
    } else {
        None
    };
    let condition = if a.auto_remove {
        "removed"
    } else {
        "next-exit"
    };
    let wait_path = format!("{}/wait?condition={condition}", container_path(id));
    let wait_client = client.clone();
    let waiter = tokio::spawn(async move {
        wait_client
            .send_json::<serde_json::Value>("POST", &wait_path, &[], None)
            .await
    });
    // The raw mode must be on before the container can draw on the terminal.
    let raw = (a.tty && a.stdin).then(tty::RawGuard::enable).flatten();
    if let Err(e) = start(client, id).await {
        drop(raw);
        let code = start_error_code(&e.to_string());
        eprintln!("berth: {e}\n\nRun 'berth {verb} --help' for more information");
        // The daemon removes an auto-remove container whose start failed; give it a
        // moment, but a daemon that does not must not hang us.
        if a.auto_remove {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(2), waiter).await;
        } else {
            waiter.abort();
        }
        return Err(StatusError(code).into());
    }
    let resizer = a
        .tty
        .then(|| tty::spawn_resizer(client.clone(), tty::container_resize_path(id)));
    let proxy = (a.sig_proxy && !a.tty).then(|| spawn_signal_proxy(client.clone(), id.to_owned()));
    let pumped = match conn {
        Some(conn) => pump(conn, a.stdin, a.tty).await,
        None => Ok(()),
    };
    drop(raw);
    let status = waiter.await;
    for task in [resizer, proxy].into_iter().flatten() {
        task.abort();
    }
    pumped?;
    match status {
        Ok(Ok(answer)) => exit_code_of(&answer).map_err(|m| report(verb, &m, 125)),
        Ok(Err(e)) => Err(report(verb, &e.to_string(), 125)),
        Err(e) => Err(report(verb, &e.to_string(), 125)),
    }
}

/// The `StatusCode` of a wait answer, or its `Error.Message`.
fn exit_code_of(answer: &serde_json::Value) -> Result<i32, String> {
    if let Some(message) = answer["Error"]["Message"]
        .as_str()
        .filter(|m| !m.is_empty())
    {
        return Err(message.to_owned());
    }
    Ok(answer["StatusCode"].as_i64().unwrap_or(0) as i32)
}

/// `POST /containers/{id}/start`.
async fn start(client: &Client, id: &str) -> Result<(), ClientError> {
    let path = format!("{}/start", container_path(id));
    client
        .send_json::<serde_json::Value>("POST", &path, &[], None)
        .await
        .map(drop)
}

/// The docker CLI's `runStartContainerErr`: 127 when the command was not found, 126 when it
/// could not be run, else 125.
pub fn start_error_code(message: &str) -> i32 {
    if message.contains("executable file not found")
        || message.contains("no such file or directory")
        || message.contains("system cannot find the file specified")
    {
        127
    } else if message.contains("permission denied") || message.contains("is a directory") {
        126
    } else {
        125
    }
}

/// `berth start`: each container started and its name printed; with `-a`, one container
/// attached as `run` does.
pub async fn start_verb(client: &Client, args: &StartArgs) -> anyhow::Result<()> {
    if !(args.attach || args.interactive) {
        return for_each(&args.containers, |name| async move {
            start(client, &name).await
        })
        .await;
    }
    let [name] = args.containers.as_slice() else {
        anyhow::bail!("you cannot start and attach multiple containers at once");
    };
    let inspect: serde_json::Value = client
        .get_json(&format!("{}/json", container_path(name)))
        .await?;
    let id = inspect["Id"].as_str().unwrap_or(name).to_owned();
    let config = &inspect["Config"];
    let a = Attached {
        stdin: args.interactive && config["OpenStdin"].as_bool().unwrap_or(false),
        stdout: true,
        stderr: true,
        tty: config["Tty"].as_bool().unwrap_or(false),
        sig_proxy: true,
        auto_remove: false,
    };
    let code = attach_and_start(client, &id, &a, "start").await?;
    if code != 0 {
        return Err(StatusError(code).into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_errors_map_to_dockers_codes() {
        assert_eq!(
            start_error_code("Error response from daemon: failed to create task: exec: \"nope\": executable file not found in $PATH"),
            127
        );
        assert_eq!(start_error_code("exec /etc: permission denied"), 126);
        assert_eq!(start_error_code("cgroup: something else"), 125);
    }

    #[test]
    fn wait_answers_give_the_exit_code() {
        let ok = serde_json::json!({"StatusCode": 42, "Error": null});
        assert_eq!(exit_code_of(&ok), Ok(42));
        let bad = serde_json::json!({"StatusCode": 0, "Error": {"Message": "boom"}});
        assert_eq!(exit_code_of(&bad), Err("boom".into()));
    }
}
