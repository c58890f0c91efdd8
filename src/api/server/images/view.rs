//! How stored images look through the API: an image record and its config blob turned into
//! `ImageSummary`, `ImageInspect` and history entries, and the `reference` filter's matching.
//!
//! Pure functions over data the handlers read from the store; nothing here does I/O.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::super::query::glob_match;
use crate::api::types::{
    ContainerConfig, GraphDriverData, HistoryResponseItem, ImageInspect, ImageMetadata,
    ImageSummary, RootFs,
};
use crate::image::reference::Reference;
use crate::image::store::ImageRecord;

/// The parts of an image config blob (OCI or Docker) the API shows. Lenient: a field of an
/// unexpected type makes the whole blob read as empty rather than fail a listing.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ConfigBlob {
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub os: String,
    #[serde(default)]
    pub variant: String,
    #[serde(rename = "os.version", default)]
    pub os_version: String,
    #[serde(default)]
    pub created: Option<String>,
    #[serde(default)]
    pub author: String,
    #[serde(default)]
    pub comment: String,
    #[serde(default)]
    pub config: Option<ContainerConfig>,
    #[serde(default)]
    pub container_config: Option<ContainerConfig>,
    #[serde(default)]
    pub container: String,
    #[serde(default)]
    pub docker_version: String,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub history: Vec<HistoryEntry>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct HistoryEntry {
    #[serde(default)]
    pub created: Option<String>,
    #[serde(default)]
    pub created_by: String,
    #[serde(default)]
    pub comment: String,
    #[serde(default)]
    pub empty_layer: bool,
}

fn null_as_empty<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<HistoryEntry>, D::Error> {
    Ok(Option::<Vec<HistoryEntry>>::deserialize(d)?.unwrap_or_default())
}

impl ConfigBlob {
    pub fn parse(bytes: &[u8]) -> ConfigBlob {
        serde_json::from_slice(bytes).unwrap_or_default()
    }

    /// Seconds since the epoch of `created`; 0 when absent or unreadable.
    pub fn created_unix(&self) -> i64 {
        self.created.as_deref().map_or(0, unix_seconds)
    }

    pub fn labels(&self) -> BTreeMap<String, String> {
        self.config
            .as_ref()
            .and_then(|c| c.labels.clone())
            .unwrap_or_default()
    }
}

fn unix_seconds(rfc3339: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(rfc3339).map_or(0, |t| t.timestamp())
}

/// Everything the views need about one image.
#[derive(Clone, Debug)]
pub struct ImageView {
    pub record: ImageRecord,
    pub tags: Vec<Reference>,
    pub config: ConfigBlob,
}

impl ImageView {
    /// True when no tag points at the image (Docker's "dangling").
    pub fn is_dangling(&self) -> bool {
        self.tags.is_empty()
    }

    fn repo_tags(&self) -> Vec<String> {
        self.tags.iter().map(Reference::familiar).collect()
    }

    fn repo_digests(&self) -> Vec<String> {
        self.record
            .repo_digests
            .iter()
            .map(|d| familiar(d))
            .collect()
    }
}

/// A stored full reference in Docker's short form; kept as is when it does not parse.
fn familiar(full: &str) -> String {
    Reference::parse_normalized(full).map_or_else(|_| full.to_owned(), |r| r.familiar())
}

/// `GET /images/json`'s entry. With `patterns` (the `reference` filter) only matching
/// references are listed, and `None` means the image has none and is left out.
pub fn summary(view: &ImageView, patterns: &[String]) -> Option<ImageSummary> {
    let keep = |r: &str| patterns.is_empty() || patterns.iter().any(|p| familiar_match(p, r));
    let mut repo_tags: Vec<String> = view.repo_tags().into_iter().filter(|r| keep(r)).collect();
    let mut repo_digests: Vec<String> = view
        .repo_digests()
        .into_iter()
        .filter(|r| keep(r))
        .collect();
    if repo_tags.is_empty() && repo_digests.is_empty() {
        if !patterns.is_empty() {
            return None;
        }
        // What Docker (API 1.43) lists for an image nothing refers to.
        if view.record.repo_digests.is_empty() {
            repo_tags = vec!["<none>:<none>".to_owned()];
            repo_digests = vec!["<none>@<none>".to_owned()];
        }
    }
    let size = view.record.size as i64;
    Some(ImageSummary {
        id: view.record.id.to_string(),
        parent_id: String::new(),
        repo_tags,
        repo_digests,
        created: view.config.created_unix(),
        size,
        shared_size: -1,
        virtual_size: size,
        labels: view.config.labels(),
        containers: -1,
    })
}

