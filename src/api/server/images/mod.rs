//! Image endpoints that answer from the store: list, inspect, history, tag, delete, prune;
//! and `POST /images/create`, which is a pull (`transfer`) or an import (`archive`).
//!
//! Store calls are blocking and run through `with_store`. Every change publishes Docker's
//! image event (`tag`, `untag`, `delete`, `prune`, ...) on the daemon's bus.

pub mod archive;
pub mod transfer;
pub mod view;

use std::collections::BTreeMap;
use std::sync::Arc;

use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};

use super::body::{self, Body};
use super::errors::ApiError;
use super::query::{Filters, Query};
use crate::api::types::{ImageDeleteResponseItem, ImagesPruneResponse};
use crate::daemon::state::Daemon;
use crate::image::reference::Reference;
use crate::image::store::{ImageRecord, ImageStore, StoreError};
use view::{ConfigBlob, ImageView};

const LIST_FILTERS: &[&str] = &["before", "dangling", "label", "reference", "since", "until"];
const PRUNE_FILTERS: &[&str] = &["dangling", "label", "label!", "until"];

/// Runs blocking store work off the runtime's threads.
pub async fn with_store<T, F>(daemon: &Daemon, f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&ImageStore) -> Result<T, ApiError> + Send + 'static,
{
    let store = daemon.images.clone();
    tokio::task::spawn_blocking(move || f(&store)).await?
}

/// A record with its tags and config; a missing or unreadable config reads as empty.
fn view_of(store: &ImageStore, record: ImageRecord) -> Result<ImageView, StoreError> {
    let tags = store.tags_of(&record.id)?;
    let config = store
        .read_blob(&record.id)
        .map(|b| ConfigBlob::parse(&b))
        .unwrap_or_default();
    Ok(ImageView {
        record,
        tags,
        config,
    })
}

fn all_views(store: &ImageStore) -> Result<Vec<ImageView>, StoreError> {
    store
        .list()?
        .into_iter()
        .map(|r| view_of(store, r))
        .collect()
}

/// Publishes an image event as Docker's `LogImageEvent`: the image's labels plus `name`.
pub fn publish_image_event(
    daemon: &Daemon,
    action: &str,
    actor: &str,
    name: &str,
    labels: BTreeMap<String, String>,
) {
    let mut attributes = labels;
    if !name.is_empty() {
        attributes.insert("name".to_owned(), name.to_owned());
    }
    daemon.events.publish("image", action, actor, attributes);
}

/// `GET /images/json`.
pub async fn list(daemon: &Daemon, query: &Query) -> Result<Response<Body>, ApiError> {
    let filters = query.filters(LIST_FILTERS)?;
    let dangling = filters.bool("dangling")?;
    let views = with_store(daemon, |store| Ok(all_views(store)?)).await?;
    let before = created_of_named(&views, &filters, "before")?;
    let since = created_of_named(&views, &filters, "since")?;
    let until = filters
        .values("until")
        .first()
        .map(|u| super::events::parse_time(u).map(|n| n / 1_000_000_000))
        .transpose()?;
    let patterns = filters.values("reference").to_vec();
    let mut summaries: Vec<_> = views
        .iter()
        .filter(|v| dangling.is_none_or(|d| v.is_dangling() == d))
        .filter(|v| labels_match(&filters, "label", &v.config.labels()))
        .filter(|v| before.is_none_or(|b| v.config.created_unix() < b))
        .filter(|v| since.is_none_or(|s| v.config.created_unix() > s))
        .filter(|v| until.is_none_or(|u| v.config.created_unix() < u))
        .filter_map(|v| view::summary(v, &patterns))
        .collect();
    summaries.sort_by(|a, b| b.created.cmp(&a.created).then_with(|| a.id.cmp(&b.id)));
    Ok(body::json(StatusCode::OK, &summaries))
}

