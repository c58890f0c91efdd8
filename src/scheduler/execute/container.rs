//! One container action of the plan against the daemon: create (and connect its other
//! networks), recreate (the new container exists before the old one goes), start,
//! restart, remove.

use super::reporter::Reporter;
use super::ExecError;
use crate::api::client::ClientError;
use crate::compose::model::{Project, ServiceConfig};
use crate::scheduler::convert::{self, ContainerInput, CreateRequest, Refs};
use crate::scheduler::engine_api::EngineApi;
use crate::scheduler::hash::service_config_hash;
use crate::scheduler::labels::Replica;
use crate::scheduler::observe::ObservedContainer;
use crate::scheduler::progress::Resource::Container;

/// What a container action needs besides the action itself.
pub struct Ctx<'a> {
    pub api: &'a EngineApi,
    pub project: &'a Project,
    pub service: &'a ServiceConfig,
    pub refs: &'a Refs,
    pub image_digest: Option<&'a str>,
    pub timeout: Option<i64>,
    pub report: &'a Reporter,
}

impl Ctx<'_> {
    fn request(&self, number: u32, replaces: Option<&str>) -> Result<CreateRequest, ExecError> {
        let hash = service_config_hash(&serde_json::to_value(self.service).unwrap_or_default());
        Ok(convert::container_request(ContainerInput {
            project: self.project,
            service: self.service,
            replica: &Replica::Number(number),
            config_hash: &hash,
            image_digest: self.image_digest,
            replaces,
            refs: self.refs,
        })?)
    }

    /// Creates the container under `name` and connects its other networks.
    async fn create_as(&self, req: &CreateRequest, name: &str) -> Result<String, ExecError> {
        let id = self.api.create_container(name, &req.body).await?;
        for (network, endpoint) in &req.extra_networks {
            if let Err(e) = self.api.connect_network(network, &id, endpoint).await {
                // Leave nothing half-made behind.
                let _ = self.api.remove_container(&id, true, true).await;
                return Err(e.into());
            }
        }
        Ok(id)
    }

    /// Create (and start unless `no_start`) replica `number`.
    pub async fn create(&self, number: u32, name: &str, start: bool) -> Result<String, ExecError> {
        self.report.working(Container, name, "Creating");
        let req = self.request(number, None)?;
        let id = self
            .create_as(&req, name)
            .await
            .inspect_err(|e| self.report.error(Container, name, &e.to_string()))?;
        self.report.done(Container, name, "Created");
        if start {
            self.start(&id, name).await?;
        }
        Ok(id)
    }

    /// The replacement is created under a temporary name first; only then is the old one
    /// stopped and removed and the new one renamed and started.
    pub async fn recreate(
        &self,
        old: &ObservedContainer,
        refs_with_inherited: &Refs,
        start: bool,
    ) -> Result<String, ExecError> {
        let name = &old.name;
        self.report.working(Container, name, "Recreate");
        let ctx = Ctx {
            refs: refs_with_inherited,
            ..*self
        };
        let req = ctx.request(old.number.max(1), Some(&old.id))?;
        let short = &old.id[..old.id.len().min(12)];
        let temporary = format!("{short}_{name}");
        let id = ctx.create_as(&req, &temporary).await?;
        self.api.stop_container(&old.id, self.timeout).await?;
        self.api.remove_container(&old.id, true, false).await?;
        self.api.rename_container(&id, name).await?;
        self.report.done(Container, name, "Recreated");
        if start {
            self.start(&id, name).await?;
        }
        Ok(id)
    }

    pub async fn start(&self, id: &str, name: &str) -> Result<(), ExecError> {
        self.report.working(Container, name, "Starting");
        self.api.start_container(id).await.map_err(|e| {
            self.report.error(Container, name, &e.to_string());
            ExecError::from(e)
        })?;
        self.report.done(Container, name, "Started");
        Ok(())
    }

    pub async fn restart(&self, c: &ObservedContainer) -> Result<(), ExecError> {
        self.report.working(Container, &c.name, "Restarting");
        self.api.restart_container(&c.id, self.timeout).await?;
        self.report.done(Container, &c.name, "Restarted");
        Ok(())
    }
}

/// Stops and removes a container (scale-down, orphans, down).
pub async fn stop_and_remove(
    api: &EngineApi,
    report: &Reporter,
    c: &ObservedContainer,
    timeout: Option<i64>,
    volumes: bool,
) -> Result<(), ClientError> {
    if c.is_running() {
        report.working(Container, &c.name, "Stopping");
        api.stop_container(&c.id, timeout).await?;
        report.done(Container, &c.name, "Stopped");
    }
    report.working(Container, &c.name, "Removing");
    match api.remove_container(&c.id, true, volumes).await {
        Err(ClientError::Api { status: 404, .. }) | Ok(()) => {}
        Err(e) => {
            report.error(Container, &c.name, &e.to_string());
            return Err(e);
        }
    }
    report.done(Container, &c.name, "Removed");
    Ok(())
}
