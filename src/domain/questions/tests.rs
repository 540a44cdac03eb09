use std::collections::BTreeMap;

use super::*;
use crate::domain::model::TalkStatus;
use crate::domain::programme::testing::{programme, talk, utc};
use crate::domain::reminders::LeadTime;

const BARN: u64 = 11;
const LOFT: u64 = 12;
const LOBBY: u64 = 13;

/// Barn: Rust 10:00-10:30, then Zig 10:30-11:00; Loft: Go 10:45-11:15; a cancelled talk in
/// Loft at 10:15.
fn day() -> Programme {
    let mut gone = talk("Gone", "Nobody", "Loft", "2026-06-01T10:15:00Z", 30);
    gone.status = TalkStatus::Cancelled;
    programme(
        chrono_tz::UTC,
        vec![],
        vec![
            talk("Rust", "Ann", "Barn", "2026-06-01T10:00:00Z", 30),
            talk("Zig", "Zed", "Barn", "2026-06-01T10:30:00Z", 30),
            talk("Go", "Bob", "Loft", "2026-06-01T10:45:00Z", 30),
            gone,
        ],
    )
}

fn id(p: &Programme, title: &str) -> TalkId {
    p.talks
        .iter()
        .find(|t| t.data.title == title)
        .map(|t| t.id)
        .expect("talk")
}

fn plan() -> ChannelPlan {
    ChannelPlan {
        by_room: BTreeMap::from([("Barn".to_owned(), BARN), ("Loft".to_owned(), LOFT)]),
        default: Some(LOBBY),
        lead: LeadTime::from_minutes(10).expect("lead"),
        names: BTreeMap::new(),
    }
}

fn question(id: i64, votes: u32, state: QuestionState, at: &str) -> Question {
    Question {
        id: QuestionId(id),
        talk: TalkId(1),
        asker: 4242,
        anonymous: false,
        text: format!("Question {id}?"),
        state,
        votes,
        asked_at: utc(at),
    }
}

#[test]
fn a_question_is_trimmed_cleaned_and_bounded() {
    assert_eq!(
        question_text("  Why Rust?\u{7}  "),
        Ok("Why Rust?".to_owned())
    );
    assert!(question_text(" \n ").is_err());
    let longest = "x".repeat(MAX_LENGTH);
    assert_eq!(question_text(&longest), Ok(longest.clone()));
    let refusal = question_text(&format!("{longest}y")).expect_err("too long");
    assert!(refusal.contains("501 characters"), "{refusal}");
}

#[test]
fn one_question_per_talk_every_thirty_seconds() {
    let now = utc("2026-06-01T10:00:30Z");
    assert_eq!(cooldown_left(None, now), None);
    assert_eq!(
        cooldown_left(Some(utc("2026-06-01T10:00:10Z")), now),
        Some(Duration::seconds(10))
    );
    assert_eq!(cooldown_left(Some(utc("2026-06-01T10:00:00Z")), now), None);
    assert!(too_soon(Duration::milliseconds(300)).contains("1 s"));
}

#[test]
fn a_room_channel_means_the_talk_running_there_else_the_next_within_half_an_hour() {
    let p = day();
    let plan = plan();
    // Rust runs in Barn; Go starts in Loft within 30 minutes, the cancelled talk is no talk.
    let at = utc("2026-06-01T10:20:00Z");
    assert_eq!(talk_in_channel(&p, &plan, BARN, at), Some(id(&p, "Rust")));
    assert_eq!(talk_in_channel(&p, &plan, LOFT, at), Some(id(&p, "Go")));
    assert_eq!(talk_in_channel(&p, &plan, LOBBY, at), None);
    // Once Rust is over, Barn's is Zig.
    let later = utc("2026-06-01T10:31:00Z");
    assert_eq!(talk_in_channel(&p, &plan, BARN, later), Some(id(&p, "Zig")));
    // Long before anything, nothing.
    assert_eq!(
        talk_in_channel(&p, &plan, BARN, utc("2026-06-01T08:00:00Z")),
        None
    );
}

#[test]
fn a_named_talk_and_the_suggestions_prefer_the_live_ones() {
    let p = day();
    let at = utc("2026-06-01T10:20:00Z");
    let suggested: Vec<String> = suggestions(&p, "", at)
        .into_iter()
        .map(|c| c.value)
        .collect();
    assert_eq!(suggested, ["Rust", "Zig", "Go"]);
    let typed: Vec<String> = suggestions(&p, "zi", at)
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(typed, ["Zig (Barn)"]);
    assert_eq!(talk_named(&p, "rust", at), Some(id(&p, "Rust")));
    assert_eq!(talk_named(&p, "Zi", at), Some(id(&p, "Zig")));
    // Not live, but named exactly: still found (the thread check decides).
    assert_eq!(
        talk_named(&p, "Rust", utc("2026-06-01T12:00:00Z")),
        Some(id(&p, "Rust"))
    );
    assert_eq!(talk_named(&p, "Gone", at), None);
    assert_eq!(talk_named(&p, "  ", at), None);
}