/// The creation time of the image a `before`/`since` filter names.
fn created_of_named(
    views: &[ImageView],
    filters: &Filters,
    key: &str,
) -> Result<Option<i64>, ApiError> {
    let Some(name) = filters.values(key).first() else {
        return Ok(None);
    };
    let wanted = Reference::parse_normalized(name)
        .ok()
        .map(Reference::with_default_tag);
    views
        .iter()
        .find(|v| {
            v.record.id.as_str() == name
                || v.record
                    .id
                    .hex()
                    .starts_with(name.trim_start_matches("sha256:"))
                || wanted.as_ref().is_some_and(|w| v.tags.contains(w))
        })
        .map(|v| Some(v.config.created_unix()))
        .ok_or_else(|| ApiError::not_found(format!("No such image: {name}")))
}

/// Docker's `MatchKVList`: every `key` or `key=value` must be present.
fn labels_match(filters: &Filters, key: &str, labels: &BTreeMap<String, String>) -> bool {
    filters
        .values(key)
        .iter()
        .all(|want| match want.split_once('=') {
            Some((k, v)) => labels.get(k).is_some_and(|have| have == v),
            None => labels.contains_key(want.as_str()),
        })
}

/// `GET /images/{name}/json`.
pub async fn inspect(daemon: &Daemon, name: String) -> Result<Response<Body>, ApiError> {
    let (view, dirs) = with_store(daemon, move |store| {
        let view = view_of(store, store.resolve(&name)?)?;
        let dirs = view
            .record
            .layers
            .iter()
            .map(|l| store.layer_dir(&l.chain_id).display().to_string())
            .collect::<Vec<_>>();
        Ok((view, dirs))
    })
    .await?;
    Ok(body::json(StatusCode::OK, &view::inspect(&view, &dirs)))
}

/// `GET /images/{name}/history`.
pub async fn history(daemon: &Daemon, name: String) -> Result<Response<Body>, ApiError> {
    let view = with_store(daemon, move |store| {
        Ok(view_of(store, store.resolve(&name)?)?)
    })
    .await?;
    Ok(body::json(StatusCode::OK, &view::history(&view)))
}

/// `POST /images/{name}/tag?repo=&tag=`: 201 and no body.
pub async fn tag(daemon: &Daemon, name: String, query: &Query) -> Result<Response<Body>, ApiError> {
    let target = tag_reference(
        query.get("repo").unwrap_or(""),
        query.get("tag").unwrap_or(""),
    )?;
    let tagged = target.clone();
    let view = with_store(daemon, move |store| {
        let record = store.resolve(&name)?;
        store.tag(&record.id, &tagged)?;
        Ok(view_of(store, record)?)
    })
    .await?;
    publish_image_event(
        daemon,
        "tag",
        view.record.id.as_str(),
        &target.familiar(),
        view.config.labels(),
    );
    Ok(body::no_content(StatusCode::CREATED))
}

/// The reference `repo` + `tag` name, as Docker's `TagImage` builds it.
fn tag_reference(repo: &str, tag: &str) -> Result<Reference, ApiError> {
    let named = Reference::parse_normalized(repo)?;
    if named.digest.is_some() {
        return Err(ApiError::bad_request(
            "refusing to create a tag with a digest reference",
        ));
    }
    let named = if tag.is_empty() {
        named
    } else {
        named.with_tag(tag)?
    };
    Ok(named.with_default_tag())
}

/// `DELETE /images/{name}?force=&noprune=`.
pub async fn delete(
    daemon: &Daemon,
    name: String,
    query: &Query,
) -> Result<Response<Body>, ApiError> {
    let force = query.bool("force");
    let (view, report) = with_store(daemon, move |store| {
        let view = view_of(store, store.resolve(&name)?)?;
        let report = store.delete(&name, force)?;
        Ok((view, report))
    })
    .await?;
    let items = publish_delete(daemon, &view, &report);
    Ok(body::json(StatusCode::OK, &items))
}

/// Docker's `DELETE` answer for `report`, publishing `untag` and `delete` events on the way.
fn publish_delete(
    daemon: &Daemon,
    view: &ImageView,
    report: &crate::image::store::DeleteReport,
) -> Vec<ImageDeleteResponseItem> {
    let id = view.record.id.as_str();
    let mut items = Vec::new();
    for untagged in &report.untagged {
        publish_image_event(daemon, "untag", id, id, view.config.labels());
        items.push(ImageDeleteResponseItem {
            untagged: Some(untagged.clone()),
            deleted: None,
        });
    }
    for (i, deleted) in report.deleted.iter().enumerate() {
        // The first entry is the image; the rest are its layers (no event for those).
        if i == 0 {
            publish_image_event(daemon, "delete", id, id, view.config.labels());
        }
        items.push(ImageDeleteResponseItem {
            untagged: None,
            deleted: Some(deleted.to_string()),
        });
    }
    items
}

