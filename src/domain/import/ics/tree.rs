//! Content lines -> the `BEGIN`/`END` component tree, checking that every component is closed
//! by its own `END`.

use super::lexer::{preview, ContentLine};
use crate::domain::import::ImportError;

/// Real calendars nest three deep (VCALENDAR > VTIMEZONE > STANDARD); the cap keeps a hostile
/// file from building a tree so deep that dropping it overflows the stack.
const MAX_DEPTH: usize = 16;

/// One `BEGIN:X` ... `END:X` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Component<'a> {
    /// Upper-cased component name (`VEVENT`).
    pub name: String,
    /// The line of its `BEGIN`.
    pub line: usize,
    pub properties: Vec<ContentLine<'a>>,
    pub children: Vec<Component<'a>>,
}

impl<'a> Component<'a> {
    /// The first property called `name`.
    pub fn property(&self, name: &str) -> Option<&ContentLine<'a>> {
        self.properties.iter().find(|p| p.name == name)
    }

    /// Every property called `name`, in file order.
    pub fn properties_named<'s>(
        &'s self,
        name: &'s str,
    ) -> impl Iterator<Item = &'s ContentLine<'a>> + 's {
        self.properties.iter().filter(move |p| p.name == name)
    }

    /// The child components called `name`.
    pub fn children_named<'s>(
        &'s self,
        name: &'s str,
    ) -> impl Iterator<Item = &'s Component<'a>> + 's {
        self.children.iter().filter(move |c| c.name == name)
    }
}

/// Builds the top-level `VCALENDAR` components.
#[cfg(test)]
pub(super) fn calendars(lines: Vec<ContentLine<'_>>) -> Result<Vec<Component<'_>>, ImportError> {
    calendars_noting(lines, &mut Vec::new())
}

/// [`calendars`], noting in `warnings` the properties outside any calendar (a stray line
/// after `END:VCALENDAR`), which are left out. Each calendar gets its VEVENTs back, after
/// its other components.
#[cfg(test)]
pub(super) fn calendars_noting<'a>(
    lines: Vec<ContentLine<'a>>,
    warnings: &mut Vec<String>,
) -> Result<Vec<Component<'a>>, ImportError> {
    let mut builder = Builder::default();
    let (mut calendars, mut events) = (Vec::new(), Vec::new());
    for line in lines {
        match builder.push(line) {
            Some(Closed::Event(event)) => events.push(event),
            Some(Closed::Calendar(mut calendar)) => {
                calendar.children.append(&mut events);
                calendars.push(calendar);
            }
            None => {}
        }
    }
    builder.finish(warnings)?;
    Ok(calendars)
}

/// Builds the tree one content line at a time, as the lexer reads them, and hands each
/// calendar's VEVENTs and each calendar out as they close ([`Closed`]) instead of building
/// the whole tree: a reader that turns every event into a talk at its `END` never holds the
/// lines of more than one (every event's lines, held until the tree was built, were 150 MB
/// of a 100,000-event file).
#[derive(Default)]
pub(super) struct Builder<'a> {
    open: Vec<Component<'a>>,
    /// Calendars handed out.
    calendars: usize,
    /// Kept apart until [`Builder::finish`], so they follow the lexer's warnings about
    /// unreadable lines, as when the tree was built after the whole file was lexed.
    warnings: Vec<String>,
    /// The first error; every later line is ignored.
    error: Option<ImportError>,
}

