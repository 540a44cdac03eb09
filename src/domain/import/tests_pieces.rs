//! A calendar imported as it is read, a piece at a time, against the same bytes read whole:
//! the same schedule, or [`ReadWhole`], never anything else.

use std::io::{self, Read, Seek, SeekFrom};

use proptest::prelude::*;

use super::{cut, read_by, Hashing, ReadWhole};
use crate::domain::import::{parse, Fingerprint, Format, ImportOptions};
use crate::domain::model::ImportedSchedule;

macro_rules! fixture {
    ($name:literal) => {
        (
            $name,
            include_bytes!(concat!("../../../tests/fixtures/", $name)) as &[u8],
        )
    };
}

/// Clean UTF-8 calendars: every one of them must be read in pieces.
pub(super) const CLEAN: [(&str, &[u8]); 11] = [
    fixture!("seed000-nbpy-pretalx.ics"),
    fixture!("ics-manila-pst.ics"),
    fixture!("ics-outlook-w-europe.ics"),
    fixture!("ics-sydney-aest.ics"),
    fixture!("real-world/calendar-duplicate-uid.ics"),
    fixture!("real-world/hand-written-oddities.ics"),
    fixture!("real-world/miniconf-pretalx.ics"),
    fixture!("real-world/recurring-open-spaces.ics"),
    fixture!("real-world/speakers-attendee-description.ics"),
    fixture!("real-world/speakers-in-summary.ics"),
    fixture!("real-world/zone-spellings.ics"),
];

/// Calendars only the whole reading can read as it does, and why.
const UNCLEAN: [((&str, &[u8]), &str); 5] = [
    (fixture!("real-world/encoding-utf16be-bom.ics"), "UTF-16"),
    (fixture!("real-world/encoding-utf16le-bom.ics"), "UTF-16"),
    (
        fixture!("real-world/encoding-windows-1252.ics"),
        "not UTF-8",
    ),
    (fixture!("real-world/folded-mid-character.ics"), "not UTF-8"),
    (
        fixture!("real-world/line-endings-cr-only.ics"),
        "a CR that ends no line",
    ),
];

/// Hands out its bytes in reads of the given sizes, in turn, as a file or a pipe may, and
/// counts them. Rewound to its start, it gives `again` (a file changed meanwhile).
pub(super) struct Trickle<'a> {
    pub(super) bytes: &'a [u8],
    pub(super) sizes: Vec<usize>,
    pub(super) next: usize,
    pub(super) read: usize,
    pub(super) again: &'a [u8],
    pub(super) rewound: usize,
}

impl<'a> Trickle<'a> {
    pub(super) fn new(bytes: &'a [u8], sizes: Vec<usize>) -> Self {
        Self {
            bytes,
            sizes,
            next: 0,
            read: 0,
            again: bytes,
            rewound: 0,
        }
    }
}

/// Only to the start, as the readings rewind.
impl Seek for Trickle<'_> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        if to != SeekFrom::Start(0) {
            return Err(io::Error::other("only to the start"));
        }
        self.bytes = self.again;
        self.rewound += 1;
        Ok(0)
    }
}

/// Reads `bytes`, said to be `total_bytes` long, with a limit one byte short of them.
pub(super) fn over_the_limit(
    bytes: &[u8],
    total_bytes: usize,
) -> Result<(Format, ImportedSchedule), ReadWhole> {
    let options = ImportOptions {
        max_bytes: bytes.len() - 1,
        ..ImportOptions::default()
    };
    let mut source = Trickle::new(bytes, vec![100]);
    read_by(&mut source, 64, &options, None, total_bytes, |_| true)
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let size = self.sizes[self.next % self.sizes.len()];
        self.next += 1;
        let n = size.min(buf.len()).min(self.bytes.len());
        buf[..n].copy_from_slice(&self.bytes[..n]);
        self.bytes = &self.bytes[n..];
        self.read += n;
        Ok(n)
    }
}

/// The bytes a fingerprint is taken of, as `hashed` holds them, after `piece`.
pub(super) fn hash(hashed: &mut Vec<u8>, piece: Hashing) {
    match piece {
        Hashing::Run(bytes) => hashed.extend_from_slice(&bytes),
        Hashing::Again => hashed.clear(),
    }
}

/// Reads `bytes` in pieces of about `piece` bytes, through reads of `sizes`; with the bytes
/// the hash was handed.
pub(super) fn in_pieces(
    bytes: &[u8],
    piece: usize,
    sizes: Vec<usize>,
) -> (Result<(Format, ImportedSchedule), ReadWhole>, Vec<u8>) {
    let mut hashed = Vec::new();
    let mut source = Trickle::new(bytes, sizes);
    let read = read_by(
        &mut source,
        piece,
        &ImportOptions::default(),
        None,
        bytes.len(),
        |piece| {
            hash(&mut hashed, piece);
            true
        },
    );
    (read, hashed)
}