/// Docker's `reference.FamiliarMatch`: the glob against `name:tag` (or `name@digest`), then
/// against the name alone.
pub fn familiar_match(pattern: &str, familiar_ref: &str) -> bool {
    if glob_match(pattern, familiar_ref) {
        return true;
    }
    let name = match familiar_ref.split_once('@') {
        Some((name, _)) => name,
        None => strip_tag(familiar_ref),
    };
    glob_match(pattern, name)
}

fn strip_tag(r: &str) -> &str {
    match r.rfind(':') {
        Some(i) if !r[i..].contains('/') => &r[..i],
        _ => r,
    }
}

/// `GET /images/{name}/json`. `layer_dirs` are the unpacked layer directories, bottom first.
pub fn inspect(view: &ImageView, layer_dirs: &[String]) -> ImageInspect {
    let c = &view.config;
    let size = view.record.size as i64;
    ImageInspect {
        id: view.record.id.to_string(),
        repo_tags: view.repo_tags(),
        repo_digests: view.repo_digests(),
        parent: String::new(),
        comment: c.comment.clone(),
        created: c.created.clone().unwrap_or_else(zero_time),
        container: c.container.clone(),
        container_config: Some(c.container_config.clone().unwrap_or_default()),
        docker_version: c.docker_version.clone(),
        author: c.author.clone(),
        config: c.config.clone(),
        architecture: c.architecture.clone(),
        variant: c.variant.clone(),
        os: c.os.clone(),
        os_version: c.os_version.clone(),
        size,
        virtual_size: size,
        graph_driver: graph_driver(layer_dirs),
        root_fs: RootFs {
            kind: "layers".to_owned(),
            layers: view
                .record
                .layers
                .iter()
                .map(|l| l.diff_id.to_string())
                .collect(),
        },
        metadata: ImageMetadata {
            last_tag_time: Some(zero_time()),
        },
    }
}

/// Go's zero time, which Docker prints for times it does not know.
fn zero_time() -> String {
    "0001-01-01T00:00:00Z".to_owned()
}

/// overlay2's view of an image: the top layer as `UpperDir`, the rest as `LowerDir`.
fn graph_driver(layer_dirs: &[String]) -> GraphDriverData {
    let mut data = BTreeMap::new();
    if let Some((top, lower)) = layer_dirs.split_last() {
        data.insert("UpperDir".to_owned(), top.clone());
        if !lower.is_empty() {
            let lower: Vec<&str> = lower.iter().rev().map(String::as_str).collect();
            data.insert("LowerDir".to_owned(), lower.join(":"));
        }
    }
    GraphDriverData {
        name: "overlay2".to_owned(),
        data,
    }
}

