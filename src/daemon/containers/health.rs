//! Healthchecks, as dockerd runs them (`daemon/health.go`): while a container with a
//! healthcheck runs, a task probes it through the exec machinery every interval (every
//! start interval during the start period), keeps the last five results, counts the
//! failing streak and turns the status `starting` → `healthy` / `unhealthy`, announcing
//! every change as a `health_status: <status>` event (what `depends_on: service_healthy`
//! waits for). Failures during the start period do not count.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::create::run_spec;
use super::entry::Entry;
use super::store::{self, Status};
use super::Containers;
use crate::api::container_types::{ExecCreateRequest, Health, HealthcheckResult};
use crate::engine::shim::Frame;
use crate::engine::spec::Healthcheck;

/// Docker's defaults.
const DEFAULT_INTERVAL: Duration = Duration::from_secs(30);
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
const DEFAULT_START_INTERVAL: Duration = Duration::from_secs(5);
const DEFAULT_RETRIES: i64 = 3;
/// Results kept in `State.Health.Log`, and bytes of output kept per result.
const MAX_LOG_ENTRIES: usize = 5;
const MAX_OUTPUT: usize = 4096;

/// A healthcheck with Docker's defaults applied.
#[derive(Clone, Debug, PartialEq)]
pub struct Probe {
    pub args: Vec<String>,
    pub interval: Duration,
    pub timeout: Duration,
    pub start_period: Duration,
    pub start_interval: Duration,
    pub retries: i64,
}

impl Probe {
    /// `None` when there is no check (`NONE`, or no test).
    pub fn from_config(hc: &Healthcheck) -> Option<Probe> {
        let args = match hc.test.first().map(String::as_str) {
            Some("CMD") => hc.test[1..].to_vec(),
            Some("CMD-SHELL") => vec![
                "/bin/sh".to_string(),
                "-c".to_string(),
                hc.test[1..].join(" "),
            ],
            _ => return None,
        };
        if args.is_empty() {
            return None;
        }
        let nanos = |n: i64, default: Duration| {
            if n > 0 {
                Duration::from_nanos(n as u64)
            } else {
                default
            }
        };
        Some(Probe {
            args,
            interval: nanos(hc.interval, DEFAULT_INTERVAL),
            timeout: nanos(hc.timeout, DEFAULT_TIMEOUT),
            start_period: nanos(hc.start_period, Duration::ZERO),
            start_interval: nanos(hc.start_interval, DEFAULT_START_INTERVAL),
            retries: if hc.retries > 0 {
                hc.retries
            } else {
                DEFAULT_RETRIES
            },
        })
    }
}

/// Folds one result into the health state; returns whether the status changed.
pub fn record_result(
    health: &mut Health,
    result: HealthcheckResult,
    in_start_period: bool,
    retries: i64,
) -> bool {
    let before = health.status.clone();
    if result.exit_code == 0 {
        health.failing_streak = 0;
        health.status = "healthy".into();
    } else if !in_start_period {
        health.failing_streak += 1;
        if health.failing_streak >= retries {
            health.status = "unhealthy".into();
        }
    }
    health.log.push(result);
    if health.log.len() > MAX_LOG_ENTRIES {
        let extra = health.log.len() - MAX_LOG_ENTRIES;
        health.log.drain(..extra);
    }
    health.status != before
}

