//! The room → channel map of a conference's reminders (`/channel`, `[reminders]`).

use std::collections::BTreeMap;

use sqlx::{Connection, PgConnection, PgExecutor};

use crate::domain::reminders::ChannelPlan;
use crate::store::{id_from_db, id_to_db, StoreError};

use super::{find_named, named_ids, to_lead};

/// Replaces the conference's channel plan. Rooms are named as in the programme (matched
/// like [`room_id`]); when two names denote one room, the later in name order wins.
///
/// Returns the names of rooms the conference does not have: when there are any, nothing is
/// stored (an organiser's typo must not silently drop a room's reminders). A plan with no
/// channel at all removes the stored plan, and [`channel_plan`] then returns `None`.
pub async fn set_channel_plan(
    conn: &mut PgConnection,
    conference_id: i64,
    plan: &ChannelPlan,
) -> Result<Vec<String>, StoreError> {
    let mut tx = conn.begin().await?;
    // Serialises concurrent replacements of one conference's plan (delete + insert would
    // otherwise collide on the unique indexes).
    sqlx::query("SELECT 1 FROM conferences WHERE id = $1 FOR UPDATE")
        .bind(conference_id)
        .execute(&mut *tx)
        .await?;
    let rooms = named_ids(&mut *tx, "rooms", conference_id).await?;
    let mut by_room_id = BTreeMap::new();
    let mut unknown = Vec::new();
    for (name, channel) in &plan.by_room {
        match find_named(&rooms, name) {
            Some(room) => {
                by_room_id.insert(room, *channel);
            }
            None => unknown.push(name.clone()),
        }
    }
    if !unknown.is_empty() {
        tx.rollback().await?;
        return Ok(unknown);
    }
    let rows: Vec<(Option<i64>, u64)> = plan
        .default
        .map(|channel| (None, channel))
        .into_iter()
        .chain(by_room_id.into_iter().map(|(room, ch)| (Some(room), ch)))
        .collect();
    sqlx::query("DELETE FROM reminder_channels WHERE conference_id = $1")
        .bind(conference_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO reminder_channels
             (conference_id, room_id, channel_id, channel_name, lead_minutes)
         SELECT $1, r.room_id, r.channel_id, r.channel_name, $5
         FROM UNNEST($2::bigint[], $3::bigint[], $4::text[])
             AS r(room_id, channel_id, channel_name)",
    )
    .bind(conference_id)
    .bind(rows.iter().map(|(room, _)| *room).collect::<Vec<_>>())
    .bind(rows.iter().map(|(_, ch)| id_to_db(*ch)).collect::<Vec<_>>())
    .bind(
        rows.iter()
            .map(|(_, ch)| plan.names.get(ch).cloned())
            .collect::<Vec<_>>(),
    )
    .bind(i32::from(plan.lead.minutes()))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Vec::new())
}

/// The conference's stored channel plan (rooms by their programme name); `None` when none
/// is stored (use the configured one).
pub async fn channel_plan(
    db: impl PgExecutor<'_>,
    conference_id: i64,
) -> Result<Option<ChannelPlan>, StoreError> {
    let rows: Vec<(Option<String>, i64, Option<String>, i32)> = sqlx::query_as(
        "SELECT r.name, rc.channel_id, rc.channel_name, rc.lead_minutes
         FROM reminder_channels rc LEFT JOIN rooms r ON r.id = rc.room_id
         WHERE rc.conference_id = $1
         ORDER BY rc.room_id NULLS FIRST",
    )
    .bind(conference_id)
    .fetch_all(db)
    .await?;
    let Some((_, _, _, minutes)) = rows.first() else {
        return Ok(None);
    };
    let mut plan = ChannelPlan {
        by_room: BTreeMap::new(),
        default: None,
        lead: to_lead(*minutes)?,
        names: BTreeMap::new(),
    };
    for (room, channel, name, _) in rows {
        let channel = id_from_db(channel);
        match room {
            Some(room) => {
                plan.by_room.insert(room, channel);
            }
            None => plan.default = Some(channel),
        }
        if let Some(name) = name {
            plan.names.insert(channel, name);
        }
    }
    Ok(Some(plan))
}
