//! Who is an organiser of a server, pure: the one rule every organiser command and button
//! goes through (the Discord adapter only collects the facts).
//!
//! An organiser is a member with the Manage Server (or Administrator) permission, as Discord
//! computed it for the interaction, or with the server's organiser role (`/setup role`,
//! first value from `[[guilds]] organiser_role`). Discord's `default_member_permissions`
//! only hides commands in the menu and server admins can change it, so it proves nothing.

/// Discord's permission bits this module reads (the API's documented values).
pub mod bits {
    pub const ADMINISTRATOR: u64 = 1 << 3;
    pub const MANAGE_GUILD: u64 = 1 << 5;
    pub const VIEW_CHANNEL: u64 = 1 << 10;
    pub const SEND_MESSAGES: u64 = 1 << 11;
    pub const MANAGE_EVENTS: u64 = 1 << 33;
}

/// What Discord told us about the member who acted; `None` for a direct message.
#[derive(Debug, Clone, Copy)]
pub struct Member<'a> {
    /// The member's permissions in the channel of the interaction (`member.permissions`);
    /// `None` when Discord sent none, which grants nothing.
    pub permissions: Option<u64>,
    /// The member's role ids.
    pub roles: &'a [u64],
}

/// The outcome of the check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// May use organiser commands.
    Organiser,
    /// A member of the server without the permission or the role.
    NotAnOrganiser,
    /// A direct message: organiser commands act on a server, so nobody may.
    NotInAServer,
}

/// Whether `member` is an organiser of a server whose organiser role is `organiser_role`.
pub fn check(member: Option<Member<'_>>, organiser_role: Option<u64>) -> Access {
    let Some(member) = member else {
        return Access::NotInAServer;
    };
    let granted = member.permissions.unwrap_or(0);
    let by_permission = granted & (bits::MANAGE_GUILD | bits::ADMINISTRATOR) != 0;
    let by_role = organiser_role.is_some_and(|role| member.roles.contains(&role));
    if by_permission || by_role {
        Access::Organiser
    } else {
        Access::NotAnOrganiser
    }
}

/// What the bot lacks to post in a channel, given its permissions there (empty: it can).
/// Administrator implies everything, as in Discord.
pub fn missing_to_post(bot_permissions: u64) -> Vec<&'static str> {
    if bot_permissions & bits::ADMINISTRATOR != 0 {
        return Vec::new();
    }
    [
        (bits::VIEW_CHANNEL, "View Channel"),
        (bits::SEND_MESSAGES, "Send Messages"),
    ]
    .into_iter()
    .filter(|(bit, _)| bot_permissions & bit == 0)
    .map(|(_, name)| name)
    .collect()
}

/// Whether the bot may create and edit the server's scheduled events: Manage Events (which
/// covers editing events it made), or Administrator.
pub fn can_manage_events(bot_permissions: u64) -> bool {
    bot_permissions & (bits::MANAGE_EVENTS | bits::ADMINISTRATOR) != 0
}

/// Whom a channel permission overwrite applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OverwriteTarget {
    Role(u64),
    Member(u64),
}

/// A channel's permission overwrite: bits allowed and denied for a role or a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overwrite {
    pub target: OverwriteTarget,
    pub allow: u64,
    pub deny: u64,
}

/// A member's permissions in a channel, by Discord's documented algorithm: the @everyone
/// role (whose id is the guild's) and the member's roles give the base; Administrator
/// grants everything; then the channel's @everyone overwrite, the member's roles'
/// overwrites together, and the member's own overwrite, each denying then allowing.
/// `roles` are the guild's roles with their permission bits.
pub fn channel_permissions(
    guild_id: u64,
    roles: &[(u64, u64)],
    member_id: u64,
    member_roles: &[u64],
    overwrites: &[Overwrite],
) -> u64 {
    let role_bits = |id: u64| {
        roles
            .iter()
            .find(|(role, _)| *role == id)
            .map_or(0, |(_, bits)| *bits)
    };
    let mut granted = member_roles
        .iter()
        .fold(role_bits(guild_id), |bits, role| bits | role_bits(*role));
    if granted & bits::ADMINISTRATOR != 0 {
        return u64::MAX;
    }
    let mut apply = |allow: u64, deny: u64| granted = (granted & !deny) | allow;
    let everyone = Overwrite {
        target: OverwriteTarget::Role(guild_id),
        allow: 0,
        deny: 0,
    };
    let everyone = overwrites
        .iter()
        .find(|o| o.target == OverwriteTarget::Role(guild_id))
        .unwrap_or(&everyone);
    apply(everyone.allow, everyone.deny);
    let (allow, deny) = overwrites
        .iter()
        .filter(|o| matches!(o.target, OverwriteTarget::Role(role) if role != guild_id && member_roles.contains(&role)))
        .fold((0, 0), |(allow, deny), o| (allow | o.allow, deny | o.deny));
    apply(allow, deny);
    if let Some(own) = overwrites
        .iter()
        .find(|o| o.target == OverwriteTarget::Member(member_id))
    {
        apply(own.allow, own.deny);
    }
    granted
}

