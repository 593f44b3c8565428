//! The case workflow: each action, alone or in bulk, runs in one writer job.
//! It locks the case, checks the actor's desk and the transition
//! (`domain::workflow`), changes the case, writes the audit entry (state
//! before and after) and records the event, all in one transaction.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use serde::Serialize;
use serde_json::json;

use super::AppState;
use crate::db::audit::{self, Subject};
use crate::db::case_detail;
pub use crate::db::case_detail::{CaseDetail, REPORTS_PAGE, ReportsAfter};
use crate::db::case_memory;
pub use crate::db::cases::CaseSummary;
use crate::db::cases::{self as case_store, CaseRow};
use crate::db::corrections;
pub use crate::db::corrections::CorrectionView;
use crate::db::dialect::{is_unique_violation, lock_case};
use crate::db::{DbConn, editors, events, now};
use crate::domain::actor::{Actor, covers};
use crate::domain::case_ref::CaseRef;
use crate::domain::editor::Role;
use crate::domain::event::Event;
use crate::domain::workflow::{self, Action, Resolution, Resolve, Status};
use crate::error::{ErrorCode, FieldError, Problem};
use crate::locales::Catalogs;

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
    /// Resolve as `no_change` with the templated public note that points to
    /// the sentence's existing correction (`already_corrected`).
    ResolveAlreadyCorrected,
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
            CaseAction::Resolve(_) | CaseAction::ResolveAlreadyCorrected => Action::Resolve,
            CaseAction::Reopen => Action::Reopen,
        }
    }
}

/// What every action answers.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ActionAnswer {
    /// The case after the action.
    pub case: CaseSummary,
    /// The note written (`note`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note_id: Option<String>,
    /// The correction published (`resolve` as corrected, clarified or updated).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub correction: Option<CorrectionView>,
}

pub fn case_not_found() -> Problem {
    Problem::not_found(ErrorCode::CaseNotFound, "No such case.")
}

/// Case ids are UUIDs; anything else cannot be a case (and never reaches SQL).
pub fn case_id(raw: &str) -> Result<String, Problem> {
    uuid::Uuid::parse_str(raw)
        .map(|_| raw.to_string())
        .map_err(|_| case_not_found())
}

/// The id of the case a URL names by id or by number (`1042`, `#1042`):
/// ids answer at once, numbers are looked up; 404 for anything else.
pub async fn case_id_or_number(state: &AppState, raw: &str) -> Result<String, Problem> {
    match CaseRef::parse(raw).ok_or_else(case_not_found)? {
        CaseRef::Id(id) => Ok(id),
        CaseRef::Number(n) => {
            state
                .read(move |conn| case_memory::id_by_number(conn, n)?.ok_or_else(case_not_found))
                .await
        }
    }
}

/// Run one action and answer the case as it now stands.
pub async fn act(
    state: &AppState,
    actor: Actor,
    case_id: String,
    action: CaseAction,
) -> Result<ActionAnswer, Problem> {
    // Viewers are refused before any database work (desks are checked inside).
    actor.require(Role::Editor)?;
    let kind = action.kind();
    let catalogs = state.catalogs.clone();
    let answer = state
        .write(move |conn| {
            let outcome = apply(conn, &actor, &case_id, action, &catalogs)?;
            let correction = match &outcome.correction_id {
                Some(cid) => corrections::for_case(conn, &case_id)?
                    .into_iter()
                    .find(|c| &c.id == cid),
                None => None,
            };
            let case =
                case_store::summaries(conn, &actor, vec![outcome.case], &HashMap::new(), now())?
                    .pop()
                    .ok_or_else(|| Problem::internal("case summary missing"))?;
            Ok(ActionAnswer {
                case,
                note_id: outcome.note_id,
                correction,
            })
        })
        .await?;
    state.committed();
    tracing::info!(case_id = %answer.case.id, action = kind.as_str(), "case action");
    Ok(answer)
}

/// Where a page of a case's reports starts, from a `reports_cursor` given
/// by the previous page (absent or empty: the first page).
pub fn reports_after(cursor: Option<&str>) -> Result<Option<ReportsAfter>, Problem> {
    match cursor.filter(|c| !c.is_empty()) {
        None => Ok(None),
        Some(c) => case_detail::decode_reports_cursor(c)
            .map(Some)
            .ok_or_else(|| {
                Problem::validation(vec![FieldError::new(
                    "reports_cursor",
                    "invalid_cursor",
                    "is not a cursor from this case's reports",
                )])
            }),
    }
}

