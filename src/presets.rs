//! The Cargo profile presets pgo-build knows (see docs/profiles.md): compared
//! without editing Cargo.toml by applying them through cargo's own
//! `--config profile.NAME.KEY=VALUE` overrides, or written into Cargo.toml by
//! `pgo-build profiles write`.

/// One preset: a profile that inherits a built-in one and sets a few keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Preset {
    pub name: &'static str,
    /// The built-in profile it inherits (`release` or `dev`).
    pub inherits: &'static str,
    /// Keys and their values as TOML literals (`"fat"` with quotes, `1`, `false`).
    pub settings: &'static [(&'static str, &'static str)],
    /// What it is for, one line.
    pub summary: &'static str,
}

pub const ALL: &[Preset] = &[
    Preset {
        name: "develop",
        inherits: "dev",
        settings: &[("debug", "false")],
        summary: "fast builds for local testing: dev without debug info",
    },
    Preset { name: "fast", inherits: "release", settings: &[], summary: "release as it is" },
    Preset {
        name: "fastest",
        inherits: "release",
        settings: &[("lto", "\"fat\""), ("codegen-units", "1")],
        summary: "best speed and size, slower builds: fat LTO, one codegen unit",
    },
    Preset { name: "small", inherits: "release", settings: &[("opt-level", "\"s\"")], summary: "optimized for size" },
    Preset {
        name: "smallest",
        inherits: "release",
        settings: &[("opt-level", "\"s\""), ("lto", "\"fat\""), ("codegen-units", "1")],
        summary: "smallest binary, slower builds: size optimization with fat LTO and one codegen unit",
    },
    Preset {
        name: "production",
        inherits: "release",
        settings: &[("lto", "\"fat\""), ("codegen-units", "1"), ("panic", "\"abort\"")],
        summary: "the plain LTO build PGO is judged against: fat LTO, one codegen unit, panic = abort",
    },
];

/// The preset of that name.
pub fn find(name: &str) -> Option<&'static Preset> {
    ALL.iter().find(|p| p.name == name)
}

/// The names of all presets, for messages.
pub fn names() -> Vec<&'static str> {
    ALL.iter().map(|p| p.name).collect()
}

impl Preset {
    /// cargo `--config` values that define this preset as the profile `profile`
    /// (a name of pgo-build's own, so the project's profiles are never touched).
    pub fn config_overrides(&self, profile: &str) -> Vec<String> {
        std::iter::once(format!("profile.{profile}.inherits=\"{}\"", self.inherits))
            .chain(self.settings.iter().map(|(k, v)| format!("profile.{profile}.{k}={v}")))
            .collect()
    }

    /// The preset as a `[profile.NAME]` table, the way `profiles show` prints it.
    pub fn toml(&self, profile: &str) -> String {
        let mut out = format!("[profile.{profile}]\ninherits = \"{}\"\n", self.inherits);
        for (k, v) in self.settings {
            out.push_str(&format!("{k} = {v}\n"));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn production_is_plain_lto() {
        let p = find("production").expect("production preset");
        assert_eq!(
            p.config_overrides("pgo-build-production"),
            [
                "profile.pgo-build-production.inherits=\"release\"",
                "profile.pgo-build-production.lto=\"fat\"",
                "profile.pgo-build-production.codegen-units=1",
                "profile.pgo-build-production.panic=\"abort\"",
            ]
        );
    }

    #[test]
    fn every_value_is_valid_toml() {
        for p in ALL {
            let table: toml::Table = toml::from_str(&p.toml(p.name)).expect(p.name);
            assert!(table.contains_key("profile"), "{}", p.name);
        }
    }
}
