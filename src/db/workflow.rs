//! Workflow actions on a case. Each runs inside one writer job: it locks the
//! case, checks the editor's desk and the transition, changes the case,
//! writes the audit entry (state before and after), then calls the hooks
//! other parts of Erratum join (`hooks`), all in one transaction.

use diesel::prelude::*;
use serde_json::json;

use super::audit::{self, Subject};
use super::cases::{self as case_store, CaseRow};
use super::dialect::{is_unique_violation, lock_case};
use super::schema::{case_notes, cases};
use super::{DbConn, corrections, editors, hooks, new_id, now};
use crate::auth::CurrentEditor;
use crate::domain::editor::Role;
use crate::domain::workflow::{self, Action, Resolution, Resolve, Status};
use crate::error::{FieldError, Problem};

/// An action with its (already validated) arguments.
#[derive(Debug, Clone)]
pub enum CaseAction {
    Triage,
    Claim,
    Assign {
        editor_id: String,
    },
    Unassign,
    Note {
        body: String,
    },
    /// 0–100, or `None` to go back to the computed score.
    Priority {
        priority: Option<i32>,
    },
    Resolve(Resolve),
    Reopen,
}

impl CaseAction {
    pub fn kind(&self) -> Action {
        match self {
            CaseAction::Triage => Action::Triage,
            CaseAction::Claim => Action::Claim,
            CaseAction::Assign { .. } => Action::Assign,
            CaseAction::Unassign => Action::Unassign,
            CaseAction::Note { .. } => Action::Note,
            CaseAction::Priority { .. } => Action::Priority,
            CaseAction::Resolve(_) => Action::Resolve,
            CaseAction::Reopen => Action::Reopen,
        }
    }
}

/// What an action did.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub case: CaseRow,
    pub note_id: Option<String>,
    pub correction_id: Option<String>,
}

pub fn case_not_found() -> Problem {
    Problem::not_found("case_not_found", "No such case.")
}

fn already_claimed(assignee_id: &str) -> Problem {
    Problem::conflict(
        "already_claimed",
        "Another editor holds this case; ask them, or have it reassigned.",
    )
    .with("assignee_id", assignee_id)
}

/// The case fields the audit log keeps before and after an action.
fn audit_state(c: &CaseRow) -> serde_json::Value {
    json!({
        "status": c.status, "assignee_id": c.assignee_id, "priority_override": c.priority_override,
        "resolution": c.resolution, "public_note": c.public_note, "duplicate_of": c.duplicate_of,
    })
}