/// `GET /images/{name}/history`: newest first; entries that made a layer carry its size.
pub fn history(view: &ImageView) -> Vec<HistoryResponseItem> {
    let layers = &view.record.layers;
    let entries: Vec<HistoryEntry> = if view.config.history.is_empty() {
        // No history recorded (e.g. some imports): one entry per layer.
        layers.iter().map(|_| HistoryEntry::default()).collect()
    } else {
        view.config.history.clone()
    };
    let mut layer_sizes = layers.iter().map(|l| l.size as i64);
    let mut items: Vec<HistoryResponseItem> = entries
        .iter()
        .map(|h| HistoryResponseItem {
            id: "<missing>".to_owned(),
            created: h.created.as_deref().map_or(0, unix_seconds),
            created_by: h.created_by.clone(),
            tags: Vec::new(),
            size: if h.empty_layer {
                0
            } else {
                layer_sizes.next().unwrap_or(0)
            },
            comment: h.comment.clone(),
        })
        .collect();
    items.reverse();
    if let Some(top) = items.first_mut() {
        top.id = view.record.id.to_string();
        top.tags = view.repo_tags();
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::digest::Digest;
    use crate::image::store::LayerRecord;

    fn layer(n: u8, size: u64) -> LayerRecord {
        let d = Digest::of_bytes(&[n]);
        LayerRecord {
            blob: d.clone(),
            media_type: "application/vnd.oci.image.layer.v1.tar".into(),
            blob_size: size,
            diff_id: d.clone(),
            chain_id: d,
            size,
        }
    }

    fn view(tags: &[&str], config: &str) -> ImageView {
        ImageView {
            record: ImageRecord {
                id: Digest::of_bytes(config.as_bytes()),
                manifest: None,
                manifest_media_type: None,
                repo_digests: Vec::new(),
                layers: vec![layer(1, 10), layer(2, 20)],
                size: 30,
                added: "2024-01-01T00:00:00Z".into(),
            },
            tags: tags
                .iter()
                .map(|t| Reference::parse_normalized(t).expect("ref"))
                .collect(),
            config: ConfigBlob::parse(config.as_bytes()),
        }
    }

    const CONFIG: &str = r#"{"architecture":"amd64","os":"linux","created":"2024-05-01T10:00:00.5Z",
        "config":{"Cmd":["sh"],"Labels":{"a":"b"},"Env":null},
        "history":[{"created":"2024-05-01T09:00:00Z","created_by":"ADD rootfs"},
                   {"created_by":"ENV X=1","empty_layer":true},
                   {"created_by":"RUN touch x","comment":"c"}],
        "rootfs":{"type":"layers","diff_ids":[]}}"#;

    #[test]
    fn summary_of_a_tagged_image() {
        let s = summary(&view(&["busybox:latest"], CONFIG), &[]).expect("listed");
        assert_eq!(s.repo_tags, ["busybox:latest"]);
        assert_eq!(s.created, 1_714_557_600);
        assert_eq!(s.size, 30);
        assert_eq!(s.labels["a"], "b");
        assert_eq!(s.containers, -1);
    }

    #[test]
    fn dangling_image_lists_as_none() {
        let s = summary(&view(&[], CONFIG), &[]).expect("listed");
        assert_eq!(s.repo_tags, ["<none>:<none>"]);
        assert!(summary(&view(&[], CONFIG), &["busybox".into()]).is_none());
    }

    #[test]
    fn reference_filter_keeps_matching_tags_only() {
        let v = view(&["busybox:latest", "busybox:1", "alpine:3"], CONFIG);
        let s = summary(&v, &["busybox".into()]).expect("listed");
        assert_eq!(s.repo_tags, ["busybox:latest", "busybox:1"]);
        let s = summary(&v, &["*:3".into()]).expect("listed");
        assert_eq!(s.repo_tags, ["alpine:3"]);
        assert!(summary(&v, &["nginx".into()]).is_none());
    }

    #[test]
    fn inspect_fields() {
        let dirs = vec!["/l/1".to_owned(), "/l/2".to_owned()];
        let i = inspect(&view(&["busybox:latest"], CONFIG), &dirs);
        assert_eq!(i.architecture, "amd64");
        assert_eq!(i.config.expect("config").cmd, Some(vec!["sh".to_owned()]));
        assert_eq!(i.root_fs.kind, "layers");
        assert_eq!(i.root_fs.layers.len(), 2);
        assert_eq!(i.graph_driver.data["UpperDir"], "/l/2");
        assert_eq!(i.graph_driver.data["LowerDir"], "/l/1");
        assert_eq!(i.created, "2024-05-01T10:00:00.5Z");
    }

    #[test]
    fn history_is_newest_first_with_layer_sizes() {
        let v = view(&["busybox:latest"], CONFIG);
        let h = history(&v);
        assert_eq!(h.len(), 3);
        assert_eq!(h[0].created_by, "RUN touch x");
        assert_eq!(h[0].size, 20);
        assert_eq!(h[0].id, v.record.id.to_string());
        assert_eq!(h[0].tags, ["busybox:latest"]);
        assert_eq!(h[1].size, 0);
        assert_eq!(h[1].id, "<missing>");
        assert_eq!(h[2].size, 10);
    }

    #[test]
    fn unreadable_config_is_empty_not_an_error() {
        let c = ConfigBlob::parse(b"{\"config\": 5}");
        assert_eq!(c.created_unix(), 0);
        assert!(c.labels().is_empty());
    }
}
