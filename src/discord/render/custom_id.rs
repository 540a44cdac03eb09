//! Button `custom_id`s: what a click stands for, encoded in the at most 100 characters
//! Discord gives it and read back when the click arrives (anything not ours is `None`).

use crate::domain::announcements::AnnouncementId;
use crate::domain::commands::ButtonAction;
use crate::domain::model::{Moderation, QuestionId, TalkId};

/// The `custom_id` prefixes of confbot's buttons.
const REMIND_PREFIX: &str = "remind:";
const CONFIRM_PREFIX: &str = "announce-confirm:";
const CANCEL_PREFIX: &str = "announce-cancel:";
const EDIT_CONFIRM_PREFIX: &str = "announce-edit-confirm:";
const EDIT_DISCARD_PREFIX: &str = "announce-edit-discard:";
const FORGET_ME: &str = "forget-me";
const KEEP_MY_DATA: &str = "forget-keep";
const APPLY_SCHEDULE_PREFIX: &str = "sync-apply:";
const KEEP_PROGRAMME: &str = "sync-keep";
const UPVOTE_PREFIX: &str = "q-up:";
const ANSWERED_PREFIX: &str = "q-answered:";
const HIDE_PREFIX: &str = "q-hide:";

/// The `custom_id` of a button: `remind:<talk id>`, `announce-confirm:<id>`,
/// `announce-cancel:<id>`, `announce-edit-confirm:<id>:<draft>` or
/// `announce-edit-discard:<id>:<draft>` (at most 62 characters, under Discord's 100),
/// `forget-me` or `forget-keep`, `sync-apply:<64 hex digits>` (75 characters), `sync-keep`,
/// and a question's `q-up:<id>`, `q-answered:<id>` or `q-hide:<id>`.
pub fn custom_id(action: ButtonAction) -> String {
    match action {
        ButtonAction::RemindMe(TalkId(id)) => format!("{REMIND_PREFIX}{id}"),
        ButtonAction::ConfirmAnnouncement(AnnouncementId(id)) => format!("{CONFIRM_PREFIX}{id}"),
        ButtonAction::CancelAnnouncement(AnnouncementId(id)) => format!("{CANCEL_PREFIX}{id}"),
        ButtonAction::ConfirmEdit {
            announcement,
            draft,
        } => format!("{EDIT_CONFIRM_PREFIX}{}:{}", announcement.0, draft.0),
        ButtonAction::DiscardEdit {
            announcement,
            draft,
        } => format!("{EDIT_DISCARD_PREFIX}{}:{}", announcement.0, draft.0),
        ButtonAction::ForgetMe => FORGET_ME.to_owned(),
        ButtonAction::KeepMyData => KEEP_MY_DATA.to_owned(),
        ButtonAction::ApplySchedule(source) => format!("{APPLY_SCHEDULE_PREFIX}{source}"),
        ButtonAction::KeepProgramme => KEEP_PROGRAMME.to_owned(),
        ButtonAction::Upvote(QuestionId(id)) => format!("{UPVOTE_PREFIX}{id}"),
        ButtonAction::Moderate(QuestionId(id), Moderation::Answered) => {
            format!("{ANSWERED_PREFIX}{id}")
        }
        ButtonAction::Moderate(QuestionId(id), Moderation::Hide) => format!("{HIDE_PREFIX}{id}"),
    }
}

