//! `pgo-build profiles`: the Cargo profile presets of `presets.rs`, listed, shown,
//! or written into the workspace's Cargo.toml as `[profile.NAME]`.
//!
//! Writing edits a file the user owns, so it goes through `toml_edit`, which keeps
//! every comment, blank line and key where it was: the new table is the only change,
//! placed after the last `[profile.*]` table (or at the end of the file). Two things
//! toml_edit would otherwise change are put back: CRLF line endings, and the
//! permissions and symlink of Cargo.toml (it is written through a rename).
//!
//! `--force` replaces the profile's settings but keeps its `package` and
//! `build-override` tables: those are per-crate overrides the preset knows nothing
//! about. Cargo forbids `inherits` in the built-in profiles (dev, release, test,
//! bench), so a preset written under one of those names loses that key, and is
//! refused when it builds on another profile (`develop --as release`).
//!
//! The profile goes into the workspace root's manifest because cargo ignores (with a
//! warning) profiles in a member's Cargo.toml.

use std::fs;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use toml_edit::{DocumentMut, Item, Table, Value};

use crate::cli::GlobalArgs;
use crate::cli::{ProfilesArgs, ProfilesCommand, WriteArgs};
use crate::context::project_dir;
use crate::presets::{self, Preset};
use crate::printer::Printer;
use crate::process::Cmd;
use crate::util::write_atomic;

pub fn run(args: &GlobalArgs, printer: &Printer, cmd: &ProfilesArgs) -> Result<()> {
    match &cmd.command {
        ProfilesCommand::List => {
            for line in list_lines() {
                printer.out(line);
            }
            printer.note(
                "`pgo-build profiles show NAME` prints one; `pgo-build profiles write NAME` adds it to Cargo.toml",
            );
            Ok(())
        }
        ProfilesCommand::Show { preset } => {
            printer.out(preset.toml(preset.name).trim_end());
            Ok(())
        }
        ProfilesCommand::Write(write) => write_profile(args, printer, write),
    }
}

/// The preset table, aligned: name, what it inherits, summary.
fn list_lines() -> Vec<String> {
    let name_width = presets::ALL.iter().map(|p| p.name.len()).max().unwrap_or(0).max("PRESET".len());
    let inherits_width = presets::ALL.iter().map(|p| p.inherits.len()).max().unwrap_or(0).max("INHERITS".len());
    std::iter::once(("PRESET", "INHERITS", "SUMMARY"))
        .chain(presets::ALL.iter().map(|p| (p.name, p.inherits, p.summary)))
        .map(|(name, inherits, summary)| format!("{name:<name_width$}  {inherits:<inherits_width$}  {summary}"))
        .collect()
}

fn write_profile(args: &GlobalArgs, printer: &Printer, write: &WriteArgs) -> Result<()> {
    let preset = write.preset;
    let profile = write.as_profile.as_deref().unwrap_or(preset.name);
    check_builtin(preset, profile)?;
    let manifest = workspace_manifest(args, printer)?;
    // Write through a symlink rather than replacing it with a file.
    let target = fs::canonicalize(&manifest).with_context(|| format!("could not read {}", manifest.display()))?;
    let text = fs::read_to_string(&target).with_context(|| format!("could not read {}", manifest.display()))?;
    let (new_text, change) = add_profile(&text, preset, profile, write.force)
        .with_context(|| format!("cannot write [profile.{profile}] into {}", manifest.display()))?;

    let what = if profile == preset.name {
        format!("[profile.{profile}]")
    } else {
        format!("[profile.{profile}] (the {} preset)", preset.name)
    };
    if args.dry_run {
        printer.out(new_table(preset, profile)?.trim_end());
        printer
            .status("profiles", format!("would write {what} into {} (dry run: nothing written)", manifest.display()));
        return Ok(());
    }
    let permissions = fs::metadata(&target).map(|m| m.permissions()).ok();
    write_atomic(&target, new_text.as_bytes())?;
    if let Some(permissions) = permissions {
        fs::set_permissions(&target, permissions)
            .with_context(|| format!("could not restore the permissions of {}", manifest.display()))?;
    }
    let verb = match change {
        Change::Added => "added",
        Change::Replaced => "replaced the settings of",
    };
    printer.status(
        "profiles",
        format!("{verb} {what} in {}; build with `cargo build --profile {profile}`", manifest.display()),
    );
    printer.note(format!("or optimize it with PGO: pgo-build --cargo-profile {profile} all"));
    Ok(())
}

