//! `/status`: organisers' view of the bot in their server. For now `/status audit`, the
//! server's recent organiser actions; an overview (`/status overview`) gets its own
//! function (and file) when it is built.

use serde_json::Value;

use super::render::{ephemeral, fit, relative};
use super::{escape_markdown, truncate, Reply};
use crate::domain::guild_settings::AuditEntry;

/// How many audit entries `/status audit` shows.
pub const AUDIT_ENTRIES: u32 = 20;

/// A parsed `/status` invocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusCommand {
    Overview,
    Audit,
}

impl StatusCommand {
    /// The command as typed, for logs and the audit of refusals.
    pub fn name(self) -> &'static str {
        match self {
            StatusCommand::Audit => "/status audit",
            StatusCommand::Overview => "/status overview",
        }
    }
}

/// The server's recent audit entries, newest first: when, who, what, before → after.
pub fn audit(entries: &[AuditEntry]) -> Reply {
    if entries.is_empty() {
        return ephemeral("No organiser actions recorded in this server yet.".to_owned());
    }
    let mut lines = vec![format!(
        "**Organiser actions in this server** (latest {}):",
        entries.len()
    )];
    lines.extend(entries.iter().map(line));
    // Twenty entries fit one message unless their values are long: `fit` then cuts,
    // at a character boundary, rather than letting Discord refuse the whole reply.
    fit(ephemeral(lines.join("\n")))
}

fn line(entry: &AuditEntry) -> String {
    let head = format!(
        "{} <@{}> {}",
        relative(entry.at),
        entry.user,
        escape_markdown(&entry.action)
    );
    let Value::Object(after) = &entry.after else {
        return head;
    };
    let changes: Vec<String> = after
        .iter()
        .map(|(key, now)| {
            let was = entry.before.get(key).unwrap_or(&Value::Null);
            format!("{key} {} → {}", shown(key, was), shown(key, now))
        })
        .collect();
    format!("{head}: {}", changes.join(", "))
}

/// A value as organisers read it: channels and roles as mentions (which ping nobody: every
/// message goes out with mentions disabled), text escaped and short.
fn shown(key: &str, value: &Value) -> String {
    let text = match value {
        Value::Null => return "none".to_owned(),
        Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    if key.ends_with("_channel") {
        format!("<#{text}>")
    } else if key.ends_with("_role") {
        format!("<@&{text}>")
    } else {
        format!("`{}`", truncate(&text.replace('`', "'"), 120))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use serde_json::json;

    #[test]
    fn an_entry_shows_who_what_when_and_each_field_before_and_after() {
        let at = Utc.with_ymd_and_hms(2026, 4, 25, 17, 0, 0).unwrap();
        let entries = [
            AuditEntry {
                user: 42,
                action: "setup timezone".into(),
                before: json!({"time_zone": null}),
                after: json!({"time_zone": "Europe/Berlin"}),
                at,
            },
            AuditEntry {
                user: 43,
                action: "refused /setup role".into(),
                before: Value::Null,
                after: Value::Null,
                at,
            },
        ];

        let reply = audit(&entries);

        let unix = at.timestamp();
        assert_eq!(
            reply.messages[0].content,
            format!(
                "**Organiser actions in this server** (latest 2):\n\
                 <t:{unix}:R> <@42> setup timezone: time_zone none → `Europe/Berlin`\n\
                 <t:{unix}:R> <@43> refused /setup role"
            )
        );
    }

    #[test]
    fn channels_and_roles_show_as_mentions() {
        assert_eq!(shown("organiser_log_channel", &json!("5")), "<#5>");
        assert_eq!(shown("organiser_role", &json!("6")), "<@&6>");
        assert_eq!(shown("refresh_minutes", &json!(15)), "`15`");
    }
}
