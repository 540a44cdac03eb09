//! TZIDs as real clients write them, without a VTIMEZONE to explain them: libical and
//! Mozilla prefixes, Windows names, any case (`domain::time::zone_by_name`).

use super::parse;
use crate::domain::import::ImportOptions;

const SPELLINGS: &str = include_str!("../../../../tests/fixtures/real-world/zone-spellings.ics");

#[test]
fn every_spelling_of_a_zone_gives_the_right_instant() {
    let schedule = parse(SPELLINGS, &ImportOptions::default()).expect("imports");

    let starts: Vec<(String, String)> = schedule
        .talks
        .iter()
        .map(|t| {
            let start = t.slot.expect("timed").start.to_rfc3339();
            (t.title.clone(), start)
        })
        .collect();
    let row = |title: &str, at: &str| (title.to_owned(), at.to_owned());
    assert_eq!(
        starts,
        [
            // Summer time: Prague, Stockholm and Berlin are UTC+2, New York UTC-4.
            row("Evolution (libical)", "2027-07-02T07:00:00+00:00"),
            row("Thunderbird (Mozilla)", "2027-07-02T08:00:00+00:00"),
            row("Outlook (Windows)", "2027-07-02T09:00:00+00:00"),
            row("Lower case (IANA)", "2027-07-02T13:00:00+00:00"),
            row("Bare slash", "2027-07-02T00:00:00+00:00"),
        ]
    );
}