/// A case with its sentence in context, a page of its reports (reporters'
/// addresses for editors and admins only), notes, corrections and history.
pub async fn detail(
    state: &AppState,
    actor: Actor,
    case_id: String,
    after: Option<ReportsAfter>,
) -> Result<CaseDetail, Problem> {
    state
        .heavy_read(move |conn| {
            case_detail::detail(conn, &actor, &case_id, after)?.ok_or_else(case_not_found)
        })
        .await
}

/// What an action did.
#[derive(Debug, Clone)]
pub(super) struct Outcome {
    case: CaseRow,
    note_id: Option<String>,
    correction_id: Option<String>,
}

fn already_claimed(assignee_id: &str) -> Problem {
    Problem::conflict(
        ErrorCode::AlreadyClaimed,
        "Another editor holds this case; ask them, or have it reassigned.",
    )
    .with("assignee_id", assignee_id)
}

/// The case fields the audit log keeps before and after an action.
fn audit_state(c: &CaseRow) -> serde_json::Value {
    json!({
        "number": c.number,
        "status": c.status, "assignee_id": c.assignee_id, "priority_override": c.priority_override,
        "resolution": c.resolution, "public_note": c.public_note, "duplicate_of": c.duplicate_of,
    })
}

pub(super) fn apply(
    conn: &mut DbConn,
    actor: &Actor,
    case_id: &str,
    action: CaseAction,
    catalogs: &Catalogs,
) -> Result<Outcome, Problem> {
    let me = actor.require_account()?.to_string();
    lock_case(conn, case_id).map_err(|e| match e {
        diesel::result::Error::NotFound => case_not_found(),
        e => e.into(),
    })?;
    let case = case_store::find(conn, case_id)?.ok_or_else(case_not_found)?;
    actor.require_desk(case.desk.as_deref())?;
    let kind = action.kind();
    let status = case.status;
    if kind == Action::Claim
        && status != Status::Resolved
        && let Some(holder) = case.assignee_id.as_deref().filter(|a| *a != me)
    {
        return Err(already_claimed(holder));
    }
    let next = workflow::next(status, case.assignee_id.is_some(), kind)?;
    // After the transition check: a resolved case answers `illegal_transition`
    // whatever it would have been resolved as.
    let action = match action {
        CaseAction::ResolveAlreadyCorrected => {
            CaseAction::Resolve(already_corrected_resolve(conn, &case, catalogs)?)
        }
        CaseAction::Resolve(mut r) => {
            if let Some(target) = &r.duplicate_of {
                let id = check_duplicate_target(conn, case_id, target)?;
                r.duplicate_of = Some(CaseRef::Id(id));
            }
            CaseAction::Resolve(r)
        }
        other => other,
    };
    let t = now();
    let mut note_id = None;
    let mut correction_id = None;
    let event = match &action {
        CaseAction::Claim => {
            if !case_store::claim(conn, case_id, &me, status, next, t)? {
                let holder = case_store::find(conn, case_id)?.and_then(|c| c.assignee_id);
                return Err(already_claimed(holder.as_deref().unwrap_or("")));
            }
            Event::CaseClaimed {
                case_id: case_id.into(),
                by: me.clone(),
            }
        }
        CaseAction::Triage => {
            case_store::set_status(conn, case_id, next, t)?;
            Event::CaseTriaged {
                case_id: case_id.into(),
                by: me.clone(),
            }
        }
        CaseAction::Assign { editor_id } => {
            check_assignee(conn, editor_id, case.desk.as_deref())?;
            case_store::set_assignee(conn, case_id, Some(editor_id), next, t)?;
            Event::CaseAssigned {
                case_id: case_id.into(),
                assignee_id: editor_id.clone(),
                by: me.clone(),
            }
        }
        CaseAction::Unassign => {
            case_store::set_assignee(conn, case_id, None, next, t)?;
            Event::CaseUnassigned {
                case_id: case_id.into(),
                by: me.clone(),
            }
        }
        CaseAction::Note { body } => {
            let id = case_store::add_note(conn, case_id, &me, body, t)?;
            note_id = Some(id.clone());
            Event::CaseNoted {
                case_id: case_id.into(),
                note_id: id,
                by: me.clone(),
            }
        }
        CaseAction::Priority { priority } => {
            case_store::set_priority(conn, case_id, *priority, next, t)?;
            Event::CasePrioritised {
                case_id: case_id.into(),
                priority: *priority,
                by: me.clone(),
            }
        }
        CaseAction::Resolve(r) => {
            let duplicate_of = r.duplicate_of.as_ref().map(|d| d.to_string());
            case_store::resolve(
                conn,
                case_id,
                r.resolution,
                r.public_note.as_deref(),
                duplicate_of.as_deref(),
                t,
            )?;
            if let (true, Some(text)) = (r.resolution.publishes_correction(), &r.public_note) {
                let id = corrections::insert(conn, &case, r.resolution, text, &me, t)?;
                case_memory::correction_published(conn, &case, &id)?;
                events::record(
                    conn,
                    &Event::CorrectionPublished {
                        correction_id: id.clone(),
                        case_id: case_id.into(),
                        article_id: case.article_id.clone(),
                    },
                    t,
                )?;
                correction_id = Some(id);
            }
            Event::CaseResolved {
                case_id: case_id.into(),
                resolution: r.resolution,
                public_note: r.public_note.clone(),
                duplicate_of,
                correction: correction_id.as_ref().and(r.public_note.clone()),
                correction_id: correction_id.clone(),
                by: me.clone(),
            }
        }
        CaseAction::ResolveAlreadyCorrected => {
            return Err(Problem::internal("already-corrected action not converted"));
        }
        CaseAction::Reopen => {
            reopen(conn, &case, next, t)?;
            Event::CaseReopened {
                case_id: case_id.into(),
                by: me.clone(),
            }
        }
    };

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
        &actor.who,
        kind.as_str(),
        Subject::Case(case_id),
        before_state,
        Some(after_state),
    )?;
    events::record(conn, &event, t)?;
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
            ErrorCode::InvalidAssignee,
            "Invalid assignee",
            "editor_id",
            msg.to_string(),
        )
    };
    let target = editors::find(conn, editor_id)?
        .filter(|e| !e.disabled)
        .ok_or_else(|| refuse("is not an active editor"))?;
    if target.role < Role::Editor {
        return Err(refuse("is a viewer, who cannot triage cases"));
    }
    if !covers(target.role, &target.desks(), desk) {
        return Err(refuse("does not work on this case's desk"));
    }
    Ok(())
}

