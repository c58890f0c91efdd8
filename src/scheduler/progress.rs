//! What `execute` reports while it works: one event per resource state change, as Docker
//! Compose's progress writer shows them (` ✔ Container demo-web-1  Started  0.4s`). The CLI
//! renders them (tty, plain, quiet, json); tests collect them.

use std::time::Duration;

/// The kind of resource, as Compose names it in progress lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resource {
    Network,
    Volume,
    Container,
    Image,
}

impl Resource {
    pub fn as_str(self) -> &'static str {
        match self {
            Resource::Network => "Network",
            Resource::Volume => "Volume",
            Resource::Container => "Container",
            Resource::Image => "Image",
        }
    }
}

/// Where a resource's step stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Working,
    Done,
    Warning,
    Error,
}

/// One progress event: `Container demo-web-1  Starting` (Working), then `Started` (Done).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub resource: Resource,
    /// The daemon-side name (`demo-web-1`, `demo_default`).
    pub name: String,
    /// Compose's word: Creating/Created, Starting/Started, Waiting/Healthy/Exited,
    /// Recreate/Recreated, Running, Stopping/Stopped, Removing/Removed, Restarting/Restarted,
    /// Pulling/Pulled, Error.
    pub status: String,
    pub phase: Phase,
    /// Extra text (an error message, `service "x" didn't complete successfully: exit 1`).
    pub detail: String,
    /// Time since this resource's first event (for the tty form's right column).
    pub elapsed: Duration,
}

/// Receives events; implemented by the CLI's renderers and by test collectors.
pub trait Sink: Send + Sync {
    fn event(&self, event: Event);
}

/// Drops every event (`--progress quiet`, and callers that do not show progress).
pub struct Quiet;

impl Sink for Quiet {
    fn event(&self, _event: Event) {}
}
