//! Each editor's choice, per kind of notification, between an immediate
//! email, an hourly or daily digest, and nothing. No row means the default.
//!
//! `get` and `set` are the logic behind `GET/PUT /api/v1/me/notifications`;
//! the routes are mounted with the editors' authentication.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::db::schema::{digest_items, editors, notification_prefs, outbox};
use crate::db::{DbConn, now};
use crate::error::{ErrorCode, Problem};

/// The notifications an editor can tune.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NotificationKind {
    /// A new case on a desk the editor follows.
    NewCase,
    /// A case crossed the report threshold, or got a factual error on a fresh article.
    Escalation,
    /// A case was assigned to the editor.
    Assigned,
    /// A case the editor owns (or, unassigned, on a followed desk) is past its due time.
    Overdue,
}

impl NotificationKind {
    pub const ALL: [NotificationKind; 4] = [
        NotificationKind::NewCase,
        NotificationKind::Escalation,
        NotificationKind::Assigned,
        NotificationKind::Overdue,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NotificationKind::NewCase => "new_case",
            NotificationKind::Escalation => "escalation",
            NotificationKind::Assigned => "assigned",
            NotificationKind::Overdue => "overdue",
        }
    }

    pub fn parse(s: &str) -> Option<NotificationKind> {
        NotificationKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// New cases and escalations are what editors must see at once; an
    /// overdue notice is a reminder, gathered hourly.
    pub fn default_delivery(self) -> Delivery {
        match self {
            NotificationKind::Overdue => Delivery::Hourly,
            _ => Delivery::Immediate,
        }
    }

    pub fn email_kind(self) -> super::EmailKind {
        match self {
            NotificationKind::NewCase => super::EmailKind::NewCase,
            NotificationKind::Escalation => super::EmailKind::Escalation,
            NotificationKind::Assigned => super::EmailKind::Assigned,
            NotificationKind::Overdue => super::EmailKind::Overdue,
        }
    }
}

/// How a kind of notification reaches the editor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    Immediate,
    Hourly,
    Daily,
    Off,
}

impl Delivery {
    pub fn as_str(self) -> &'static str {
        match self {
            Delivery::Immediate => "immediate",
            Delivery::Hourly => "hourly",
            Delivery::Daily => "daily",
            Delivery::Off => "off",
        }
    }

    pub fn parse(s: &str) -> Option<Delivery> {
        [
            Delivery::Immediate,
            Delivery::Hourly,
            Delivery::Daily,
            Delivery::Off,
        ]
        .into_iter()
        .find(|d| d.as_str() == s)
    }

    /// The digest cadence, for `hourly` and `daily`.
    pub fn cadence(self) -> Option<&'static str> {
        match self {
            Delivery::Hourly => Some("hourly"),
            Delivery::Daily => Some("daily"),
            _ => None,
        }
    }
}

/// An editor's notification settings (`GET /api/v1/me/notifications`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NotificationPrefs {
    pub new_case: Delivery,
    pub escalation: Delivery,
    pub assigned: Delivery,
    pub overdue: Delivery,
    /// The desks whose new cases and escalations reach the editor; empty
    /// means every desk.
    pub desks: Vec<String>,
}

impl NotificationPrefs {
    pub fn get(&self, kind: NotificationKind) -> Delivery {
        match kind {
            NotificationKind::NewCase => self.new_case,
            NotificationKind::Escalation => self.escalation,
            NotificationKind::Assigned => self.assigned,
            NotificationKind::Overdue => self.overdue,
        }
    }
}

/// A change (`PUT /api/v1/me/notifications`): the kinds given are set, the
/// others keep their current choice.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotificationPrefsUpdate {
    pub new_case: Option<Delivery>,
    pub escalation: Option<Delivery>,
    pub assigned: Option<Delivery>,
    pub overdue: Option<Delivery>,
}

impl NotificationPrefsUpdate {
    fn changes(&self) -> Vec<(NotificationKind, Delivery)> {
        [
            (NotificationKind::NewCase, self.new_case),
            (NotificationKind::Escalation, self.escalation),
            (NotificationKind::Assigned, self.assigned),
            (NotificationKind::Overdue, self.overdue),
        ]
        .into_iter()
        .filter_map(|(k, d)| d.map(|d| (k, d)))
        .collect()
    }
}