/// A case can be a duplicate of another existing case (by id or number),
/// not of itself nor of a case that is already a duplicate of it. Answers
/// the target's id.
fn check_duplicate_target(
    conn: &mut DbConn,
    case_id: &str,
    target: &CaseRef,
) -> Result<String, Problem> {
    let refuse = |msg: &str| {
        Problem::validation(vec![FieldError::new(
            "duplicate_of",
            "invalid_value",
            msg.to_string(),
        )])
    };
    let target = match target {
        CaseRef::Id(id) => id.clone(),
        CaseRef::Number(n) => {
            case_memory::id_by_number(conn, *n)?.ok_or_else(|| refuse("no such case"))?
        }
    };
    if target == case_id {
        return Err(refuse("a case cannot duplicate itself"));
    }
    let other = case_store::find(conn, &target)?.ok_or_else(|| refuse("no such case"))?;
    if other.duplicate_of.as_deref() == Some(case_id) {
        return Err(refuse("that case is already a duplicate of this one"));
    }
    Ok(target)
}

/// `no_change`, with the public note the article's language gives for an
/// error already corrected (`domain::memory`); 409 when the case's sentence
/// has no published correction.
fn already_corrected_resolve(
    conn: &mut DbConn,
    case: &CaseRow,
    catalogs: &Catalogs,
) -> Result<Resolve, Problem> {
    let known = case
        .known_correction_id
        .clone()
        .and_then(|id| {
            case_memory::already_corrected(conn, std::slice::from_ref(&id))
                .map(|mut m| m.remove(&id))
                .transpose()
        })
        .transpose()?
        .ok_or_else(|| {
            Problem::conflict(
                ErrorCode::NotAlreadyCorrected,
                "This case's sentence has no published correction to point to.",
            )
        })?;
    let tag = known
        .locale
        .clone()
        .unwrap_or_else(|| known.language.as_str().to_string());
    let words = catalogs.resolve(&tag);
    let note = crate::domain::memory::already_corrected_note(&known.text, |quote| {
        // The quote last: its text is the editors', never a placeholder.
        words.fill(
            "memory.already_corrected",
            &[
                ("day", &words.day(known.date)),
                ("url", &known.url),
                ("quote", quote),
            ],
        )
    });
    Resolve::parse(Resolution::NoChange, Some(&note), None)
}

