//! The validated context every stage runs in: the project, its config, the
//! toolchain, the user's rustflags and the build settings of the pipeline.

use std::cell::OnceCell;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

use crate::cargo::Settings;
use crate::cargo::cargo_config::{Strip, profile_settings, resolve_strip};
use crate::cargo::flags::UserFlags;
use crate::cli::GlobalArgs;
use crate::config::Config;
use crate::printer::Printer;
use crate::project::{Layout, Project};
use crate::toolchain::{Origin, Override, Profdata, RustcInfo, profdata};

#[derive(Debug)]
pub struct Ctx {
    pub printer: Printer,
    pub dry_run: bool,
    /// Run stages whose inputs are unchanged (`--force`).
    pub force: bool,
    pub project: Project,
    pub config: Config,
    pub layout: Layout,
    pub rustc: RustcInfo,
    pub user_flags: UserFlags,
    pub settings: Settings,
    /// BOLT mode: see `GlobalArgs::bolt`.
    pub bolt: bool,
    pub bolt_override: Option<PathBuf>,
    profdata_override: Option<Override>,
    install: bool,
    profdata: OnceCell<Profdata>,
}

impl Ctx {
    /// `bolt` forces BOLT mode (the `bolt` stage needs it).
    pub fn new(args: &GlobalArgs, printer: Printer, bolt: bool) -> Result<Ctx> {
        let dir = project_dir(&args.project)?;
        let (config_path, explicit) = match &args.config {
            Some(p) => (p.clone(), true),
            None => (dir.join("pgo-build.toml"), false),
        };
        let mut config = Config::load(&dir, &config_path, explicit)?;
        apply_selection(&mut config, args);
        let project = Project::load(&dir, &config)?;
        let rustc = RustcInfo::detect(&dir)?;
        let host_cfg = rustc.host_cfg(&dir)?;
        let user_flags = UserFlags::detect(&dir, &rustc.host, &host_cfg)?;
        let bolt = bolt || args.bolt || config.bolt;
        let settings = Settings {
            package: project.package.clone(),
            bins: project.bins.clone(),
            profile: args.cargo_profile.clone().or_else(|| config.profile.clone()).unwrap_or_else(|| "release".into()),
            features: config.features.clone(),
            default_features: config.default_features,
            cargo_args: config.cargo_args.clone(),
            host: rustc.host.clone(),
            rustc: rustc.version.clone(),
            cargo_profiles: profile_settings(&project.workspace_root.join("Cargo.toml"), &dir)?,
            env_rustflags: user_flags.env_flags().map(str::to_string),
            profile_overrides: if bolt { vec![("strip".into(), "false".into())] } else { Vec::new() },
        };
        Ok(Ctx {
            printer,
            dry_run: args.dry_run,
            force: args.force,
            layout: Layout::new(&project),
            project,
            config,
            rustc,
            user_flags,
            settings,
            bolt,
            bolt_override: bolt_override(args),
            profdata_override: profdata_override(args),
            install: !args.no_install,
            profdata: OnceCell::new(),
        })
    }

    /// What the pipeline's Cargo profile asks `strip` to do (BOLT mode strips
    /// its outputs itself).
    pub fn profile_strip(&self) -> Result<Strip> {
        resolve_strip(&self.project.workspace_root.join("Cargo.toml"), &self.project.dir, &self.settings.profile)
    }

    /// The `llvm-profdata` to use, found (and if need be installed) on first use.
    pub fn profdata(&self) -> Result<&Profdata> {
        if let Some(p) = self.profdata.get() {
            return Ok(p);
        }
        let found = profdata::ensure(
            &self.rustc,
            self.profdata_override.as_ref(),
            if self.dry_run {
                Some("a dry run installs nothing")
            } else if !self.install {
                Some("--no-install is set")
            } else {
                None
            },
            &self.project.dir,
            |msg| self.printer.status("toolchain", msg),
        )?;
        Ok(self.profdata.get_or_init(|| found))
    }
}

/// Command-line choices of what to build override the config's.
pub fn apply_selection(config: &mut Config, args: &GlobalArgs) {
    if args.package.is_some() {
        config.package.clone_from(&args.package);
    }
    if !args.bins.is_empty() {
        config.bins = Some(args.bins.clone());
    }
    if !args.features.is_empty() {
        config.features.clone_from(&args.features);
    }
}

/// The project directory, made absolute so paths from cargo compare equal.
pub fn project_dir(arg: &Path) -> Result<PathBuf> {
    arg.canonicalize().with_context(|| format!("project directory {} does not exist", arg.display()))
}

/// `--llvm-bolt` wins over `PGO_BUILD_LLVM_BOLT`.
pub fn bolt_override(args: &GlobalArgs) -> Option<PathBuf> {
    args.llvm_bolt.clone().or_else(|| std::env::var_os("PGO_BUILD_LLVM_BOLT").filter(|v| !v.is_empty()).map(Into::into))
}

/// `--llvm-profdata` wins over `PGO_BUILD_LLVM_PROFDATA`.
pub fn profdata_override(args: &GlobalArgs) -> Option<Override> {
    if let Some(path) = &args.llvm_profdata {
        return Some(Override { path: path.clone(), origin: Origin::Flag });
    }
    std::env::var_os("PGO_BUILD_LLVM_PROFDATA")
        .filter(|v| !v.is_empty())
        .map(|v| Override { path: PathBuf::from(v), origin: Origin::Env })
}
