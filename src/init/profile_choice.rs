//! Which Cargo profile `pgo-build init` writes into the config: the build the
//! project ships, which PGO should make faster.
//!
//! A project that ships an LTO build says so in a `[profile.*]` table with
//! `lto` set (`true`, `"thin"` or `"fat"`; `false` and `"off"` are not LTO);
//! `inherits` is followed, so `[profile.dist] inherits = "production"` has
//! production's LTO. With several, a name that says "shipping" wins
//! (production, dist, release-lto, then any name with prod, dist or lto in it),
//! else the first by name. With none, cargo's `release`. The reason goes into
//! the config as a comment, because a guess the user cannot see is a guess the
//! user cannot correct.

use anyhow::{Result, bail};

/// The profile chosen, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileChoice {
    pub name: String,
    /// One sentence, naming the profile: `profile "production" sets lto = "fat", …`.
    pub why: String,
    /// The other candidates, when there were several.
    pub others: Option<String>,
}

impl ProfileChoice {
    /// `why` and `others` as TOML comment lines of at most 80 columns.
    pub fn comment(&self) -> String {
        let text = match &self.others {
            Some(o) => format!("{} {o}", self.why),
            None => self.why.clone(),
        };
        let mut lines = vec![String::from("#")];
        for word in text.split(' ') {
            let last = lines.last_mut().expect("a line");
            if last.len() > 1 && last.len() + 1 + word.len() > 80 {
                lines.push(format!("# {word}"));
            } else {
                last.push(' ');
                last.push_str(word);
            }
        }
        lines.iter().map(|l| format!("{l}\n")).collect()
    }
}

/// Cargo's built-in profiles that are not the build one ships.
const NOT_SHIPPED: &[&str] = &["dev", "test", "bench", "doc"];

/// Chooses the profile from the workspace manifest's `[profile]` table (`None`
/// when it has none); `requested` is `--cargo-profile`.
pub fn choose(profiles: Option<&toml::Table>, requested: Option<&str>) -> Result<ProfileChoice> {
    let empty = toml::Table::new();
    let profiles = profiles.unwrap_or(&empty);
    if let Some(name) = requested {
        if !(name == "release" || name == "dev" || profiles.contains_key(name)) {
            let mut known: Vec<&str> = vec!["dev", "release"];
            known.extend(profiles.keys().map(String::as_str).filter(|k| !["dev", "release"].contains(k)));
            bail!(
                "--cargo-profile {name}: the workspace's Cargo.toml has no profile `{name}` (there are: {}); \
                 add a [profile.{name}] table (`pgo-build profiles write production` writes a typical one), \
                 or leave --cargo-profile out and init chooses",
                known.join(", ")
            );
        }
        let mut why = format!("profile \"{name}\": chosen with --cargo-profile");
        if let Some(lto) = lto_of(profiles, name) {
            why.push_str(&format!("; it sets {}", lto.describe(name)));
        }
        return Ok(ProfileChoice { name: name.to_string(), why, others: None });
    }
    let mut names: Vec<&str> = profiles.keys().map(String::as_str).filter(|n| !NOT_SHIPPED.contains(n)).collect();
    if !names.contains(&"release") {
        names.push("release");
    }
    let mut with_lto: Vec<(&str, Lto)> = names.into_iter().filter_map(|n| Some((n, lto_of(profiles, n)?))).collect();
    with_lto.sort_by(|a, b| (rank(a.0), a.0).cmp(&(rank(b.0), b.0)));
    let Some((name, lto)) = with_lto.first() else {
        return Ok(ProfileChoice {
            name: "release".into(),
            why: "profile \"release\": no profile in Cargo.toml sets lto, so cargo's release build is the one to \
                  optimize (compare still measures PGO against fat LTO: the production preset)"
                .into(),
            others: None,
        });
    };
    let why = format!("profile \"{name}\" sets {}, the build you ship", lto.describe(name));
    let others = (with_lto.len() > 1).then(|| {
        let mut all: Vec<&str> = with_lto.iter().map(|(n, _)| *n).collect();
        all.sort_unstable();
        let how = if rank(name) < rank(with_lto[1].0) { "named like a shipping build" } else { "the first by name" };
        format!("(profiles with lto: {}; \"{name}\" is {how}: change it if you ship another)", all.join(", "))
    });
    Ok(ProfileChoice { name: name.to_string(), why, others })
}

/// How much a name says "the build we ship": lower is more.
fn rank(name: &str) -> u8 {
    match name {
        "production" => 0,
        "dist" => 1,
        "release-lto" => 2,
        _ if name.contains("prod") => 3,
        _ if name.contains("dist") => 4,
        _ if name.contains("lto") => 5,
        "release" => 6,
        _ => 7,
    }
}

/// A profile's `lto`, when it turns LTO on, and the profile that set it.
#[derive(Debug, Clone, PartialEq)]
struct Lto {
    value: toml::Value,
    from: String,
}

impl Lto {
    /// `lto = "fat"`, or `lto = "fat" (inherited from "production")`.
    fn describe(&self, profile: &str) -> String {
        let own = format!("lto = {}", self.value);
        if self.from == profile { own } else { format!("{own} (inherited from \"{}\")", self.from) }
    }
}

