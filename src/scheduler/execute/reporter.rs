//! Progress events with each resource's elapsed time since its first event.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::scheduler::progress::{Event, Phase, Resource, Sink};

#[derive(Clone)]
pub struct Reporter {
    sink: Arc<dyn Sink>,
    started: Arc<Mutex<HashMap<(&'static str, String), Instant>>>,
}

impl Reporter {
    pub fn new(sink: Arc<dyn Sink>) -> Reporter {
        Reporter {
            sink,
            started: Arc::default(),
        }
    }

    fn send(&self, resource: Resource, name: &str, status: &str, phase: Phase, detail: &str) {
        let elapsed = {
            let mut started = self.started.lock().unwrap_or_else(|e| e.into_inner());
            started
                .entry((resource.as_str(), name.to_string()))
                .or_insert_with(Instant::now)
                .elapsed()
        };
        self.sink.event(Event {
            resource,
            name: name.to_string(),
            status: status.to_string(),
            phase,
            detail: detail.to_string(),
            elapsed,
        });
    }

    pub fn working(&self, resource: Resource, name: &str, status: &str) {
        self.send(resource, name, status, Phase::Working, "");
    }

    pub fn done(&self, resource: Resource, name: &str, status: &str) {
        self.send(resource, name, status, Phase::Done, "");
    }

    pub fn warning(&self, resource: Resource, name: &str, status: &str, detail: &str) {
        self.send(resource, name, status, Phase::Warning, detail);
    }

    pub fn error(&self, resource: Resource, name: &str, detail: &str) {
        self.send(resource, name, "Error", Phase::Error, detail);
    }
}
