//! `/announcements` (list, cancel, edit after a preview with Confirm) through the stand-in,
//! members and other servers kept out, and one confirmed announcement delivered by the real
//! scheduler. Helpers: `announcements.rs`.

use confbot::jobs::Clock;
use confbot::store::announcements::Status;
use serde_json::json;

use super::announcements::{
    announcements, audit_actions, buttons, click, draft, opened_modal, press_confirm, status,
    stored_announcement, submit, MANAGE_GUILD, MEMBER, NEWS, ROLE,
};
use super::payloads::{self, GUILD_ID, OTHER_GUILD_ID, USER_ID};
use super::subscriptions::{ask, private_text};
use super::{data, Bot};
use crate::reminders::Scheduler;

#[tokio::test]
async fn announcements_lists_cancels_and_edits_after_a_preview_with_confirm() {
    let bot = Bot::start().await;
    bot.standin.guilds().add_text(&[NEWS]);
    let options = vec![
        ("channel", 7, json!(NEWS.to_string())),
        ("repeat", 3, json!("daily 09:00")),
        ("ping", 3, json!("everyone")),
    ];
    let (id, _) = draft(&bot, options, "Coffee in the **lobby**").await;
    ask(&bot, press_confirm(GUILD_ID, MANAGE_GUILD, id)).await;

    let listed = ask(&bot, announcements(GUILD_ID, "list", None)).await;
    let edit = ask(&bot, announcements(GUILD_ID, "edit", Some(id.0))).await;
    let (edit_modal, prefilled) = opened_modal(&edit);
    let edit_preview = ask(&bot, submit(GUILD_ID, &edit_modal, "Tea in the lobby")).await;
    let text_before_confirm = stored_announcement(&bot, GUILD_ID, id)
        .await
        .announcement
        .text;
    let confirm_edit = buttons(&edit_preview)[0].clone();
    let edited = ask(&bot, click(GUILD_ID, MANAGE_GUILD, &confirm_edit)).await;
    let edited_again = ask(&bot, click(GUILD_ID, MANAGE_GUILD, &confirm_edit)).await;
    let cancelled = ask(&bot, announcements(GUILD_ID, "cancel", Some(id.0))).await;
    let empty = ask(&bot, announcements(GUILD_ID, "list", None)).await;

    let list = private_text(&listed);
    assert!(
        list.starts_with("**Scheduled announcements** (1)"),
        "{list}"
    );
    assert!(
        list.contains(&format!("**#{}** in <#{NEWS}> · next <t:", id.0)),
        "{list}"
    );
    assert!(
        list.contains("repeats `0 9 * * *` · pings @everyone"),
        "{list}"
    );
    assert!(list.contains("> Coffee in the \\*\\*lobby\\*\\*"), "{list}");
    assert_eq!(edit_modal, format!("announce-edit:{}", id.0));
    assert_eq!(prefilled.as_deref(), Some("Coffee in the **lobby**"));
    assert_eq!(data(&edit_preview)["content"], "@everyone Tea in the lobby");
    assert_eq!(
        text_before_confirm, "Coffee in the **lobby**",
        "not before Confirm"
    );
    assert!(confirm_edit.starts_with(&format!("announce-edit-confirm:{}:", id.0)));
    assert!(private_text(&edited)
        .starts_with(&format!("Saved: announcement #{} has its new text.", id.0)));
    assert!(private_text(&edited_again).contains("already confirmed or discarded"));
    assert_eq!(
        private_text(&cancelled),
        format!(
            "Cancelled announcement #{}, nothing more will be posted.",
            id.0
        )
    );
    assert!(private_text(&empty).starts_with("No announcements are scheduled"));
    let stored = stored_announcement(&bot, GUILD_ID, id).await;
    assert_eq!(
        (stored.status, stored.announcement.text.as_str()),
        (Status::Cancelled, "Tea in the lobby")
    );
    let audit = audit_actions(&bot).await;
    assert_eq!(
        audit,
        [
            "announce cancel",
            "announce edit",
            "announce confirm",
            "announce create"
        ]
    );
}

