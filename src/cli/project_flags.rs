//! The project flags every compose verb shares (`-f`, `-p`, `--profile`, `--env-file`, ...),
//! and their translation into the loader's `ProjectOptions`.

use std::io::Read;

use anyhow::Context;
use clap::Args;

use crate::compose::options::ProjectOptions;

/// `-f` and `-p` come before the verb only (the verbs have their own `-f`, `rm -f`,
/// `logs -f`, and `-p`, `run -p`); the long-only flags are accepted after it too.
#[derive(Debug, Clone, Default, Args)]
pub struct ProjectFlags {
    /// Compose configuration files
    #[arg(short = 'f', long = "file", id = "file")]
    pub files: Vec<String>,
    /// Project name
    #[arg(short = 'p', long = "project-name")]
    pub project_name: Option<String>,
    /// Specify a profile to enable
    #[arg(long = "profile", id = "profile", global = true)]
    pub profiles: Vec<String>,
    /// Specify an alternate environment file
    #[arg(long = "env-file", id = "env_file", global = true)]
    pub env_files: Vec<String>,
    /// Specify an alternate working directory (default: the path of the first compose file)
    #[arg(long = "project-directory", global = true)]
    pub project_directory: Option<String>,
    /// Control when to print ANSI control characters ("never"|"always"|"auto")
    #[arg(long, global = true, default_value = "auto")]
    pub ansi: String,
    /// Set type of progress output (auto, tty, plain, json, quiet)
    #[arg(long, global = true)]
    pub progress: Option<String>,
    /// Control max parallelism, -1 for unlimited
    #[arg(long, global = true)]
    pub parallel: Option<i64>,
    /// Run compose in backward compatibility mode
    #[arg(long, global = true)]
    pub compatibility: bool,
    /// Include all resources, even those not used by services
    #[arg(long = "all-resources", global = true)]
    pub all_resources: bool,
    /// Execute command in dry run mode
    #[arg(long = "dry-run", global = true)]
    pub dry_run: bool,
}

impl ProjectFlags {
    /// The loader's view of these flags, with the process environment and cwd.
    pub fn to_options(&self) -> anyhow::Result<ProjectOptions> {
        let stdin = if self.files.iter().any(|f| f == "-") {
            let mut buf = Vec::new();
            std::io::stdin()
                .read_to_end(&mut buf)
                .context("reading the compose file from stdin")?;
            Some(buf)
        } else {
            None
        };
        Ok(ProjectOptions {
            config_paths: self.files.clone(),
            project_name: self.project_name.clone(),
            profiles: self.profiles.clone(),
            env_files: self.env_files.clone(),
            project_dir: self.project_directory.clone(),
            os_env: std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .collect(),
            cwd: std::env::current_dir().context("reading the current directory")?,
            stdin,
        })
    }
}