pub fn act(
    conn: &mut DbConn,
    editor: &CurrentEditor,
    case_id: &str,
    action: CaseAction,
) -> Result<Outcome, Problem> {
    lock_case(conn, case_id).map_err(|e| match e {
        diesel::result::Error::NotFound => case_not_found(),
        e => e.into(),
    })?;
    let case = case_store::find(conn, case_id)?.ok_or_else(case_not_found)?;
    editor.require_desk(case.desk.as_deref())?;
    let kind = action.kind();
    let status = case.status();
    if kind == Action::Claim
        && status != Status::Resolved
        && let Some(holder) = case.assignee_id.as_deref().filter(|a| *a != editor.id)
    {
        return Err(already_claimed(holder));
    }
    let next = workflow::next(status, case.assignee_id.is_some(), kind)?;
    let t = now();
    let mut note_id = None;
    let mut correction_id = None;
    // Every change to the case row bumps its version and updated_at.
    let touch = (
        cases::status.eq(next.as_str()),
        cases::version.eq(cases::version + 1),
        cases::updated_at.eq(t),
    );
    let row = cases::table.find(case_id);
    match &action {
        CaseAction::Claim => {
            // Conditional on nobody holding it: with several instances the
            // row lock above is PostgreSQL's only, and this is what makes
            // exactly one claimant win everywhere.
            let won = diesel::update(
                row.filter(
                    cases::assignee_id
                        .is_null()
                        .or(cases::assignee_id.eq(&editor.id)),
                )
                .filter(cases::status.eq(status.as_str())),
            )
            .set((cases::assignee_id.eq(&editor.id), touch))
            .execute(conn)?;
            if won == 0 {
                let holder = case_store::find(conn, case_id)?.and_then(|c| c.assignee_id);
                return Err(already_claimed(holder.as_deref().unwrap_or("")));
            }
        }
        CaseAction::Triage => {
            diesel::update(row).set(touch).execute(conn)?;
        }
        CaseAction::Assign { editor_id } => {
            check_assignee(conn, editor_id, case.desk.as_deref())?;
            diesel::update(row)
                .set((cases::assignee_id.eq(editor_id), touch))
                .execute(conn)?;
        }
        CaseAction::Unassign => {
            diesel::update(row)
                .set((cases::assignee_id.eq(None::<String>), touch))
                .execute(conn)?;
        }
        CaseAction::Note { body } => {
            let id = new_id();
            diesel::insert_into(case_notes::table)
                .values((
                    case_notes::id.eq(&id),
                    case_notes::case_id.eq(case_id),
                    case_notes::author_id.eq(&editor.id),
                    case_notes::body.eq(body),
                    case_notes::created_at.eq(t),
                ))
                .execute(conn)?;
            note_id = Some(id);
        }
        CaseAction::Priority { priority } => {
            diesel::update(row)
                .set((cases::priority_override.eq(priority), touch))
                .execute(conn)?;
        }
        CaseAction::Resolve(r) => {
            if let Some(target) = &r.duplicate_of {
                check_duplicate_target(conn, case_id, target)?;
            }
            diesel::update(row)
                .set((
                    cases::resolution.eq(r.resolution.as_str()),
                    cases::public_note.eq(&r.public_note),
                    cases::duplicate_of.eq(&r.duplicate_of),
                    cases::resolved_at.eq(t),
                    // A new report on this sentence now opens a new case.
                    cases::open_key.eq(None::<String>),
                    touch,
                ))
                .execute(conn)?;
            if let (true, Some(text)) = (r.resolution.publishes_correction(), &r.public_note) {
                correction_id = Some(corrections::insert(
                    conn,
                    &case,
                    r.resolution,
                    text,
                    &editor.id,
                    t,
                )?);
            }
        }
        CaseAction::Reopen => reopen(conn, &case, next, t)?,
    }

    let after = case_store::find(conn, case_id)?.ok_or_else(case_not_found)?;
    let (before_state, after_state) = match &action {
        CaseAction::Note { body } => (None, json!({"note_id": note_id, "body": body})),
        _ => {
            let mut a = audit_state(&after);
            if let Some(id) = &correction_id {
                a["correction_id"] = json!(id);
            }
            (Some(audit_state(&case)), a)
        }
    };
    audit::record(
        conn,
        &editor.actor(),
        kind.as_str(),
        Subject::Case(case_id),
        before_state,
        Some(after_state),
    )?;

    // Hooks run last, inside the same transaction (see `hooks`).
    match &action {
        CaseAction::Assign { editor_id } => hooks::case_assigned(
            conn,
            &hooks::CaseAssigned {
                case_id,
                article_id: &after.article_id,
                assignee_id: editor_id,
                by_editor_id: &editor.id,
            },
        )?,
        CaseAction::Resolve(r) => hooks::case_resolved(
            conn,
            &hooks::CaseResolved {
                case_id,
                article_id: &after.article_id,
                resolution: r.resolution.as_str(),
                public_note: r.public_note.as_deref(),
                duplicate_of: r.duplicate_of.as_deref(),
                correction_id: correction_id.as_deref(),
                by_editor_id: &editor.id,
            },
        )?,
        _ => {}
    }
    Ok(Outcome {
        case: after,
        note_id,
        correction_id,
    })
}

