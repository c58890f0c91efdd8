//! `berth version` and `berth info`: the client's and the daemon's facts, laid out as the
//! docker CLI lays them out, or through `--format`.

use std::fmt::Write as _;

use clap::Args;

use super::engine::{connect, runtime};
use super::format::units::bytes_size;
use super::format::{tabwrite, Data, Template};
use crate::api::client::Client;
use crate::api::types::{SystemInfo, SystemVersion, API_VERSION};

#[derive(Debug, Clone, Args)]
pub struct VersionArgs {
    /// Format output using a custom template: 'json', or a Go template
    #[arg(short = 'f', long)]
    pub format: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct InfoArgs {
    /// Format output using a custom template: 'json', or a Go template
    #[arg(short = 'f', long)]
    pub format: Option<String>,
}

/// Docker's version layout with berth's fields; rendered through a tabwriter (20, 1, 1).
const VERSION_TEMPLATE: &str = "{{with .Client -}}
Client:{{if ne .Platform.Name \"\"}} {{.Platform.Name}}{{end}}
 Version:\t{{.Version}}
 API version:\t{{.APIVersion}}
 OS/Arch:\t{{.Os}}/{{.Arch}}
 Context:\t{{.Context}}
{{- end}}

{{- if .ServerOK}}{{with .Server}}

Server:{{if ne .Platform.Name \"\"}} {{.Platform.Name}}{{end}}
 Engine:
  Version:\t{{.Version}}
  API version:\t{{.APIVersion}} (minimum version {{.MinAPIVersion}})
  {{- if .GitCommit}}
  Git commit:\t{{.GitCommit}}
  {{- end}}
  OS/Arch:\t{{.Os}}/{{.Arch}}
  {{- if .KernelVersion}}
  Kernel Version:\t{{.KernelVersion}}
  {{- end}}
  Experimental:\t{{.Experimental}}
{{- end}}{{- end}}";

/// Go's `GOARCH` name for this machine, as Docker reports it.
fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        other => other,
    }
}

fn client_version() -> Data {
    Data::map([
        ("Platform", Data::map([("Name", Data::str("berth"))])),
        ("Version", Data::str(env!("CARGO_PKG_VERSION"))),
        ("ApiVersion", Data::str(API_VERSION)),
        ("DefaultAPIVersion", Data::str(API_VERSION)),
        ("Os", Data::str(std::env::consts::OS)),
        ("Arch", Data::str(go_arch())),
        ("Context", Data::str("default")),
    ])
}

/// The server half with every field Docker's `types.Version` has, so templates may name any.
fn server_version(v: &SystemVersion) -> Data {
    Data::map([
        (
            "Platform",
            Data::map([("Name", Data::str(v.platform.name.clone()))]),
        ),
        ("Components", Data::from_serialize(&v.components)),
        ("Version", Data::str(v.version.clone())),
        ("ApiVersion", Data::str(v.api_version.clone())),
        ("MinAPIVersion", Data::str(v.min_api_version.clone())),
        ("GitCommit", Data::str(v.git_commit.clone())),
        ("GoVersion", Data::str(v.go_version.clone())),
        ("Os", Data::str(v.os.clone())),
        ("Arch", Data::str(v.arch.clone())),
        ("KernelVersion", Data::str(v.kernel_version.clone())),
        ("Experimental", Data::Bool(v.experimental)),
        ("BuildTime", Data::str(v.build_time.clone())),
    ])
}

/// Prints the client's version, then the daemon's; a daemon that cannot be reached is an
/// error after the client part, as Docker reports it.
pub fn version(host: Option<&str>, args: &VersionArgs) -> anyhow::Result<()> {
    let template = match args.format.as_deref().map(str::trim) {
        None | Some("") => VERSION_TEMPLATE,
        Some("json") => "{{json .}}",
        Some(other) => other,
    };
    let template =
        Template::parse(template).map_err(|e| anyhow::anyhow!("template parsing error: {e}"))?;
    let server = runtime()?.block_on(async {
        let client = connect(host).await?;
        let v: SystemVersion = client.get_json("/version").await?;
        anyhow::Ok(v)
    });
    let (server_data, error) = match &server {
        Ok(v) => (server_version(v), None),
        Err(e) => (Data::Null, Some(e)),
    };
    let data = Data::map([
        ("Client", client_version()),
        ("Server", server_data),
        ("ServerOK", Data::Bool(error.is_none())),
    ]);
    let text = template
        .execute(&data)
        .map_err(|e| anyhow::anyhow!("template parsing error: {e}"))?;
    print!("{}", tabwrite(&format!("{text}\n"), 20, 1));
    match server {
        Ok(_) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Prints the daemon's facts.
pub async fn info(client: &Client, args: &InfoArgs) -> anyhow::Result<()> {
    let info: SystemInfo = client.get_json("/info").await?;
    match args.format.as_deref().map(str::trim) {
        None | Some("") => {
            print!("{}", pretty_info(&info));
            for warning in &info.warnings {
                eprintln!("{warning}");
            }
            Ok(())
        }
        Some(format) => {
            let template = if format == "json" {
                "{{json .}}"
            } else {
                format
            };
            let template = Template::parse(template)
                .map_err(|e| anyhow::anyhow!("template parsing error: {e}"))?;
            let mut data = Data::from_serialize(&info);
            if let Data::Map(pairs) = &mut data {
                pairs.push((
                    "ClientInfo".into(),
                    Data::map([
                        ("Debug", Data::Bool(false)),
                        ("Version", Data::str(env!("CARGO_PKG_VERSION"))),
                        ("Context", Data::str("default")),
                    ]),
                ));
            }
            let text = template
                .execute(&data)
                .map_err(|e| anyhow::anyhow!("template parsing error: {e}"))?;
            println!("{text}");
            Ok(())
        }
    }
}

/// Docker's `prettyPrintInfo`, for the fields berth's daemon reports.
fn pretty_info(info: &SystemInfo) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Client:");
    let _ = writeln!(out, " Version:    {}", env!("CARGO_PKG_VERSION"));
    let _ = writeln!(out, " Context:    default");
    let _ = writeln!(out, " Debug Mode: false");
    let _ = writeln!(out);
    let _ = writeln!(out, "Server:");
    let _ = writeln!(out, " Containers: {}", info.containers);
    let _ = writeln!(out, "  Running: {}", info.containers_running);
    let _ = writeln!(out, "  Paused: {}", info.containers_paused);
    let _ = writeln!(out, "  Stopped: {}", info.containers_stopped);
    let _ = writeln!(out, " Images: {}", info.images);
    non_empty(&mut out, " Server Version:", &info.server_version);
    non_empty(&mut out, " Storage Driver:", &info.driver);
    for [key, value] in &info.driver_status {
        let _ = writeln!(out, "  {key}: {value}");
    }
    non_empty(&mut out, " Logging Driver:", &info.logging_driver);
    non_empty(&mut out, " Cgroup Driver:", &info.cgroup_driver);
    non_empty(&mut out, " Cgroup Version:", &info.cgroup_version);
    non_empty(&mut out, " Kernel Version:", &info.kernel_version);
    non_empty(&mut out, " Operating System:", &info.operating_system);
    non_empty(&mut out, " OSType:", &info.os_type);
    non_empty(&mut out, " Architecture:", &info.architecture);
    let _ = writeln!(out, " CPUs: {}", info.ncpu);
    let _ = writeln!(out, " Total Memory: {}", bytes_size(info.mem_total as f64));
    non_empty(&mut out, " Name:", &info.name);
    non_empty(&mut out, " ID:", &info.id);
    non_empty(&mut out, " Docker Root Dir:", &info.docker_root_dir);
    let _ = writeln!(out, " Debug Mode: {}", info.debug);
    if !info.labels.is_empty() {
        let _ = writeln!(out, " Labels:");
        for label in &info.labels {
            let _ = writeln!(out, "  {label}");
        }
    }
    let _ = writeln!(out, " Experimental: {}", info.experimental_build);
    if let Some(registry) = &info.registry_config {
        let insecure: Vec<&String> = registry
            .index_configs
            .values()
            .filter(|c| !c.secure)
            .map(|c| &c.name)
            .chain(registry.insecure_registry_cidrs.iter())
            .collect();
        if !insecure.is_empty() {
            let _ = writeln!(out, " Insecure Registries:");
            for entry in insecure {
                let _ = writeln!(out, "  {entry}");
            }
        }
    }
    let _ = writeln!(out, " Live Restore Enabled: {}", info.live_restore_enabled);
    let _ = writeln!(out);
    out
}

fn non_empty(out: &mut String, label: &str, value: &str) {
    if !value.is_empty() {
        let _ = writeln!(out, "{label} {value}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render_version(server: Option<&SystemVersion>) -> String {
        let template = Template::parse(VERSION_TEMPLATE).expect("parses");
        let data = Data::map([
            ("Client", client_version()),
            ("Server", server.map_or(Data::Null, server_version)),
            ("ServerOK", Data::Bool(server.is_some())),
        ]);
        tabwrite(
            &format!("{}\n", template.execute(&data).expect("runs")),
            20,
            1,
        )
    }

    #[test]
    fn version_layout_matches_dockers() {
        let server = SystemVersion {
            platform: crate::api::types::VersionPlatform {
                name: "berth".into(),
            },
            version: "0.1.0".into(),
            api_version: "1.43".into(),
            min_api_version: "1.24".into(),
            os: "linux".into(),
            arch: "amd64".into(),
            ..Default::default()
        };
        let out = render_version(Some(&server));
        let want_client = format!(
            "Client: berth\n Version:           {}\n API version:       1.43\n OS/Arch:           {}/{}\n Context:           default\n",
            env!("CARGO_PKG_VERSION"),
            std::env::consts::OS,
            go_arch()
        );
        assert!(out.starts_with(&want_client), "{out}");
        assert!(
            out.ends_with(
                "\nServer: berth\n Engine:\n  Version:          0.1.0\n  API version:      1.43 (minimum version 1.24)\n  OS/Arch:          linux/amd64\n  Experimental:     false\n"
            ),
            "{out}"
        );
    }

    #[test]
    fn version_without_server_shows_the_client_only() {
        let out = render_version(None);
        assert!(out.ends_with(" Context:           default\n"), "{out}");
        assert!(!out.contains("Server"));
    }

    #[test]
    fn info_prints_dockers_labels() {
        let info = SystemInfo {
            images: 3,
            server_version: "0.1.0".into(),
            mem_total: 8_084_000_000,
            ncpu: 2,
            ..Default::default()
        };
        let out = pretty_info(&info);
        assert!(
            out.contains("\n Images: 3\n Server Version: 0.1.0\n"),
            "{out}"
        );
        assert!(out.contains("\n Total Memory: 7.529GiB\n"), "{out}");
        assert!(out.contains("\n CPUs: 2\n"), "{out}");
    }
}
