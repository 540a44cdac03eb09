//! A talk listing imported as it is read, through the same pieces as a calendar, and the
//! files whose format the first kilobyte cannot be trusted to tell.

use super::tests::{in_pieces, whole, Trickle, CLEAN};
use super::{cut, cut_lines, read_by, Hashing, ReadWhole, SNIFF_BYTES};
use crate::domain::import::{Format, ImportOptions};

const FUNDAMENTALS: &[u8] =
    include_bytes!("../../../tests/fixtures/seed001-listing-fundamentals.txt");
const PYBAY: &[u8] = include_bytes!("../../../tests/fixtures/seed004-listing-pybay.txt");
const PROPOSAL: &[u8] = include_bytes!("../../../tests/fixtures/seed002-proposal-page.txt");
const NOTES: &[u8] = include_bytes!("../../../tests/fixtures/seed003-talk-notes.rst");

#[test]
fn a_talk_listing_in_pieces_of_any_size_reads_as_the_whole_text_does() {
    let listings = [
        ("seed001-listing-fundamentals.txt", FUNDAMENTALS),
        ("seed004-listing-pybay.txt", PYBAY),
    ];
    for (name, bytes) in listings {
        let crlf = String::from_utf8_lossy(bytes).replace('\n', "\r\n");
        let with_bom = [b"\xEF\xBB\xBF", bytes].concat();
        for bytes in [bytes, crlf.as_bytes(), &with_bom] {
            for (piece, sizes) in [(1, vec![7]), (64, vec![100, 3]), (4_096, vec![usize::MAX])] {
                let (read, hashed) = in_pieces(bytes, piece, sizes);
                let read = read.unwrap_or_else(|why| panic!("{name} was read whole: {why:?}"));
                assert_eq!(
                    read,
                    (Format::Text, whole(bytes)),
                    "{name} in pieces of {piece}"
                );
                assert_eq!(hashed, bytes, "{name}: the hash saw other bytes");
            }
        }
    }
}

#[test]
fn other_text_pages_are_left_to_the_whole_reading() {
    let pages = [
        ("seed002-proposal-page.txt", PROPOSAL),
        ("seed003-talk-notes.rst", NOTES),
    ];
    for (name, bytes) in pages {
        let (read, _) = in_pieces(bytes, 64, vec![100]);
        assert_eq!(read, Err(ReadWhole("not a talk listing")), "{name}");
    }
}

#[test]
fn a_format_the_first_kilobyte_may_not_tell_is_left_to_the_whole_reading() {
    let late = Err(ReadWhole("the format is not told in the first kilobyte"));
    let (_, calendar) = CLEAN[0];
    let xml = b"<schedule><conference><title>T</title></conference></schedule>\n";
    let cases: [(&str, Vec<u8>); 3] = [
        (
            "spaces, then XML",
            [&vec![b' '; SNIFF_BYTES][..], xml].concat(),
        ),
        (
            "a BOM and line feeds, then JSON",
            [
                b"\xEF\xBB\xBF",
                &vec![b'\n'; SNIFF_BYTES - 10][..],
                b"{\"schedule\": {}}",
            ]
            .concat(),
        ),
        (
            "BEGIN:VCALENDAR across the first kilobyte",
            [&vec![b' '; SNIFF_BYTES - 8][..], calendar].concat(),
        ),
    ];
    for (name, bytes) in cases {
        assert_ne!(
            Format::detect(&bytes),
            Format::Text,
            "{name}: the whole text tells"
        );
        let (read, _) = in_pieces(&bytes, 64, vec![100]);
        assert_eq!(read, late, "{name}");
    }
    // Told within the first kilobyte (then left by the calendar's own reader, which takes
    // no white space before BEGIN), or by a file no longer than it.
    let told = [&vec![b' '; SNIFF_BYTES - 15][..], calendar].concat();
    let (read, _) = in_pieces(&told, 64, vec![100]);
    assert_eq!(
        read,
        Err(ReadWhole("the calendar could not be read this way"))
    );
    let (read, _) = in_pieces(b"   \n\n", 64, vec![100]);
    assert_eq!(
        read,
        Err(ReadWhole("not a talk listing")),
        "a short blank file"
    );
}

#[test]
fn an_indented_listing_is_still_read_a_piece_at_a_time() {
    let (_, bytes) = ("seed004-listing-pybay.txt", PYBAY);
    let indented = String::from_utf8_lossy(bytes).replace('\n', "\n  ");
    assert_eq!(
        cut_lines(b"  a\n  b\n  c", 0, false),
        8,
        "after any line feed"
    );
    assert_eq!(cut(b"  a\n  b\n  c", 0, false), 0, "a calendar's fold rule");
    assert_eq!(cut_lines(b"  a\n  b", 4, false), 0);
    assert_eq!(cut_lines(b"  a", 0, true), 3);

    let mut source = Trickle::new(indented.as_bytes(), vec![100]);
    let mut pieces = Vec::new();

    let read = read_by(
        &mut source,
        64,
        &ImportOptions::default(),
        None,
        indented.len(),
        |piece| {
            match piece {
                Hashing::Run(bytes) => pieces.push(bytes),
                Hashing::Again => panic!("a listing is read once"),
            }
            true
        },
    );

    let (format, read) = read.expect("read a piece at a time");
    assert_eq!((format, &read), (Format::Text, &whole(indented.as_bytes())));
    assert_eq!(pieces.concat(), indented.as_bytes());
    let longest = pieces.iter().skip(1).map(Vec::len).max().unwrap_or(0);
    assert!(
        pieces.len() > 100 && longest < 4_096,
        "{} pieces, the longest {longest} bytes",
        pieces.len()
    );
}