#[cfg(test)]
mod tests {
    use super::bits::*;
    use super::*;

    const ROLE: u64 = 18_000_000_000_000_000_007;

    fn member(permissions: Option<u64>, roles: &[u64]) -> Option<Member<'_>> {
        Some(Member { permissions, roles })
    }

    #[test]
    fn manage_server_or_administrator_make_an_organiser_without_any_role() {
        assert_eq!(
            check(member(Some(MANAGE_GUILD), &[]), None),
            Access::Organiser
        );
        assert_eq!(
            check(member(Some(ADMINISTRATOR), &[]), None),
            Access::Organiser
        );
    }

    #[test]
    fn the_configured_role_makes_an_organiser_without_manage_server() {
        let roles = [1, ROLE];
        assert_eq!(
            check(member(Some(SEND_MESSAGES), &roles), Some(ROLE)),
            Access::Organiser
        );
    }

    #[test]
    fn other_roles_and_permissions_do_not() {
        let moderator = Some(SEND_MESSAGES | (1 << 4));
        assert_eq!(
            check(member(moderator, &[1, 2]), Some(ROLE)),
            Access::NotAnOrganiser
        );
        assert_eq!(
            check(member(moderator, &[ROLE]), None),
            Access::NotAnOrganiser
        );
        assert_eq!(check(member(None, &[]), None), Access::NotAnOrganiser);
    }

    #[test]
    fn nobody_is_an_organiser_in_a_direct_message() {
        assert_eq!(check(None, Some(ROLE)), Access::NotInAServer);
    }

    #[test]
    fn channel_overwrites_deny_then_allow_by_everyone_roles_and_member() {
        const GUILD: u64 = 100;
        const BOT: u64 = 7;
        let post = VIEW_CHANNEL | SEND_MESSAGES;
        let roles = [(GUILD, post), (ROLE, 0)];
        let muted = Overwrite {
            target: OverwriteTarget::Role(GUILD),
            allow: 0,
            deny: SEND_MESSAGES,
        };
        let bot_role_allowed = Overwrite {
            target: OverwriteTarget::Role(ROLE),
            allow: SEND_MESSAGES,
            deny: 0,
        };
        let bot_denied = Overwrite {
            target: OverwriteTarget::Member(BOT),
            allow: 0,
            deny: VIEW_CHANNEL,
        };

        assert_eq!(channel_permissions(GUILD, &roles, BOT, &[], &[]), post);
        assert_eq!(
            channel_permissions(GUILD, &roles, BOT, &[], &[muted]),
            VIEW_CHANNEL
        );
        let with_role =
            channel_permissions(GUILD, &roles, BOT, &[ROLE], &[muted, bot_role_allowed]);
        assert_eq!(with_role, post);
        let denied = channel_permissions(
            GUILD,
            &roles,
            BOT,
            &[ROLE],
            &[muted, bot_role_allowed, bot_denied],
        );
        assert_eq!(denied, SEND_MESSAGES);
        let admin = [(GUILD, 0), (ROLE, ADMINISTRATOR)];
        assert!(missing_to_post(channel_permissions(
            GUILD,
            &admin,
            BOT,
            &[ROLE],
            &[bot_denied]
        ))
        .is_empty());
    }

    #[test]
    fn posting_needs_view_channel_and_send_messages_unless_administrator() {
        assert!(missing_to_post(VIEW_CHANNEL | SEND_MESSAGES).is_empty());
        assert!(missing_to_post(ADMINISTRATOR).is_empty());
        assert_eq!(missing_to_post(VIEW_CHANNEL), ["Send Messages"]);
        assert_eq!(missing_to_post(0), ["View Channel", "Send Messages"]);
    }
}
