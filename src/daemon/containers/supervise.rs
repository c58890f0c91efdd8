//! One supervisor task per running container: waits for the shim to report the exit,
//! records it, publishes `die`, then applies the restart policy (Docker's restart manager:
//! backoff from 100 ms doubling up to a minute, reset once a run lasted 10 s) or removes
//! an `--rm` container. The container's network sandbox is torn down first. A shim that vanished without `exit.json` leaves exit code 255 and
//! its cgroup killed and removed.

use std::sync::Arc;
use std::time::Duration;

use super::adopt::clean_cgroup;
use super::create::run_spec;
use super::entry::Entry;
use super::store::{self, Status};
use super::Containers;
use crate::engine::shim::{ExitRecord, ShimClient};
use crate::engine::spec::Restart;

const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// A run at least this long resets the backoff.
const RESET_AFTER: Duration = Duration::from_secs(10);

/// Docker's `ShouldRestart` without the timing: whether `policy` restarts a container
/// that exited with `exit_code` after `restarts` policy restarts.
pub fn should_restart(
    policy: Restart,
    exit_code: i32,
    restarts: i64,
    stopped_by_user: bool,
) -> bool {
    if stopped_by_user {
        return false;
    }
    match policy {
        Restart::No => false,
        Restart::Always | Restart::UnlessStopped => true,
        Restart::OnFailure { max_retries } => {
            exit_code != 0 && (max_retries == 0 || restarts < max_retries)
        }
    }
}

/// The delay before the next restart: 100 ms, doubling, at most a minute; back to 100 ms
/// when the last run lasted at least 10 s.
pub fn next_backoff(previous: Option<Duration>, ran_for: Duration) -> Duration {
    match previous {
        Some(p) if ran_for < RESET_AFTER => (p * 2).min(MAX_BACKOFF),
        _ => FIRST_BACKOFF,
    }
}

impl Containers {
    /// Spawns the supervisor of run `generation`.
    pub(super) fn supervise(&self, entry: Arc<Entry>, client: ShimClient, generation: u64) {
        let Some(me) = self.me.upgrade() else { return };
        self.spawn_health(&entry, generation);
        let mut shutdown = self.shutdown.subscribe();
        tokio::spawn(async move {
            let exit = tokio::select! {
                r = client.wait() => r,
                // The daemon stops: the container keeps running, the next daemon adopts it.
                _ = shutdown.wait_for(|s| *s) => return,
            };
            let exit = match exit {
                Ok(exit) => exit,
                Err(e) => {
                    tracing::warn!(container = %entry.id, "the shim went away: {e}");
                    // Nobody else will stop what the shim left running.
                    clean_cgroup(&entry.id).await;
                    lost_shim_exit()
                }
            };
            if entry.current_generation() != generation {
                return;
            }
            me.handle_exit(&entry, exit).await;
        });
    }

    /// Records an exit and applies the restart policy or `--rm`.
    pub(super) async fn handle_exit(&self, entry: &Arc<Entry>, exit: ExitRecord) {
        // The network goes before the exit is recorded: a `stop` that returns has freed
        // the addresses and ports, and a policy restart makes a fresh sandbox.
        self.network_down(entry).await;
        let before = entry.snapshot();
        self.release_volumes(&before);
        let ran_for = ran_for(&before.state.started_at, &exit.finished_at);
        let policy = run_spec(&before).map(|s| (s.restart, s.auto_remove));
        let (restart, auto_remove) = policy.unwrap_or((Restart::No, false));
        let again = !self.is_shutting_down()
            && should_restart(
                restart,
                exit.exit_code,
                before.restart_count,
                before.state.stopped_by_user,
            );
        let recorded = entry.update(true, |r| {
            r.state.status = if again {
                Status::Restarting
            } else {
                Status::Exited
            };
            r.state.pid = 0;
            r.state.shim_pid = 0;
            r.state.exit_code = exit.exit_code;
            r.state.finished_at = if exit.finished_at.is_empty() {
                store::now_rfc3339()
            } else {
                exit.finished_at.clone()
            };
            r.state.oom_killed = exit.oom_killed;
        });
        if let Err(e) = recorded {
            tracing::error!(container = %entry.id, "recording the exit: {e}");
        }
        if exit.oom_killed {
            self.publish(entry, "oom", &[]);
        }
        self.publish(entry, "die", &[("exitCode", exit.exit_code.to_string())]);
        if again {
            let delay = {
                let mut backoff = entry.backoff();
                let d = next_backoff(*backoff, ran_for);
                *backoff = Some(d);
                d
            };
            self.restart_after(entry.clone(), delay);
        } else if auto_remove {
            // An attach made before the start may still be reading this run's log.
            entry.attaches_done(Duration::from_secs(5)).await;
            if let Err(e) = self.remove_container(entry, true, true).await {
                tracing::warn!(container = %entry.id, "removing an --rm container: {e}");
            }
        }
    }

