//! A local iCalendar file, schedule.json, schedule.xml or talk listing imported as it is
//! read ([`crate::domain::import::pieces`]): the file's text is never held whole. Its
//! fingerprint is taken from the same bytes on a thread of its own, so it is the fingerprint
//! of exactly what was parsed, even should the file change while it is read (of a
//! schedule.json read twice, the second reading's).

use std::os::unix::fs::OpenOptionsExt;
use std::sync::mpsc::sync_channel;

use crate::domain::import::fingerprint::Hasher;
use crate::domain::import::pieces::{self, Hashing, ReadWhole};
use crate::domain::import::{Fingerprint, Format, ImportOptions};
use crate::domain::model::ImportedSchedule;

use super::{ImportJob, Parsed};

/// A local iCalendar file, schedule.json, schedule.xml or talk listing imported as it is
/// read, when nothing must be known about its bytes before they are parsed: no preview to
/// check, no latest import to compare (a first, forced or dry run). `None`: the file is read
/// whole instead.
pub(super) async fn read_in_pieces(
    job: &ImportJob<'_>,
    options: &ImportOptions,
    has_latest: bool,
) -> Option<Parsed> {
    // A URL (or what only looks like one: `read_source` refuses it) is never a local file.
    // Nor is a source that must be a timetable (a sync's): `read_whole` refuses a listing.
    let in_pieces = !job.source.contains("://")
        && job.previewed.is_none()
        && !has_latest
        && !job.timetable_only;
    if !in_pieces {
        return None;
    }
    let (path, options, format) = (job.source.to_owned(), options.clone(), job.format);
    let hasher = Fingerprint::hasher(job.format, job.zone_override, job.summary_speakers);
    let read = tokio::task::spawn_blocking(move || parse(&path, &options, format, hasher))
        .await
        .inspect_err(|error| tracing::warn!(%error, "reading a file in pieces stopped"))
        .ok()
        .flatten()?;
    Some(Parsed {
        format: read.format,
        fingerprint: read.fingerprint,
        parsed: Ok(read.schedule),
        validators: None,
    })
}

/// A file parsed as it was read.
pub(super) struct Piecewise {
    pub format: Format,
    pub fingerprint: Fingerprint,
    pub schedule: ImportedSchedule,
}

/// Parses the file at `path` as it reads it, feeding its bytes to `hasher`. `None`: the
/// file is to be read whole instead (anything but a clean read of a regular UTF-8 iCalendar
/// file, schedule.json, schedule.xml or talk listing; why goes to the debug log).
pub(super) fn parse(
    path: &str,
    options: &ImportOptions,
    format: Option<Format>,
    hasher: Hasher,
) -> Option<Piecewise> {
    let read = std::thread::scope(|scope| {
        // Bounded: the hash keeps up with the parser, and a stalled one holds four pieces.
        let (send, receive) = sync_channel::<Hashing>(4);
        let hashing = std::thread::Builder::new()
            .name("import-hash".into())
            .spawn_scoped(scope, move || {
                // Kept unused: a schedule.json read a second time starts its fingerprint
                // again from the options alone.
                let mut taking = hasher.clone();
                for piece in receive {
                    match piece {
                        Hashing::Run(bytes) => taking.update(&bytes),
                        Hashing::Again => taking = hasher.clone(),
                    }
                }
                taking.finish()
            })
            .map_err(|_| ReadWhole("the hashing thread could not start"))?;
        let schedule = read(path, options, format, |piece| send.send(piece).is_ok());
        drop(send);
        let fingerprint = hashing
            .join()
            .map_err(|_| ReadWhole("the hashing thread stopped"))?;
        schedule.map(|(format, schedule)| Piecewise {
            format,
            fingerprint,
            schedule,
        })
    });
    match read {
        Ok(read) => Some(read),
        Err(ReadWhole(why)) => {
            tracing::debug!(why, path, "the file is read whole");
            None
        }
    }
}

