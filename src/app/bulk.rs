//! Bulk actions on the queue's selection: claim, assign, triage, set the
//! priority, or resolve without a correction (spam, duplicate, rejected,
//! no_change) with one public note. Each case goes through the same
//! `cases::apply` as when acted on alone (desk, transition, audit entry,
//! event), in its own savepoint, so one refusal does not stop the others;
//! the answer lists each case's outcome.

use diesel::Connection;
use serde::Serialize;

use super::AppState;
use super::cases::{self, CaseAction};
use crate::domain::actor::Actor;
use crate::domain::editor::Role;
use crate::domain::workflow::Action;
use crate::error::{ErrorCode, FieldError, Problem};

pub const MAX_BULK: usize = 200;

/// One case's result in a bulk action.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BulkItem {
    pub case_id: String,
    /// What was done (`claimed`, `assigned`, `triaged`, `prioritised`,
    /// `resolved`), or the problem code that stopped it (e.g.
    /// `illegal_transition`, `already_claimed`, `invalid_assignee`,
    /// `case_not_found`, `forbidden`).
    pub outcome: String,
    /// Why it was refused (English, for API clients; pages show the code's
    /// words in the interface's language).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(skip)]
    done: bool,
}

impl BulkItem {
    /// Whether the action was done on this case.
    pub fn done(&self) -> bool {
        self.done
    }

    pub fn resolved(&self) -> bool {
        self.done
    }
}

/// The word an answer gives a case the action was done on.
fn done_word(action: &CaseAction) -> &'static str {
    match action.kind() {
        Action::Claim => "claimed",
        Action::Assign => "assigned",
        Action::Triage => "triaged",
        Action::Priority => "prioritised",
        _ => "resolved",
    }
}

/// A bulk request's case ids: 1 to `MAX_BULK` distinct case ids, in order.
pub fn bulk_ids(raw: &[String]) -> Result<Vec<String>, Problem> {
    let mut ids: Vec<String> = Vec::with_capacity(raw.len());
    for (i, id) in raw.iter().enumerate() {
        if uuid::Uuid::parse_str(id).is_err() {
            return Err(Problem::validation(vec![FieldError::new(
                format!("case_ids[{i}]"),
                "invalid_value",
                "is not a case id",
            )]));
        }
        if !ids.contains(id) {
            ids.push(id.clone());
        }
    }
    if ids.is_empty() || ids.len() > MAX_BULK {
        return Err(Problem::validation(vec![FieldError::new(
            "case_ids",
            "invalid_length",
            format!("must list 1 to {MAX_BULK} cases"),
        )]));
    }
    Ok(ids)
}

/// Whether the action may be taken in bulk: not notes, releases or
/// reopenings, and no resolution that publishes a correction (corrections
/// are written one case at a time).
fn check(action: &CaseAction) -> Result<(), Problem> {
    match action {
        CaseAction::Claim
        | CaseAction::Assign { .. }
        | CaseAction::Triage
        | CaseAction::Priority { .. } => Ok(()),
        CaseAction::Resolve(r) if !r.resolution.publishes_correction() => Ok(()),
        CaseAction::Resolve(r) => Err(Problem::field(
            ErrorCode::BulkCorrection,
            "Corrections are published one by one",
            "resolution",
            format!(
                "{} publishes a correction: resolve those cases one at a time",
                r.resolution.as_str()
            ),
        )),
        _ => Err(Problem::validation(vec![FieldError::new(
            "action",
            "invalid_value",
            "must be claim, assign, triage, priority or resolve",
        )])),
    }
}

/// Take `action` on each listed case, as if on each alone.
pub async fn run(
    state: &AppState,
    actor: Actor,
    case_ids: &[String],
    action: CaseAction,
) -> Result<Vec<BulkItem>, Problem> {
    actor.require(Role::Editor)?;
    check(&action)?;
    let ids = bulk_ids(case_ids)?;
    let word = done_word(&action);
    let kind = action.kind();
    let catalogs = state.catalogs.clone();
    let results = state
        .write(move |conn| {
            let mut out = Vec::with_capacity(ids.len());
            for id in &ids {
                let r =
                    conn.transaction(|c| cases::apply(c, &actor, id, action.clone(), &catalogs));
                out.push(match r {
                    Ok(_) => BulkItem {
                        case_id: id.clone(),
                        outcome: word.into(),
                        detail: None,
                        done: true,
                    },
                    // Database trouble is not the case's fault: fail the whole job.
                    Err(p) if p.status.is_server_error() => return Err(p),
                    Err(p) => BulkItem {
                        case_id: id.clone(),
                        outcome: p.code.as_str().into(),
                        detail: Some(p.detail),
                        done: false,
                    },
                });
            }
            Ok(out)
        })
        .await?;
    state.committed();
    let done = results.iter().filter(|r| r.done).count();
    tracing::info!(
        done,
        asked = results.len(),
        action = kind.as_str(),
        "bulk action"
    );
    Ok(results)
}
