//! The validated context every stage runs in: the project, its config and the
//! options resolved from them (`options.rs`), the toolchain, the user's rustflags
//! and the build settings of the pipeline.
//!
//! Each is read once: one `cargo metadata` (`Project::load`), one `rustc -vV`. They
//! are read for every command that has a context, `status` included, since its
//! verdicts fingerprint the build settings (rustc's version, the target, the
//! clang of the C code). What only some commands need is found on first use:
//! `llvm-profdata` ([`Ctx::profdata`]) and the target's standard library
//! ([`Ctx::check_target`]).

use std::cell::{Cell, OnceCell};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

use crate::cargo::Settings;
use crate::cargo::c_code::{self, CPgo};
use crate::cargo::cargo_config::{Strip, profile_settings, resolve_strip};
use crate::cargo::cross::Cross;
use crate::cargo::flags::UserFlags;
use crate::cli::Cli;
use crate::config::BoltProfiling;
use crate::config::Config;
use crate::options::{Env, Options};
use crate::printer::Printer;
use crate::project::{Graph, Layout, Project};
use crate::toolchain::bolt::{self, BoltTools};
use crate::toolchain::target::Target;
use crate::toolchain::{Profdata, RustcInfo, profdata};
use crate::util::hashes::HashCache;

#[derive(Debug)]
pub struct Ctx {
    pub printer: Printer,
    pub dry_run: bool,
    /// Run stages whose inputs are unchanged (`--force`).
    pub force: bool,
    pub project: Project,
    pub config: Config,
    /// The command line, the environment and the config, resolved.
    pub options: Options,
    pub layout: Layout,
    pub rustc: RustcInfo,
    /// The target of every build (the host's unless `--target`/`target`).
    pub target: Target,
    /// How the target is linked and run here, when it is another architecture's
    /// (else why it cannot be, said by [`Ctx::check_target`]).
    cross: std::result::Result<Cross, String>,
    /// Whether the C/C++ code of build scripts gets PGO too, and why not.
    pub c_pgo: CPgo,
    pub user_flags: UserFlags,
    pub settings: Settings,
    /// BOLT mode: see `GlobalArgs::bolt`.
    pub bolt: bool,
    /// The content hashes of the files fingerprints watch, kept between commands.
    pub hashes: HashCache,
    /// How many walks of the pipeline's record are alive (`pipeline::Walk`): no
    /// stage runs while one is.
    pub walks: Cell<usize>,
    install: bool,
    profdata: OnceCell<Profdata>,
    target_checked: OnceCell<()>,
    /// The same for a build that runs nothing ([`Ctx::check_build_target`]).
    link_checked: OnceCell<()>,
}

impl Ctx {
    /// Loads the config, resolves the options of `cli` with it and `env`, and
    /// reads the project (one `cargo metadata`) and the toolchain.
    pub fn new(cli: &Cli, printer: Printer, env: Env) -> Result<Ctx> {
        let args = &cli.global;
        let dir = project_dir(&args.project)?;
        let config = load_config(&dir, args.config.as_deref())?;
        let options = Options::resolve(cli, env, &config)?;
        // Said before anything runs: pgo-build was started in the wrong place.
        Project::require_manifest(&dir)?;
        let rustc = RustcInfo::detect(&dir)?;
        let target = Target::detect(&rustc, &dir, options.target.as_deref())?;
        let graph = Graph { target: &target.triple, cargo_args: &config.cargo_args };
        let project = Project::load(&dir, &options.selection, Some(graph))?;
        let user_flags = UserFlags::detect(&dir, &target.triple, &target.cfg)?;
        // A missing linker or emulator is said before the first build (`check_target`),
        // not by every command (`status` reads a project whatever its target).
        let env_text = |k: &str| env(k).map(|v| v.to_string_lossy().into_owned());
        let cross = Cross::detect(&dir, &target, &rustc.host, &env_text, &|name| which::which(name).ok())
            .map_err(|e| format!("{e:#}"));
        let c_pgo = c_pgo_state(&options, &project, &target, &rustc);
        let layout = Layout::new(&project, &target.triple, &rustc.host);
        let recorded = crate::state::State::load(&layout.state_file()).ok().and_then(|s| s.recorded_bolt_mode());
        let bolt = options.bolt(recorded);
        let settings = Settings {
            package: project.package.clone(),
            bins: project.bins.clone(),
            profile: options.profile.clone(),
            features: options.features.clone(),
            default_features: config.default_features,
            cargo_args: config.cargo_args.clone(),
            host: rustc.host.clone(),
            target: target.triple.clone(),
            rustc: rustc.version.clone(),
            cargo_profiles: profile_settings(&project.workspace_manifest(), &dir)?,
            env_rustflags: user_flags.env_flags().map(str::to_string),
            profile_overrides: if bolt { vec![("strip".into(), "false".into())] } else { Vec::new() },
            bolt,
            c_compiler: c_pgo.clang().cloned(),
        };
        let hashes = HashCache::new(layout.hash_cache(), !args.dry_run);
        Ok(Ctx {
            printer,
            dry_run: args.dry_run,
            force: args.force,
            layout,
            project,
            config,
            options,
            rustc,
            target,
            cross,
            c_pgo,
            user_flags,
            settings,
            bolt,
            hashes,
            walks: Cell::new(0),
            install: !args.no_install,
            profdata: OnceCell::new(),
            target_checked: OnceCell::new(),
            link_checked: OnceCell::new(),
        })
    }

