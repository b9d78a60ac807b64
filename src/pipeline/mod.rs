//! The stage protocol: what every pipeline stage is, and the one runner that
//! does the bookkeeping for all of them.
//!
//! A stage ([`Stage`]) has a typed id ([`StageId`], ordered as the pipeline
//! runs), options (its command-line choices, recorded so that later commands and
//! `status` resolve the same inputs), a `resolve` step that turns options, config
//! and the earlier stages' records into one serializable inputs struct, and a
//! `run` step that returns the stage's record. It knows nothing of the state
//! file. The runner ([`run`]) does the rest, the same way for every stage:
//!
//! 1. load the state; check that the stage before is current ([`Walk`]);
//! 2. resolve the inputs and fingerprint them ([`fingerprint`]): a hash of each
//!    serialized input field, plus the content of the files the stage watches;
//! 3. skip when the fingerprint matches the record, the record's outputs are
//!    intact and its options can be read (`--force` runs anyway); a record whose
//!    options cannot be read is stale, never judged with default options;
//! 4. run, then commit the record. When the stage's output differs from the
//!    previous run's, every later stage's record is dropped (by [`StageId`]'s
//!    order); an unchanged output (say, `merge --force` writing the same
//!    profile) leaves the later stages valid;
//! 5. save the state atomically.
//!
//! `status`, and every command that reads a stage's output (compare, overlap),
//! asks the same [`Walk`] for a standing, so none of them can disagree with what
//! a run would do.

pub mod fingerprint;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Instant;

use anyhow::{Result, bail};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::context::Ctx;
use crate::state::{Entry, State, now};
use crate::util::hashes::HashCache;

pub use crate::state::StageId;

/// One stage of the pipeline. See the module documentation for what the runner
/// does around `resolve` and `run`.
pub trait Stage {
    const ID: StageId;
    /// The stage's own choices (command line, resolved with the config in
    /// `resolve`), recorded with its output.
    type Options: Serialize + DeserializeOwned + Clone + Default + fmt::Debug;
    /// Everything that shapes the output. Each top-level field is fingerprinted
    /// on its own, so a stale standing can say which one changed.
    type Inputs: Serialize + fmt::Debug;
    /// What the stage made.
    type Record: Serialize + DeserializeOwned + Clone + fmt::Debug;

    fn slot(state: &State) -> Option<&Entry<Self::Record>>;
    fn slot_mut(state: &mut State) -> &mut Option<Entry<Self::Record>>;

    /// The stage that must be current before this one runs; `None` when these
    /// options need none (a build from a stored profile).
    fn upstream(_options: &Self::Options) -> Option<StageId> {
        previous(Self::ID)
    }

    /// Options, config and the earlier stages' records, into the inputs.
    fn resolve(ctx: &Ctx, options: &Self::Options, state: &State) -> Result<Self::Inputs>;

    /// Files whose content is part of the fingerprint; `last` is the stage's own
    /// record when there is one (a build watches the sources its last build read).
    fn watched(_ctx: &Ctx, _inputs: &Self::Inputs, _last: Option<&Self::Record>) -> Vec<PathBuf> {
        Vec::new()
    }

    /// Whether what the record says was made is still there, unchanged (each
    /// file's hash from `hashes` when it is unchanged since it was hashed).
    fn intact(hashes: &HashCache, record: &Self::Record) -> Result<(), String>;

    /// Identifies the output: when it changes, later stages are stale.
    fn output_id(record: &Self::Record) -> String;

    /// A person's words for an input field that changed ("the training workloads").
    fn explain(field: &str) -> String {
        explain_field(field)
    }

    /// Why a record whose fingerprint was `old` is stale now that it is `new`:
    /// the changed inputs in a person's words ([`Stage::explain`]).
    fn stale_reason(_ctx: &Ctx, old: &fingerprint::Fingerprint, new: &fingerprint::Fingerprint) -> String {
        fingerprint::changed::<Self>(old, new)
    }

    /// What the record says was made, for `status`: "built 3 min ago in 41s (demo)".
    fn summary(entry: &Entry<Self::Record>) -> String;

    /// Prints what the stage would run, without running it or reading records it needs.
    fn dry_run(ctx: &Ctx, options: &Self::Options, state: &State) -> Result<()>;