/// The delivery an editor chose for a kind, or its default.
pub fn delivery(
    conn: &mut DbConn,
    editor_id: &str,
    kind: NotificationKind,
) -> QueryResult<Delivery> {
    let stored = notification_prefs::table
        .find((editor_id, kind.as_str()))
        .select(notification_prefs::delivery)
        .first::<String>(conn)
        .optional()?;
    Ok(stored
        .and_then(|s| Delivery::parse(&s))
        .unwrap_or_else(|| kind.default_delivery()))
}

fn unknown_editor() -> Problem {
    Problem::not_found(ErrorCode::EditorNotFound, "No such editor.")
}

/// An editor's settings (404 `editor_not_found` for an unknown id).
pub fn get(conn: &mut DbConn, editor_id: &str) -> Result<NotificationPrefs, Problem> {
    let desks: String = editors::table
        .find(editor_id)
        .select(editors::desks)
        .first(conn)
        .optional()?
        .ok_or_else(unknown_editor)?;
    let mut d = [Delivery::Off; 4];
    for (i, kind) in NotificationKind::ALL.into_iter().enumerate() {
        d[i] = delivery(conn, editor_id, kind)?;
    }
    Ok(NotificationPrefs {
        new_case: d[0],
        escalation: d[1],
        assigned: d[2],
        overdue: d[3],
        desks: serde_json::from_str(&desks).unwrap_or_default(),
    })
}

/// Change an editor's settings in the caller's transaction; answers the
/// settings as they now are.
pub fn set(
    conn: &mut DbConn,
    editor_id: &str,
    update: &NotificationPrefsUpdate,
) -> Result<NotificationPrefs, Problem> {
    get(conn, editor_id)?;
    let t = now();
    for (kind, delivery) in update.changes() {
        set_one(conn, editor_id, kind, delivery, t)?;
    }
    get(conn, editor_id)
}

/// Store one choice and bring what is already waiting in line with it:
/// turning a kind off drops its unsent emails and digest items; any other
/// change sends what waited for a digest at the next scan.
pub fn set_one(
    conn: &mut DbConn,
    editor_id: &str,
    kind: NotificationKind,
    delivery: Delivery,
    t: NaiveDateTime,
) -> QueryResult<()> {
    let updated = diesel::update(notification_prefs::table.find((editor_id, kind.as_str())))
        .set((
            notification_prefs::delivery.eq(delivery.as_str()),
            notification_prefs::updated_at.eq(t),
        ))
        .execute(conn)?;
    if updated == 0 {
        let inserted = conn.transaction(|c| {
            diesel::insert_into(notification_prefs::table)
                .values((
                    notification_prefs::editor_id.eq(editor_id),
                    notification_prefs::kind.eq(kind.as_str()),
                    notification_prefs::delivery.eq(delivery.as_str()),
                    notification_prefs::updated_at.eq(t),
                ))
                .execute(c)
        });
        match inserted {
            Ok(_) => {}
            // Someone else stored a choice at the same moment: ours wins.
            Err(e) if crate::db::dialect::is_unique_violation(&e) => {
                diesel::update(notification_prefs::table.find((editor_id, kind.as_str())))
                    .set((
                        notification_prefs::delivery.eq(delivery.as_str()),
                        notification_prefs::updated_at.eq(t),
                    ))
                    .execute(conn)?;
            }
            Err(e) => return Err(e),
        }
    }
    let waiting = digest_items::table
        .filter(digest_items::editor_id.eq(editor_id))
        .filter(digest_items::kind.eq(kind.as_str()))
        .filter(digest_items::outbox_id.is_null());
    match delivery {
        Delivery::Off => {
            diesel::delete(waiting).execute(conn)?;
            diesel::update(
                outbox::table
                    .filter(outbox::editor_id.eq(editor_id))
                    .filter(outbox::kind.eq(kind.as_str()))
                    .filter(outbox::status.eq(crate::domain::email::OutboxStatus::Pending)),
            )
            .set((
                outbox::status.eq(crate::domain::email::OutboxStatus::Skipped),
                outbox::last_error.eq("turned off by the recipient"),
                outbox::updated_at.eq(t),
            ))
            .execute(conn)?;
        }
        // What waited under the old choice goes out at the next scan, in one
        // digest; new notifications follow the new choice.
        Delivery::Immediate | Delivery::Hourly | Delivery::Daily => {
            diesel::update(waiting)
                .set(digest_items::due_at.eq(t))
                .execute(conn)?;
        }
    }
    Ok(())
}
