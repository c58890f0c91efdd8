//! `up --dry-run`: the plan as lines in Compose's words.

use std::fmt;

use super::{ContainerAction, Plan, RecreateReason, ResourceAction};

impl fmt::Display for Plan {
    /// One line per action: `Network demo_default  Create`, `Container demo-web-1  Recreate
    /// (config changed)`, `Container demo-db-1  Running`; networks, volumes, services by
    /// name, then orphans.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (kind, resources) in [("Network", &self.networks), ("Volume", &self.volumes)] {
            for action in resources.values() {
                let (name, word) = match action {
                    ResourceAction::Create { name } => (name, "Create"),
                    ResourceAction::Exists { name } => (name, "Exists"),
                    ResourceAction::External { name } => (name, "External"),
                };
                writeln!(f, "{kind} {name}  {word}")?;
            }
        }
        for plan in self.services.values() {
            for action in &plan.containers {
                let line = match action {
                    ContainerAction::Create { name, .. } => format!("{name}  Create"),
                    ContainerAction::Recreate { old, reason, .. } => {
                        format!("{}  Recreate ({})", old.name, reason_text(reason))
                    }
                    ContainerAction::Start { container } => format!("{}  Start", container.name),
                    ContainerAction::Keep { container } => format!("{}  Running", container.name),
                    ContainerAction::Remove { container } => {
                        format!("{}  Remove (scale down)", container.name)
                    }
                    ContainerAction::Restart { container } => {
                        format!("{}  Restart", container.name)
                    }
                };
                writeln!(f, "Container {line}")?;
            }
        }
        for orphan in &self.orphans {
            let word = if self.remove_orphans {
                "Remove (orphan)"
            } else {
                "Orphan (kept; --remove-orphans removes it)"
            };
            writeln!(f, "Container {}  {word}", orphan.name)?;
        }
        Ok(())
    }
}

fn reason_text(reason: &RecreateReason) -> String {
    match reason {
        RecreateReason::ConfigChanged => "config changed".into(),
        RecreateReason::ImageChanged => "image changed".into(),
        RecreateReason::Forced => "forced".into(),
        RecreateReason::DependencyRecreated(s) => format!("{s} recreated"),
    }
}
