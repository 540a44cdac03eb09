//! A schedule.json imported as it is read, through the hash and the checks the whole reading
//! makes of its bytes: the same schedule and the same bytes hashed, or [`ReadWhole`].

use proptest::prelude::*;

use super::tests::{hash, in_pieces, over_the_limit, Trickle};
use super::{read_by, Hashing, ReadWhole};
use crate::domain::import::{parse, Format, ImportOptions};
use crate::domain::model::ImportedSchedule;

const FIXTURES: [(&str, &[u8]); 4] = [
    (
        "pretalx-anyconf.json",
        include_bytes!("../../../tests/fixtures/pretalx-anyconf.json"),
    ),
    (
        "miniconf-pretalx.json",
        include_bytes!("../../../tests/fixtures/real-world/miniconf-pretalx.json"),
    ),
    (
        "schedule-duplicate-guid.json",
        include_bytes!("../../../tests/fixtures/real-world/schedule-duplicate-guid.json"),
    ),
    // `jq -S`: the days before the zone and rooms.
    (
        "pretalx-anyconf-sorted-keys.json",
        include_bytes!("../../../tests/fixtures/pretalx-anyconf-sorted-keys.json"),
    ),
];

/// A schedule whose strings hold characters of two, three and four bytes, read and skipped,
/// after its first kilobyte (read before the format is told, and handed on whole), so that
/// reads of a few bytes cut them.
fn accented(unread: &[u8]) -> Vec<u8> {
    let mut json = format!(
        r#"{{"pad": "{}", "schedule": {{"conference": {{"title": "Zo\u00eb caf"#,
        "-".repeat(1_100)
    )
    .into_bytes();
    json.extend_from_slice("é ☕ 𝄞\", \"unread\": \"".as_bytes());
    json.extend_from_slice(unread);
    json.extend_from_slice(
        "\", \"time_zone_name\": \"UTC\", \"rooms\": [], \"days\": [{\"date\": \"2027-01-15\", \
         \"rooms\": {\"Café ☕\": [{\"guid\": \"g\", \"title\": \"Über 𝄞\", \
         \"start\": \"09:00\", \"duration\": \"00:30\"}]}}]}}}\n"
            .as_bytes(),
    );
    json
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn a_schedule_json_in_reads_of_any_size_reads_as_the_whole_text_does(
        bom in any::<bool>(),
        sizes in proptest::collection::vec(1usize..300, 1..5),
        small in 1usize..5,
    ) {
        let mut files: Vec<(&str, Vec<u8>)> =
            FIXTURES.iter().map(|(name, bytes)| (*name, bytes.to_vec())).collect();
        files.push(("accented", accented("ñ ☕ 𝄞".as_bytes())));
        for (name, mut bytes) in files {
            if bom {
                bytes.splice(0..0, *b"\xEF\xBB\xBF");
            }
            // Reads of a few bytes cut the accented characters.
            let sizes = if name == "accented" { vec![small] } else { sizes.clone() };
            let (read, hashed) = in_pieces(&bytes, 64, sizes);
            let read = read.unwrap_or_else(|why| panic!("{name} was not read as it came: {why:?}"));
            let whole = parse(&bytes, None, &ImportOptions::default()).expect("imports");
            prop_assert_eq!(read, (Format::Json, whole), "{}", name);
            prop_assert_eq!(hashed, bytes, "{}: the hash saw other bytes", name);
        }
    }
}

/// Reads `bytes`, and `again` should it be rewound, with `options`, while `take` says the
/// hash takes each piece; with how many times the hash was told to start again and the bytes
/// it was handed since.
fn twice_with(
    bytes: &[u8],
    again: &[u8],
    options: &ImportOptions,
    mut take: impl FnMut(&Hashing) -> bool,
) -> (
    Result<(Format, ImportedSchedule), ReadWhole>,
    usize,
    Vec<u8>,
) {
    let mut source = Trickle::new(bytes, vec![100]);
    source.again = again;
    let (mut hashed, mut agains) = (Vec::new(), 0);
    let read = read_by(&mut source, 64, options, None, bytes.len(), |piece| {
        if !take(&piece) {
            return false;
        }
        agains += usize::from(piece == Hashing::Again);
        hash(&mut hashed, piece);
        true
    });
    assert_eq!(source.rewound, agains, "rewound as the hash was told");
    (read, agains, hashed)
}

/// [`twice_with`] the default options, the hash taking everything.
fn twice(
    bytes: &[u8],
    again: &[u8],
) -> (
    Result<(Format, ImportedSchedule), ReadWhole>,
    usize,
    Vec<u8>,
) {
    twice_with(bytes, again, &ImportOptions::default(), |_| true)
}

