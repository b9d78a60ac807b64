//! The runner on a fake stage in a real temporary project: it runs a stage whose
//! inputs changed, skips one whose inputs did not, runs it anyway with --force,
//! keeps the later stages' records when the output is byte-identical, drops them
//! when it changed, and calls a record whose outputs are gone stale; its
//! verdicts read only the watched files that changed, and no walk outlives a run.

use std::cell::Cell;
use std::path::{Path, PathBuf};

use clap::Parser;

use super::*;
use crate::state::{MergeRecord, TrainRecord};

/// A stage in the train slot that copies `input.txt` to `output.txt`.
struct Copy;

thread_local! {
    static RUNS: Cell<usize> = const { Cell::new(0) };
}

#[derive(Debug, Serialize)]
struct CopyInputs {
    input: String,
}

impl Stage for Copy {
    const ID: StageId = StageId::Train;
    type Options = ();
    type Inputs = CopyInputs;
    type Record = TrainRecord;

    fn slot(state: &State) -> Option<&Entry<TrainRecord>> {
        state.train.as_ref()
    }
    fn slot_mut(state: &mut State) -> &mut Option<Entry<TrainRecord>> {
        &mut state.train
    }
    fn upstream(_: &()) -> Option<StageId> {
        None
    }
    fn resolve(ctx: &Ctx, _: &(), _: &State) -> Result<CopyInputs> {
        Ok(CopyInputs { input: std::fs::read_to_string(ctx.project.dir.join("input.txt"))? })
    }
    fn watched(ctx: &Ctx, _: &CopyInputs, _: Option<&TrainRecord>) -> Vec<PathBuf> {
        vec![ctx.project.dir.join("data.txt")]
    }
    fn intact(_: &HashCache, record: &TrainRecord) -> Result<(), String> {
        let out = PathBuf::from(&record.instrument_id);
        if out.is_file() { Ok(()) } else { Err(format!("{} is gone", out.display())) }
    }
    fn output_id(record: &TrainRecord) -> String {
        std::fs::read_to_string(&record.instrument_id).unwrap_or_default()
    }
    fn summary(_: &Entry<TrainRecord>) -> String {
        "copied".into()
    }
    fn dry_run(_: &Ctx, _: &(), _: &State) -> Result<()> {
        Ok(())
    }
    fn run(ctx: &Ctx, inputs: &CopyInputs) -> Result<TrainRecord> {
        RUNS.with(|r| r.set(r.get() + 1));
        let out = ctx.project.dir.join("output.txt");
        std::fs::write(&out, inputs.input.trim())?;
        Ok(serde_json::from_value(serde_json::json!({ "instrument_id": out, "workloads": [] }))?)
    }
}

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let manifest = "[package]\nname = \"fake\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n";
    std::fs::write(dir.path().join("Cargo.toml"), manifest).unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::write(dir.path().join("src/main.rs"), "fn main() {}\n").unwrap();
    std::fs::write(dir.path().join("input.txt"), "one").unwrap();
    dir
}

fn ctx(dir: &Path, extra: &[&str]) -> Ctx {
    crate::stage::register();
    let mut args = vec!["pgo-build", "--quiet", "--project", dir.to_str().unwrap()];
    args.extend(extra);
    args.push("status");
    let cli = crate::cli::Cli::try_parse_from(args).unwrap();
    let env = |_: &str| None;
    Ctx::new(&cli, crate::printer::Printer::new(true, false, crate::printer::ColorChoice::Never), &env).unwrap()
}

fn runs() -> usize {
    RUNS.with(Cell::get)
}

/// A later stage's record, to see whether a run of `Copy` keeps it.
fn later(ctx: &Ctx) {
    let mut state = State::load(&ctx.layout.state_file()).unwrap();
    let record: MergeRecord = serde_json::from_value(serde_json::json!({
        "trained": "x", "profile": "/p", "sha256": "0", "weights": [],
        "functions": 1, "functions_with_counts": 1, "total_count": 1
    }))
    .unwrap();
    state.merge = Some(Entry {
        options: serde_json::Value::Null,
        fingerprint: BTreeMap::new(),
        output: "x".into(),
        elapsed_s: 0.0,
        finished_at: 0,
        record,
    });
    state.save(&ctx.layout.state_file()).unwrap();
}

fn has_later(ctx: &Ctx) -> bool {
    State::load(&ctx.layout.state_file()).unwrap().merge.is_some()
}

