//! What the organisers are told about the live schedule sync: each diff as one organiser-log
//! message ("3 moved, 1 cancelled, 2 added" and the talks), a failure once, a recovery once.

use crate::domain::commands::{escape_markdown, limits, truncate};
use crate::domain::diff::{DiffEntry, Field, ImportDiff, Placement};
use crate::domain::source_url::shown;
use crate::domain::time::{discord_timestamp, TimestampStyle};

/// At most this many talks are listed; the rest are counted.
const LISTED: usize = 10;

/// "3 moved, 1 changed, 1 cancelled, 2 added", or "unchanged".
pub fn summary(diff: &ImportDiff) -> String {
    let moved = diff.changed.iter().filter(|e| relocated(e)).count();
    let changed = diff.changed.len() - moved;
    let parts: Vec<String> = [
        (moved, "moved"),
        (changed, "changed"),
        (diff.cancelled.len(), "cancelled"),
        (diff.added.len(), "added"),
    ]
    .into_iter()
    .filter(|(count, _)| *count > 0)
    .map(|(count, word)| format!("{count} {word}"))
    .collect();
    if parts.is_empty() {
        "unchanged".to_owned()
    } else {
        parts.join(", ")
    }
}

fn relocated(entry: &DiffEntry) -> bool {
    entry.fields.contains(&Field::Start) || entry.fields.contains(&Field::Room)
}

/// The organiser-log message for a sync that changed something.
pub fn report(conference: &str, url: &str, diff: &ImportDiff) -> String {
    let mut text = format!(
        "📅 **{}** schedule sync: {} (from <{}>)",
        clip(conference, 100),
        summary(diff),
        truncate(&shown(url), 300)
    );
    let lines: Vec<String> = diff
        .changed
        .iter()
        .filter(|e| relocated(e))
        .map(|e| {
            let was = e.before.as_deref().map(place).unwrap_or_default();
            format!(
                "• Moved: **{}** now {} (was {was})",
                clip(&e.title, 150),
                place(&e.after)
            )
        })
        .chain(
            diff.cancelled
                .iter()
                .map(|e| format!("• Cancelled: **{}**", clip(&e.title, 150))),
        )
        .chain(
            diff.added
                .iter()
                .map(|e| format!("• Added: **{}** {}", clip(&e.title, 150), place(&e.after))),
        )
        .collect();
    for line in lines.iter().take(LISTED) {
        text.push('\n');
        text.push_str(line);
    }
    if lines.len() > LISTED {
        text.push_str(&format!("\n…and {} more", lines.len() - LISTED));
    }
    truncate(&text, limits::CONTENT)
}

/// The message for the first failure since the last good sync.
pub fn failure(conference: &str, url: &str, error: &str) -> String {
    truncate(
        &format!(
            "⚠️ **{}** schedule sync from <{}> failed: {}. The last good schedule stays in use; \
             you will hear here when the sync works again.",
            clip(conference, 100),
            truncate(&shown(url), 300),
            truncate(&escape_markdown(error), 600)
        ),
        limits::CONTENT,
    )
}

/// The message for a source refused as a mass change (another conference's file, a URL that
/// now serves a different event), the first time it is refused.
pub fn refused(conference: &str, url: &str, error: &str) -> String {
    truncate(
        &format!(
            "⚠️ **{}** schedule sync from <{}> was refused: {}. The last good schedule stays in \
             use and nobody was notified. If the new schedule is right, an organiser can \
             review it and apply it with `/sync`.",
            clip(conference, 100),
            truncate(&shown(url), 300),
            truncate(&escape_markdown(error), 600)
        ),
        limits::CONTENT,
    )
}

/// The message when a failing sync works again.
pub fn recovered(conference: &str, url: &str, result: &str) -> String {
    truncate(
        &format!(
            "✅ **{}** schedule sync from <{}> works again: {result}.",
            clip(conference, 100),
            truncate(&shown(url), 300)
        ),
        limits::CONTENT,
    )
}

fn place(placement: &Placement) -> String {
    let when = placement.start.map_or_else(
        || "unscheduled".to_owned(),
        |start| discord_timestamp(start, TimestampStyle::LongDateTime),
    );
    match placement.room.as_deref().filter(|r| !r.trim().is_empty()) {
        Some(room) => format!("{when} in {}", clip(room, 80)),
        None => when,
    }
}