    /// How the target is linked and run here (nothing special for the host's, or
    /// when it cannot be: [`Ctx::check_target`] says why before any build).
    pub fn cross(&self) -> Cross {
        self.cross.clone().unwrap_or_default()
    }

    /// The runner the target's binaries run under here, when they do not run
    /// natively (training is then emulated).
    pub fn runner(&self) -> Option<&crate::cargo::cross::Runner> {
        self.cross.as_ref().ok().and_then(|c| c.runner.as_ref())
    }

    /// What the pipeline's Cargo profile asks `strip` to do (BOLT mode strips
    /// its outputs itself).
    pub fn profile_strip(&self) -> Result<Strip> {
        resolve_strip(&self.project.workspace_manifest(), &self.project.dir, &self.settings.profile)
    }

    /// For a target other than the host's: its standard library is installed (or
    /// installed now) with the profiler runtime, and this machine runs its
    /// instrumented binaries. Checked once, before the first build that needs it.
    pub fn check_target(&self) -> Result<()> {
        if self.target.is_host || self.target_checked.get().is_some() {
            return Ok(());
        }
        let status = |msg: String| self.printer.status("toolchain", msg);
        self.target.ensure_std(&self.rustc, &self.project.dir, self.no_install_reason(), status)?;
        let cross = self.cross.as_ref().map_err(|why| anyhow::anyhow!("{why}"))?;
        if let Some(why) = &cross.cannot_run {
            anyhow::bail!("{why}");
        }
        if let (Some(r), true) = (&cross.runner, self.bolt) {
            anyhow::bail!(
                "BOLT mode is on, but {} binaries run here only under `{}`, and pgo-build runs BOLT only on \
                 binaries this machine runs natively; build without BOLT here (--no-bolt), or on a machine of that \
                 architecture",
                self.target.triple,
                r.display()
            );
        }
        let runner = cross.runner.as_ref().map(|r| r.words.as_slice());
        self.target.check(
            &self.rustc,
            &self.project.dir,
            self.no_install_reason(),
            cross.probe_linker(),
            runner,
            status,
        )?;
        let _ = self.target_checked.set(());
        Ok(())
    }

    /// For a build from a carried or stored profile, which runs nothing: the
    /// target's standard library is installed (or installed now) and, for
    /// another architecture, a linker was found. Checked before the first build.
    pub fn check_build_target(&self) -> Result<()> {
        if self.target.is_host || self.target_checked.get().is_some() || self.link_checked.get().is_some() {
            return Ok(());
        }
        let status = |msg: String| self.printer.status("toolchain", msg);
        self.target.ensure_std_only(&self.rustc, &self.project.dir, self.no_install_reason(), status)?;
        let cross = self.cross.as_ref().map_err(|why| anyhow::anyhow!("{why}"))?;
        let tmp = tempfile::tempdir()?;
        crate::toolchain::target::link_probe(&self.target.triple, &self.project.dir, tmp.path(), cross.probe_linker())?;
        let _ = self.link_checked.set(());
        Ok(())
    }