#[test]
fn a_schedule_json_with_its_days_first_is_read_twice_and_hashed_from_its_second_reading() {
    let (_, pretalx) = FIXTURES[0];
    let (_, sorted) = FIXTURES[3];
    let whole = |bytes: &[u8]| parse(bytes, None, &ImportOptions::default()).expect("imports");

    let (read, agains, hashed) = twice(pretalx, pretalx);
    assert_eq!((read, agains), (Ok((Format::Json, whole(pretalx))), 0));
    assert_eq!(hashed, pretalx);

    let (read, agains, hashed) = twice(sorted, sorted);
    assert_eq!((read, agains), (Ok((Format::Json, whole(sorted))), 1));
    assert_eq!(hashed, sorted, "the second reading's bytes, once");
    assert_eq!(whole(sorted), whole(pretalx), "the same programme");

    // Changed between the readings, the file is what the second read, its bytes the hash's.
    let text = String::from_utf8(sorted.to_vec()).expect("UTF-8");
    let talk_changed = text.replacen("AnyConf welcome", "AnyConf hello", 1);
    let (read, agains, hashed) = twice(sorted, talk_changed.as_bytes());
    let changed = whole(talk_changed.as_bytes());
    assert_ne!(changed, whole(sorted));
    assert_eq!((read, agains), (Ok((Format::Json, changed)), 1));
    assert_eq!(hashed, talk_changed.as_bytes());

    let zone_changed = text.replacen("Europe/Brussels", "Europe/Lisbon", 1);
    let (read, _, _) = twice(sorted, zone_changed.as_bytes());
    let why = "the conference's zone or rooms changed between two readings";
    assert_eq!(read, Err(ReadWhole(why)));
}

#[test]
fn a_second_reading_the_hash_refuses_or_that_grew_past_the_limit_is_read_whole() {
    let (_, sorted) = FIXTURES[3];
    let options = ImportOptions::default();

    let refused = twice_with(sorted, sorted, &options, |piece| *piece != Hashing::Again);
    assert_eq!(refused.0, Err(ReadWhole("the hash stopped")));
    assert_eq!(refused.1, 0, "not rewound");
    // A run of the second reading refused.
    let mut runs_after = None::<usize>;
    let refused = twice_with(sorted, sorted, &options, |piece| {
        if *piece == Hashing::Again {
            runs_after = Some(0);
        } else if let Some(runs) = &mut runs_after {
            *runs += 1;
            return *runs < 2;
        }
        true
    });
    assert_eq!(refused.0, Err(ReadWhole("the hash stopped")));

    let limit = ImportOptions {
        max_bytes: sorted.len(),
        ..ImportOptions::default()
    };
    let grown = [sorted, b" ".repeat(2_000).as_slice()].concat();
    let (read, agains, _) = twice_with(sorted, &grown, &limit, |_| true);
    assert_eq!((read, agains), (Err(ReadWhole("over the size limit")), 1));
}

#[test]
fn bytes_that_are_not_utf8_where_nothing_reads_them_are_left_to_the_whole_reading() {
    let latin1 = accented(b"caf\xE9");
    for sizes in [vec![1], vec![2], vec![1_000]] {
        let (read, _) = in_pieces(&latin1, 64, sizes);
        assert_eq!(read, Err(ReadWhole("not UTF-8")));
    }
    let whole = parse(&latin1, None, &ImportOptions::default()).expect("imports");
    assert!(
        whole.warnings[0].contains("Windows-1252"),
        "{:?}",
        whole.warnings
    );
    // A character cut in two inside a string, the second half never coming.
    let cut = accented(&"☕".as_bytes()[..2]);
    for sizes in [vec![1], vec![1_000]] {
        assert_eq!(in_pieces(&cut, 64, sizes).0, Err(ReadWhole("not UTF-8")));
    }
}

#[test]
fn a_schedule_json_that_grows_past_the_limit_or_whose_hash_stops_is_read_whole() {
    let (_, bytes) = FIXTURES[0];
    let read = over_the_limit(bytes, 1_000);
    assert_eq!(read, Err(ReadWhole("over the size limit")));

    for taken in [0, 1, 3] {
        let mut source = Trickle::new(bytes, vec![100]);
        let mut runs = 0;
        let read = read_by(
            &mut source,
            64,
            &ImportOptions::default(),
            None,
            bytes.len(),
            |_| {
                runs += 1;
                runs <= taken
            },
        );
        assert_eq!(read, Err(ReadWhole("the hash stopped")), "after {taken}");
    }
}

