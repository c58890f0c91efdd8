//! `create`: resolve the image and the request (Docker's rules, in `engine::spec`), pick the
//! ID and name, make the container directory with its root filesystem directories and its
//! `/etc` files, record it, and pin its image against `rmi`.

use std::os::unix::fs::DirBuilderExt;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;

use super::entry::Entry;
use super::network::EtcNetwork;
use super::store::{self, Record, State};
use super::{blocking, ContainerError, Containers};
use crate::api::container_types::CreateResponse;
use crate::engine::spec::{
    self, hosts, names, CreateRequest, ImageRunConfig, NetworkMode, ResolveContext, RunSpec,
    SpecError,
};
use crate::image::digest::Digest;
use crate::image::store::{ContainerUse, ImageStore, StoreError};

/// Random names tried before giving up (Docker tries 10 with a digit appended after the
/// first collision).
const NAME_ATTEMPTS: u32 = 10;

impl Containers {
    pub(super) async fn create_container(
        &self,
        name: Option<&str>,
        mut request: CreateRequest,
    ) -> Result<CreateResponse, ContainerError> {
        let image_name = request.config.image.clone();
        if image_name.is_empty() {
            return Err(ContainerError::Invalid(
                "Config cannot be empty in order to create a container".into(),
            ));
        }
        let images = self.images.clone();
        let wanted = image_name.clone();
        let (image, image_config) =
            match tokio::task::spawn_blocking(move || image_and_config(&images, &wanted)).await {
                Ok(r) => r?,
                Err(e) => return Err(ContainerError::Internal(anyhow::anyhow!("{e}"))),
            };
        let id = names::container_id().map_err(spec_error)?;
        let name = match name.filter(|n| !n.is_empty()) {
            Some(n) => names::validate_name(n).map_err(spec_error)?.to_string(),
            None => self.random_free_name()?,
        };
        let host_hostname = nix::unistd::gethostname()
            .ok()
            .and_then(|h| h.into_string().ok())
            .unwrap_or_default();
        // The request's `Image` stays as the user wrote it (`docker inspect` shows the ID
        // under `Image` and the name under `Config.Image`).
        request.config.image = image_name.clone();
        let mut record = Record {
            id: id.clone(),
            name: name.clone(),
            created: store::now_rfc3339(),
            image: image_name,
            image_id: image.id.to_string(),
            layers: image
                .layers
                .iter()
                .map(|l| l.chain_id.to_string())
                .collect(),
            request,
            image_config,
            host_hostname,
            state: State::default(),
            restart_count: 0,
            networks: None,
            sandbox: None,
            volumes: Default::default(),
        };
        let spec = run_spec(&record)?;
        record.networks = Some(self.plan_networks(&spec)?);
        let etc = EtcNetwork {
            host_gateway: self.bridge_gateway(),
            ..EtcNetwork::default()
        };

        // Reserve the name before touching the disk, so two creates cannot both take it.
        self.lock_table()
            .names
            .reserve(&name, &id)
            .map_err(ContainerError::Conflict)?;
        match self.create_volumes(&record, &spec) {
            Ok(volumes) => record.volumes = volumes,
            Err(e) => {
                self.lock_table().names.release(&name);
                return Err(e);
            }
        }
        let dir = self.root.join(&id);
        let prepared = {
            let (dir, record) = (dir.clone(), record.clone());
            blocking("preparing the container directory", move || {
                prepare_dir(&dir, &record, &spec, &etc)
            })
            .await
        };
        if let Err(e) = prepared {
            self.remove_anonymous_volumes(&record.volumes);
            self.lock_table().names.release(&name);
            let _ = std::fs::remove_dir_all(&dir);
            return Err(e);
        }
        let entry = Arc::new(Entry::new(dir, record));
        self.lock_table().entries.insert(id.clone(), entry.clone());
        self.publish(&entry, "create", &[]);
        Ok(CreateResponse {
            id,
            warnings: Vec::new(),
        })
    }

    fn random_free_name(&self) -> Result<String, ContainerError> {
        for retry in 0..NAME_ATTEMPTS {
            let name = names::random_name(retry).map_err(spec_error)?;
            if !self.lock_table().names.contains(&name) {
                return Ok(name);
            }
        }
        Err(ContainerError::Internal(anyhow::anyhow!(
            "error generating a unique container name"
        )))
    }

    /// Makes `rmi` refuse images containers use, with the image store's Docker texts.
    pub(super) fn install_usage_check(&self) {
        self.install_volume_usage();
        let me = self.me.clone();
        self.images.set_usage_check(Box::new(move |image: &Digest| {
            let me = me.upgrade()?;
            let wanted = image.to_string();
            let users: Vec<_> = me
                .all_entries()
                .into_iter()
                .map(|e| e.snapshot())
                .filter(|r| r.image_id == wanted)
                .collect();
            let pick = users
                .iter()
                .find(|r| r.state.status.is_running())
                .or_else(|| users.first())?;
            Some(ContainerUse {
                container_id: pick.id.clone(),
                running: pick.state.status.is_running(),
            })
        }));
    }
}

