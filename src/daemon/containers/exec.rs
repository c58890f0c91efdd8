//! `docker exec`: exec instances (Docker's `ExecConfig`), started through the container's
//! shim, their exit recorded from the stream's final [`Frame::Exit`].

use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;

use super::create::{run_spec, spec_error};
use super::entry::Entry;
use super::store::Status;
use super::{ContainerError, Containers, IoSession};
use crate::api::container_types::{ExecCreateRequest, ExecInspect, ExecProcessConfig};
use crate::engine::runtime::ExecSpec;
use crate::engine::shim::{Frame, ShimClient};
use crate::engine::spec::names;

/// One exec instance.
pub struct ExecEntry {
    pub id: String,
    pub container_id: String,
    pub request: ExecCreateRequest,
    state: Mutex<ExecState>,
}

#[derive(Clone, Debug, Default)]
struct ExecState {
    started: bool,
    running: bool,
    exit_code: Option<i64>,
    pid: i64,
}

impl ExecEntry {
    fn state(&self) -> std::sync::MutexGuard<'_, ExecState> {
        // Plain data replaced field by field; a panic cannot leave it inconsistent.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// `NAME=value` entries of `extra` replace equal keys of `base` or are appended.
pub fn merge_env(base: &[String], extra: &[String]) -> Vec<String> {
    let key = |e: &str| e.split('=').next().unwrap_or_default().to_string();
    let mut out: Vec<String> = base.to_vec();
    for e in extra {
        let k = key(e);
        match out.iter_mut().find(|x| key(x) == k) {
            Some(slot) => *slot = e.clone(),
            None => out.push(e.clone()),
        }
    }
    out
}

fn running_check(entry: &Entry) -> Result<(), ContainerError> {
    match entry.status() {
        Status::Running => Ok(()),
        Status::Paused => Err(ContainerError::Conflict(format!(
            "Container {} is paused, unpause the container before exec",
            entry.id
        ))),
        Status::Restarting => Err(ContainerError::Conflict(format!(
            "Container {} is restarting, wait until the container is running",
            entry.id
        ))),
        _ => Err(ContainerError::Conflict(format!(
            "Container {} is not running",
            entry.id
        ))),
    }
}

fn action(prefix: &str, cmd: &[String]) -> String {
    format!("{prefix}: {}", cmd.join(" "))
}

impl Containers {
    pub(super) async fn create_exec(
        &self,
        entry: &Arc<Entry>,
        request: ExecCreateRequest,
    ) -> Result<String, ContainerError> {
        running_check(entry)?;
        if request.cmd.is_empty() {
            return Err(ContainerError::Invalid("No exec command specified".into()));
        }
        let id = names::container_id().map_err(spec_error)?;
        let exec = Arc::new(ExecEntry {
            id: id.clone(),
            container_id: entry.id.clone(),
            request,
            state: Mutex::new(ExecState::default()),
        });
        let act = action("exec_create", &exec.request.cmd);
        self.lock_table().execs.insert(id.clone(), exec);
        entry.add_exec(&id);
        self.publish(entry, &act, &[("execID", id.clone())]);
        Ok(id)
    }

    fn exec_entry(&self, exec_id: &str) -> Result<Arc<ExecEntry>, ContainerError> {
        self.lock_table()
            .execs
            .get(exec_id)
            .cloned()
            .ok_or_else(|| ContainerError::NotFound(format!("No such exec instance: {exec_id}")))
    }