pub(super) fn whole(bytes: &[u8]) -> ImportedSchedule {
    parse(bytes, None, &ImportOptions::default()).expect("the fixture imports")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn a_clean_calendar_in_pieces_of_any_size_reads_as_the_whole_text_does(
        piece in 1usize..400,
        sizes in proptest::collection::vec(1usize..300, 1..5),
    ) {
        for (name, bytes) in CLEAN {
            let (read, hashed) = in_pieces(bytes, piece, sizes.clone());
            let read = read.unwrap_or_else(|why| panic!("{name} was not read in pieces: {why:?}"));
            prop_assert_eq!(&read, &(Format::Ics, whole(bytes)), "{}", name);
            prop_assert_eq!(&hashed, &bytes.to_vec(), "{}: the hash saw other bytes", name);
        }
    }

    #[test]
    fn an_unclean_calendar_is_left_to_the_whole_reading(
        piece in 1usize..400,
        sizes in proptest::collection::vec(1usize..300, 1..5),
    ) {
        for ((name, bytes), why) in UNCLEAN {
            let (read, _) = in_pieces(bytes, piece, sizes.clone());
            prop_assert_eq!(read, Err(ReadWhole(why)), "{}", name);
        }
    }
}

#[test]
fn a_piece_ends_only_where_the_next_line_does_not_continue_it() {
    assert_eq!(cut(b"A:1\nB:2\n", 0, false), 4, "B:2 may still be folded");
    assert_eq!(cut(b"A:1\n B\nC:3", 0, false), 7, "the fold belongs to A");
    assert_eq!(cut(b"A:1\n\tB\n", 0, false), 0, "nothing known to follow");
    assert_eq!(cut(b"A:1 long line without an end", 0, false), 0);
    assert_eq!(cut(b"A:1\r\nB:2\r\n", 0, false), 5);
    assert_eq!(cut(b"A:1\n B", 0, true), 6, "at the end everything goes");
    assert_eq!(cut(b"", 0, true), 0);
    assert_eq!(cut(b"A:1\nB:2\nC", 5, false), 8);
    assert_eq!(
        cut(b"A:1\nB:2\n", 4, false),
        0,
        "the line feed before 4 was looked at"
    );
}

#[test]
fn a_line_folded_across_many_pieces_reads_as_the_whole_text_does() {
    let description: String = (0..2_000).map(|i| format!("\r\n word{i}")).collect();
    let calendar = format!(
        "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:a\r\nDTSTART:20270115T090000Z\r\n\
         DURATION:PT30M\r\nSUMMARY:Long\r\nDESCRIPTION:start{description}\r\nEND:VEVENT\r\n\
         END:VCALENDAR\r\n"
    );
    let (read, hashed) = in_pieces(calendar.as_bytes(), 64, vec![50]);

    let (_, read) = read.expect("read in pieces");
    assert_eq!(read, whole(calendar.as_bytes()));
    assert!(read.talks[0]
        .abstract_text
        .as_deref()
        .is_some_and(|d| d.ends_with("word1999")));
    assert_eq!(hashed, calendar.as_bytes());
}

#[test]
fn a_zone_stated_after_the_events_or_a_field_over_its_limit_is_read_whole() {
    let late = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:a\nDTSTART:20270115T090000\n\
        DURATION:PT30M\nSUMMARY:Floating\nEND:VEVENT\nX-WR-TIMEZONE:Europe/Berlin\nEND:VCALENDAR\n";
    let event = |title: &str, level: &str| {
        format!(
            "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:a\nDTSTART:20270115T090000Z\nDURATION:PT30M\n\
             SUMMARY:{title}\nX-CONFBOT-LEVEL:{level}\nEND:VEVENT\nEND:VCALENDAR\n"
        )
    };
    let long_title = event(&"t".repeat(2_000), "Beginner");
    let long_level = event("Talk", &"l".repeat(2_000));
    let empty = "BEGIN:VCALENDAR\nEND:VCALENDAR\n";
    for (name, text) in [
        ("late zone", late),
        ("long title", &long_title),
        ("long level", &long_level),
        ("no event", empty),
    ] {
        let (read, _) = in_pieces(text.as_bytes(), 16, vec![7]);
        assert!(read.is_err(), "{name} was read in pieces");
    }
    // What the whole reading makes of them: the late zone imports; the long level is cut
    // with a warning naming its line; the long title and the empty calendar are refused.
    let options = ImportOptions::default();
    assert!(parse(late.as_bytes(), None, &options).is_ok());
    let cut = parse(long_level.as_bytes(), None, &options).expect("imports");
    assert!(
        cut.warnings.iter().any(|w| w.starts_with("line 3: ")),
        "{:?}",
        cut.warnings
    );
    assert!(parse(long_title.as_bytes(), None, &options).is_err());
    assert!(parse(empty.as_bytes(), None, &options).is_err());
}