#[test]
fn a_schedule_json_told_as_json_is_read_as_it_comes_and_a_listing_told_as_json_is_not() {
    let (_, bytes) = FIXTURES[0];
    let mut source = Trickle::new(bytes, vec![300]);
    let options = ImportOptions::default();
    let read = read_by(
        &mut source,
        64,
        &options,
        Some(Format::Json),
        bytes.len(),
        |_| true,
    );
    assert_eq!(read.map(|(format, _)| format), Ok(Format::Json));

    let listing = b"Talks\n\nA talk\nSpeaker: Ann\n";
    let mut source = Trickle::new(listing, vec![3]);
    let read = read_by(
        &mut source,
        8,
        &options,
        Some(Format::Json),
        listing.len(),
        |_| true,
    );
    assert_eq!(read, Err(ReadWhole("JSON this reading cannot read")));
    assert!(parse(listing, Some(Format::Json), &options).is_err());
}

#[test]
fn an_odd_schedule_json_reads_as_the_whole_text_does_or_is_left_to_it() {
    let (_, fixture) = FIXTURES[0];
    let text = std::str::from_utf8(fixture).expect("UTF-8");
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    let cases: [(&str, Vec<u8>, bool); 7] = [
        (
            "two BOMs",
            [b"\xEF\xBB\xBF\xEF\xBB\xBF", fixture].concat(),
            false,
        ),
        ("lone CRs", text.replace('\n', "\r").into_bytes(), true),
        ("CRLF", text.replace('\n', "\r\n").into_bytes(), true),
        ("UTF-16", utf16, false),
        ("trailing data", [fixture, b"}"].concat(), false),
        (
            "an escaped key",
            text.replacen("\"days\"", "\"d\\u0061ys\"", 1).into_bytes(),
            true,
        ),
        (
            "a key given twice, once escaped",
            text.replacen("\"title\"", "\"t\\u0069tle\": \"Twice\", \"title\"", 1)
                .into_bytes(),
            false,
        ),
    ];
    for (name, bytes, read_as_it_comes) in cases {
        let (read, hashed) = in_pieces(&bytes, 64, vec![37]);
        let whole = parse(&bytes, None, &ImportOptions::default());
        match read {
            Ok((format, read)) => {
                assert!(read_as_it_comes, "{name} was read as it came");
                assert_eq!(format, Format::Json, "{name}");
                assert_eq!(Ok(read), whole, "{name}");
                assert_eq!(hashed, bytes, "{name}: the hash saw other bytes");
            }
            Err(why) => assert!(!read_as_it_comes, "{name} was read whole: {why:?}"),
        }
    }
}

#[test]
fn a_repeated_id_names_its_first_holder_by_day_room_and_title_in_either_reading() {
    let talk = |title: &str, start: &str| {
        format!(r#"{{"guid": "g", "title": "{title}", "start": "{start}", "duration": "00:30"}}"#)
    };
    let other = |guid: &str, start: &str| {
        format!(
            r#"{{"guid": "{guid}", "title": "Other", "start": "{start}", "duration": "00:30"}}"#
        )
    };
    let json = format!(
        r#"{{"schedule": {{"conference": {{"title": "T", "time_zone_name": "UTC", "rooms": [],
        "days": [
          {{"date": "2027-01-15", "rooms": {{"Aula": [{}, {}], "Barn": [{}, {}]}}}},
          {{"date": "2027-01-16", "rooms": {{"Barn": [{}]}}}}]}}}}}}"#,
        other("h", "08:00"),
        talk("First", "09:00"),
        other("i", "09:00"),
        talk("Second", "10:00"),
        talk("Third", "09:00"),
    );
    let whole = parse(json.as_bytes(), None, &ImportOptions::default()).expect("imports");
    let ids: Vec<_> = whole
        .talks
        .iter()
        .filter_map(|t| t.source_id.clone())
        .collect();
    let derived = |title: &str| {
        let talk = whole.talks.iter().find(|t| t.title == title);
        talk.and_then(|t| t.source_id.clone())
            .expect("a derived id")
    };
    assert_eq!(ids.len(), 5);
    assert_eq!(
        whole.warnings,
        [
            format!(
                "day 1, room \"Barn\", talk 2 (\"Second\"): the id \"g\" is also used by day 1, \
                 room \"Aula\", talk 2 (\"First\"); imported as {:?}",
                derived("Second")
            ),
            format!(
                "day 2, room \"Barn\", talk 1 (\"Third\"): the id \"g\" is also used by day 1, \
                 room \"Aula\", talk 2 (\"First\"); imported as {:?}",
                derived("Third")
            ),
        ]
    );
    let (read, _) = in_pieces(json.as_bytes(), 64, vec![100]);
    assert_eq!(read, Ok((Format::Json, whole)), "read as it comes");
}
