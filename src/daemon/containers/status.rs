//! Docker's human-readable status (`Up 5 seconds`, `Exited (0) 3 seconds ago`, `Created`).

use std::time::Duration;

use super::store::{State, Status, ZERO_TIME};

/// go-units' `HumanDuration` (the CLI's, so `ps` and the API word durations alike).
fn human_duration(d: Duration) -> String {
    crate::cli::format::units::human_duration(d.as_secs_f64())
}

/// Docker's `State.String()` at `now`.
pub fn status_text(state: &State, now: chrono::DateTime<chrono::Utc>) -> String {
    let since = |t: &str| {
        chrono::DateTime::parse_from_rfc3339(t)
            .ok()
            .and_then(|t| (now - t.with_timezone(&chrono::Utc)).to_std().ok())
            .unwrap_or_default()
    };
    match state.status {
        Status::Paused => format!("Up {} (Paused)", human_duration(since(&state.started_at))),
        Status::Restarting => format!(
            "Restarting ({}) {} ago",
            state.exit_code,
            human_duration(since(&state.finished_at))
        ),
        Status::Running => {
            let up = format!("Up {}", human_duration(since(&state.started_at)));
            match state.health.as_ref().map(|h| h.status.as_str()) {
                Some("starting") => format!("{up} (health: starting)"),
                Some(status) if !status.is_empty() => format!("{up} ({status})"),
                _ => up,
            }
        }
        Status::Removing => "Removal In Progress".into(),
        Status::Dead => "Dead".into(),
        Status::Created | Status::Exited => {
            if state.started_at == ZERO_TIME {
                "Created".into()
            } else if state.finished_at == ZERO_TIME {
                String::new()
            } else {
                format!(
                    "Exited ({}) {} ago",
                    state.exit_code,
                    human_duration(since(&state.finished_at))
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_read_like_docker_ps() {
        let now = chrono::DateTime::parse_from_rfc3339("2024-01-01T00:01:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        let mut st = State::default();
        assert_eq!(status_text(&st, now), "Created");
        st.status = Status::Running;
        st.started_at = "2024-01-01T00:00:55Z".into();
        assert_eq!(status_text(&st, now), "Up 5 seconds");
        st.status = Status::Paused;
        assert_eq!(status_text(&st, now), "Up 5 seconds (Paused)");
        st.status = Status::Exited;
        st.exit_code = 137;
        st.finished_at = "2024-01-01T00:00:57Z".into();
        assert_eq!(status_text(&st, now), "Exited (137) 3 seconds ago");
        st.status = Status::Restarting;
        assert_eq!(status_text(&st, now), "Restarting (137) 3 seconds ago");
    }
}