    fn run(ctx: &Ctx, inputs: &Self::Inputs) -> Result<Self::Record>;
}

/// One stage as the pipeline sees it without knowing its type. The stage layer
/// hands the pipeline the list of its stages once ([`register`]), so the pipeline
/// never imports a concrete stage: adding a stage is its `Stage` impl and one
/// line in that list.
#[derive(Debug, Clone, Copy)]
pub struct Registered {
    pub id: StageId,
    judge: for<'c, 's> fn(&Walk<'c, 's>) -> Standing,
    default_upstream: fn() -> Option<StageId>,
    summary: fn(&State) -> Option<String>,
}

impl Registered {
    pub const fn of<S: Stage>() -> Registered {
        Registered {
            id: S::ID,
            judge: judge_of::<S>,
            default_upstream: default_upstream_of::<S>,
            summary: summary_of::<S>,
        }
    }

    /// What the stage's record says was made, if it has one (`status`).
    pub fn summary(&self, state: &State) -> Option<String> {
        (self.summary)(state)
    }
}

fn judge_of<S: Stage>(walk: &Walk<'_, '_>) -> Standing {
    walk.judge::<S>()
}

fn default_upstream_of<S: Stage>() -> Option<StageId> {
    S::upstream(&S::Options::default())
}

fn summary_of<S: Stage>(state: &State) -> Option<String> {
    S::slot(state).map(S::summary)
}

static STAGES: OnceLock<&'static [Registered]> = OnceLock::new();

/// Hands the pipeline its stages (the stage layer's list); the first call wins.
pub fn register(stages: &'static [Registered]) {
    let _ = STAGES.set(stages);
}

/// The registered stage `id`.
pub fn registered(id: StageId) -> &'static Registered {
    let stages = STAGES.get().expect("the stages are registered (stage::register) before the pipeline runs");
    stages.iter().find(|r| r.id == id).unwrap_or_else(|| panic!("stage {id} is not registered"))
}

/// The stage before `id`, if any.
/// A carried profile replaces instrument, train and merge, so no stage follows
/// carry by default: optimize waits on it only when it builds from one.
pub fn previous(id: StageId) -> Option<StageId> {
    let i = StageId::ALL.iter().position(|s| *s == id)?;
    StageId::ALL[..i].iter().rev().find(|s| **s != StageId::Carry).copied()
}

/// The default words for an input field (see [`Stage::explain`]).
pub fn explain_field(field: &str) -> String {
    match field {
        "files" => "the files it read".into(),
        "bolt" => "BOLT mode".into(),
        "bins" => "the binaries".into(),
        "profile" => "the Cargo profile".into(),
        "cargo_profiles" => "the Cargo profile settings (Cargo hashes them into every symbol name)".into(),
        "cargo_args" => "the cargo arguments".into(),
        "cargo_env" => "cargo's environment variables".into(),
        "env_rustflags" | "rustflags" => "the rustflags".into(),
        "profile_overrides" => "the profile overrides".into(),
        "rustc" => "the Rust toolchain".into(),
        "pgo_build" => "pgo-build's version".into(),
        "upstream" => "the output of the stage before".into(),
        "target" => "the target triple".into(),
        "c_compiler" => "the clang compiling the C/C++ code".into(),
        "c_flags" => "clang's flags for the C/C++ code".into(),
        other => other.replace('_', " "),
    }
}

/// What the runner did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ran {
    Done,
    /// Inputs unchanged since the last run.
    Skipped,
    DryRun,
}

