//! Progress of long image operations in Docker's JSON-message shape, streamed to API clients.

use serde::{Deserialize, Serialize};

/// One line of a Docker progress stream (`{"status":"Downloading","id":"abc","progressDetail":...}`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgressMessage {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub status: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    #[serde(
        rename = "progressDetail",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub progress_detail: Option<ProgressDetail>,
    /// A pre-rendered bar, as Docker sends it for old clients.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub progress: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<String>,
    #[serde(
        rename = "errorDetail",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub error_detail: Option<ErrorDetail>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Extra data (`{"ID": ...}` for build, digest for push), as Docker's `aux`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aux: Option<serde_json::Value>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgressDetail {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    #[serde(default)]
    pub message: String,
}

impl ProgressMessage {
    /// A plain status line (`Pulling from library/busybox`).
    pub fn status(id: impl Into<String>, status: impl Into<String>) -> Self {
        ProgressMessage {
            id: id.into(),
            status: status.into(),
            ..Default::default()
        }
    }

    /// A status of one layer (`Pulling fs layer`, `Pushed`): Docker sends these with an empty
    /// `progressDetail`, which terminals use to update the layer's line in place.
    pub fn layer(id: impl Into<String>, status: impl Into<String>) -> Self {
        ProgressMessage {
            progress_detail: Some(ProgressDetail::default()),
            ..ProgressMessage::status(id, status)
        }
    }

    /// A byte-count update for one layer.
    pub fn bytes(
        id: impl Into<String>,
        status: impl Into<String>,
        current: u64,
        total: Option<u64>,
    ) -> Self {
        ProgressMessage {
            id: id.into(),
            status: status.into(),
            progress_detail: Some(ProgressDetail {
                current: Some(current),
                total,
            }),
            ..Default::default()
        }
    }

    /// The final error line of a failed stream.
    pub fn error(message: impl Into<String>) -> Self {
        let message = message.into();
        ProgressMessage {
            error_detail: Some(ErrorDetail {
                message: message.clone(),
            }),
            error: Some(message),
            ..Default::default()
        }
    }
}

/// Where an operation reports its progress; cheap to clone, never blocks.
#[derive(Clone)]
pub struct ProgressSink(Option<tokio::sync::mpsc::UnboundedSender<ProgressMessage>>);

impl ProgressSink {
    /// A sink and the receiver the API handler streams from.
    pub fn channel() -> (
        ProgressSink,
        tokio::sync::mpsc::UnboundedReceiver<ProgressMessage>,
    ) {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        (ProgressSink(Some(tx)), rx)
    }

    /// A sink that drops everything (tests, internal callers).
    pub fn discard() -> ProgressSink {
        ProgressSink(None)
    }

    pub fn send(&self, msg: ProgressMessage) {
        if let Some(tx) = &self.0 {
            // The client hung up: the operation goes on (Docker finishes a pull too).
            let _ = tx.send(msg);
        }
    }
}
