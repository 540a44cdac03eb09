//! Events a parser could not read, in any format: each skipped with a warning naming it, its
//! id kept so that the diff leaves its stored talk as it was, and the file refused only when
//! most of its events are unreadable (then it is not the schedule it claims to be, or badly
//! broken).

use super::ImportError;
use crate::domain::model::ImportedSchedule;

/// How many of its events a file failed to give, and why.
#[derive(Default)]
pub struct Skipped {
    /// Events seen, readable or not.
    pub events: usize,
    errors: Vec<ImportError>,
    ids: Vec<String>,
}

/// Shown of the reasons when a file is refused for too many unreadable events.
const REASONS_SHOWN: usize = 3;

impl Skipped {
    /// An event that cannot be read: left out, its id (when it has a readable one)
    /// remembered so that its stored talk is kept as it is rather than cancelled.
    pub fn note(&mut self, id: Option<String>, error: ImportError) {
        self.ids.extend(id);
        self.errors.push(error);
    }

    /// A few unreadable events are warnings; most of a file unreadable means it is not the
    /// schedule it claims to be (or is badly broken), and it is refused.
    pub fn conclude(self, schedule: &mut ImportedSchedule) -> Result<(), ImportError> {
        if self.errors.is_empty() {
            return Ok(());
        }
        if self.errors.len() * 2 > self.events {
            if self.events == 1 {
                // A one-event file: its reason is the file's.
                return Err(self.errors.into_iter().next().unwrap_or_else(|| {
                    ImportError::msg("the calendar's only event cannot be read")
                }));
            }
            let reasons: Vec<String> = self
                .errors
                .iter()
                .take(REASONS_SHOWN)
                .map(ToString::to_string)
                .collect();
            return Err(ImportError::msg(format!(
                "{} of {} events cannot be read, so the file is refused: {}{}",
                self.errors.len(),
                self.events,
                reasons.join("; "),
                if self.errors.len() > REASONS_SHOWN {
                    "; …"
                } else {
                    ""
                }
            )));
        }
        for error in self.errors {
            schedule
                .warnings
                .push(format!("{error}; that event was skipped"));
        }
        schedule.unreadable = self.ids;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::domain::import::{frab_xml, pretalx_json, ImportOptions};

    fn event(guid: &str, start: Option<&str>, title: &str) -> String {
        let when = start.map_or_else(String::new, |hh| {
            format!("<date>2027-02-06T{hh}:00+01:00</date><start>{hh}</start>")
        });
        format!(
            "<event guid=\"{guid}\" id=\"{guid}\">{when}<duration>00:30</duration>\
             <title>{title}</title><room>Janson</room></event>\n"
        )
    }

    fn xml(events: &[String]) -> String {
        format!(
            "<schedule>\n<conference><title>T</title>\
             <time_zone_name>Europe/Brussels</time_zone_name></conference>\n\
             <day index=\"1\" date=\"2027-02-06\"><room name=\"Janson\">\n{}</room></day>\n\
             </schedule>\n",
            events.concat()
        )
    }

    #[test]
    fn an_xml_event_without_a_start_is_skipped_and_the_rest_imports() {
        let input = xml(&[
            event("g1", Some("10:00"), "Alpha"),
            event("g2", None, "Beta"),
            event("g3", Some("11:00"), "Gamma"),
        ]);

        let schedule = frab_xml::parse(&input, &ImportOptions::default()).expect("imports");

        let titles: Vec<&str> = schedule.talks.iter().map(|t| t.title.as_str()).collect();
        assert_eq!(titles, ["Alpha", "Gamma"]);
        assert_eq!(schedule.unreadable, ["g2"]);
        assert_eq!(
            schedule.warnings,
            ["line 5: <event id=\"g2\">: missing <start>; that event was skipped"]
        );
    }

    #[test]
    fn an_xml_file_whose_events_mostly_fail_is_refused_naming_them() {
        let input = xml(&[
            event("g1", None, "Alpha"),
            event("g2", None, "Beta"),
            event("g3", Some("11:00"), "Gamma"),
        ]);

        let error = frab_xml::parse(&input, &ImportOptions::default()).expect_err("refused");

        assert!(
            error
                .to_string()
                .starts_with("2 of 3 events cannot be read, so the file is refused: line 4:"),
            "{error}"
        );
    }

    #[test]
    fn a_json_talk_without_a_title_is_skipped_and_the_rest_imports() {
        let talk = |guid: &str, title: Option<&str>, hh: &str| {
            let title = title.map_or_else(|| "null".to_owned(), |t| format!("\"{t}\""));
            format!(
                "{{\"guid\": \"{guid}\", \"date\": \"2027-02-06T{hh}:00+01:00\", \
                 \"start\": \"{hh}\", \"duration\": \"00:30\", \"room\": \"Janson\", \
                 \"title\": {title}, \"persons\": []}}"
            )
        };
        let input = format!(
            "{{\"schedule\": {{\"conference\": {{\"title\": \"T\", \"time_zone_name\": \
             \"Europe/Brussels\", \"days\": [{{\"index\": 1, \"date\": \"2027-02-06\", \
             \"rooms\": {{\"Janson\": [{}, {}, {}]}}}}]}}}}}}",
            talk("j1", Some("Alpha"), "10:00"),
            talk("j2", None, "10:30"),
            talk("j3", Some("Gamma"), "11:00")
        );

        let schedule = pretalx_json::parse(&input, &ImportOptions::default()).expect("imports");

        let titles: Vec<&str> = schedule.talks.iter().map(|t| t.title.as_str()).collect();
        assert_eq!(titles, ["Alpha", "Gamma"]);
        assert_eq!(schedule.unreadable, ["j2"]);
        assert!(
            schedule.warnings[0].contains("has no title; that event was skipped"),
            "{:?}",
            schedule.warnings
        );
    }
}