/// Runs stage `S` with `options` through the protocol described above.
pub fn run<S: Stage>(ctx: &Ctx, options: &S::Options) -> Result<Ran> {
    if ctx.walks.get() > 0 {
        bail!(
            "internal error: stage {} was asked to run while a walk of the pipeline's record is in use, whose \
             verdicts would then be of the record before the run",
            S::ID
        );
    }
    let path = ctx.layout.state_file();
    let mut state = State::load(&path)?;
    if ctx.dry_run {
        S::dry_run(ctx, options, &state)?;
        return Ok(Ran::DryRun);
    }
    if let Some(up) = S::upstream(options) {
        Walk::new(ctx, &state).require(up)?;
    }
    let inputs = S::resolve(ctx, options, &state)?;
    let last = S::slot(&state);
    let before = fingerprint::of::<S>(ctx, &inputs, last.map(|e| &e.record))?;
    if let Some(e) = last
        && !ctx.force
        && e.fingerprint == before
        && S::intact(&ctx.hashes, &e.record).is_ok()
        && recorded_options::<S>(e).is_ok()
    {
        ctx.printer.status(
            S::ID.name(),
            format!(
                "up to date: its inputs are unchanged since its run {}; --force runs it again",
                fingerprint::ago(e.finished_at)
            ),
        );
        return Ok(Ran::Skipped);
    }
    let previous_output = last.map(|e| e.output.clone());
    let start = Instant::now();
    let record = S::run(ctx, &inputs)?;
    let entry = Entry {
        options: serde_json::to_value(options)?,
        fingerprint: fingerprint::of::<S>(ctx, &inputs, Some(&record))?,
        output: S::output_id(&record),
        elapsed_s: start.elapsed().as_secs_f64(),
        finished_at: now(),
        record,
    };
    let changed = previous_output.as_deref() != Some(entry.output.as_str());
    *S::slot_mut(&mut state) = Some(entry);
    if changed {
        state.clear_after(S::ID);
    }
    state.save(&path)?;
    Ok(Ran::Done)
}

/// The options a stage's record was made with. A record whose options cannot be
/// read (written by another pgo-build) is stale, never judged with defaults it
/// was not made with.
fn recorded_options<S: Stage>(entry: &Entry<S::Record>) -> Result<S::Options, String> {
    serde_json::from_value(entry.options.clone())
        .map_err(|e| format!("the options it was run with cannot be read from its record ({e})"))
}

/// A stage's standing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Standing {
    NotRun,
    Current,
    /// Its inputs changed, or its output is gone: the reason.
    Stale(String),
    /// The stage before it is not current.
    Waiting(StageId),
}

/// Verdicts on the recorded stages, computed once each: what `status` shows and
/// what a stage checks before it reads another's output.
///
/// A walk judges one loaded record (`&State`), and remembers each verdict: a
/// command that needs several makes one walk and passes it along (`compare`).
/// Running a stage saves a new record, which this walk's state and verdicts do
/// not know of, so [`run`] refuses to run a stage while a walk of the same
/// context is alive: load the record again after the run, and walk that.
pub struct Walk<'c, 's> {
    ctx: &'c Ctx,
    state: &'s State,
    seen: RefCell<BTreeMap<StageId, Standing>>,
}

impl Drop for Walk<'_, '_> {
    fn drop(&mut self) {
        self.ctx.walks.set(self.ctx.walks.get().saturating_sub(1));
    }
}

impl fmt::Debug for Walk<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Walk").field("seen", &self.seen).finish()
    }
}

impl<'c, 's> Walk<'c, 's> {
    pub fn new(ctx: &'c Ctx, state: &'s State) -> Self {
        ctx.walks.set(ctx.walks.get() + 1);
        Walk { ctx, state, seen: RefCell::new(BTreeMap::new()) }
    }

