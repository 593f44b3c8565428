//! The append-only audit log: who did what to which case, account or token,
//! with the state before and after. Written by the action itself, inside its
//! transaction, so an action and its trail commit or fail together. The
//! table refuses UPDATE and DELETE (triggers on both backends).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::schema::{audit_log, editors};
use super::{DbConn, new_id, now};

pub use crate::domain::actor::Who;

/// What an entry is about.
#[derive(Debug, Clone, Copy)]
pub enum Subject<'a> {
    Case(&'a str),
    Editor(&'a str),
    Token(&'a str),
    /// A data-subject request (export or erasure), by the request's own id:
    /// never the reader's address, which the erasure removes everywhere else.
    DataSubject(&'a str),
    /// A reader's standing, by the standing row's id (`db::readers`): never
    /// the reader's key, which an erasure must be able to cut.
    Reader(&'a str),
}

impl Subject<'_> {
    fn parts(&self) -> (&'static str, &str) {
        match self {
            Subject::Case(id) => ("case", id),
            Subject::Editor(id) => ("editor", id),
            Subject::Token(id) => ("token", id),
            Subject::DataSubject(id) => ("data_subject", id),
            Subject::Reader(id) => ("reader", id),
        }
    }
}

pub fn record(
    conn: &mut DbConn,
    actor: &Who,
    action: &str,
    subject: Subject,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) -> QueryResult<()> {
    let (subject_type, subject_id) = subject.parts();
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::id.eq(new_id()),
            audit_log::created_at.eq(now()),
            audit_log::actor_kind.eq(actor.kind()),
            audit_log::actor_id.eq(actor.editor_id()),
            audit_log::action.eq(action),
            audit_log::subject_type.eq(subject_type),
            audit_log::subject_id.eq(subject_id),
            audit_log::before_state.eq(before.map(|v| v.to_string())),
            audit_log::after_state.eq(after.map(|v| v.to_string())),
        ))
        .execute(conn)?;
    Ok(())
}

/// One audit entry as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub id: String,
    #[serde(with = "crate::domain::utc")]
    pub at: NaiveDateTime,
    /// `editor` or `cli`.
    pub actor_kind: String,
    pub actor_id: Option<String>,
    /// The acting editor's name, when the actor is an editor.
    pub actor_name: Option<String>,
    pub action: String,
    /// `case`, `editor` or `token`.
    pub subject_type: String,
    pub subject_id: String,
    #[schema(value_type = Option<Object>)]
    pub before: Option<serde_json::Value>,
    #[schema(value_type = Option<Object>)]
    pub after: Option<serde_json::Value>,
}

type Row = (
    String,
    NaiveDateTime,
    String,
    Option<String>,
    Option<String>,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
);

fn entry(r: Row) -> AuditEntry {
    let parse = |s: Option<String>| s.and_then(|s| serde_json::from_str(&s).ok());
    AuditEntry {
        id: r.0,
        at: r.1,
        actor_kind: r.2,
        actor_id: r.3,
        actor_name: r.4,
        action: r.5,
        subject_type: r.6,
        subject_id: r.7,
        before: parse(r.8),
        after: parse(r.9),
    }
}

/// Every entry about one subject, oldest first.
pub fn history(conn: &mut DbConn, subject: Subject) -> QueryResult<Vec<AuditEntry>> {
    let (subject_type, subject_id) = subject.parts();
    let rows: Vec<Row> = audit_log::table
        .left_join(editors::table.on(editors::id.nullable().eq(audit_log::actor_id)))
        .filter(audit_log::subject_type.eq(subject_type))
        .filter(audit_log::subject_id.eq(subject_id))
        .order((audit_log::created_at.asc(), audit_log::id.asc()))
        .select((
            audit_log::id,
            audit_log::created_at,
            audit_log::actor_kind,
            audit_log::actor_id,
            editors::name.nullable(),
            audit_log::action,
            audit_log::subject_type,
            audit_log::subject_id,
            audit_log::before_state,
            audit_log::after_state,
        ))
        .load(conn)?;
    Ok(rows.into_iter().map(entry).collect())
}

/// The most recent entries, newest first, before an entry id (paging), for
/// admins.
pub fn recent(
    conn: &mut DbConn,
    before_id: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<AuditEntry>> {
    let mut q = audit_log::table
        .left_join(editors::table.on(editors::id.nullable().eq(audit_log::actor_id)))
        .order(audit_log::id.desc())
        .limit(limit)
        .select((
            audit_log::id,
            audit_log::created_at,
            audit_log::actor_kind,
            audit_log::actor_id,
            editors::name.nullable(),
            audit_log::action,
            audit_log::subject_type,
            audit_log::subject_id,
            audit_log::before_state,
            audit_log::after_state,
        ))
        .into_boxed();
    if let Some(b) = before_id {
        q = q.filter(audit_log::id.lt(b.to_string()));
    }
    let rows: Vec<Row> = q.load(conn)?;
    Ok(rows.into_iter().map(entry).collect())
}