#[tokio::test]
async fn members_and_other_servers_cannot_confirm_see_or_cancel_announcements() {
    let bot = Bot::start().await;
    bot.standin.guilds().add_text(&[NEWS]);
    let (id, _) = draft(
        &bot,
        vec![("channel", 7, json!(NEWS.to_string()))],
        "Ours only",
    )
    .await;

    let member_confirm = ask(&bot, press_confirm(GUILD_ID, MEMBER, id)).await;
    let member_submit = ask(&bot, |interaction, token| {
        payloads::as_member_of(
            payloads::modal_submit(
                interaction,
                token,
                &format!("announce:{}", id.0),
                &[("text", "Mine")],
            ),
            GUILD_ID,
            USER_ID,
            MEMBER,
            &[],
        )
    })
    .await;
    let still_draft = status(&bot, GUILD_ID, id).await;
    let foreign_confirm = ask(&bot, press_confirm(OTHER_GUILD_ID, MANAGE_GUILD, id)).await;
    let foreign_submit = ask(
        &bot,
        submit(OTHER_GUILD_ID, &format!("announce:{}", id.0), "Hijacked"),
    )
    .await;
    ask(&bot, press_confirm(GUILD_ID, MANAGE_GUILD, id)).await;
    let foreign_list = ask(&bot, announcements(OTHER_GUILD_ID, "list", None)).await;
    let foreign_cancel = ask(&bot, announcements(OTHER_GUILD_ID, "cancel", Some(id.0))).await;
    let foreign_edit = ask(&bot, announcements(OTHER_GUILD_ID, "edit", Some(id.0))).await;
    let own_list = ask(&bot, announcements(GUILD_ID, "list", None)).await;

    assert!(private_text(&member_confirm).starts_with("Only this server's organisers"));
    assert!(private_text(&member_submit).starts_with("Only this server's organisers"));
    assert_eq!(
        still_draft,
        Status::Draft,
        "a member's click and form change nothing"
    );
    let not_found = format!("This server has no announcement #{} (any more).", id.0);
    assert!(private_text(&foreign_confirm).starts_with(&not_found));
    assert!(private_text(&foreign_submit).starts_with(&not_found));
    assert!(private_text(&foreign_list).starts_with("No announcements are scheduled"));
    assert!(private_text(&foreign_cancel).starts_with(&not_found));
    assert!(private_text(&foreign_edit).starts_with(&not_found));
    assert!(private_text(&own_list).contains("> Ours only"));
    let stored = stored_announcement(&bot, GUILD_ID, id).await;
    assert_eq!(
        (stored.status, stored.announcement.text.as_str()),
        (Status::Scheduled, "Ours only")
    );
}

#[tokio::test]
async fn a_confirmed_announcement_is_posted_once_with_only_the_chosen_ping() {
    let bot = Bot::start().await;
    bot.standin.guilds().add_text(&[NEWS]);
    let options = vec![
        ("channel", 7, json!(NEWS.to_string())),
        ("when", 3, json!("now")),
        ("ping", 3, json!("role")),
        ("role", 8, json!(ROLE.to_string())),
    ];
    let (id, _) = draft(&bot, options, "Keynote starts @everyone").await;
    ask(&bot, press_confirm(GUILD_ID, MANAGE_GUILD, id)).await;

    let scheduler = Scheduler::start(&bot.db.url, &bot.standin, Clock::wall(), "w", |_| {}).await;
    scheduler
        .wait_for("the announcement", |c| c.sent == 1)
        .await;
    scheduler.stop().await;

    let posted: Vec<_> = bot
        .standin
        .messages()
        .posted()
        .into_iter()
        .filter(|p| p.channel == NEWS)
        .collect();
    assert_eq!(posted.len(), 1, "{posted:?}");
    assert_eq!(
        posted[0].content,
        format!("<@&{ROLE}> Keynote starts @everyone")
    );
    assert_eq!(
        posted[0].body["allowed_mentions"],
        json!({"parse": [], "users": [], "roles": [ROLE.to_string()]}),
        "the role, not @everyone written in the text"
    );
}

#[tokio::test]
async fn without_a_channel_option_the_servers_announcement_channel_is_used() {
    let bot = Bot::start().await;
    bot.standin.guilds().add_text(&[NEWS]);
    let setup = ask(&bot, |id, token| {
        let options = vec![
            payloads::option("kind", 3, json!("announcements")),
            payloads::option("channel", 7, json!(NEWS.to_string())),
        ];
        let command = payloads::slash_with(
            id,
            token,
            "setup",
            vec![json!({"name": "channel", "type": 1, "options": options})],
        );
        payloads::as_member_of(command, GUILD_ID, USER_ID, MANAGE_GUILD, &[])
    })
    .await;
    assert!(private_text(&setup).starts_with("Saved."), "{}", setup.body);

    let tomorrow = || (chrono::Utc::now() + chrono::TimeDelta::days(1)).date_naive();
    let before = tomorrow();
    let (id, preview) = draft(&bot, vec![("when", 3, json!("tomorrow 09:00"))], "Day two!").await;
    let after = tomorrow();

    let embed = data(&preview)["embeds"][0].to_string();
    assert!(embed.contains(&format!("<#{NEWS}>")), "{embed}");
    let stored = stored_announcement(&bot, GUILD_ID, id).await;
    assert_eq!(stored.announcement.channel, NEWS);
    // The conference's zone is UTC: tomorrow at 09:00 UTC (either side of a midnight the
    // test may straddle).
    let nine = |day: chrono::NaiveDate| day.and_hms_opt(9, 0, 0).expect("time").and_utc();
    assert!(
        [nine(before), nine(after)].contains(&stored.announcement.first),
        "{}",
        stored.announcement.first
    );
}

#[tokio::test]
async fn announce_in_a_direct_message_is_refused() {
    let bot = Bot::start().await;
    bot.standin.guilds().add_text(&[NEWS]);

    let refused = ask(&bot, |id, token| {
        payloads::in_dm(payloads::slash_with(id, token, "announce", Vec::new()))
    })
    .await;

    assert_eq!(
        private_text(&refused),
        "`/announce` works in a server only, for its organisers."
    );
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM announcements")
        .fetch_one(&bot.db.pool)
        .await
        .expect("count");
    assert_eq!(stored, 0);
}