/// The workspace root's Cargo.toml, as cargo finds it from `--project`.
fn workspace_manifest(args: &GlobalArgs, printer: &Printer) -> Result<PathBuf> {
    let dir = project_dir(&args.project)?;
    let cmd = Cmd::new("cargo").args(["locate-project", "--workspace", "--message-format", "plain"]).dir(&dir);
    printer.command(&cmd);
    let out = cmd.read().with_context(|| {
        format!("could not find the workspace's Cargo.toml from {}; point --project at a Cargo project", dir.display())
    })?;
    Ok(PathBuf::from(out.trim()))
}

/// Cargo's built-in profiles and the profile each builds on.
const BUILTIN: &[(&str, &str)] = &[("dev", "dev"), ("release", "release"), ("test", "dev"), ("bench", "release")];

/// Keys of a profile that `--force` keeps: per-crate overrides, not settings.
const KEPT_KEYS: &[&str] = &["package", "build-override"];

fn builtin_base(profile: &str) -> Option<&'static str> {
    BUILTIN.iter().find(|(name, _)| *name == profile).map(|&(_, base)| base)
}

/// A built-in profile cannot inherit, so it can only take a preset built on
/// the same profile it builds on itself.
fn check_builtin(preset: &Preset, profile: &str) -> Result<()> {
    match builtin_base(profile) {
        Some(base) if base != preset.inherits => {
            let fitting: Vec<String> =
                BUILTIN.iter().filter(|(_, b)| *b == preset.inherits).map(|(n, _)| format!("--as {n}")).collect();
            bail!(
                "the {} preset builds on `{}`, but cargo's built-in `{profile}` profile builds on `{base}` and \
                 cannot inherit another profile; write it under a name of its own (drop --as, or --as NAME), \
                 or into a built-in profile that builds on `{}` ({})",
                preset.name,
                preset.inherits,
                preset.inherits,
                fitting.join(" or ")
            )
        }
        _ => Ok(()),
    }
}

/// The table `write` adds: exactly `Preset::toml`, without `inherits` for a built-in profile.
fn new_table(preset: &Preset, profile: &str) -> Result<String> {
    let mut doc = DocumentMut::new();
    doc.insert("profile", Item::Table(implicit_table()));
    doc["profile"][profile] = Item::Table(preset_table(preset, profile)?);
    Ok(doc.to_string())
}

fn implicit_table() -> Table {
    let mut table = Table::new();
    table.set_implicit(true);
    table
}

/// The preset as a toml_edit table, parsed from `Preset::toml` so `show` and `write`
/// cannot drift apart.
fn preset_table(preset: &Preset, profile: &str) -> Result<Table> {
    let doc: DocumentMut = preset.toml(profile).parse().context("a preset is not valid TOML (a pgo-build bug)")?;
    let mut table = doc
        .get("profile")
        .and_then(|p| p.get(profile))
        .and_then(Item::as_table)
        .cloned()
        .context("a preset has no [profile] table (a pgo-build bug)")?;
    if builtin_base(profile).is_some() {
        table.remove("inherits");
    }
    Ok(table)
}

/// What `add_profile` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    Added,
    Replaced,
}