/// The container's `RunSpec`, resolved again from its record (deterministic).
pub(super) fn run_spec(record: &Record) -> Result<RunSpec, ContainerError> {
    let host_cpus = std::thread::available_parallelism()
        .map(|n| u32::try_from(n.get()).unwrap_or(u32::MAX))
        .unwrap_or(1);
    let ctx = ResolveContext {
        id: &record.id,
        name: &record.name,
        host_hostname: &record.host_hostname,
        host_cpus,
    };
    spec::resolve(&record.request, &record.image_config, &ctx).map_err(spec_error)
}

pub(super) fn spec_error(e: SpecError) -> ContainerError {
    match e {
        SpecError::Invalid(m) | SpecError::User(m) => ContainerError::Invalid(m),
        other => ContainerError::Internal(anyhow::anyhow!("{other}")),
    }
}

/// The image record and the `config` of its config blob.
fn image_and_config(
    images: &ImageStore,
    name: &str,
) -> Result<(crate::image::store::ImageRecord, ImageRunConfig), ContainerError> {
    let image = images.resolve(name).map_err(|e| match e {
        StoreError::NotFound(_) => ContainerError::NotFound(format!("No such image: {name}")),
        StoreError::Invalid(m) => ContainerError::Invalid(m),
        other => ContainerError::Internal(anyhow::anyhow!("{other}")),
    })?;
    let blob = images
        .read_blob(&image.id)
        .map_err(|e| ContainerError::Internal(anyhow::anyhow!("reading the image config: {e}")))?;
    #[derive(serde::Deserialize)]
    struct ConfigBlob {
        #[serde(default)]
        config: Option<ImageRunConfig>,
    }
    let parsed: ConfigBlob = serde_json::from_slice(&blob)
        .map_err(|e| ContainerError::Internal(anyhow::anyhow!("decoding the image config: {e}")))?;
    Ok((image, parsed.config.unwrap_or_default()))
}

/// The container directory: `fs/{upper,work,merged}`, `/etc` files, the record.
fn prepare_dir(
    dir: &Path,
    record: &Record,
    spec: &RunSpec,
    etc: &EtcNetwork,
) -> anyhow::Result<()> {
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("creating {}", dir.display()))?;
    for sub in ["fs/upper", "fs/work", "fs/merged"] {
        let path = dir.join(sub);
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o755)
            .create(&path)
            .with_context(|| format!("creating {}", path.display()))?;
    }
    write_etc_files(dir, spec, etc)?;
    store::save(dir, record)
}

/// `hostname`, `hosts`, `resolv.conf` in the container directory (before the container
/// runs: each is replaced by a rename).
pub(super) fn write_etc_files(dir: &Path, spec: &RunSpec, net: &EtcNetwork) -> anyhow::Result<()> {
    for (file, text) in render_etc_files(spec, net)? {
        store::write_replace(&dir.join(file), text.as_bytes())?;
    }
    Ok(())
}

/// The texts of `hostname`, `hosts` and `resolv.conf`: the container's addresses and
/// links in `hosts`; on user-defined networks `resolv.conf` names the embedded DNS server.
pub(super) fn render_etc_files(
    spec: &RunSpec,
    net: &EtcNetwork,
) -> anyhow::Result<[(&'static str, String); 3]> {
    let host_network = spec.namespaces.network == NetworkMode::Host;
    let hosts_text = if host_network {
        std::fs::read_to_string("/etc/hosts").unwrap_or_default()
    } else {
        let mut extra_hosts = spec.extra_hosts.clone();
        extra_hosts.extend(net.links.iter().cloned());
        hosts::render_hosts(&hosts::HostsFile {
            hostname: &spec.config.hostname,
            domainname: &spec.config.domainname,
            extra_hosts: &extra_hosts,
            host_gateway: net.host_gateway,
            own_addresses: &net.own_addresses,
        })
        .map_err(|e| anyhow::anyhow!("{e}"))?
    };
    let host_resolv = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    let overrides = hosts::DnsOverrides {
        servers: &spec.dns,
        search: &spec.dns_search,
        options: &spec.dns_options,
    };
    let no_overrides =
        spec.dns.is_empty() && spec.dns_search.is_empty() && spec.dns_options.is_empty();
    let resolv = if host_network && no_overrides {
        host_resolv
    } else if !net.dns_servers.is_empty() {
        hosts::render_internal_resolv_conf(&host_resolv, &net.dns_servers, &overrides)
    } else {
        hosts::render_resolv_conf(&host_resolv, &overrides, net.ipv6)
    };
    Ok([
        ("hostname", hosts::render_hostname(&spec.config.hostname)),
        ("hosts", hosts_text),
        ("resolv.conf", resolv),
    ])
}