#[test]
fn runs_when_inputs_change_and_skips_when_they_do_not() {
    let dir = project();
    let c = ctx(dir.path(), &[]);
    let before = runs();
    assert_eq!(run::<Copy>(&c, &()).unwrap(), Ran::Done);
    assert_eq!(run::<Copy>(&c, &()).unwrap(), Ran::Skipped);
    assert_eq!(runs(), before + 1);
    std::fs::write(dir.path().join("input.txt"), "two").unwrap();
    assert_eq!(run::<Copy>(&c, &()).unwrap(), Ran::Done);
    assert_eq!(std::fs::read_to_string(dir.path().join("output.txt")).unwrap(), "two");
    // Its output gone: stale, run again.
    std::fs::remove_file(dir.path().join("output.txt")).unwrap();
    let state = State::load(&c.layout.state_file()).unwrap();
    assert!(matches!(Walk::new(&c, &state).judge::<Copy>(), Standing::Stale(why) if why.contains("is gone")));
    assert_eq!(run::<Copy>(&c, &()).unwrap(), Ran::Done);
    assert_eq!(runs(), before + 3);
}

#[test]
fn force_runs_and_a_byte_identical_output_keeps_the_later_stages() {
    let dir = project();
    let c = ctx(dir.path(), &[]);
    run::<Copy>(&c, &()).unwrap();
    later(&c);
    let forced = ctx(dir.path(), &["--force"]);
    let before = runs();
    assert_eq!(run::<Copy>(&forced, &()).unwrap(), Ran::Done);
    assert_eq!(runs(), before + 1, "--force ran it though nothing changed");
    assert!(has_later(&c), "the same output: the later stage's record stays");

    // Whitespace only: other inputs, the very same output.
    std::fs::write(dir.path().join("input.txt"), "one\n").unwrap();
    assert_eq!(run::<Copy>(&c, &()).unwrap(), Ran::Done);
    assert!(has_later(&c), "a byte-identical output keeps the later stages");

    std::fs::write(dir.path().join("input.txt"), "three").unwrap();
    assert_eq!(run::<Copy>(&c, &()).unwrap(), Ran::Done);
    assert!(!has_later(&c), "a new output drops the later stages' records");
}

#[test]
fn a_dry_run_runs_nothing_and_records_nothing() {
    let dir = project();
    let c = ctx(dir.path(), &["--dry-run"]);
    let before = runs();
    assert_eq!(run::<Copy>(&c, &()).unwrap(), Ran::DryRun);
    assert_eq!(runs(), before);
    assert!(!c.layout.state_file().exists());
}

/// Issue 20: a verdict read every watched file again. Now a file unchanged since
/// it was hashed is not read, and one changed is still seen, even rewritten
/// with the same size and its mtime set back.
#[test]
fn a_verdict_reads_only_the_watched_files_that_changed() {
    let dir = project();
    let c = ctx(dir.path(), &[]);
    let data = dir.path().join("data.txt");
    std::fs::write(&data, "one").unwrap();
    run::<Copy>(&c, &()).unwrap();
    c.hashes.as_if_hashed_later(std::time::Duration::from_secs(3600));
    let read = c.hashes.hashed();
    let state = State::load(&c.layout.state_file()).unwrap();
    assert_eq!(Walk::new(&c, &state).judge::<Copy>(), Standing::Current);
    assert_eq!(c.hashes.hashed(), read, "nothing changed: no watched file read");

    let mtime = std::fs::metadata(&data).unwrap().modified().unwrap();
    std::fs::write(&data, "two").unwrap();
    std::fs::File::options().write(true).open(&data).unwrap().set_modified(mtime).unwrap();
    assert!(matches!(Walk::new(&c, &state).judge::<Copy>(), Standing::Stale(why) if why.contains("files")));
    assert_eq!(run::<Copy>(&c, &()).unwrap(), Ran::Done);
}

/// A walk remembers its verdicts on the record it was made from: a stage run
/// while it is alive would leave it judging the record before the run.
#[test]
fn a_stage_does_not_run_while_a_walk_is_alive() {
    let dir = project();
    let c = ctx(dir.path(), &[]);
    run::<Copy>(&c, &()).unwrap();
    let state = State::load(&c.layout.state_file()).unwrap();
    let walk = Walk::new(&c, &state);
    assert_eq!(walk.judge::<Copy>(), Standing::Current);
    std::fs::write(dir.path().join("input.txt"), "two").unwrap();
    let err = run::<Copy>(&c, &()).expect_err("a walk is alive");
    assert!(err.to_string().contains("while a walk"), "{err}");
    drop(walk);
    assert_eq!(run::<Copy>(&c, &()).unwrap(), Ran::Done);
    let state = State::load(&c.layout.state_file()).unwrap();
    assert_eq!(Walk::new(&c, &state).judge::<Copy>(), Standing::Current);
}

#[test]
fn stages_are_ordered_as_they_run() {
    assert!(StageId::Instrument < StageId::Train && StageId::Optimize < StageId::Bolt);
    assert_eq!(previous(StageId::Instrument), None);
    assert_eq!(previous(StageId::Bolt), Some(StageId::Optimize));
    assert_eq!(previous(StageId::Optimize), Some(StageId::Merge));
    assert_eq!(serde_json::to_string(&StageId::Merge).unwrap(), "\"merge\"");
}