    /// Starts the container again after `delay` unless the user or the daemon intervened.
    fn restart_after(&self, entry: Arc<Entry>, delay: Duration) {
        let Some(me) = self.me.upgrade() else { return };
        let mut shutdown = self.shutdown.subscribe();
        tokio::spawn(async move {
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = shutdown.wait_for(|s| *s) => return,
            }
            let _op = entry.op.lock().await;
            let record = entry.snapshot();
            if record.state.status != Status::Restarting || record.state.stopped_by_user {
                return;
            }
            if let Err(e) = entry.update(false, |r| r.restart_count += 1) {
                tracing::error!(container = %entry.id, "recording a restart: {e}");
                return;
            }
            if let Err(e) = me.start_locked(&entry).await {
                tracing::warn!(container = %entry.id, "restart by policy failed: {e}");
                let _ = entry.update(false, |r| r.state.status = Status::Exited);
            }
        });
    }
}

/// What a container whose shim vanished without `exit.json` ended with.
pub(super) fn lost_shim_exit() -> ExitRecord {
    ExitRecord {
        exit_code: 255,
        finished_at: store::now_rfc3339(),
        oom_killed: false,
    }
}

fn ran_for(started: &str, finished: &str) -> Duration {
    let parse = |s: &str| chrono::DateTime::parse_from_rfc3339(s).ok();
    match (parse(started), parse(finished)) {
        (Some(a), Some(b)) => (b - a).to_std().unwrap_or_default(),
        _ => Duration::ZERO,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_decide_like_dockers_restart_manager() {
        assert!(!should_restart(Restart::No, 1, 0, false));
        assert!(should_restart(Restart::Always, 0, 100, false));
        assert!(should_restart(Restart::UnlessStopped, 0, 0, false));
        assert!(!should_restart(Restart::Always, 0, 0, true));
        let two = Restart::OnFailure { max_retries: 2 };
        assert!(!should_restart(two, 0, 0, false));
        assert!(should_restart(two, 1, 0, false));
        assert!(should_restart(two, 1, 1, false));
        assert!(!should_restart(two, 1, 2, false));
        assert!(should_restart(
            Restart::OnFailure { max_retries: 0 },
            3,
            1000,
            false
        ));
    }

    #[test]
    fn backoff_doubles_from_100ms_caps_at_a_minute_and_resets_after_10s() {
        let quick = Duration::from_secs(1);
        let d1 = next_backoff(None, quick);
        assert_eq!(d1, Duration::from_millis(100));
        let d2 = next_backoff(Some(d1), quick);
        assert_eq!(d2, Duration::from_millis(200));
        assert_eq!(next_backoff(Some(d2), quick), Duration::from_millis(400));
        assert_eq!(
            next_backoff(Some(Duration::from_secs(50)), quick),
            MAX_BACKOFF
        );
        assert_eq!(
            next_backoff(Some(Duration::from_secs(50)), Duration::from_secs(10)),
            FIRST_BACKOFF
        );
    }

    #[test]
    fn run_time_comes_from_the_rfc3339_stamps() {
        assert_eq!(
            ran_for("2024-01-01T00:00:00.5Z", "2024-01-01T00:00:11Z"),
            Duration::from_millis(10_500)
        );
        assert_eq!(ran_for("0001-01-01T00:00:00Z", "junk"), Duration::ZERO);
    }
}
