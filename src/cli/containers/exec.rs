//! `berth exec`: `POST /containers/{id}/exec`, then `POST /exec/{id}/start` on a hijacked
//! connection (or detached), the TTY kept at our size, and the exec's exit code, read from
//! `GET /exec/{id}/json`, as ours.

use clap::Args;

use super::attach::pump;
use super::run_flags::validate_env;
use super::{container_path, tty};
use crate::api::client::Client;
use crate::cli::engine::StatusError;

#[derive(Debug, Clone, Args)]
pub struct ExecArgs {
    /// Detached mode: run command in the background
    #[arg(short = 'd', long)]
    pub detach: bool,
    /// Override the key sequence for detaching a container
    #[arg(long = "detach-keys", value_name = "string")]
    pub detach_keys: Option<String>,
    /// Set environment variables
    #[arg(short = 'e', long = "env", value_name = "list")]
    pub env: Vec<String>,
    /// Read in a file of environment variables
    #[arg(long = "env-file", value_name = "list")]
    pub env_file: Vec<String>,
    /// Keep STDIN open even if not attached
    #[arg(short = 'i', long)]
    pub interactive: bool,
    /// Give extended privileges to the command
    #[arg(long)]
    pub privileged: bool,
    /// Allocate a pseudo-TTY
    #[arg(short = 't', long)]
    pub tty: bool,
    /// Username or UID (format: "<name|uid>[:<group|gid>]")
    #[arg(short = 'u', long, value_name = "string")]
    pub user: Option<String>,
    /// Working directory inside the container
    #[arg(short = 'w', long, value_name = "string")]
    pub workdir: Option<String>,
    #[arg(value_name = "CONTAINER")]
    pub container: String,
    #[arg(
        value_name = "COMMAND",
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub command: Vec<String>,
}

/// The `POST /containers/{id}/exec` body for the flags.
pub fn exec_config(args: &ExecArgs) -> anyhow::Result<serde_json::Value> {
    let mut env = Vec::new();
    for path in &args.env_file {
        let text =
            std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("open {path}: {e}"))?;
        for line in text.lines().map(str::trim_start) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            env.push(validate_env(line)?);
        }
    }
    for e in &args.env {
        env.push(validate_env(e)?);
    }
    Ok(serde_json::json!({
        "User": args.user.clone().unwrap_or_default(),
        "Privileged": args.privileged,
        "Tty": args.tty,
        "AttachStdin": args.interactive && !args.detach,
        "AttachStdout": !args.detach,
        "AttachStderr": !args.detach,
        "DetachKeys": args.detach_keys.clone().unwrap_or_default(),
        "Env": env,
        "WorkingDir": args.workdir.clone().unwrap_or_default(),
        "Cmd": args.command,
    }))
}

pub async fn run(client: &Client, args: &ExecArgs) -> anyhow::Result<()> {
    let body = exec_config(args)?;
    let created: serde_json::Value = client
        .send_json(
            "POST",
            &format!("{}/exec", container_path(&args.container)),
            &[],
            Some(body),
        )
        .await?;
    let Some(exec_id) = created["Id"].as_str().map(str::to_owned) else {
        anyhow::bail!("exec ID empty");
    };
    let start_path = format!("/exec/{exec_id}/start");
    let start = serde_json::json!({"Detach": args.detach, "Tty": args.tty});
    if args.detach {
        client
            .send_json::<serde_json::Value>("POST", &start_path, &[], Some(start))
            .await?;
        return Ok(());
    }
    let (_, _, conn) = client.hijack("POST", &start_path, Some(start)).await?;
    let raw = (args.tty && args.interactive)
        .then(tty::RawGuard::enable)
        .flatten();
    let resizer = args
        .tty
        .then(|| tty::spawn_resizer(client.clone(), format!("/exec/{exec_id}/resize")));
    let pumped = pump(conn, args.interactive, args.tty).await;
    drop(raw);
    if let Some(task) = resizer {
        task.abort();
    }
    pumped?;
    let code = exit_code(client, &exec_id).await?;
    if code != 0 {
        return Err(StatusError(code).into());
    }
    Ok(())
}

/// The exec's exit code from `GET /exec/{id}/json`. The stream can end a moment before the
/// daemon has recorded the exit, so a still-running answer is asked again, briefly.
async fn exit_code(client: &Client, exec_id: &str) -> anyhow::Result<i32> {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(1);
    loop {
        let inspect: serde_json::Value = client.get_json(&format!("/exec/{exec_id}/json")).await?;
        let running = inspect["Running"].as_bool().unwrap_or(false);
        if let Some(code) = inspect["ExitCode"].as_i64().filter(|_| !running) {
            return Ok(code as i32);
        }
        if !running || tokio::time::Instant::now() >= deadline {
            return Ok(inspect["ExitCode"].as_i64().unwrap_or(0) as i32);
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Wrap {
        #[command(flatten)]
        args: ExecArgs,
    }

    #[test]
    fn exec_body_is_dockers() {
        let w = Wrap::try_parse_from([
            "exec", "-it", "-u", "1", "-w", "/tmp", "-e", "A=1", "c", "sh", "-c", "ls -l",
        ])
        .expect("parses");
        let body = exec_config(&w.args).expect("valid");
        assert_eq!(body["Cmd"], serde_json::json!(["sh", "-c", "ls -l"]));
        assert_eq!(body["AttachStdin"], true);
        assert_eq!(body["Tty"], true);
        assert_eq!(body["User"], "1");
        assert_eq!(body["WorkingDir"], "/tmp");
        assert_eq!(body["Env"], serde_json::json!(["A=1"]));
        let w = Wrap::try_parse_from(["exec", "-d", "c", "true"]).expect("parses");
        let body = exec_config(&w.args).expect("valid");
        assert_eq!(body["AttachStdout"], false);
    }
}