/// The action a clicked button's `custom_id` stands for, if it is one of ours.
pub fn parse_custom_id(custom_id: &str) -> Option<ButtonAction> {
    let pair = |rest: &str| -> Option<(AnnouncementId, AnnouncementId)> {
        let (announcement, draft) = rest.split_once(':')?;
        Some((
            AnnouncementId(announcement.parse().ok()?),
            AnnouncementId(draft.parse().ok()?),
        ))
    };
    match custom_id {
        FORGET_ME => return Some(ButtonAction::ForgetMe),
        KEEP_MY_DATA => return Some(ButtonAction::KeepMyData),
        KEEP_PROGRAMME => return Some(ButtonAction::KeepProgramme),
        _ => {}
    }
    if let Some(source) = custom_id.strip_prefix(APPLY_SCHEDULE_PREFIX) {
        return Some(ButtonAction::ApplySchedule(source.parse().ok()?));
    }
    if let Some(id) = custom_id.strip_prefix(UPVOTE_PREFIX) {
        return Some(ButtonAction::Upvote(QuestionId(id.parse().ok()?)));
    }
    for (prefix, decision) in [
        (ANSWERED_PREFIX, Moderation::Answered),
        (HIDE_PREFIX, Moderation::Hide),
    ] {
        if let Some(id) = custom_id.strip_prefix(prefix) {
            return Some(ButtonAction::Moderate(
                QuestionId(id.parse().ok()?),
                decision,
            ));
        }
    }
    if let Some(id) = custom_id.strip_prefix(REMIND_PREFIX) {
        return Some(ButtonAction::RemindMe(TalkId(id.parse().ok()?)));
    }
    if let Some(id) = custom_id.strip_prefix(CONFIRM_PREFIX) {
        return Some(ButtonAction::ConfirmAnnouncement(AnnouncementId(
            id.parse().ok()?,
        )));
    }
    if let Some(id) = custom_id.strip_prefix(CANCEL_PREFIX) {
        return Some(ButtonAction::CancelAnnouncement(AnnouncementId(
            id.parse().ok()?,
        )));
    }
    if let Some(rest) = custom_id.strip_prefix(EDIT_CONFIRM_PREFIX) {
        let (announcement, draft) = pair(rest)?;
        return Some(ButtonAction::ConfirmEdit {
            announcement,
            draft,
        });
    }
    let (announcement, draft) = pair(custom_id.strip_prefix(EDIT_DISCARD_PREFIX)?)?;
    Some(ButtonAction::DiscardEdit {
        announcement,
        draft,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::import::Fingerprint;

    #[test]
    fn custom_ids_round_trip_and_foreign_ones_are_not_ours() {
        let action = ButtonAction::RemindMe(TalkId(i64::MAX));

        assert_eq!(parse_custom_id(&custom_id(action)), Some(action));
        assert!(custom_id(action).len() <= 100);
        assert_eq!(parse_custom_id("remind:x"), None);
        let announcement_actions = [
            ButtonAction::ConfirmAnnouncement(AnnouncementId(i64::MAX)),
            ButtonAction::CancelAnnouncement(AnnouncementId(3)),
            ButtonAction::ConfirmEdit {
                announcement: AnnouncementId(i64::MAX),
                draft: AnnouncementId(i64::MAX),
            },
            ButtonAction::DiscardEdit {
                announcement: AnnouncementId(1),
                draft: AnnouncementId(2),
            },
            ButtonAction::ForgetMe,
            ButtonAction::KeepMyData,
            ButtonAction::ApplySchedule(Fingerprint::of(b"x", None, None, false)),
            ButtonAction::KeepProgramme,
            ButtonAction::Upvote(QuestionId(i64::MAX)),
            ButtonAction::Moderate(QuestionId(7), Moderation::Answered),
            ButtonAction::Moderate(QuestionId(i64::MAX), Moderation::Hide),
        ];
        for action in announcement_actions {
            assert_eq!(parse_custom_id(&custom_id(action)), Some(action));
            assert!(custom_id(action).len() <= 100);
        }
        assert_eq!(custom_id(announcement_actions[1]), "announce-cancel:3");
        assert_eq!(custom_id(announcement_actions[9]), "q-answered:7");
        assert_eq!(parse_custom_id("q-up:"), None);
        assert_eq!(parse_custom_id("q-hide:-x"), None);
        assert_eq!(parse_custom_id("announce-edit-confirm:1"), None);
        assert_eq!(parse_custom_id("announce-confirm:1:2"), None);
        assert_eq!(parse_custom_id("vote:1"), None);
        assert_eq!(parse_custom_id("forget-me-not"), None);
        assert_eq!(parse_custom_id("sync-apply:"), None);
        assert_eq!(
            parse_custom_id(&format!("sync-apply:{}", "g".repeat(64))),
            None
        );
    }
}
