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
        let layout = Layout::new(&project);
        let recorded = crate::state::State::load(&layout.state_file()).ok().and_then(|s| s.recorded_bolt_mode());
        let bolt = bolt_mode(bolt, args.bolt, args.no_bolt, config.bolt, recorded);
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
            bolt,
        };
        Ok(Ctx {
            printer,
            dry_run: args.dry_run,
            force: args.force,
            layout,
            project,
            config,
            rustc,
            user_flags,
            settings,
            bolt,
            bolt_override: args.llvm_bolt(),
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

/// Whether the pipeline runs in BOLT mode: a command that needs it (`bolt`),
/// then the command line (`--bolt`, `--no-bolt`), then the config's `bolt`, then
/// the mode the pipeline's record was made in, so that after `all --bolt` every
/// later command works on the same builds without `--bolt` again.
pub fn bolt_mode(needed: bool, flag: bool, no_flag: bool, config: Option<bool>, recorded: Option<bool>) -> bool {
    needed || flag || (!no_flag && config.or(recorded).unwrap_or(false))
}

/// `--llvm-profdata` or `PGO_BUILD_LLVM_PROFDATA` (clap reads both; the flag wins).
pub fn profdata_override(args: &GlobalArgs) -> Option<Override> {
    let path = args.llvm_profdata.clone().filter(|p| !p.as_os_str().is_empty())?;
    let from_flag =
        std::env::args_os().any(|a| a == "--llvm-profdata" || a.to_string_lossy().starts_with("--llvm-profdata="));
    Some(Override { path, origin: if from_flag { Origin::Flag } else { Origin::Env } })
}

#[cfg(test)]
mod tests {
    use super::bolt_mode;

    /// Precedence of BOLT mode, as a table: needed, --bolt, --no-bolt, config, record → mode.
    #[test]
    fn bolt_mode_precedence() {
        let table = [
            (false, false, false, None, None, false),
            (false, false, false, None, Some(true), true),
            (false, false, false, Some(false), Some(true), false),
            (false, false, false, Some(true), Some(false), true),
            (false, true, false, Some(false), Some(false), true),
            (false, false, true, Some(true), Some(true), false),
            (true, false, true, None, Some(false), true),
        ];
        for (needed, flag, no_flag, config, recorded, want) in table {
            assert_eq!(
                bolt_mode(needed, flag, no_flag, config, recorded),
                want,
                "{needed} {flag} {no_flag} {config:?} {recorded:?}"
            );
        }
    }
}