fn clip(text: &str, max: usize) -> String {
    truncate(&escape_markdown(text), max)
}

#[cfg(test)]
mod tests {
    use crate::domain::model::TalkStatus;
    use chrono::{DateTime, Utc};

    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn entry(
        title: &str,
        fields: Vec<Field>,
        before: Option<(&str, &str)>,
        after: (&str, &str),
    ) -> DiffEntry {
        let placement = |(start, room): (&str, &str)| Placement {
            start: Some(at(start)),
            end: None,
            room: Some(room.to_owned()),
            status: TalkStatus::Confirmed,
        };
        DiffEntry {
            talk_id: Some(1),
            source_id: None,
            title: title.to_owned(),
            fields,
            before: before.map(|b| Box::new(placement(b))),
            after: placement(after),
        }
    }

    #[test]
    fn a_sync_report_counts_moves_cancellations_and_additions_and_lists_them() {
        let diff = ImportDiff {
            added: vec![entry(
                "New @everyone",
                vec![],
                None,
                ("2026-06-01T12:00:00Z", "Loft"),
            )],
            changed: vec![
                entry(
                    "Moved",
                    vec![Field::Start],
                    Some(("2026-06-01T09:00:00Z", "Barn")),
                    ("2026-06-01T10:00:00Z", "Barn"),
                ),
                entry(
                    "Retitled",
                    vec![Field::Abstract],
                    Some(("2026-06-01T09:00:00Z", "Barn")),
                    ("2026-06-01T09:00:00Z", "Barn"),
                ),
            ],
            cancelled: vec![entry(
                "Gone",
                vec![],
                Some(("2026-06-01T11:00:00Z", "Barn")),
                ("2026-06-01T11:00:00Z", "Barn"),
            )],
            unchanged: 4,
            ..ImportDiff::default()
        };

        let text = report("Py Conf", "https://example.org/s.ics", &diff);

        assert_eq!(summary(&diff), "1 moved, 1 changed, 1 cancelled, 1 added");
        assert_eq!(
            text,
            "📅 **Py Conf** schedule sync: 1 moved, 1 changed, 1 cancelled, 1 added (from <https://example.org/s.ics>)\n\
             • Moved: **Moved** now <t:1780308000:F> in Barn (was <t:1780304400:F> in Barn)\n\
             • Cancelled: **Gone**\n\
             • Added: **New @\u{200b}everyone** <t:1780315200:F> in Loft"
        );
        assert_eq!(summary(&ImportDiff::default()), "unchanged");
    }

    #[test]
    fn long_reports_stop_at_ten_talks_and_discords_limit() {
        let added = (0..40)
            .map(|i| {
                entry(
                    &format!("Talk {i} {}", "x".repeat(140)),
                    vec![],
                    None,
                    ("2026-06-01T12:00:00Z", "Loft"),
                )
            })
            .collect();
        let diff = ImportDiff {
            added,
            ..ImportDiff::default()
        };

        let text = report("Py Conf", "https://example.org/s.ics", &diff);

        assert!(text.chars().count() <= limits::CONTENT);
        assert!(text.contains("40 added"));
        assert!(
            text.ends_with("…and 30 more") || text.ends_with('…'),
            "{text}"
        );
    }

    #[test]
    fn a_failure_message_escapes_the_error_and_says_the_last_schedule_stays() {
        let text = failure(
            "Py Conf",
            "https://example.org/s.ics",
            "HTTP 404 **not found**",
        );

        assert!(
            text.contains("failed: HTTP 404 \\*\\*not found\\*\\*."),
            "{text}"
        );
        assert!(
            text.contains("The last good schedule stays in use"),
            "{text}"
        );
    }

    #[test]
    fn a_refusal_says_nothing_changed_and_how_to_apply_it() {
        let text = refused(
            "Py Conf",
            "https://user:secret@example.org/s.ics",
            "this import would cancel 3 of 3 talks: refused_in_case",
        );

        assert!(
            text.starts_with("⚠️ **Py Conf** schedule sync from <https://example.org/s.ics> was refused: this import would cancel 3 of 3 talks: refused\\_in\\_case."),
            "{text}"
        );
        assert!(!text.contains("secret"), "{text}");
        assert!(
            text.contains("nobody was notified") && text.contains("apply it with `/sync`"),
            "{text}"
        );
    }
}