/// The `lto` in force for `name`, following `inherits` (at most a few steps:
/// cargo refuses cycles, and a broken chain just means no LTO found).
fn lto_of(profiles: &toml::Table, name: &str) -> Option<Lto> {
    let mut current = name.to_string();
    for _ in 0..8 {
        let table = profiles.get(&current).and_then(toml::Value::as_table);
        if let Some(value) = table.and_then(|t| t.get("lto")) {
            let on = !matches!(value, toml::Value::Boolean(false)) && value.as_str() != Some("off");
            return on.then(|| Lto { value: value.clone(), from: current });
        }
        current = match (table.and_then(|t| t.get("inherits")).and_then(toml::Value::as_str), current.as_str()) {
            (Some(parent), _) => parent.to_string(),
            (None, "bench") => "release".to_string(),
            (None, "test") => "dev".to_string(),
            _ => return None,
        };
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profiles(text: &str) -> toml::Table {
        let doc: toml::Table = toml::from_str(text).unwrap();
        doc.get("profile").and_then(toml::Value::as_table).cloned().unwrap_or_default()
    }

    fn chosen(text: &str) -> ProfileChoice {
        choose(Some(&profiles(text)), None).unwrap()
    }

    #[test]
    fn the_profile_with_lto_is_chosen_and_the_comment_says_why() {
        let c = chosen("[profile.production]\ninherits = \"release\"\nlto = \"fat\"\ncodegen-units = 1\n");
        assert_eq!(c.name, "production");
        assert_eq!(c.why, "profile \"production\" sets lto = \"fat\", the build you ship");
        assert_eq!(c.others, None);
        assert_eq!(c.comment(), "# profile \"production\" sets lto = \"fat\", the build you ship\n");
    }

    #[test]
    fn without_lto_it_is_release() {
        for text in ["", "[profile.release]\ndebug = 1\n", "[profile.fast]\ninherits = \"release\"\nlto = false\n"] {
            let c = chosen(text);
            assert_eq!(c.name, "release", "{text}");
            assert!(c.why.starts_with("profile \"release\": no profile in Cargo.toml sets lto"), "{c:?}");
        }
        assert_eq!(choose(None, None).unwrap().name, "release");
        assert_eq!(chosen("[profile.release]\nlto = \"off\"\n").name, "release");
    }

    #[test]
    fn release_with_lto_is_named_for_its_lto() {
        let c = chosen("[profile.release]\nlto = true\n");
        assert_eq!(c.name, "release");
        assert_eq!(c.why, "profile \"release\" sets lto = true, the build you ship");
    }

    #[test]
    fn a_shipping_name_wins_among_several_and_all_are_listed() {
        let c = chosen(
            "[profile.release]\nlto = \"thin\"\n[profile.fast]\ninherits = \"release\"\nlto = \"fat\"\n\
             [profile.dist]\ninherits = \"release\"\nlto = \"fat\"\n",
        );
        assert_eq!(c.name, "dist");
        assert_eq!(
            c.others.as_deref(),
            Some(
                "(profiles with lto: dist, fast, release; \"dist\" is named like a shipping build: change it if you \
                 ship another)"
            )
        );
        // Wrapped into comment lines of at most 80 columns, every word kept.
        let comment = c.comment();
        assert!(comment.lines().all(|l| l.starts_with("# ") && l.len() <= 80), "{comment}");
        assert!(comment.lines().count() > 1, "{comment}");
        let words = |t: &str| t.split_whitespace().filter(|w| *w != "#").collect::<Vec<_>>().join(" ");
        assert_eq!(words(&comment), format!("{} {}", c.why, c.others.as_deref().unwrap_or_default()));
        assert_eq!(
            chosen("[profile.release]\nlto = \"thin\"\n[profile.production]\nlto = \"fat\"\n").name,
            "production"
        );
        // No name says it: the first by name, and the comment says that is all it is.
        let c = chosen(
            "[profile.zeta]\ninherits = \"release\"\nlto = \"thin\"\n[profile.alpha]\ninherits = \"release\"\nlto = true\n",
        );
        assert_eq!(c.name, "alpha");
        assert!(c.others.as_deref().is_some_and(|o| o.contains("the first by name")), "{c:?}");
    }

    #[test]
    fn lto_is_inherited() {
        let c = chosen(
            "[profile.release]\nlto = false\n[profile.base]\ninherits = \"release\"\nlto = \"fat\"\n\
             [profile.ship]\ninherits = \"base\"\n",
        );
        // `base` and `ship` both have it; neither name ranks, so by name.
        assert_eq!(c.name, "base");
        let ship = chosen("[profile.release]\nlto = \"fat\"\n[profile.production]\ninherits = \"release\"\n");
        assert_eq!(ship.name, "production");
        assert_eq!(
            ship.why,
            "profile \"production\" sets lto = \"fat\" (inherited from \"release\"), the build you ship"
        );
        // bench inherits release, but is never the build one ships.
        assert_eq!(chosen("[profile.bench]\nlto = true\n").name, "release");
    }

    #[test]
    fn a_requested_profile_must_exist() {
        let p = profiles("[profile.production]\nlto = \"fat\"\n");
        let c = choose(Some(&p), Some("production")).unwrap();
        assert_eq!(c.why, "profile \"production\": chosen with --cargo-profile; it sets lto = \"fat\"");
        assert_eq!(choose(Some(&p), Some("release")).unwrap().name, "release");
        let err = choose(Some(&p), Some("prod")).unwrap_err().to_string();
        assert!(err.contains("no profile `prod` (there are: dev, release, production)"), "{err}");
    }
}
