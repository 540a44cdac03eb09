use chrono_tz::Tz;

use super::*;
use crate::domain::model::{SpeakerData, TalkData};
use crate::domain::programme::testing::{demo, programme, seed, talk};
use crate::domain::programme::Programme;

fn titles(p: &Programme, hits: &[NameHit]) -> Vec<String> {
    hits.iter()
        .map(|h| match h.target {
            Target::Talk(i) => p.talks[i].data.title.clone(),
            Target::Speaker(i) => format!("speaker {}", p.speakers()[i].name),
        })
        .collect()
}

#[test]
fn a_misspelt_title_word_still_finds_the_talk() {
    let p = seed();
    let hits = p.search().names("orchestrater", 25);
    assert_eq!(
        titles(&p, &hits),
        ["Python as Orchestrator: When to Glue, When to Compute"]
    );
    assert_eq!(hits[0].tier, MatchTier::Similar);
}

#[test]
fn a_speakers_surname_finds_the_speaker() {
    let p = seed();
    let hits = p.search().names("mehta", 25);
    assert_eq!(titles(&p, &hits), ["speaker Freya Bhushan Mehta"]);
    assert_eq!(hits[0].tier, MatchTier::WordPrefix);
}

#[test]
fn accents_and_case_are_folded_both_ways() {
    let p = programme(
        Tz::UTC,
        vec![],
        vec![
            talk("Café Culture", "Zoë", "Hall", "2026-04-25T09:00:00Z", 30),
            talk("Cafeteria Rules", "Ann", "Hall", "2026-04-25T10:00:00Z", 30),
        ],
    );
    assert_eq!(
        titles(&p, &p.search().names("cafe", 25)),
        ["Café Culture", "Cafeteria Rules"]
    );
    // One word of two matching is a weaker, later suggestion.
    let both = p.search().names("CAFÉ CUL", 25);
    assert_eq!(titles(&p, &both), ["Café Culture", "Cafeteria Rules"]);
    assert_eq!(
        [both[0].tier, both[1].tier],
        [MatchTier::Prefix, MatchTier::Similar]
    );
    assert_eq!(titles(&p, &p.search().names("zoe", 25)), ["speaker Zoë"]);
}

#[test]
fn prefix_matches_come_before_word_prefix_matches_before_similar_ones() {
    let p = demo();
    let hits = p.search().names("python", 25);
    assert_eq!(
        titles(&p, &hits),
        [
            "Python 103: Memory Model & Best Practices",
            "Python as Orchestrator: When to Glue, When to Compute",
        ]
    );
    let hits = p.search().names("glue compute", 25);
    assert_eq!(
        titles(&p, &hits),
        ["Python as Orchestrator: When to Glue, When to Compute"]
    );
    assert_eq!(hits[0].tier, MatchTier::WordPrefix);
}

#[test]
fn nothing_similar_gives_no_hits_and_blank_queries_give_none() {
    let p = demo();
    assert!(p.search().names("xylophone", 25).is_empty());
    assert!(p.search().names("  ?! ", 25).is_empty());
    assert!(p.search().full_text("", 25).is_empty());
}

#[test]
fn full_text_reaches_a_speakers_biography_and_ranks_all_words_first() {
    let mut bio_talk = talk("Quiet Title", "Ann Lee", "Hall", "2026-04-25T09:00:00Z", 30);
    bio_talk.speakers[0].biography = Some("Ann maintains a telescope driver.".into());
    let mut abstract_talk = talk("Other Title", "Bob", "Hall", "2026-04-25T10:00:00Z", 30);
    abstract_talk.abstract_text = Some("We point a telescope at the sky.".into());
    let title_talk = talk(
        "Telescope Drivers",
        "Cy",
        "Hall",
        "2026-04-25T11:00:00Z",
        30,
    );
    let p = programme(Tz::UTC, vec![], vec![bio_talk, abstract_talk, title_talk]);

    let hits = p.search().full_text("telescope driver", 10);

    let found: Vec<(&str, usize)> = hits
        .iter()
        .map(|h| (p.talks[h.talk].data.title.as_str(), h.matched_words))
        .collect();
    assert_eq!(
        found,
        [
            ("Telescope Drivers", 2),
            ("Quiet Title", 2),
            ("Other Title", 1)
        ]
    );
}

/// A deterministic 10,000-talk programme: 400 speakers, 20 rooms, varied titles.
fn ten_thousand_talks() -> Programme {
    const WORDS: [&str; 16] = [
        "python",
        "rust",
        "data",
        "async",
        "testing",
        "web",
        "machine",
        "learning",
        "packaging",
        "security",
        "types",
        "databases",
        "graphs",
        "music",
        "teaching",
        "café",
    ];
    let talks: Vec<TalkData> = (0..10_000usize)
        .map(|i| {
            let title = format!(
                "{} {} and {} number {i}",
                WORDS[i % 16],
                WORDS[(i / 16) % 16],
                WORDS[(i / 256) % 16]
            );
            let mut t = talk(
                &title,
                &format!("Speaker{} Family{}", i % 400, i % 37),
                &format!("Room {}", i % 20),
                "2026-04-25T09:00:00Z",
                30,
            );
            t.abstract_text = Some(format!("Abstract {i} about {}", WORDS[(i * 7) % 16]).into());
            t.speakers.push(SpeakerData {
                name: format!("Guest{i}"),
                biography: Some(format!("Guest {i} studies astronomy{i}").into()),
                ..SpeakerData::default()
            });
            t
        })
        .collect();
    programme(Tz::UTC, vec![], talks)
}

#[test]
fn a_ten_thousand_talk_programme_answers_prefix_typo_and_full_text_queries() {
    let p = ten_thousand_talks();

    let exact = p.search().names("rust rust and python number 17", 25);
    assert_eq!(titles(&p, &exact)[0], "rust rust and python number 17");
    assert_eq!(exact[0].tier, MatchTier::Prefix);

    let typo = p.search().names("pakaging", 25);
    assert_eq!(typo.len(), 25);
    assert!(typo.iter().all(|h| h.tier == MatchTier::Similar));
    assert!(titles(&p, &typo).iter().all(|t| t.contains("packaging")));

    let guest = p.search().names("guest9999", 25);
    assert_eq!(titles(&p, &guest)[0], "speaker Guest9999");

    let bio = p.search().full_text("astronomy4242", 5);
    assert_eq!(bio.len(), 1);
    assert_eq!(
        p.talks[bio[0].talk].data.title,
        "data security and python number 4242"
    );

    // Stable: the same query gives the same list.
    assert_eq!(p.search().names("py", 25), p.search().names("py", 25));
}
