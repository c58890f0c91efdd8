//! `run`: a one-off container of a service. Its dependencies are brought up first (unless
//! `--no-deps`) and waited for; the container is named `project-service-run-<12 hex>`,
//! labelled `oneoff=True`, publishes no ports unless `--service-ports`, gets no network
//! aliases unless `--use-aliases`, and its exit code is `run`'s.

use std::io::IsTerminal;

use anyhow::Context as _;
use serde_json::{json, Value};

use super::Context;
use crate::cli::containers::run::{attach_and_start, Attached};
use crate::cli::engine::StatusError;
use crate::compose::model::values::split_shell_words;
use crate::scheduler::convert::{self, ContainerInput, Refs};
use crate::scheduler::execute::{execute_up, wait_for_services, ExecOptions};
use crate::scheduler::hash::service_config_hash;
use crate::scheduler::labels::Replica;
use crate::scheduler::lock::ProjectLock;
use crate::scheduler::plan::{plan_up, PlanOptions, Wait};

#[derive(Debug, Default, clap::Args)]
pub struct RunArgs {
    /// Run container in background and print container ID
    #[arg(short = 'd', long)]
    pub detach: bool,
    /// Automatically remove the container when it exits
    #[arg(long)]
    pub rm: bool,
    /// Don't start linked services
    #[arg(long)]
    pub no_deps: bool,
    /// Set environment variables
    #[arg(short = 'e', long = "env")]
    pub env: Vec<String>,
    /// Add or override a label
    #[arg(short = 'l', long = "label")]
    pub labels: Vec<String>,
    /// Bind mount a volume
    #[arg(short = 'v', long = "volume")]
    pub volumes: Vec<String>,
    /// Publish a container's port(s) to the host
    #[arg(short = 'p', long = "publish")]
    pub publish: Vec<String>,
    /// Run command with all service's ports enabled and mapped to the host
    #[arg(short = 'P', long)]
    pub service_ports: bool,
    /// Use the service's network useAliases in the network(s) the container connects to
    #[arg(long)]
    pub use_aliases: bool,
    /// Override the entrypoint of the image
    #[arg(long)]
    pub entrypoint: Option<String>,
    /// Assign a name to the container
    #[arg(long)]
    pub name: Option<String>,
    /// Run as specified username or uid
    #[arg(short = 'u', long)]
    pub user: Option<String>,
    /// Working directory inside the container
    #[arg(short = 'w', long)]
    pub workdir: Option<String>,
    /// Disable pseudo-TTY allocation (default: auto-detected)
    #[arg(short = 'T', long = "no-tty")]
    pub no_tty: bool,
    /// Keep STDIN open even if not attached
    #[arg(short = 'i', long, default_value_t = true)]
    pub interactive: bool,
    /// Pull image before running ("always"|"missing"|"never")
    #[arg(long, default_value = "policy")]
    pub pull: String,
    /// Remove containers for services not defined in the Compose file
    #[arg(long)]
    pub remove_orphans: bool,
    /// Don't print anything to STDOUT
    #[arg(short = 'q', long)]
    pub quiet: bool,
    pub service: String,
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

pub async fn run(ctx: &Context, args: RunArgs) -> anyhow::Result<()> {
    let project = ctx.load(std::slice::from_ref(&args.service))?;
    let service = project
        .services
        .get(&args.service)
        .cloned()
        .with_context(|| format!("no such service: {}", args.service))?;
    let api = ctx.api().await?;
    let policy = if args.pull == "policy" {
        ""
    } else {
        args.pull.as_str()
    };
    let digests = super::pull_push::pull_missing(&api, &project, policy, args.quiet).await?;
    {
        let _lock = ProjectLock::acquire(&project.name).await?;
        if !args.no_deps && !service.depends_on.is_empty() {
            let deps = project.with_services_disabled(std::slice::from_ref(&args.service));
            let observed = api.observe(&project.name).await?;
            let opts = PlanOptions {
                remove_orphans: args.remove_orphans,
                image_digests: digests.clone(),
                ..PlanOptions::default()
            };
            let plan = plan_up(&deps, &observed, &opts)?;
            let exec = ExecOptions {
                parallel: ctx.parallel(),
                image_digests: digests.clone(),
                ..ExecOptions::default()
            };
            execute_up(&api, &deps, &plan, &exec, ctx.progress()).await?;
            let waits: Vec<Wait> = service
                .depends_on
                .iter()
                .map(|(name, d)| Wait {
                    service: name.clone(),
                    condition: if d.condition.is_empty() {
                        "service_started".into()
                    } else {
                        d.condition.clone()
                    },
                    required: d.required,
                })
                .collect();
            wait_for_services(&api, &project.name, &waits, ctx.progress()).await?;
        }
    }
    let slug = random_slug()?;
    let observed = api.observe(&project.name).await?;
    let mut refs = Refs::default();
    for name in project.services.keys() {
        if let Some(first) = observed.service_containers(name).first() {
            refs.service_containers
                .insert(name.clone(), first.name.clone());
        }
    }
    let hash = service_config_hash(&serde_json::to_value(&service)?);
    let request = convert::container_request(ContainerInput {
        project: &project,
        service: &service,
        replica: &Replica::OneOff { slug },
        config_hash: &hash,
        image_digest: digests.get(&args.service).map(String::as_str),
        replaces: None,
        refs: &refs,
    })?;
    let tty = !args.no_tty && !args.detach && std::io::stdin().is_terminal();
    let mut body = request.body.clone();
    apply_overrides(&mut body, &args, &service, tty)?;
    let name = args.name.clone().unwrap_or(request.name.clone());
    let id = api.create_container(&name, &body).await?;
    for (network, endpoint) in &request.extra_networks {
        api.connect_network(network, &id, endpoint).await?;
    }
    if args.detach {
        api.start_container(&id).await?;
        println!("{name}");
        return Ok(());
    }
    let attached = Attached {
        stdin: args.interactive,
        stdout: true,
        stderr: true,
        tty,
        sig_proxy: true,
        auto_remove: args.rm,
    };
    let code = attach_and_start(&api.client, &id, &attached, "compose run").await?;
    if code != 0 {
        return Err(StatusError(code).into());
    }
    Ok(())
}

/// The flags' changes to the service's create body.
pub fn apply_overrides(
    body: &mut Value,
    args: &RunArgs,
    service: &crate::compose::model::ServiceConfig,
    tty: bool,
) -> anyhow::Result<()> {
    if !args.command.is_empty() {
        body["Cmd"] = json!(args.command);
    }
    if let Some(entrypoint) = &args.entrypoint {
        let words = split_shell_words(entrypoint).map_err(anyhow::Error::msg)?;
        body["Entrypoint"] = json!(words);
        if args.command.is_empty() {
            body["Cmd"] = Value::Null;
        }
    }
    if let Some(env) = body["Env"].as_array_mut() {
        for e in &args.env {
            let key = e.split('=').next().unwrap_or_default();
            env.retain(|v| v.as_str().and_then(|s| s.split('=').next()) != Some(key));
            env.push(json!(e));
        }
    }
    for label in &args.labels {
        let (k, v) = label.split_once('=').unwrap_or((label, ""));
        body["Labels"][k] = json!(v);
    }
    if let Some(user) = &args.user {
        body["User"] = json!(user);
    }
    if let Some(dir) = &args.workdir {
        body["WorkingDir"] = json!(dir);
    }
    let attached = !args.detach;
    body["Tty"] = json!(tty);
    body["OpenStdin"] = json!(attached && args.interactive);
    body["StdinOnce"] = json!(attached && args.interactive);
    body["AttachStdin"] = json!(attached && args.interactive);
    body["AttachStdout"] = json!(attached);
    body["AttachStderr"] = json!(attached);
    let hc = &mut body["HostConfig"];
    hc["AutoRemove"] = json!(args.rm);
    hc["RestartPolicy"] = json!({"Name": "no", "MaximumRetryCount": 0});
    if !args.service_ports {
        hc["PortBindings"] = json!({});
    }
    for publish in &args.publish {
        let specs = crate::cli::containers::run_flags::parse_port_spec(publish)?;
        for (key, binding) in specs {
            let binding = serde_json::to_value(binding)?;
            let hc = &mut body["HostConfig"];
            match hc["PortBindings"]
                .get_mut(&key)
                .and_then(Value::as_array_mut)
            {
                Some(list) => list.push(binding),
                None => hc["PortBindings"][&key] = json!([binding]),
            }
            body["ExposedPorts"][&key] = json!({});
        }
    }
    let hc = &mut body["HostConfig"];
    for volume in &args.volumes {
        match hc["Binds"].as_array_mut() {
            Some(binds) => binds.push(json!(volume)),
            None => hc["Binds"] = json!([volume]),
        }
    }
    if args.use_aliases {
        if let Some(endpoints) = body["NetworkingConfig"]["EndpointsConfig"].as_object_mut() {
            for (network, endpoint) in endpoints.iter_mut() {
                let mut aliases = vec![service.name.clone()];
                let key = service
                    .networks
                    .iter()
                    .find(|(k, _)| network.ends_with(k.as_str()))
                    .and_then(|(_, c)| c.clone());
                if let Some(cfg) = key {
                    aliases.extend(cfg.aliases);
                }
                endpoint["Aliases"] = json!(aliases);
            }
        }
    }
    Ok(())
}

/// 64 hex characters, as Compose's one-off slug.
fn random_slug() -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes).map_err(|e| anyhow::anyhow!("reading random bytes: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        run: RunArgs,
    }

    #[test]
    fn run_flags_change_the_one_off_body() {
        let (_dir, project) = crate::scheduler::test_project(
            "demo",
            "services:\n  s:\n    image: x\n    ports: ['8080:80']\n    restart: always\n    environment: { A: '1' }\n",
        );
        let service = project.services["s"].clone();
        let request = convert::container_request(ContainerInput {
            project: &project,
            service: &service,
            replica: &Replica::OneOff {
                slug: "ab".repeat(32),
            },
            config_hash: "h",
            image_digest: None,
            replaces: None,
            refs: &Refs::default(),
        })
        .unwrap();
        assert_eq!(request.body["Labels"]["com.docker.compose.oneoff"], "True");
        let args = Cli::try_parse_from([
            "run",
            "--rm",
            "-e",
            "A=2",
            "-u",
            "nobody",
            "-p",
            "9090:90",
            "--entrypoint",
            "sh -c",
            "s",
            "echo",
            "hi",
        ])
        .unwrap()
        .run;
        let mut body = request.body.clone();
        apply_overrides(&mut body, &args, &service, false).unwrap();
        assert_eq!(body["Cmd"], json!(["echo", "hi"]));
        assert_eq!(body["Entrypoint"], json!(["sh", "-c"]));
        assert_eq!(body["Env"], json!(["A=2"]));
        assert_eq!(body["User"], "nobody");
        assert_eq!(body["HostConfig"]["AutoRemove"], true);
        assert_eq!(body["HostConfig"]["RestartPolicy"]["Name"], "no");
        assert!(
            body["HostConfig"]["PortBindings"].get("80/tcp").is_none(),
            "service ports off"
        );
        assert_eq!(
            body["HostConfig"]["PortBindings"]["90/tcp"][0]["HostPort"],
            "9090"
        );
        assert_eq!(body["AttachStdout"], true);
    }
}