/// An assignee must be an enabled editor or admin whose desks cover the case.
fn check_assignee(conn: &mut DbConn, editor_id: &str, desk: Option<&str>) -> Result<(), Problem> {
    let refuse = |msg: &str| {
        Problem::field(
            "invalid_assignee",
            "Invalid assignee",
            "editor_id",
            msg.to_string(),
        )
    };
    let target = editors::find(conn, editor_id)?
        .filter(|e| !e.disabled)
        .ok_or_else(|| refuse("is not an active editor"))?;
    let role = target.role();
    let desks = target.desks();
    if role < Role::Editor {
        return Err(refuse("is a viewer, who cannot triage cases"));
    }
    let covers = role == Role::Admin
        || desks.is_empty()
        || desk.is_some_and(|d| desks.iter().any(|m| m == d));
    if !covers {
        return Err(refuse("does not work on this case's desk"));
    }
    Ok(())
}

/// A case can be a duplicate of another existing case, not of itself nor of
/// a case that is already a duplicate of it.
fn check_duplicate_target(conn: &mut DbConn, case_id: &str, target: &str) -> Result<(), Problem> {
    let refuse = |msg: &str| {
        Problem::validation(vec![FieldError::new(
            "duplicate_of",
            "invalid_value",
            msg.to_string(),
        )])
    };
    if target == case_id {
        return Err(refuse("a case cannot duplicate itself"));
    }
    let other = case_store::find(conn, target)?.ok_or_else(|| refuse("no such case"))?;
    if other.duplicate_of.as_deref() == Some(case_id) {
        return Err(refuse("that case is already a duplicate of this one"));
    }
    Ok(())
}

/// Reopen: the case takes its sentence's open slot back, unless a newer case
/// on the same sentence has it (then 409 naming that case).
fn reopen(
    conn: &mut DbConn,
    case: &CaseRow,
    next: Status,
    t: chrono::NaiveDateTime,
) -> Result<(), Problem> {
    let key = format!("{}/{}", case.article_id, case.sentence_id);
    let updated = conn.transaction(|c| {
        diesel::update(cases::table.find(&case.id))
            .set((
                cases::open_key.eq(&key),
                cases::resolution.eq(None::<String>),
                cases::public_note.eq(None::<String>),
                cases::duplicate_of.eq(None::<String>),
                cases::resolved_at.eq(None::<chrono::NaiveDateTime>),
                cases::status.eq(next.as_str()),
                cases::version.eq(cases::version + 1),
                cases::updated_at.eq(t),
            ))
            .execute(c)
    });
    match updated {
        Ok(_) => Ok(()),
        Err(e) if is_unique_violation(&e) => {
            let open: Option<String> = cases::table
                .filter(cases::open_key.eq(&key))
                .select(cases::id)
                .first(conn)
                .optional()?;
            Err(Problem::conflict(
                "sentence_has_open_case",
                "Another case on this sentence is open; resolve it as a duplicate of this one, or work on it instead.",
            )
            .with("open_case_id", open))
        }
        Err(e) => Err(e.into()),
    }
}

/// One case's result in a bulk resolve.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct BulkItem {
    pub case_id: String,
    /// `resolved`, or the problem code that stopped it (e.g.
    /// `illegal_transition`, `case_not_found`, `forbidden`).
    pub outcome: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// Resolve many cases alike (spam waves): each in its own savepoint, so one
/// refusal does not stop the others.
pub fn bulk_resolve(
    conn: &mut DbConn,
    editor: &CurrentEditor,
    ids: &[String],
    resolve: &Resolve,
) -> Result<Vec<BulkItem>, Problem> {
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let r = conn.transaction(|c| act(c, editor, id, CaseAction::Resolve(resolve.clone())));
        out.push(match r {
            Ok(_) => BulkItem {
                case_id: id.clone(),
                outcome: "resolved".into(),
                detail: None,
            },
            // Database trouble is not the case's fault: fail the whole job.
            Err(p) if p.status.is_server_error() => return Err(p),
            Err(p) => BulkItem {
                case_id: id.clone(),
                outcome: p.code.into(),
                detail: Some(p.detail),
            },
        });
    }
    Ok(out)
}

/// Whether the resolution may be used in bulk: corrections are written one
/// case at a time.
pub fn bulk_allowed(r: Resolution) -> bool {
    !r.publishes_correction()
}
