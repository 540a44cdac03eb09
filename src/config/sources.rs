//! The layers settings are read from, as figment providers: the TOML file and two
//! environment layers. The environment layers take their variables as a list of pairs rather
//! than reading the process environment, so tests can feed them without touching it.

use std::path::Path;

use figment::providers::{Data, Format, Toml};
use figment::value::{Dict, Map, Value};
use figment::{Metadata, Profile, Provider};

use super::error::ConfigError;
use super::ENV_PREFIX;

/// The conventional variable names honoured besides the `CONFBOT__` form, and their keys.
const CONVENTIONAL: [(&str, [&str; 2]); 3] = [
    ("DATABASE_URL", ["database", "url"]),
    ("DISCORD_TOKEN", ["discord", "token"]),
    ("DISCORD_PUBLIC_KEY", ["discord", "public_key"]),
];

/// The TOML file layer; the file must exist (figment alone would silently skip it).
pub(super) fn file_layer(path: &Path) -> Result<Data<Toml>, ConfigError> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_file() => Ok(Toml::file_exact(path)),
        Ok(_) => Err(ConfigError::Unreadable {
            path: path.to_owned(),
            reason: "not a regular file".to_owned(),
        }),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            Err(ConfigError::MissingFile(path.to_owned()))
        }
        Err(error) => Err(ConfigError::Unreadable {
            path: path.to_owned(),
            reason: error.to_string(),
        }),
    }
}

/// Which naming scheme an environment layer reads.
#[derive(Clone, Copy)]
enum Scheme {
    /// `CONFBOT__SECTION__KEY`, any key.
    Prefixed,
    /// `DATABASE_URL`, `DISCORD_TOKEN` and `DISCORD_PUBLIC_KEY` only.
    Conventional,
}

/// An environment layer: the variables of one naming scheme, nested into sections.
pub(super) struct EnvLayer {
    scheme: Scheme,
    dict: Dict,
}

impl EnvLayer {
    /// `CONFBOT__SECTION__KEY=value` variables (prefix matched case-insensitively, keys
    /// lowercased). Values stay strings, extracted leniently ("4" becomes 4 where a number is
    /// expected); a value starting with `[` or `{` is parsed as a list or table, e.g.
    /// `CONFBOT__DISCORD__GUILD_IDS=[1, 2]`. Secret keys are never parsed.
    pub(super) fn prefixed(env: &[(String, String)]) -> Self {
        let mut vars: Vec<(Vec<String>, &str)> = env
            .iter()
            .filter_map(|(name, value)| {
                let head = name.get(..ENV_PREFIX.len())?;
                let rest = name.get(ENV_PREFIX.len()..)?;
                if !head.eq_ignore_ascii_case(ENV_PREFIX) || rest.is_empty() {
                    return None;
                }
                let path = rest.split("__").map(str::to_ascii_lowercase).collect();
                Some((path, value.as_str()))
            })
            .collect();
        // Sorted so that the outcome does not depend on the environment's order.
        vars.sort();
        let mut dict = Dict::new();
        for (path, raw) in vars {
            let value = if is_secret(&path) || !(raw.starts_with('[') || raw.starts_with('{')) {
                Value::from(raw.to_owned())
            } else {
                raw.parse().unwrap_or_else(|never| match never {})
            };
            insert(&mut dict, &path, value);
        }
        Self {
            scheme: Scheme::Prefixed,
            dict,
        }
    }

    /// `DATABASE_URL`, `DISCORD_TOKEN` and `DISCORD_PUBLIC_KEY`, taken verbatim.
    pub(super) fn conventional(env: &[(String, String)]) -> Self {
        let mut dict = Dict::new();
        for (name, path) in CONVENTIONAL {
            if let Some((_, value)) = env.iter().find(|(var, _)| var == name) {
                let path = path.map(str::to_owned);
                insert(&mut dict, &path, Value::from(value.clone()));
            }
        }
        Self {
            scheme: Scheme::Conventional,
            dict,
        }
    }
}

impl Provider for EnvLayer {
    fn metadata(&self) -> Metadata {
        let metadata = Metadata::named("environment");
        // The interpolater turns a key path back into the variable that set it, so that
        // errors name `CONFBOT__DATABASE__MAX_CONNECTIONS` rather than a figment path.
        match self.scheme {
            Scheme::Prefixed => metadata.interpolater(|_: &Profile, keys: &[&str]| {
                // A list item (`guilds.0`) is set by the variable holding the whole list.
                let name: Vec<String> = keys
                    .iter()
                    .take_while(|key| !key.bytes().all(|b| b.is_ascii_digit()))
                    .map(|key| key.to_ascii_uppercase())
                    .collect();
                format!("environment variable {ENV_PREFIX}{}", name.join("__"))
            }),
            Scheme::Conventional => metadata.interpolater(|_: &Profile, keys: &[&str]| {
                CONVENTIONAL
                    .iter()
                    .find(|(_, path)| path.as_slice() == keys)
                    .map_or_else(
                        || "the environment".to_owned(),
                        |(name, _)| format!("environment variable {name}"),
                    )
            }),
        }
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        Ok(Profile::Default.collect(self.dict.clone()))
    }
}

fn is_secret(path: &[String]) -> bool {
    CONVENTIONAL
        .iter()
        .any(|(_, secret)| secret.as_slice() == path)
}

/// Puts `value` at `path`, creating sections on the way. A variable naming a section that
/// another variable set to a plain value replaces it (`CONFBOT__LOG=x` and
/// `CONFBOT__LOG__LEVEL=debug`: the section wins).
fn insert(dict: &mut Dict, path: &[String], value: Value) {
    match path {
        [] => {}
        [last] => {
            dict.insert(last.clone(), value);
        }
        [first, rest @ ..] => {
            let entry = dict
                .entry(first.clone())
                .or_insert_with(|| Value::from(Dict::new()));
            if !matches!(entry, Value::Dict(..)) {
                *entry = Value::from(Dict::new());
            }
            if let Value::Dict(_, inner) = entry {
                insert(inner, rest, value);
            }
        }
    }
}