    /// Whether the target's binaries run here natively (so they can be timed).
    pub fn runs_natively(&self) -> bool {
        self.target.is_host || self.cross.as_ref().is_ok_and(|c| c.runner.is_none() && c.cannot_run.is_none())
    }

    /// The BOLT installation, when BOLT can work on this pipeline's binaries in
    /// `mode`; the error says why not, before anything is built.
    pub fn bolt_tools(&self, mode: BoltProfiling) -> Result<BoltTools> {
        let tools = bolt::discover(self.rustc.llvm_major, self.options.tools.llvm_bolt.as_deref())
            .map_err(|why| anyhow::anyhow!("BOLT mode is on, but {why}"))?;
        let sampling = mode == BoltProfiling::Perf;
        match bolt::static_pie_refusal(&tools, &self.target.triple, self.target.static_pie(), sampling) {
            Some(why) => Err(anyhow::anyhow!("BOLT mode is on, but {why}")),
            None => Ok(tools),
        }
    }

    /// Why pgo-build may not install a missing tool, if it may not.
    fn no_install_reason(&self) -> Option<&'static str> {
        if self.dry_run {
            Some("a dry run installs nothing")
        } else if !self.install {
            Some("--no-install is set")
        } else {
            None
        }
    }

    /// The `llvm-profdata` to use, found (and if need be installed) on first use.
    pub fn profdata(&self) -> Result<&Profdata> {
        if let Some(p) = self.profdata.get() {
            return Ok(p);
        }
        let found = profdata::ensure(
            &self.rustc,
            self.options.tools.llvm_profdata.as_ref(),
            self.no_install_reason(),
            &self.project.dir,
            |msg| self.printer.status("toolchain", msg),
        )?;
        Ok(self.profdata.get_or_init(|| found))
    }
}

/// Whether the C/C++ code the dependency graph builds gets PGO: on when there is
/// some, `c-pgo` is not off, the user chose no compiler of their own, and a clang
/// of rustc's LLVM major is installed. Reading the graph can fail (offline, no
/// lock file yet); then the C code is built as before, saying why.
pub fn c_pgo_state(options: &Options, project: &Project, target: &Target, rustc: &RustcInfo) -> CPgo {
    let packages = match &project.building_c {
        Ok(p) if p.is_empty() => return CPgo::NoCode,
        Ok(p) => p.clone(),
        Err(why) => return CPgo::Off { packages: Vec::new(), reason: why.clone() },
    };
    let off = |reason: String| CPgo::Off { packages: packages.clone(), reason };
    if !options.c_pgo {
        return off("turned off (--no-c-pgo or `c-pgo = false`)".into());
    }
    if let Some((var, value)) = c_code::user_compiler("CC", &target.triple, &rustc.host) {
        let cc = which::which(&value).unwrap_or_else(|_| value.clone().into());
        return match crate::toolchain::clang::at(&cc, rustc.llvm_major) {
            Ok(clang) => CPgo::On { clang, packages },
            Err(_) => off(format!(
                "{var}={value} is not a clang of rustc's LLVM {}; pgo-build does not replace a compiler you chose \
                 (point {var} at clang-{} or unset it)",
                rustc.llvm_major, rustc.llvm_major
            )),
        };
    }
    match crate::toolchain::clang::discover(rustc.llvm_major) {
        Ok(clang) => CPgo::On { clang, packages },
        Err(why) => off(why),
    }
}

/// `pgo-build.toml` in `dir`, or the file `--config` names (which must exist).
pub fn load_config(dir: &Path, named: Option<&Path>) -> Result<Config> {
    match named {
        Some(path) => Config::load(dir, path, true),
        None => Config::load(dir, &dir.join("pgo-build.toml"), false),
    }
}

/// The project directory, made absolute so paths from cargo compare equal.
pub fn project_dir(arg: &Path) -> Result<PathBuf> {
    arg.canonicalize().with_context(|| format!("project directory {} does not exist", arg.display()))
}