/// Reopen: the case takes its sentence's open slot back, unless a newer case
/// on the same sentence has it (then 409 naming that case).
fn reopen(
    conn: &mut DbConn,
    case: &CaseRow,
    next: Status,
    t: NaiveDateTime,
) -> Result<(), Problem> {
    match case_store::reopen(conn, case, next, t) {
        Ok(()) => Ok(()),
        Err(e) if is_unique_violation(&e) => {
            let open = case_store::open_case_on(conn, &case.article_id, &case.sentence_id)?;
            Err(Problem::conflict(
                ErrorCode::SentenceHasOpenCase,
                "Another case on this sentence is open; resolve it as a duplicate of this one, or work on it instead.",
            )
            .with("open_case_id", open))
        }
        Err(e) => Err(e.into()),
    }
}

pub use super::bulk::{BulkItem, MAX_BULK, bulk_ids};

/// Resolve many cases alike (spam waves): each checked and audited as if
/// resolved alone (`bulk::run`). Corrections are published one case at a time.
pub async fn bulk_resolve(
    state: &AppState,
    actor: Actor,
    case_ids: &[String],
    resolution: Resolution,
    public_note: Option<&str>,
    duplicate_of: Option<&str>,
) -> Result<Vec<BulkItem>, Problem> {
    actor.require(Role::Editor)?;
    if !bulk_allowed(resolution) {
        return Err(Problem::field(
            ErrorCode::BulkCorrection,
            "Corrections are published one by one",
            "resolution",
            format!(
                "{} publishes a correction: resolve those cases one at a time",
                resolution.as_str()
            ),
        ));
    }
    let resolve = Resolve::parse(resolution, public_note, duplicate_of)?;
    super::bulk::run(state, actor, case_ids, CaseAction::Resolve(resolve)).await
}

/// Whether the resolution may be used in bulk: corrections are written one
/// case at a time.
pub fn bulk_allowed(r: Resolution) -> bool {
    !r.publishes_correction()
}

/// What the editors' case page shows: the case, its article, the paragraph
/// its sentence now stands in, and who it could be assigned to.
pub struct CasePage {
    pub detail: CaseDetail,
    pub article: crate::db::articles::Article,
    pub paragraph: Vec<crate::db::articles::SentenceView>,
    /// Active editors and admins whose desks cover the case.
    pub assignees: Vec<crate::db::editors::EditorView>,
}

pub async fn page(
    state: &AppState,
    actor: Actor,
    case_id: String,
    after: Option<ReportsAfter>,
) -> Result<CasePage, Problem> {
    use crate::db::articles as article_store;
    state
        .heavy_read(move |conn| {
            let detail =
                case_detail::detail(conn, &actor, &case_id, after)?.ok_or_else(case_not_found)?;
            let article =
                article_store::find_by_external_id(conn, &detail.case.article.external_id)?
                    .ok_or_else(|| Problem::internal("case without article"))?;
            // The whole paragraph of the sentence as it now reads.
            let paragraph = match &detail.context.sentence {
                Some(s) => {
                    article_store::revision_sentences(conn, &article.id, detail.context.revision)?
                        .into_iter()
                        .filter(|x| x.paragraph == s.paragraph)
                        .collect()
                }
                None => Vec::new(),
            };
            let desk = detail.case.desk.clone();
            let assignees = editors::list(conn)?
                .into_iter()
                .filter(|r| !r.disabled && r.role >= Role::Editor)
                .filter(|r| covers(r.role, &r.desks(), desk.as_deref()))
                .map(|r| r.view(false))
                .collect();
            Ok(CasePage {
                detail,
                article,
                paragraph,
                assignees,
            })
        })
        .await
}
