//! Live boards (`board_panels`): the messages a board keeps, per conference, channel and
//! room, and the message each one edits. The boards themselves are servers' settings
//! (`guild_settings.board_channel`, read by [`boards_of`]).

use sqlx::{PgConnection, PgExecutor, Row};

use super::{id_from_db, id_to_db, StoreError};
use crate::domain::board::{Board, BoardLayout, Panel, PanelSpec, Shown};

/// The boards of every server following the conference, each channel once.
pub async fn boards_of(
    db: impl PgExecutor<'_>,
    conference_id: i64,
) -> Result<Vec<Board>, StoreError> {
    let rows = sqlx::query(
        "SELECT DISTINCT ON (g.board_channel) g.board_channel, g.board_layout
           FROM guild_settings g JOIN conferences c ON c.slug = g.conference_slug
          WHERE c.id = $1 AND g.board_channel IS NOT NULL
          ORDER BY g.board_channel, g.updated_at DESC",
    )
    .bind(conference_id)
    .fetch_all(db)
    .await?;
    rows.iter()
        .map(|row| {
            let layout: String = row.try_get("board_layout")?;
            Ok(Board {
                channel: id_from_db(row.try_get("board_channel")?),
                layout: BoardLayout::parse(&layout).ok_or_else(|| {
                    StoreError::Invalid(format!("stored board layout {layout:?}"))
                })?,
            })
        })
        .collect()
}

/// Makes the conference's panels exactly `specs`: adds the missing ones, deletes the others
/// (with their pending posts), and returns them with their ids, in `specs` order.
pub async fn sync_panels(
    conn: &mut PgConnection,
    conference_id: i64,
    specs: &[PanelSpec],
) -> Result<Vec<Panel>, StoreError> {
    let channels: Vec<i64> = specs.iter().map(|s| id_to_db(s.channel)).collect();
    // '' stands for "every room" (a room name is never empty).
    let rooms: Vec<&str> = specs
        .iter()
        .map(|s| s.room.as_deref().unwrap_or(""))
        .collect();
    sqlx::query(
        "DELETE FROM board_panels p WHERE p.conference_id = $1
            AND (p.channel_id, p.room) NOT IN
                (SELECT * FROM UNNEST($2::bigint[], $3::text[]))",
    )
    .bind(conference_id)
    .bind(&channels)
    .bind(&rooms)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO board_panels (conference_id, channel_id, room)
         SELECT $1, s.channel, s.room FROM UNNEST($2::bigint[], $3::text[]) AS s(channel, room)
         ON CONFLICT (conference_id, channel_id, room) DO NOTHING",
    )
    .bind(conference_id)
    .bind(&channels)
    .bind(&rooms)
    .execute(&mut *conn)
    .await?;
    let stored = sqlx::query(
        "SELECT id, channel_id, room, shown_version, shown_content FROM board_panels
         WHERE conference_id = $1",
    )
    .bind(conference_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut panels = Vec::with_capacity(specs.len());
    for spec in specs {
        let room = spec.room.as_deref().unwrap_or("");
        for row in &stored {
            if id_from_db(row.try_get("channel_id")?) == spec.channel
                && row.try_get::<&str, _>("room")? == room
            {
                let version: Option<i32> = row.try_get("shown_version")?;
                let content: Option<String> = row.try_get("shown_content")?;
                panels.push(Panel {
                    id: row.try_get("id")?,
                    spec: spec.clone(),
                    shown: version
                        .zip(content)
                        .map(|(version, content)| Shown { version, content }),
                });
            }
        }
    }
    Ok(panels)
}

/// A locked panel: the message it edits, once it has one, and the text that message shows.
pub struct LockedPanel {
    pub message: Option<u64>,
    pub shown_content: Option<String>,
}

/// Locks a panel's row until the transaction ends and returns its message and what it shows;
/// `None` when the panel is gone.
pub async fn lock_panel(
    conn: &mut PgConnection,
    panel: i64,
) -> Result<Option<LockedPanel>, StoreError> {
    let row: Option<(Option<i64>, Option<String>)> = sqlx::query_as(
        "SELECT message_id, shown_content FROM board_panels WHERE id = $1 FOR UPDATE",
    )
    .bind(panel)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|(message, shown_content)| LockedPanel {
        message: message.map(id_from_db),
        shown_content,
    }))
}

/// Records what a panel's message shows now, and the message (a first post, or one
/// re-created after someone deleted it) it edits from now on.
pub async fn set_shown(
    db: impl PgExecutor<'_>,
    panel: i64,
    message: u64,
    shown: &Shown,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE board_panels SET message_id = $2, shown_version = $3, shown_content = $4
         WHERE id = $1",
    )
    .bind(panel)
    .bind(id_to_db(message))
    .bind(shown.version)
    .bind(&shown.content)
    .execute(db)
    .await?;
    Ok(())
}