    /// The record this walk judges.
    pub fn state(&self) -> &'s State {
        self.state
    }

    pub fn standing(&self, id: StageId) -> Standing {
        if let Some(v) = self.seen.borrow().get(&id) {
            return v.clone();
        }
        let v = (registered(id).judge)(self);
        self.seen.borrow_mut().insert(id, v.clone());
        v
    }

    fn judge<S: Stage>(&self) -> Standing {
        let Some(entry) = S::slot(self.state) else { return Standing::NotRun };
        let options = match recorded_options::<S>(entry) {
            Ok(o) => o,
            Err(why) => return Standing::Stale(why),
        };
        if let Some(up) = S::upstream(&options)
            && self.standing(up) != Standing::Current
        {
            return Standing::Waiting(up);
        }
        if let Err(why) = S::intact(&self.ctx.hashes, &entry.record) {
            return Standing::Stale(why);
        }
        let inputs = match S::resolve(self.ctx, &options, self.state) {
            Ok(i) => i,
            Err(e) => return Standing::Stale(format!("{e:#}")),
        };
        match fingerprint::of::<S>(self.ctx, &inputs, Some(&entry.record)) {
            Ok(now) if now == entry.fingerprint => Standing::Current,
            Ok(now) => Standing::Stale(S::stale_reason(self.ctx, &entry.fingerprint, &now)),
            Err(e) => Standing::Stale(format!("{e:#}")),
        }
    }

    /// The earliest stage, up to `id`, that is not current, with its standing. A
    /// stage never run is preceded by the stages its default options need.
    pub fn first_not_current(&self, id: StageId) -> Option<(StageId, Standing)> {
        let mut at = id;
        loop {
            match self.standing(at) {
                Standing::Current => return None,
                Standing::Waiting(up) => at = up,
                Standing::NotRun => match default_upstream(at) {
                    Some(up) if self.standing(up) != Standing::Current => at = up,
                    _ => return Some((at, Standing::NotRun)),
                },
                v => return Some((at, v)),
            }
        }
    }

    /// Fails, saying which stage to run, unless stage `id` is current.
    pub fn require(&self, id: StageId) -> Result<()> {
        let Some((stage, standing)) = self.first_not_current(id) else { return Ok(()) };
        let then = if stage == id { String::new() } else { format!(" (then the stages after it up to {id})") };
        match standing {
            Standing::NotRun => bail!(
                "no {} was found in {}; run `pgo-build {stage}` first{then}, or `pgo-build all`",
                stage.output(),
                self.ctx.layout.root.display()
            ),
            Standing::Stale(why) => {
                bail!("the {} is out of date: {why}; {}", stage.output(), self.fix(stage, &then))
            }
            Standing::Current | Standing::Waiting(_) => unreachable!("first_not_current returns neither"),
        }
    }

    /// The flag a command needs to keep this run's BOLT mode when the record has
    /// the other: ` --bolt`, ` --no-bolt`, or nothing.
    pub fn mode_flag(&self) -> &'static str {
        match (self.ctx.bolt, self.state.recorded_bolt_mode()) {
            (true, Some(true)) | (false, None | Some(false)) => "",
            (true, _) => " --bolt",
            (false, Some(true)) => " --no-bolt",
        }
    }

    /// What to run to bring `stage` up to date.
    pub fn fix(&self, stage: StageId, then: &str) -> String {
        let mode = self.mode_flag();
        format!("run `pgo-build {stage}{mode}`{then}, or `pgo-build all{mode}`")
    }

    /// The record of stage `S` when what it made is still there, unchanged, whether
    /// or not its inputs have moved on since: `check` and `show` read the merged
    /// profile after the sources changed too. The error says what to run; `or`
    /// ends it with another way out (", or name a profile: …").
    pub fn intact<S: Stage>(&self, or: &str) -> Result<&'s S::Record> {
        let Some(entry) = S::slot(self.state) else {
            let stage = self.first_not_current(S::ID).map_or(S::ID, |(stage, _)| stage);
            let then =
                if stage == S::ID { String::new() } else { format!(" (then the stages after it up to {})", S::ID) };
            bail!(
                "no {} was found in {}; run `pgo-build {stage}` first{then}, or `pgo-build all`{or}",
                S::ID.output(),
                self.ctx.layout.root.display()
            );
        };
        if let Err(why) = S::intact(&self.ctx.hashes, &entry.record) {
            bail!("{why}; {}{or}", self.fix(S::ID, ""));
        }
        Ok(&entry.record)
    }

    /// The record of stage `S` after checking that it is current.
    pub fn current<S: Stage>(&self) -> Result<&'s S::Record> {
        self.require(S::ID)?;
        S::slot(self.state).map(|e| &e.record).ok_or_else(|| anyhow::anyhow!("no {} was found", S::ID.output()))
    }
}

/// The stage that stage `id` needs with its default options.
fn default_upstream(id: StageId) -> Option<StageId> {
    (registered(id).default_upstream)()
}

/// The stage's entry as it is, current or not, intact or not (`status` shows it
/// as it is; [`Walk::intact`] is for reading what a stage made).
pub fn entry<S: Stage>(state: &State) -> Option<&Entry<S::Record>> {
    S::slot(state)
}

#[cfg(test)]
#[path = "runner_tests.rs"]
mod runner_tests;