/// `POST /images/prune`: removes dangling images, or every unused one with `dangling=false`.
pub async fn prune(daemon: &Daemon, query: &Query) -> Result<Response<Body>, ApiError> {
    let filters = query.filters(PRUNE_FILTERS)?;
    let dangling_only = filters.bool("dangling")?.unwrap_or(true);
    let until = filters
        .values("until")
        .first()
        .map(|u| super::events::parse_time(u).map(|n| n / 1_000_000_000))
        .transpose()?;
    let chosen = move |v: &ImageView| {
        (!dangling_only || v.is_dangling())
            && until.is_none_or(|u| v.config.created_unix() < u)
            && labels_match(&filters, "label", &v.config.labels())
            && !negated_labels_match(&filters, &v.config.labels())
    };
    let removed = with_store(daemon, move |store| {
        let mut removed = Vec::new();
        for view in all_views(store)?.into_iter().filter(|v| chosen(v)) {
            match store.delete(view.record.id.as_str(), !view.is_dangling()) {
                Ok(report) => removed.push((view, report)),
                // In use by a container, or already gone: not ours to prune.
                Err(StoreError::Conflict(_) | StoreError::NotFound(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(removed)
    })
    .await?;
    let mut items = Vec::new();
    let mut reclaimed = 0u64;
    for (view, report) in &removed {
        items.extend(publish_delete(daemon, view, report));
        reclaimed += view.record.size;
    }
    let attributes = BTreeMap::from([("reclaimed".to_owned(), reclaimed.to_string())]);
    daemon.events.publish("image", "prune", "", attributes);
    Ok(body::json(
        StatusCode::OK,
        &ImagesPruneResponse {
            images_deleted: (!items.is_empty()).then_some(items),
            space_reclaimed: reclaimed,
        },
    ))
}

/// `label!=key[=value]`: true when any such label is present.
fn negated_labels_match(filters: &Filters, labels: &BTreeMap<String, String>) -> bool {
    filters
        .values("label!")
        .iter()
        .any(|want| match want.split_once('=') {
            Some((k, v)) => labels.get(k).is_some_and(|have| have == v),
            None => labels.contains_key(want.as_str()),
        })
}

/// `POST /images/create`: `fromSrc` imports a root filesystem, `fromImage` pulls.
pub async fn create(
    daemon: Arc<Daemon>,
    req: Request<Incoming>,
    query: Query,
) -> Result<Response<Body>, ApiError> {
    if query.non_empty("fromSrc").is_some() {
        return archive::import(daemon, req, query).await;
    }
    if query.non_empty("fromImage").is_some() {
        return transfer::pull(daemon, req, query).await;
    }
    Err(ApiError::bad_request("fromImage or fromSrc is required"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_reference_defaults_to_latest_and_refuses_digests() {
        assert_eq!(
            tag_reference("busybox", "").expect("ok").familiar(),
            "busybox:latest"
        );
        assert_eq!(
            tag_reference("127.0.0.1:5000/app", "v1")
                .expect("ok")
                .familiar(),
            "127.0.0.1:5000/app:v1"
        );
        let digest = format!("busybox@sha256:{}", "a".repeat(64));
        assert!(tag_reference(&digest, "").is_err());
        assert!(tag_reference("", "").is_err());
        assert!(tag_reference("busybox", "bad tag").is_err());
    }

    #[test]
    fn label_filters_all_required() {
        let labels = BTreeMap::from([("a".to_owned(), "1".to_owned())]);
        let f = Filters::parse(r#"{"label":["a=1"],"label!":["b"]}"#).expect("filters");
        assert!(labels_match(&f, "label", &labels));
        assert!(!negated_labels_match(&f, &labels));
        let f = Filters::parse(r#"{"label":["a=1","c"]}"#).expect("filters");
        assert!(!labels_match(&f, "label", &labels));
    }
}
