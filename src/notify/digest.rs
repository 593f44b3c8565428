//! Digests: notifications an editor chose to get hourly or daily wait as
//! `digest_items`; when their time comes, one email lists them all.

use std::collections::BTreeSet;

use chrono::{Duration, NaiveDateTime, NaiveTime, Timelike};
use diesel::prelude::*;

use super::NotifyConfig;
use super::content::{CaseSummary, Content, DigestEntry, Payload};
use super::prefs::{Delivery, NotificationKind};
use crate::db::outbox::{self, NewEmail};
use crate::db::schema::{digest_items, editors};
use crate::db::{DbConn, new_id};

/// When a digest holding an item added at `t` goes out: at the top of the
/// next hour, or at the next `daily_hour_utc`.
pub fn due_at(delivery: Delivery, t: NaiveDateTime, daily_hour_utc: u32) -> NaiveDateTime {
    let hour_start = t
        .date()
        .and_time(NaiveTime::from_hms_opt(t.hour(), 0, 0).unwrap_or_default());
    match delivery {
        Delivery::Daily => {
            let today = t.date().and_time(
                NaiveTime::from_hms_opt(daily_hour_utc.min(23), 0, 0).unwrap_or_default(),
            );
            if today > t {
                today
            } else {
                today + Duration::days(1)
            }
        }
        _ => hour_start + Duration::hours(1),
    }
}

/// Keep a notification for the editor's next digest.
pub fn add_item(
    conn: &mut DbConn,
    cfg: &NotifyConfig,
    editor_id: &str,
    delivery: Delivery,
    kind: NotificationKind,
    case: &CaseSummary,
    t: NaiveDateTime,
) -> QueryResult<()> {
    let cadence = delivery.cadence().unwrap_or("hourly");
    let payload = serde_json::to_string(case)
        .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
    diesel::insert_into(digest_items::table)
        .values((
            digest_items::id.eq(new_id()),
            digest_items::editor_id.eq(editor_id),
            digest_items::cadence.eq(cadence),
            digest_items::kind.eq(kind.as_str()),
            digest_items::case_id.eq(&case.case_id),
            digest_items::payload.eq(payload),
            digest_items::due_at.eq(due_at(delivery, t, cfg.daily_hour_utc)),
            digest_items::created_at.eq(t),
        ))
        .execute(conn)?;
    Ok(())
}

/// Write one digest email per editor and cadence whose items are due at
/// `now`; returns how many digests were written. Safe to run from several
/// workers at once: each item is taken by one digest (the update that points
/// it at its digest re-checks that it is still free).
pub fn build_due(conn: &mut DbConn, cfg: &NotifyConfig, now: NaiveDateTime) -> QueryResult<usize> {
    let due: BTreeSet<(String, String)> = digest_items::table
        .filter(digest_items::outbox_id.is_null())
        .filter(digest_items::due_at.le(now))
        .select((digest_items::editor_id, digest_items::cadence))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect();
    let mut written = 0;
    for (editor_id, cadence) in due {
        let editor = editors::table
            .find(&editor_id)
            .select((
                editors::email,
                editors::name,
                editors::language,
                editors::disabled,
            ))
            .first::<(String, String, String, bool)>(conn)
            .optional()?;
        let waiting = digest_items::table
            .filter(digest_items::editor_id.eq(&editor_id))
            .filter(digest_items::cadence.eq(&cadence))
            .filter(digest_items::outbox_id.is_null())
            .filter(digest_items::due_at.le(now));
        let Some((email, name, language, false)) = editor else {
            // A disabled or removed editor gets nothing.
            diesel::delete(waiting).execute(conn)?;
            continue;
        };
        let digest_id = new_id();
        let taken = diesel::update(waiting)
            .set(digest_items::outbox_id.eq(&digest_id))
            .execute(conn)?;
        if taken == 0 {
            continue;
        }
        let items: Vec<(String, String, NaiveDateTime)> = digest_items::table
            .filter(digest_items::outbox_id.eq(&digest_id))
            .order((digest_items::created_at.asc(), digest_items::id.asc()))
            .select((
                digest_items::kind,
                digest_items::payload,
                digest_items::created_at,
            ))
            .load(conn)?;
        let entries = entries(items);
        let queued = outbox::enqueue(
            conn,
            &cfg.outbox(),
            NewEmail {
                kind: super::EmailKind::Digest,
                recipient: &email,
                editor_id: Some(&editor_id),
                case_id: None,
                language: &language,
                payload: Payload {
                    recipient_name: Some(name),
                    content: Content::Digest { cadence, entries },
                },
                id: Some(digest_id),
            },
            now,
        )?;
        if queued.is_ok() {
            written += 1;
        }
    }
    Ok(written)
}

/// Digest entries in order of importance, one per case and kind.
fn entries(items: Vec<(String, String, NaiveDateTime)>) -> Vec<DigestEntry> {
    let rank = |kind: &str| match kind {
        "escalation" => 0,
        "overdue" => 1,
        "assigned" => 2,
        _ => 3,
    };
    let mut seen = BTreeSet::new();
    let mut entries: Vec<DigestEntry> = items
        .into_iter()
        .rev() // the latest summary of a case wins
        .filter_map(|(kind, payload, at)| {
            let case: CaseSummary = serde_json::from_str(&payload).ok()?;
            seen.insert((kind.clone(), case.case_id.clone()))
                .then_some(DigestEntry { kind, at, case })
        })
        .collect();
    entries.sort_by(|a, b| rank(&a.kind).cmp(&rank(&b.kind)).then(a.at.cmp(&b.at)));
    entries
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    #[test]
    fn digests_are_due_at_the_next_hour_or_daily_hour() {
        assert_eq!(
            due_at(Delivery::Hourly, t("2026-11-24 10:15:00"), 7),
            t("2026-11-24 11:00:00")
        );
        assert_eq!(
            due_at(Delivery::Hourly, t("2026-11-24 23:59:59"), 7),
            t("2026-11-25 00:00:00")
        );
        assert_eq!(
            due_at(Delivery::Daily, t("2026-11-24 06:59:00"), 7),
            t("2026-11-24 07:00:00")
        );
        assert_eq!(
            due_at(Delivery::Daily, t("2026-11-24 07:00:00"), 7),
            t("2026-11-25 07:00:00")
        );
    }
}