#[test]
fn a_card_escapes_the_question_names_the_asker_without_a_ping_and_counts_votes() {
    let mut q = question(7, 1, QuestionState::Open, "2026-06-01T10:00:00Z");
    q.text = "**Why** @everyone <@&1>?".to_owned();
    let Card::Show(shown) = card(&q) else {
        panic!("an open question is shown");
    };
    let escaped = format!("❓ {}\n", escape_markdown(&q.text));
    assert!(shown.content.starts_with(&escaped), "{}", shown.content);
    assert!(escaped.starts_with("❓ \\*\\*Why\\*\\*"), "{escaped}");
    assert!(!escaped.contains("@everyone"), "{escaped}");
    assert!(
        shown.content.contains("asked by <@4242> · ▲ 1 vote"),
        "{}",
        shown.content
    );
    assert_eq!(shown.buttons.len(), 1);
    assert_eq!(shown.buttons[0].action, ButtonAction::Upvote(QuestionId(7)));

    q.anonymous = true;
    q.votes = 3;
    q.state = QuestionState::Answered;
    let Card::Show(answered) = card(&q) else {
        panic!("an answered question is shown");
    };
    assert!(!answered.content.contains("4242"), "{}", answered.content);
    assert!(answered
        .content
        .contains("asked anonymously · ▲ 3 votes · ✅ Answered"));
    assert!(answered.buttons.is_empty(), "no more votes once answered");

    q.state = QuestionState::Hidden;
    assert_eq!(card(&q), Card::Remove);
}

#[test]
fn the_chair_list_orders_by_votes_then_age_leaves_hidden_out_and_has_a_button_row_per_decision() {
    let p = day();
    let rust = &p.talks[0];
    let questions = vec![
        question(1, 2, QuestionState::Open, "2026-06-01T10:01:00Z"),
        question(2, 5, QuestionState::Open, "2026-06-01T10:02:00Z"),
        question(3, 9, QuestionState::Hidden, "2026-06-01T10:03:00Z"),
        question(4, 2, QuestionState::Open, "2026-06-01T10:00:30Z"),
        question(5, 7, QuestionState::Answered, "2026-06-01T10:00:00Z"),
    ];
    let reply = chair_list(rust, &questions);
    assert_eq!(reply.visibility, Visibility::Ephemeral);
    let message = &reply.messages[0];
    let order: Vec<&str> = message
        .content
        .lines()
        .filter(|line| line.starts_with("**"))
        .skip(1)
        .map(|line| line.split(" · ").nth(1).unwrap_or_default())
        .collect();
    assert_eq!(
        order,
        [
            "Question 2? — <@4242>",
            "Question 4? — <@4242>",
            "Question 1? — <@4242>",
            "Question 5? — <@4242> ✅"
        ]
    );
    assert!(!message.content.contains("Question 3"));
    let actions: Vec<ButtonAction> = message.buttons.iter().map(|b| b.action).collect();
    let q = QuestionId;
    assert_eq!(
        actions,
        [
            ButtonAction::Moderate(q(2), Moderation::Answered),
            ButtonAction::Moderate(q(4), Moderation::Answered),
            ButtonAction::Moderate(q(1), Moderation::Answered),
            ButtonAction::Moderate(q(2), Moderation::Hide),
            ButtonAction::Moderate(q(4), Moderation::Hide),
            ButtonAction::Moderate(q(1), Moderation::Hide),
        ]
    );
    let empty = chair_list(rust, &[]);
    assert_eq!(empty.messages[0].content, "No questions to **Rust** yet.");
}

#[test]
fn a_long_chair_list_fits_one_message_and_buttons_for_ten() {
    let p = day();
    let many: Vec<Question> = (0..30)
        .map(|i| {
            let mut q = question(
                i,
                30 - i as u32,
                QuestionState::Open,
                "2026-06-01T10:00:00Z",
            );
            q.text = "w".repeat(MAX_LENGTH);
            q
        })
        .collect();
    let reply = chair_list(&p.talks[0], &many);
    let message = &reply.messages[0];
    assert!(message.content.chars().count() <= limits::CONTENT);
    assert!(
        message.content.contains("…and 20 more."),
        "{}",
        message.content
    );
    assert_eq!(message.buttons.len(), 2 * LISTED);
}
