//! `depends_on` conditions on one container, decided from its watched state, with Docker
//! Compose's error texts.

use super::watch::{Seen, Watcher};

/// Waits until the container meets `condition`; the error is Compose's message.
pub async fn wait_condition(
    watcher: &Watcher,
    service: &str,
    name: &str,
    id: &str,
    condition: &str,
) -> Result<(), String> {
    watcher
        .wait_for(id, |seen| decide(service, name, condition, seen))
        .await
}

/// `Some` once the condition is met or can no longer be met.
pub fn decide(
    service: &str,
    name: &str,
    condition: &str,
    seen: &Seen,
) -> Option<Result<(), String>> {
    match condition {
        "service_healthy" => match (seen.state.as_str(), seen.health.as_deref()) {
            (_, Some("healthy")) => Some(Ok(())),
            (_, Some("unhealthy")) => Some(Err(format!(
                "dependency failed to start: container {name} is unhealthy"
            ))),
            ("exited" | "dead" | "removed", _) => Some(Err(format!(
                "dependency failed to start: container {name} exited ({})",
                seen.exit_code
            ))),
            ("running", None) => Some(Err(format!(
                "dependency failed to start: container {name} has no healthcheck configured"
            ))),
            _ => None,
        },
        "service_completed_successfully" => match seen.state.as_str() {
            "exited" | "dead" if seen.exit_code == 0 => Some(Ok(())),
            "exited" | "dead" => Some(Err(format!(
                "service {service:?} didn't complete successfully: exit {}",
                seen.exit_code
            ))),
            "removed" => Some(Err(format!(
                "service {service:?} didn't complete successfully: container {name} was removed"
            ))),
            _ => None,
        },
        // service_started: it has been started (a one-shot may already be done).
        _ => match seen.state.as_str() {
            "running" | "exited" | "paused" | "restarting" => Some(Ok(())),
            "removed" | "dead" => Some(Err(format!(
                "dependency failed to start: container {name} is gone"
            ))),
            _ => None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(state: &str, code: i64, health: Option<&str>) -> Seen {
        Seen {
            state: state.into(),
            exit_code: code,
            health: health.map(str::to_string),
        }
    }

    #[test]
    fn conditions_follow_compose() {
        let d = |c: &str, s: &Seen| decide("db", "demo-db-1", c, s);
        assert_eq!(
            d("service_healthy", &seen("running", 0, Some("starting"))),
            None
        );
        assert_eq!(
            d("service_healthy", &seen("running", 0, Some("healthy"))),
            Some(Ok(()))
        );
        assert_eq!(
            d("service_healthy", &seen("running", 0, Some("unhealthy"))),
            Some(Err(
                "dependency failed to start: container demo-db-1 is unhealthy".into()
            ))
        );
        assert_eq!(
            d("service_completed_successfully", &seen("exited", 2, None)),
            Some(Err(
                "service \"db\" didn't complete successfully: exit 2".into()
            ))
        );
        assert_eq!(
            d("service_completed_successfully", &seen("running", 0, None)),
            None
        );
        assert_eq!(d("service_started", &seen("created", 0, None)), None);
        assert_eq!(
            d("service_started", &seen("running", 0, None)),
            Some(Ok(()))
        );
    }
}
