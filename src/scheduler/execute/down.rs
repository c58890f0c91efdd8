//! `execute_down`: containers group by group (dependents first), then networks, volumes and
//! images; it keeps going past errors and returns the first.

use std::sync::Arc;

use futures_util::future::join_all;

use super::container::stop_and_remove;
use super::reporter::Reporter;
use super::{ExecError, ExecOptions};
use crate::api::client::ClientError;
use crate::scheduler::engine_api::EngineApi;
use crate::scheduler::plan::DownPlan;
use crate::scheduler::progress::{Resource, Sink};

pub(super) async fn execute(
    api: &EngineApi,
    plan: &DownPlan,
    opts: &ExecOptions,
    progress: Arc<dyn Sink>,
) -> Result<(), ExecError> {
    let report = Reporter::new(progress);
    let mut first: Option<ExecError> = None;
    let mut keep = |result: Result<(), ClientError>| {
        if let Err(e) = result {
            first.get_or_insert(e.into());
        }
    };
    for group in &plan.containers {
        let removals = group
            .iter()
            .map(|c| stop_and_remove(api, &report, c, opts.timeout, opts.remove_volumes));
        for result in join_all(removals).await {
            keep(result);
        }
    }
    for name in &plan.networks {
        report.working(Resource::Network, name, "Removing");
        match api.remove_network(name).await {
            Ok(()) | Err(ClientError::Api { status: 404, .. }) => {
                report.done(Resource::Network, name, "Removed")
            }
            Err(e) => {
                report.warning(
                    Resource::Network,
                    name,
                    "Resource is still in use",
                    &e.to_string(),
                );
                keep(Err(e));
            }
        }
    }
    for name in &plan.volumes {
        report.working(Resource::Volume, name, "Removing");
        match api.remove_volume(name).await {
            Ok(()) | Err(ClientError::Api { status: 404, .. }) => {
                report.done(Resource::Volume, name, "Removed")
            }
            Err(e) => {
                report.error(Resource::Volume, name, &e.to_string());
                keep(Err(e));
            }
        }
    }
    for image in &plan.images {
        report.working(Resource::Image, image, "Removing");
        match api.remove_image(image, false).await {
            Ok(()) | Err(ClientError::Api { status: 404, .. }) => {
                report.done(Resource::Image, image, "Removed")
            }
            Err(e) => {
                report.error(Resource::Image, image, &e.to_string());
                keep(Err(e));
            }
        }
    }
    match first {
        Some(e) => Err(e),
        None => Ok(()),
    }
}