impl Containers {
    /// Starts the monitor of run `generation` (nothing without a healthcheck).
    pub(super) fn spawn_health(&self, entry: &Arc<Entry>, generation: u64) {
        let record = entry.snapshot();
        let probe = run_spec(&record)
            .ok()
            .and_then(|spec| spec.config.healthcheck)
            .and_then(|hc| Probe::from_config(&hc));
        let Some(probe) = probe else {
            if record.state.health.is_some() {
                let _ = entry.update(false, |r| r.state.health = None);
            }
            return;
        };
        let Some(me) = self.me.upgrade() else { return };
        let entry = entry.clone();
        let _ = entry.update(false, |r| {
            let mut health = r.state.health.take().unwrap_or_default();
            health.status = "starting".into();
            health.failing_streak = 0;
            r.state.health = Some(health);
        });
        let mut shutdown = self.shutdown.subscribe();
        tokio::spawn(async move {
            let started = Instant::now();
            loop {
                let in_start = started.elapsed() < probe.start_period;
                let wait = if in_start {
                    probe.start_interval
                } else {
                    probe.interval
                };
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = shutdown.wait_for(|s| *s) => return,
                }
                if entry.current_generation() != generation || entry.status() != Status::Running {
                    return;
                }
                let in_start = started.elapsed() < probe.start_period;
                let result = me.run_probe(&entry, &probe).await;
                if entry.current_generation() != generation {
                    return;
                }
                let mut changed = None;
                let _ = entry.update(false, |r| {
                    let health = r.state.health.get_or_insert_with(Health::default);
                    if record_result(health, result.clone(), in_start, probe.retries) {
                        changed = Some(health.status.clone());
                    }
                });
                if let Some(status) = changed {
                    me.publish(&entry, &format!("health_status: {status}"), &[]);
                }
            }
        });
    }

    /// Runs the probe once through exec; a probe that outlives the timeout counts as -1.
    async fn run_probe(&self, entry: &Arc<Entry>, probe: &Probe) -> HealthcheckResult {
        let start = store::now_rfc3339();
        let request = ExecCreateRequest {
            attach_stdout: true,
            attach_stderr: true,
            cmd: probe.args.clone(),
            ..ExecCreateRequest::default()
        };
        let run = async {
            let id = self.create_exec(entry, request).await?;
            let mut session = self.start_exec(&id, false).await?;
            let mut output = Vec::new();
            let mut code = -1i64;
            while let Some(frame) = session.output.recv().await {
                match frame {
                    Frame::Stdout(b) | Frame::Stderr(b) => {
                        let room = MAX_OUTPUT.saturating_sub(output.len());
                        output.extend_from_slice(&b[..b.len().min(room)]);
                    }
                    Frame::Exit(c) => {
                        code = i64::from(c);
                        break;
                    }
                }
            }
            Ok::<_, super::ContainerError>((code, String::from_utf8_lossy(&output).into_owned()))
        };
        let (exit_code, output) = match tokio::time::timeout(probe.timeout, run).await {
            Ok(Ok(done)) => done,
            Ok(Err(e)) => (-1, e.to_string()),
            Err(_) => (
                -1,
                format!(
                    "Health check exceeded timeout ({})",
                    crate::compose::model::values::format_go_duration(
                        probe.timeout.as_nanos() as i64
                    )
                ),
            ),
        };
        HealthcheckResult {
            start,
            end: store::now_rfc3339(),
            exit_code,
            output,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(code: i64) -> HealthcheckResult {
        HealthcheckResult {
            exit_code: code,
            ..HealthcheckResult::default()
        }
    }

    #[test]
    fn probes_take_dockers_defaults() {
        let hc = Healthcheck {
            test: vec!["CMD-SHELL".into(), "test -f /x".into()],
            ..Healthcheck::default()
        };
        let p = Probe::from_config(&hc).unwrap();
        assert_eq!(p.args, ["/bin/sh", "-c", "test -f /x"]);
        assert_eq!((p.interval, p.retries), (DEFAULT_INTERVAL, 3));
        let none = Healthcheck {
            test: vec!["NONE".into()],
            ..Healthcheck::default()
        };
        assert!(Probe::from_config(&none).is_none());
    }

    #[test]
    fn status_follows_the_streak() {
        let mut h = Health {
            status: "starting".into(),
            ..Health::default()
        };
        assert!(
            !record_result(&mut h, result(1), true, 2),
            "start period failures do not count"
        );
        assert_eq!(h.failing_streak, 0);
        assert!(record_result(&mut h, result(0), true, 2));
        assert_eq!(h.status, "healthy");
        assert!(!record_result(&mut h, result(1), false, 2));
        assert!(record_result(&mut h, result(1), false, 2));
        assert_eq!((h.status.as_str(), h.failing_streak), ("unhealthy", 2));
        for _ in 0..10 {
            record_result(&mut h, result(1), false, 2);
        }
        assert_eq!(h.log.len(), MAX_LOG_ENTRIES);
    }
}