    pub(super) async fn start_exec(
        &self,
        exec_id: &str,
        detach: bool,
    ) -> Result<IoSession, ContainerError> {
        let exec = self.exec_entry(exec_id)?;
        let entry = self.entry(&exec.container_id)?;
        {
            let mut st = exec.state();
            if st.running {
                return Err(ContainerError::Conflict(format!(
                    "Error: Exec command {exec_id} is already running"
                )));
            }
            if st.started {
                return Err(ContainerError::Conflict(format!(
                    "Error: Exec command {exec_id} has already run"
                )));
            }
            st.started = true;
        }
        if let Err(e) = running_check(&entry) {
            exec.state().started = false;
            return Err(e);
        }
        let record = entry.snapshot();
        let spec = run_spec(&record)?;
        let req = &exec.request;
        let exec_spec = ExecSpec {
            id: exec.id.clone(),
            args: req.cmd.clone(),
            env: merge_env(&spec.process_env, &req.env),
            cwd: req.working_dir.clone(),
            user: req.user.clone(),
            tty: req.tty,
            stdin: req.attach_stdin && !detach,
            privileged: req.privileged,
        };
        let client = ShimClient::new(&entry.dir);
        let (pid, mut frames, stdin) = match client.exec(&exec_spec).await {
            Ok(r) => r,
            Err(e) => {
                exec.state().exit_code = Some(126);
                return Err(ContainerError::Internal(anyhow::anyhow!(
                    "OCI runtime exec failed: {e}"
                )));
            }
        };
        {
            let mut st = exec.state();
            st.running = true;
            st.pid = i64::from(pid);
        }
        self.publish(
            &entry,
            &action("exec_start", &req.cmd),
            &[("execID", exec.id.clone())],
        );
        if let Some([h, w]) = req.console_size.filter(|_| req.tty) {
            let _ = client.resize_exec(&exec.id, h, w).await;
        }
        let (out_tx, out_rx) = mpsc::channel(64);
        let me = self.me.clone();
        let relay_exec = exec.clone();
        tokio::spawn(async move {
            let mut code = None;
            while let Some(frame) = frames.recv().await {
                if let Frame::Exit(c) = frame {
                    // Recorded before the frame goes on: a client that sees the stream end
                    // asks `/exec/{id}/json` for the code at once.
                    record_exit(&relay_exec, c);
                    code = Some(c);
                }
                if !detach {
                    // A client that went away stops reading, not the process.
                    let _ = out_tx.send(frame).await;
                }
                if code.is_some() {
                    break;
                }
            }
            let code = code.unwrap_or_else(|| {
                record_exit(&relay_exec, 126);
                126
            });
            if let Some(me) = me.upgrade() {
                if let Ok(entry) = me.entry(&relay_exec.container_id) {
                    me.publish(
                        &entry,
                        "exec_die",
                        &[
                            ("execID", relay_exec.id.clone()),
                            ("exitCode", code.to_string()),
                        ],
                    );
                }
            }
        });
        let (output, input) = if detach {
            (mpsc::channel(1).1, None)
        } else {
            (out_rx, stdin)
        };
        Ok(IoSession {
            tty: req.tty,
            output,
            input,
        })
    }

    pub(super) async fn resize_exec(
        &self,
        exec_id: &str,
        height: u16,
        width: u16,
    ) -> Result<(), ContainerError> {
        let exec = self.exec_entry(exec_id)?;
        let entry = self.entry(&exec.container_id)?;
        ShimClient::new(&entry.dir)
            .resize_exec(exec_id, height, width)
            .await
            .map_err(|e| ContainerError::Internal(anyhow::anyhow!("resizing the exec tty: {e}")))
    }

    pub(super) fn inspect_exec(&self, exec_id: &str) -> Result<ExecInspect, ContainerError> {
        let exec = self.exec_entry(exec_id)?;
        let st = exec.state().clone();
        let req = &exec.request;
        let mut cmd = req.cmd.iter().cloned();
        Ok(ExecInspect {
            can_remove: false,
            detach_keys: req.detach_keys.clone(),
            id: exec.id.clone(),
            running: st.running,
            exit_code: st.exit_code,
            process_config: ExecProcessConfig {
                privileged: req.privileged,
                user: req.user.clone(),
                tty: req.tty,
                entrypoint: cmd.next().unwrap_or_default(),
                arguments: cmd.collect(),
            },
            open_stdin: req.attach_stdin,
            open_stderr: req.attach_stderr,
            open_stdout: req.attach_stdout,
            container_id: exec.container_id.clone(),
            pid: st.pid,
        })
    }
}

/// Marks an exec finished with `code`.
fn record_exit(exec: &ExecEntry, code: i32) {
    let mut st = exec.state();
    st.running = false;
    st.exit_code = Some(i64::from(code));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_env_replaces_or_appends() {
        let base = vec!["PATH=/bin".to_string(), "A=1".to_string()];
        let merged = merge_env(&base, &["A=2".into(), "B=3".into()]);
        assert_eq!(merged, vec!["PATH=/bin", "A=2", "B=3"]);
    }

    #[test]
    fn event_actions_name_the_command() {
        assert_eq!(
            action("exec_start", &["sh".into(), "-c".into(), "ls".into()]),
            "exec_start: sh -c ls"
        );
    }
}
