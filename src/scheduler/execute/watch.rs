//! What the executor knows of each container's state, kept current by the daemon's events
//! stream (subscribed before anything is read, so no change is missed) and seeded by one
//! inspect per container. Waiters sleep on a `watch` channel that every event bumps: no
//! polling.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use futures_util::StreamExt;
use tokio::sync::watch;

use crate::api::client::ClientError;
use crate::scheduler::engine_api::EngineApi;
use crate::scheduler::labels;

/// One container's last known state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Seen {
    /// `created`, `running`, `exited`, ...
    pub state: String,
    pub exit_code: i64,
    /// `starting`, `healthy`, `unhealthy`; `None` without a healthcheck.
    pub health: Option<String>,
}

/// The project's containers as the events say they are.
#[derive(Clone)]
pub struct Watcher {
    seen: Arc<Mutex<HashMap<String, Seen>>>,
    changed: watch::Receiver<u64>,
    api: EngineApi,
    _task: Arc<AbortOnDrop>,
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Watcher {
    /// Subscribes to the project's container events.
    pub async fn start(api: &EngineApi, project: &str) -> Result<Watcher, ClientError> {
        let mut filters = BTreeMap::new();
        filters.insert("type".to_string(), vec!["container".to_string()]);
        filters.insert(
            "label".to_string(),
            vec![format!("{}={project}", labels::PROJECT)],
        );
        let mut events = api.events(&filters, None).await?;
        let seen: Arc<Mutex<HashMap<String, Seen>>> = Arc::default();
        let (tx, rx) = watch::channel(0u64);
        let task = tokio::spawn({
            let seen = seen.clone();
            async move {
                while let Some(Ok(event)) = events.next().await {
                    let id = if event.actor.id.is_empty() {
                        event.id.clone()
                    } else {
                        event.actor.id.clone()
                    };
                    let action = event.action.as_str();
                    {
                        let mut seen = seen.lock().unwrap_or_else(|e| e.into_inner());
                        let Some(entry) = seen.get_mut(&id) else {
                            tx.send_modify(|n| *n += 1);
                            continue;
                        };
                        apply(entry, action, &event.actor.attributes);
                    }
                    tx.send_modify(|n| *n += 1);
                }
            }
        });
        Ok(Watcher {
            seen,
            changed: rx,
            api: api.clone(),
            _task: Arc::new(AbortOnDrop(task)),
        })
    }

    /// Starts tracking `id`, reading its state once.
    pub async fn track(&self, id: &str) -> Result<(), ClientError> {
        let inspect: serde_json::Value = self
            .api
            .client
            .get_json(&format!("/v1.41/containers/{id}/json"))
            .await?;
        let state = &inspect["State"];
        let seen = Seen {
            state: state["Status"].as_str().unwrap_or_default().to_string(),
            exit_code: state["ExitCode"].as_i64().unwrap_or(0),
            health: state["Health"]["Status"].as_str().map(str::to_string),
        };
        let mut map = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        // An event may have arrived between the subscription and this read; the inspect is
        // at least as new, so it wins.
        map.insert(id.to_string(), seen);
        Ok(())
    }

    /// Waits until `decide` returns `Some` for the container's state.
    pub async fn wait_for<T>(&self, id: &str, decide: impl Fn(&Seen) -> Option<T>) -> T {
        let mut changed = self.changed.clone();
        loop {
            let current = {
                let map = self.seen.lock().unwrap_or_else(|e| e.into_inner());
                map.get(id).cloned().unwrap_or_default()
            };
            if let Some(answer) = decide(&current) {
                return answer;
            }
            if changed.changed().await.is_err() {
                // The events stream ended (daemon gone): read the state directly once more.
                let _ = self.track(id).await;
                let current = {
                    let map = self.seen.lock().unwrap_or_else(|e| e.into_inner());
                    map.get(id).cloned()
                };
                if let Some(answer) = current.as_ref().and_then(&decide) {
                    return answer;
                }
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            }
        }
    }
}

/// Applies one event to a container's state.
fn apply(entry: &mut Seen, action: &str, attributes: &BTreeMap<String, String>) {
    match action {
        "start" | "unpause" | "restart" => {
            entry.state = "running".into();
            if entry.health.is_some() {
                entry.health = Some("starting".into());
            }
        }
        "die" => {
            entry.state = "exited".into();
            entry.exit_code = attributes
                .get("exitCode")
                .and_then(|c| c.parse().ok())
                .unwrap_or(entry.exit_code);
        }
        "pause" => entry.state = "paused".into(),
        "destroy" => entry.state = "removed".into(),
        other => {
            if let Some(status) = other.strip_prefix("health_status:") {
                entry.health = Some(status.trim().to_string());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_move_the_state() {
        let mut seen = Seen {
            state: "created".into(),
            health: Some("starting".into()),
            ..Seen::default()
        };
        apply(&mut seen, "start", &BTreeMap::new());
        assert_eq!(seen.state, "running");
        apply(&mut seen, "health_status: healthy", &BTreeMap::new());
        assert_eq!(seen.health.as_deref(), Some("healthy"));
        let mut attrs = BTreeMap::new();
        attrs.insert("exitCode".to_string(), "3".to_string());
        apply(&mut seen, "die", &attrs);
        assert_eq!((seen.state.as_str(), seen.exit_code), ("exited", 3));
    }
}
