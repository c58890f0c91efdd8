//! The daemon's event bus: every state change is published here once, in Docker's
//! `EventMessage` shape, and fanned out to `GET /events` streams.
//!
//! A bounded ring keeps the recent past so `since` can replay it (Docker keeps 256; we keep
//! more), a broadcast channel carries the live feed. Publishing never blocks: a subscriber
//! too slow to keep up loses events (and is told so by the channel), the daemon does not wait.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

use tokio::sync::broadcast;

use crate::api::types::{EventActor, EventMessage};

/// Events kept for `since` replays.
const RING_CAPACITY: usize = 1024;
/// Events a live subscriber may lag behind before it loses some.
const CHANNEL_CAPACITY: usize = 1024;

pub struct EventBus {
    tx: broadcast::Sender<EventMessage>,
    /// Held while publishing, so a subscriber's replay and live feed neither overlap nor gap.
    ring: Mutex<VecDeque<EventMessage>>,
}

impl Default for EventBus {
    fn default() -> Self {
        EventBus::new()
    }
}

impl EventBus {
    pub fn new() -> EventBus {
        let (tx, _) = broadcast::channel(CHANNEL_CAPACITY);
        EventBus {
            tx,
            ring: Mutex::new(VecDeque::with_capacity(RING_CAPACITY)),
        }
    }

    /// Publishes one event, stamped now, with Docker's deprecated `status`/`id` filled for
    /// images and containers as Docker does.
    pub fn publish(
        &self,
        kind: &str,
        action: &str,
        id: &str,
        attributes: BTreeMap<String, String>,
    ) {
        let now = chrono::Utc::now();
        let time_nano = now.timestamp_nanos_opt().unwrap_or(0);
        let legacy = kind == "image" || kind == "container";
        let event = EventMessage {
            status: if legacy {
                action.to_owned()
            } else {
                String::new()
            },
            id: if legacy { id.to_owned() } else { String::new() },
            from: if kind == "container" {
                attributes.get("image").cloned().unwrap_or_default()
            } else {
                String::new()
            },
            kind: kind.to_owned(),
            action: action.to_owned(),
            actor: EventActor {
                id: id.to_owned(),
                attributes,
            },
            scope: "local".to_owned(),
            time: now.timestamp(),
            time_nano,
        };
        self.publish_message(event);
    }

    /// Publishes a ready-made event (its time is kept).
    pub fn publish_message(&self, event: EventMessage) {
        let mut ring = self.lock_ring();
        if ring.len() == RING_CAPACITY {
            ring.pop_front();
        }
        ring.push_back(event.clone());
        // No subscribers is fine: the ring still has it.
        let _ = self.tx.send(event);
    }

    /// The kept events at or after `since_nano` and a receiver for every later one.
    pub fn subscribe(
        &self,
        since_nano: Option<i64>,
    ) -> (Vec<EventMessage>, broadcast::Receiver<EventMessage>) {
        let ring = self.lock_ring();
        let past = match since_nano {
            Some(since) => ring
                .iter()
                .filter(|e| e.time_nano >= since)
                .cloned()
                .collect(),
            None => Vec::new(),
        };
        (past, self.tx.subscribe())
    }

    /// Live subscribers (for `/info`'s `NEventsListener`).
    pub fn listeners(&self) -> usize {
        self.tx.receiver_count()
    }

    fn lock_ring(&self) -> std::sync::MutexGuard<'_, VecDeque<EventMessage>> {
        // A panic while holding the lock cannot leave the ring inconsistent (push/pop only).
        self.ring.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(n: &str) -> BTreeMap<String, String> {
        BTreeMap::from([("name".to_owned(), n.to_owned())])
    }

    #[tokio::test]
    async fn live_subscribers_get_published_events() {
        let bus = EventBus::new();
        let (past, mut rx) = bus.subscribe(None);
        assert!(past.is_empty());
        bus.publish("image", "tag", "sha256:ab", name("busybox:latest"));
        let e = rx.recv().await.expect("event");
        assert_eq!(e.action, "tag");
        assert_eq!(e.status, "tag");
        assert_eq!(e.id, "sha256:ab");
        assert_eq!(e.actor.attributes["name"], "busybox:latest");
        assert_eq!(e.scope, "local");
        assert_eq!(e.time, e.time_nano / 1_000_000_000);
    }

    #[test]
    fn since_replays_only_newer_events() {
        let bus = EventBus::new();
        bus.publish("image", "pull", "a", BTreeMap::new());
        let cut = bus.subscribe(Some(0)).0[0].time_nano + 1;
        std::thread::sleep(std::time::Duration::from_millis(2));
        bus.publish("network", "create", "n", BTreeMap::new());
        let (past, _) = bus.subscribe(Some(cut));
        assert_eq!(past.len(), 1);
        assert_eq!(past[0].action, "create");
        assert!(past[0].status.is_empty(), "no legacy fields for networks");
    }

    #[test]
    fn ring_is_bounded() {
        let bus = EventBus::new();
        for i in 0..RING_CAPACITY + 5 {
            bus.publish("image", "tag", &i.to_string(), BTreeMap::new());
        }
        let (past, _) = bus.subscribe(Some(0));
        assert_eq!(past.len(), RING_CAPACITY);
        assert_eq!(past[0].actor.id, "5");
    }
}