/// Opens the file and reads it in pieces ([`pieces::read`]).
fn read(
    path: &str,
    options: &ImportOptions,
    format: Option<Format>,
    hashed: impl FnMut(Hashing) -> bool,
) -> Result<(Format, ImportedSchedule), ReadWhole> {
    // A pipe or a device cannot be read again should this reading give up, and opening a
    // named pipe would wait for its writer: such a source is never opened here. Opened
    // without waiting should the path become one meanwhile; a regular file reads the same.
    if !std::fs::metadata(path).is_ok_and(|meta| meta.is_file()) {
        return Err(ReadWhole("not a regular file"));
    }
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|_| ReadWhole("it could not be opened"))?;
    let meta = file
        .metadata()
        .map_err(|_| ReadWhole("its length is unknown"))?;
    if !meta.is_file() {
        return Err(ReadWhole("not a regular file"));
    }
    let total = usize::try_from(meta.len()).map_err(|_| ReadWhole("over the size limit"))?;
    if total > options.max_bytes {
        return Err(ReadWhole("over the size limit"));
    }
    pieces::read(&mut file, options, format, total, hashed)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::domain::import;

    const CALENDAR: &[u8] = include_bytes!("../../tests/fixtures/seed000-nbpy-pretalx.ics");

    fn file(bytes: &[u8]) -> tempfile::NamedTempFile {
        let mut file = tempfile::NamedTempFile::new().expect("a temporary file");
        file.write_all(bytes).expect("written");
        file
    }

    fn in_pieces(path: &str, options: &ImportOptions) -> Option<Piecewise> {
        parse(path, options, None, Fingerprint::hasher(None, None, false))
    }

    #[test]
    fn a_file_read_in_pieces_has_the_talks_and_fingerprint_of_its_bytes() {
        let options = ImportOptions::default();
        let calendar = file(CALENDAR);
        let path = calendar.path().to_str().expect("a UTF-8 path");

        let read = in_pieces(path, &options).expect("read in pieces");

        assert_eq!(read.format, Format::Ics);
        assert_eq!(
            read.fingerprint,
            Fingerprint::of(CALENDAR, None, None, false)
        );
        assert_eq!(
            read.schedule,
            import::parse(CALENDAR, None, &options).expect("imports")
        );
    }

    #[test]
    fn a_schedule_json_xml_or_listing_is_read_as_it_comes_with_the_fingerprint_of_its_bytes() {
        const JSON: &[u8] = include_bytes!("../../tests/fixtures/pretalx-anyconf.json");
        const XML: &[u8] = include_bytes!("../../tests/fixtures/pretalx-fosdemformat.xml");
        const LISTING: &[u8] = include_bytes!("../../tests/fixtures/seed004-listing-pybay.txt");
        // Its days before its zone: read twice, fingerprinted once.
        const SORTED: &[u8] =
            include_bytes!("../../tests/fixtures/pretalx-anyconf-sorted-keys.json");
        let options = ImportOptions::default();
        let files = [
            (JSON, Format::Json),
            (SORTED, Format::Json),
            (XML, Format::Xml),
            (LISTING, Format::Text),
        ];
        for (bytes, format) in files {
            let source = file(bytes);
            let path = source.path().to_str().expect("a UTF-8 path");

            let read = in_pieces(path, &options).expect("read as it comes");

            assert_eq!(read.format, format);
            assert_eq!(read.fingerprint, Fingerprint::of(bytes, None, None, false));
            assert_eq!(
                read.schedule,
                import::parse(bytes, None, &options).expect("imports")
            );
        }
    }

    #[test]
    fn what_cannot_be_read_again_or_is_over_the_limit_is_read_whole() {
        let calendar = file(CALENDAR);
        let path = calendar.path().to_str().expect("a UTF-8 path");
        let small = ImportOptions {
            max_bytes: CALENDAR.len() - 1,
            ..ImportOptions::default()
        };
        assert!(in_pieces(path, &small).is_none());
        assert!(in_pieces("/nonexistent/calendar.ics", &ImportOptions::default()).is_none());
    }

    #[test]
    fn a_named_pipe_is_left_unopened_for_the_whole_reading() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let fifo = dir.path().join("calendar.ics");
        let name = std::ffi::CString::new(fifo.to_str().expect("a UTF-8 path")).expect("no NUL");
        // SAFETY: a valid NUL-terminated path; mkfifo only creates the node.
        assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0, "mkfifo");

        // Opening it for reading would wait for a writer that never comes (and lose what a
        // writer sent before the whole reading opened it again).
        let read = in_pieces(
            fifo.to_str().expect("a UTF-8 path"),
            &ImportOptions::default(),
        );

        assert!(read.is_none());
    }
}
