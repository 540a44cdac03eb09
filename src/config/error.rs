//! Configuration errors: each names the key and where its value came from (the file or the
//! environment variable), and none ever contains the text of a secret.

use std::path::PathBuf;

use figment::error::{Error as FigmentError, Kind};
use figment::{Metadata, Profile};

/// Keys whose values must never appear in an error message.
const SECRET_KEYS: [&str; 2] = ["database.url", "discord.token"];

/// Why the settings could not be loaded. The Display is safe to print: it names keys and
/// sources, never secret values.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// An explicitly given config file (`--config` or `CONFBOT_CONFIG`) does not exist.
    #[error("config file {} does not exist", .0.display())]
    MissingFile(PathBuf),
    /// The config file exists but cannot be read.
    #[error("cannot read config file {}: {reason}", path.display())]
    Unreadable { path: PathBuf, reason: String },
    /// The config file is not valid TOML.
    #[error("{origin} is not valid TOML: {message}")]
    Syntax { origin: String, message: String },
    /// A key that confbot does not know (usually a typo).
    #[error("unknown key {key:?} in {origin}; expected one of {expected}")]
    UnknownKey {
        key: String,
        origin: String,
        expected: String,
    },
    /// A key whose value has the wrong type or is out of range.
    #[error("{key}: {message} (from {origin})")]
    Invalid {
        key: String,
        origin: String,
        message: String,
    },
}

impl ConfigError {
    /// A validation failure for `key`, whose value came from `origin`.
    pub(super) fn invalid(key: &str, origin: String, message: impl Into<String>) -> Self {
        Self::Invalid {
            key: key.to_owned(),
            origin,
            message: message.into(),
        }
    }

    /// Translates figment's error into one that names the key and its source, with secret
    /// values removed. Only the first of several chained errors is reported: fixing it
    /// usually changes the rest.
    pub(super) fn from_figment(error: FigmentError) -> Self {
        let mut path = error.path.clone();
        let origin = |path: &[String]| describe_origin(error.metadata.as_ref(), path);
        match &error.kind {
            Kind::UnknownField(field, expected) => {
                // figment usually ends the path with the field already; don't name it twice.
                if path.last() != Some(field) {
                    path.push(field.clone());
                }
                Self::UnknownKey {
                    key: key_name(&path),
                    origin: origin(&path),
                    expected: expected.join(", "),
                }
            }
            Kind::MissingField(field) => {
                let key = key_name(&path);
                let message = format!("missing required key {field:?}");
                Self::Invalid {
                    origin: origin(&path),
                    key: if key.is_empty() {
                        field.to_string()
                    } else {
                        key
                    },
                    message,
                }
            }
            // Parse errors of the file itself arrive as plain messages without a key path.
            Kind::Message(message) if path.is_empty() => Self::Syntax {
                origin: origin(&path),
                message: without_source_excerpt(message),
            },
            kind => {
                let key = key_name(&path);
                let message = match kind {
                    _ if SECRET_KEYS.contains(&key.as_str()) => redacted_kind(kind),
                    Kind::UnknownVariant(found, expected) => {
                        format!(
                            "unknown value {found:?}; expected one of {}",
                            expected.join(", ")
                        )
                    }
                    _ => kind.to_string(),
                };
                Self::Invalid {
                    origin: origin(&path),
                    key,
                    message,
                }
            }
        }
    }
}

/// A key path as written in messages: `database.url`, `guilds[0].conference`.
pub(super) fn key_name(path: &[String]) -> String {
    let mut name = String::new();
    for segment in path {
        if segment.bytes().all(|b| b.is_ascii_digit()) && !segment.is_empty() {
            name.push_str(&format!("[{segment}]"));
        } else {
            if !name.is_empty() {
                name.push('.');
            }
            name.push_str(segment);
        }
    }
    name
}

/// Names where a value came from: "config file PATH" or "environment variable NAME".
pub(super) fn describe_origin(metadata: Option<&Metadata>, path: &[String]) -> String {
    let Some(metadata) = metadata else {
        return "the built-in defaults".to_owned();
    };
    match metadata
        .source
        .as_ref()
        .and_then(|source| source.file_path())
    {
        Some(file) => format!("config file {}", file.display()),
        None => metadata.interpolate(&Profile::Default, path),
    }
}

/// The error kind without the offending value, for keys that hold secrets.
fn redacted_kind(kind: &Kind) -> String {
    match kind {
        Kind::InvalidType(_, expected) => format!("invalid type: expected {expected}"),
        Kind::InvalidValue(_, expected) => format!("invalid value: expected {expected}"),
        _ => "invalid value".to_owned(),
    }
}

/// Drops the excerpt of the offending line that TOML parse errors quote (`3 | token = "...`):
/// that line may hold a secret. Line and column remain, so the place is still named.
fn without_source_excerpt(message: &str) -> String {
    message
        .lines()
        .filter(|line| {
            let rest = line
                .trim_start()
                .trim_start_matches(|c: char| c.is_ascii_digit());
            !line.trim().is_empty() && !rest.trim_start().starts_with('|')
        })
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(": ")
}
