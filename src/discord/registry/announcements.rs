//! The announcement commands' registry entries (`/announce`, `/announcements`) and their
//! parsing. Part of the one command table ([`super::commands`]).

use serenity::all::Permissions;

use super::options::Given;
use super::organisers::subcommand;
use super::{CommandSpec, OptionKind, OptionSpec, ParseError};
use crate::domain::announcements::AnnouncementId;
use crate::domain::commands::announcements::{
    AnnounceCommand, AnnounceOptions, PingChoice, PING_CHOICES,
};

const fn optional(name: &'static str, description: &'static str, kind: OptionKind) -> OptionSpec {
    OptionSpec {
        name,
        description,
        required: false,
        kind,
    }
}

const TEXT: OptionKind = OptionKind::String(None);
/// Announcement ids: positive, within the integers Discord's clients send exactly (2^53).
const ID: OptionSpec = OptionSpec {
    name: "id",
    description: "The announcement's number, as /announcements lists it",
    required: true,
    kind: OptionKind::Integer {
        min: 1,
        max: (1 << 53) - 1,
    },
};

/// `/announce`: organisers only (checked by the handler, whatever Discord shows). The text
/// comes from the modal it opens.
pub(super) const ANNOUNCE: CommandSpec = CommandSpec {
    name: "announce",
    description:
        "Organisers: post an announcement now, later or repeatedly (text in the next step)",
    options: &[
        optional(
            "channel",
            "Where to post (default: this server's announcement channel)",
            OptionKind::Channel,
        ),
        optional(
            "when",
            "now, 14:30, tomorrow 09:00, 2026-04-25 14:30 (conference time) or RFC 3339",
            TEXT,
        ),
        optional(
            "repeat",
            "daily 09:00, or a cron expression such as 30 8 * * 1-5 (conference time)",
            TEXT,
        ),
        optional(
            "ping",
            "Whom to ping (default: nobody)",
            OptionKind::Choice(PING_CHOICES),
        ),
        optional("role", "The role to ping with ping:role", OptionKind::Role),
    ],
    public: false,
    default_member_permissions: Some(Permissions::MANAGE_GUILD),
};

/// `/announcements`: organisers only.
pub(super) const ANNOUNCEMENTS: CommandSpec = CommandSpec {
    name: "announcements",
    description: "Organisers: the scheduled announcements; cancel or edit one",
    options: &[
        subcommand("list", "Every scheduled announcement of this server", &[]),
        subcommand(
            "cancel",
            "Cancel an announcement: nothing more is posted",
            &[ID],
        ),
        subcommand("edit", "Change an announcement's text", &[ID]),
    ],
    public: false,
    default_member_permissions: Some(Permissions::MANAGE_GUILD),
};

/// An `/announce` invocation.
pub(super) fn parse_announce(given: &Given<'_>) -> Result<AnnounceCommand, ParseError> {
    let ping = match given.choice("ping")? {
        Some(value) => PingChoice::parse(value).ok_or(ParseError::MissingOption("ping"))?,
        None => PingChoice::None,
    };
    Ok(AnnounceCommand::New(AnnounceOptions {
        channel: given.channel("channel"),
        when: given.text("when"),
        repeat: given.text("repeat"),
        ping,
        role: given.role("role"),
    }))
}

/// An `/announcements` invocation.
pub(super) fn parse_announcements(given: &Given<'_>) -> Result<AnnounceCommand, ParseError> {
    let (name, options) = given.subcommand("announcements")?;
    let id = || -> Result<AnnouncementId, ParseError> {
        let id = options.required_integer("id")?;
        Ok(AnnouncementId(
            i64::try_from(id).map_err(|_| ParseError::MissingOption("id"))?,
        ))
    };
    Ok(match name {
        "list" => AnnounceCommand::List,
        "cancel" => AnnounceCommand::Cancel(id()?),
        "edit" => AnnounceCommand::Edit(id()?),
        _ => return Err(ParseError::MissingSubcommand("announcements")),
    })
}