/// Adds `[profile.PROFILE]` with the preset's settings to a manifest's text, or with
/// `force` replaces the settings of the one there. Returns the new text; everything
/// else in it is left as it was.
fn add_profile(text: &str, preset: &Preset, profile: &str, force: bool) -> Result<(String, Change)> {
    let mut doc: DocumentMut =
        text.parse().context("it is not valid TOML; fix it first (`cargo metadata` shows the same error)")?;
    let mut table = preset_table(preset, profile)?;
    // After the last [profile.*] table, else at the end of the file.
    let doc_end = last_position(doc.as_item());
    let position = doc.get("profile").and_then(last_position).or_else(|| doc_end.map(|p| p + 1));
    // A table that ends the file goes after the comments that end it too: they
    // belong to what is above them.
    let trailing = doc.trailing().as_str().unwrap_or_default();
    let ending_comment = (position >= doc_end && !trailing.trim().is_empty())
        .then(|| trailing.trim_end_matches(['\r', '\n']).to_string());
    let mut moved_ending_comment = false;

    let profiles = doc.entry("profile").or_insert_with(|| Item::Table(implicit_table()));
    if !profiles.is_table_like() {
        bail!("its `profile` key is not a table; fix it so cargo can read it, then run this again");
    }
    let existing = profiles.as_table_like_mut().and_then(|t| t.get_mut(profile));
    let change = if let Some(existing) = existing {
        if !force {
            bail!(
                "it already has [profile.{profile}]; add --force to replace its settings (its `package` and \
                 `build-override` tables stay), or pick another name with --as PROFILE"
            );
        }
        replace_settings(existing, &table, profile)?;
        Change::Replaced
    } else {
        if let Some(inline) = profiles.as_inline_table_mut() {
            let mut value = Value::from(table.into_inline_table());
            // The space before `}` stays last.
            if let Some((_, last)) = inline.iter_mut().last()
                && let Some(suffix) = last.decor().suffix().cloned()
            {
                last.decor_mut().set_suffix("");
                value.decor_mut().set_suffix(suffix);
            }
            inline.insert(profile, value);
        } else if let Some(profiles) = profiles.as_table_mut() {
            if let Some(position) = position {
                table.set_position(position);
            }
            let prefix = match &ending_comment {
                Some(comment) => format!("{comment}\n\n"),
                None => "\n".to_string(),
            };
            moved_ending_comment = ending_comment.is_some();
            table.decor_mut().set_prefix(prefix);
            profiles.insert(profile, Item::Table(table));
        }
        Change::Added
    };
    if moved_ending_comment {
        doc.set_trailing("");
    }
    let mut out = doc.to_string();
    if text.contains("\r\n") {
        // toml_edit writes `\n` everywhere; keep the file's line endings.
        out = out.replace("\r\n", "\n").replace('\n', "\r\n");
    }
    Ok((out, change))
}

/// `--force`: the existing profile's settings become the preset's; its `package`
/// and `build-override` tables stay.
fn replace_settings(existing: &mut Item, preset: &Table, profile: &str) -> Result<()> {
    // A profile given only as `[profile.X.package.foo]` has an implicit, headerless
    // table: give it a header just before its first sub-table.
    let header_at = existing.as_table().filter(|t| t.is_implicit()).and_then(first_position);
    let Some(settings) = existing.as_table_like_mut() else {
        bail!("its `profile.{profile}` is not a table; fix it by hand (`pgo-build profiles show` prints the table)");
    };
    let old: Vec<String> =
        settings.iter().map(|(k, _)| k.to_string()).filter(|k| !KEPT_KEYS.contains(&k.as_str())).collect();
    for key in old {
        settings.remove(&key);
    }
    for (key, item) in preset.iter() {
        let mut item = item.clone();
        if let Some(value) = item.as_value_mut() {
            // The format of its new place (standard, dotted or inline table) applies.
            value.decor_mut().clear();
        }
        settings.insert(key, item);
    }
    if let Some(table) = existing.as_table_mut().filter(|t| t.is_implicit()) {
        table.set_implicit(false);
        if let Some(position) = header_at {
            table.set_position(position);
        }
        table.decor_mut().set_prefix("\n");
    }
    Ok(())
}

/// The largest document position of a table in `item` and its sub-tables.
fn last_position(item: &Item) -> Option<isize> {
    positions(item).max()
}

fn first_position(table: &Table) -> Option<isize> {
    table.iter().flat_map(|(_, item)| positions(item).collect::<Vec<_>>()).min()
}

fn positions(item: &Item) -> Box<dyn Iterator<Item = isize> + '_> {
    match item {
        Item::Table(t) => Box::new(t.position().into_iter().chain(t.iter().flat_map(|(_, child)| positions(child)))),
        Item::ArrayOfTables(a) => Box::new(
            a.iter().flat_map(|t| t.position().into_iter().chain(t.iter().flat_map(|(_, child)| positions(child)))),
        ),
        _ => Box::new(std::iter::empty()),
    }
}

#[cfg(test)]
#[path = "profiles_tests.rs"]
mod tests;