#[test]
fn a_file_over_the_limit_or_not_a_listing_is_read_whole() {
    let (_, bytes) = CLEAN[0];
    let read = over_the_limit(bytes, bytes.len() - 1);
    assert_eq!(read, Err(ReadWhole("over the size limit")));

    let page = b"Talks\n\nA talk\nSpeaker: Ann\n";
    let (read, _) = in_pieces(page, 8, vec![3]);
    assert_eq!(read, Err(ReadWhole("not a talk listing")));
}

#[test]
fn the_fingerprint_of_pieces_is_the_fingerprint_of_the_bytes() {
    let (_, bytes) = CLEAN[0];
    let mut hasher = Fingerprint::hasher(None, None, false);
    for piece in bytes.chunks(97) {
        hasher.update(piece);
    }
    assert_eq!(hasher.finish(), Fingerprint::of(bytes, None, None, false));
}

/// One generated event: its summary, its description and where that is folded (byte
/// offsets, moved to the next character boundary), whether a blank line and an unreadable
/// line follow it.
type Event = (String, String, Vec<usize>, bool, bool);

fn calendar(bom: usize, crlf: bool, calendars: &[Vec<Event>], trailing: bool) -> Vec<u8> {
    let end = if crlf { "\r\n" } else { "\n" };
    let mut text = "\u{feff}".repeat(bom);
    for (c, events) in calendars.iter().enumerate() {
        text +=
            &format!("BEGIN:VCALENDAR{end}PRODID:-//gen//{c}{end}X-WR-TIMEZONE:Europe/Berlin{end}");
        for (e, (summary, description, folds, blank, bad)) in events.iter().enumerate() {
            let mut folded = String::new();
            let mut last = 0;
            for &at in folds {
                let Some(at) = (at.max(last + 1)..description.len())
                    .find(|&i| description.is_char_boundary(i))
                else {
                    break;
                };
                folded += &description[last..at];
                folded += end;
                folded += " ";
                last = at;
            }
            folded += &description[last..];
            text += &format!(
                "BEGIN:VEVENT{end}UID:{c}-{e}{end}DTSTART:202701{:02}T090000{end}DURATION:PT30M{end}\
                 SUMMARY:{summary}{end}DESCRIPTION:{folded}{end}END:VEVENT{end}",
                e % 28 + 1
            );
            if *blank {
                text += end;
            }
            if *bad {
                text += &format!("NOT A PROPERTY{end}");
            }
        }
        text += "END:VCALENDAR";
        if trailing || c + 1 < calendars.len() {
            text += end;
        }
    }
    text.into_bytes()
}

fn event() -> impl Strategy<Value = Event> {
    (
        "[a-zA-Z ,;ü🎉-]{1,30}",
        "[a-zA-Z0-9 ,.;ü🎉\\\\-]{0,300}",
        proptest::collection::vec(0usize..300, 0..4).prop_map(|mut v| {
            v.sort_unstable();
            v
        }),
        any::<bool>(),
        proptest::bool::weighted(0.1),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn a_generated_calendar_in_pieces_reads_as_the_whole_text_or_is_read_whole(
        bom in 0usize..3,
        crlf in any::<bool>(),
        calendars in proptest::collection::vec(proptest::collection::vec(event(), 0..5), 1..3),
        trailing in any::<bool>(),
        piece in 1usize..200,
        sizes in proptest::collection::vec(1usize..150, 1..4),
    ) {
        let bytes = calendar(bom, crlf, &calendars, trailing);
        let (read, hashed) = in_pieces(&bytes, piece, sizes);
        let whole = parse(&bytes, None, &ImportOptions::default());
        // Clean enough that the reading in pieces must take it: at most one BOM (two are
        // no calendar to the format's detection), and events in every calendar.
        // A summary of white space alone is no title: the whole reading refuses the event.
        let titled = calendars.iter().flatten().all(|event| !event.0.trim().is_empty());
        let must = bom <= 1 && titled && calendars.iter().all(|events| !events.is_empty());
        match read {
            Ok((format, read)) => {
                prop_assert_eq!(format, Format::Ics);
                prop_assert_eq!(Ok(read), whole);
                prop_assert_eq!(hashed, bytes);
            }
            Err(why) => prop_assert!(!must, "read whole ({why:?}): {}", String::from_utf8_lossy(&bytes)),
        }
    }
}