/// A component handed out by the [`Builder`] as it closes.
pub(super) enum Closed<'a> {
    /// A VEVENT of the calendar that is open.
    Event(Component<'a>),
    /// A whole calendar, without its VEVENTs.
    Calendar(Component<'a>),
}

impl<'a> Builder<'a> {
    /// Takes the next content line and returns what it closed. After the first error every
    /// line is ignored.
    pub(super) fn push(&mut self, line: ContentLine<'a>) -> Option<Closed<'a>> {
        if self.error.is_some() {
            return None;
        }
        match self.take(line) {
            Ok(closed) => closed,
            Err(error) => {
                self.error = Some(error);
                None
            }
        }
    }

    /// The calendar that is open, with what it has read so far.
    pub(super) fn calendar(&self) -> Option<&Component<'a>> {
        self.open.first()
    }

    /// Checks that the file was a whole calendar, noting in `warnings` the properties outside
    /// any calendar (a stray line after `END:VCALENDAR`), which are left out.
    pub(super) fn finish(self, warnings: &mut Vec<String>) -> Result<(), ImportError> {
        if let Some(error) = self.error {
            return Err(error);
        }
        warnings.extend(self.warnings);
        if let Some(unclosed) = self.open.last() {
            return Err(ImportError::at_line(
                unclosed.line,
                format!(
                    "BEGIN:{0} is never closed by END:{0}: the file looks truncated",
                    preview(&unclosed.name)
                ),
            ));
        }
        if self.calendars == 0 {
            return Err(ImportError::msg(
                "no BEGIN:VCALENDAR found: this is not an iCalendar file",
            ));
        }
        Ok(())
    }

    fn take(&mut self, line: ContentLine<'a>) -> Result<Option<Closed<'a>>, ImportError> {
        let open = &mut self.open;
        match line.name.as_ref() {
            "BEGIN" => {
                let name = line.value.trim().to_ascii_uppercase();
                if name.is_empty() {
                    return Err(ImportError::at_line(
                        line.line,
                        "BEGIN without a component name",
                    ));
                }
                if open.is_empty() && name != "VCALENDAR" {
                    return Err(ImportError::at_line(
                        line.line,
                        format!("expected BEGIN:VCALENDAR, found BEGIN:{}", preview(&name)),
                    ));
                }
                if open.len() >= MAX_DEPTH {
                    return Err(ImportError::at_line(
                        line.line,
                        "components are nested too deeply",
                    ));
                }
                open.push(Component {
                    name,
                    line: line.line,
                    properties: Vec::new(),
                    children: Vec::new(),
                });
            }
            "END" => {
                let name = line.value.trim().to_ascii_uppercase();
                let Some(component) = open.pop() else {
                    return Err(ImportError::at_line(
                        line.line,
                        format!("END:{} without a matching BEGIN", preview(&name)),
                    ));
                };
                if component.name != name {
                    return Err(ImportError::at_line(
                        line.line,
                        format!(
                            "END:{} does not match BEGIN:{} on line {}",
                            preview(&name),
                            preview(&component.name),
                            component.line
                        ),
                    ));
                }
                if open.len() == 1 && component.name == "VEVENT" {
                    return Ok(Some(Closed::Event(component)));
                }
                match open.last_mut() {
                    Some(parent) => parent.children.push(component),
                    None => {
                        self.calendars += 1;
                        return Ok(Some(Closed::Calendar(component)));
                    }
                }
            }
            _ => match open.last_mut() {
                Some(component) => component.properties.push(line),
                None => self.warnings.push(format!(
                    "line {}: {} is outside BEGIN:VCALENDAR ... END:VCALENDAR; left out",
                    line.line,
                    preview(&line.name)
                )),
            },
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::super::lexer::content_lines;
    use super::*;

    fn tree(input: &str) -> Result<Vec<Component<'_>>, ImportError> {
        calendars(content_lines(input)?)
    }

    #[test]
    fn nested_components_keep_their_properties_and_begin_lines() {
        let roots =
            tree("BEGIN:VCALENDAR\nX-A:1\nbegin:vevent\nUID:u\nEND:VEVENT\nEND:VCALENDAR").unwrap();
        let event = roots[0].children_named("VEVENT").next().unwrap();
        assert_eq!(event.line, 3);
        assert_eq!(event.property("UID").unwrap().value, "u");
        assert_eq!(roots[0].property("X-A").unwrap().value, "1");
    }

    #[test]
    fn a_truncated_file_names_the_unclosed_begin() {
        let err = tree("BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:x\nEND:VEVENT\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "line 1: BEGIN:VCALENDAR is never closed by END:VCALENDAR: the file looks truncated"
        );
    }

    #[test]
    fn a_mismatched_end_names_both_lines() {
        let err = tree("BEGIN:VCALENDAR\nBEGIN:VEVENT\nEND:VTODO\nEND:VCALENDAR").unwrap_err();
        assert_eq!(
            err.to_string(),
            "line 3: END:VTODO does not match BEGIN:VEVENT on line 2"
        );
    }

    #[test]
    fn a_stray_line_outside_the_calendar_is_left_out_and_noted() {
        let mut warnings = Vec::new();

        let roots = calendars_noting(
            content_lines("BEGIN:VCALENDAR\nX-A:1\nEND:VCALENDAR\nSUMMARY:x\n").unwrap(),
            &mut warnings,
        )
        .unwrap();

        assert_eq!(roots.len(), 1);
        assert_eq!(
            warnings,
            ["line 4: SUMMARY is outside BEGIN:VCALENDAR ... END:VCALENDAR; left out"]
        );
        assert_eq!(
            tree("SUMMARY:x\n").unwrap_err().to_string(),
            "no BEGIN:VCALENDAR found: this is not an iCalendar file"
        );
    }

    #[test]
    fn a_file_that_is_no_calendar_is_refused() {
        assert!(tree("BEGIN:VEVENT\nEND:VEVENT").is_err());
        assert!(tree("").is_err());
        let deep = "BEGIN:VCALENDAR\n".to_owned() + &"BEGIN:X\n".repeat(100);
        assert_eq!(
            tree(&deep).unwrap_err(),
            ImportError::at_line(17, "components are nested too deeply")
        );
    }
}
