//! The case workflow as data: statuses, actions, which action is legal in
//! which status, and where it leads. Pure, so the rules are tested without a
//! database and the API can list the allowed actions with every refusal.
//!
//! ```text
//!   new ──triage──▶ triaged ──claim──▶ in_review ──resolve──▶ resolved
//!    │  ╲─assign──▶    ▲  ◀──unassign──   │                      │
//!    │                 └──────────────── reopen ◀────────────────┘
//!    └──claim──▶ in_review;  resolve is allowed from every open status
//! ```

use serde::{Deserialize, Serialize};

use super::case_ref::CaseRef;
use super::text::clean;
use crate::error::{ErrorCode, FieldError, Problem};

pub const MAX_PUBLIC_NOTE: usize = 2000;
pub const MAX_NOTE: usize = 5000;

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
    diesel::expression::AsExpression,
    diesel::deserialize::FromSqlRow,
)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    New,
    Triaged,
    InReview,
    Resolved,
}

impl Status {
    pub const OPEN: [Status; 3] = [Status::New, Status::Triaged, Status::InReview];
    pub const ALL: [Status; 4] = [
        Status::New,
        Status::Triaged,
        Status::InReview,
        Status::Resolved,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::Triaged => "triaged",
            Status::InReview => "in_review",
            Status::Resolved => "resolved",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|st| st.as_str() == s)
    }
}

/// Everything an editor can do to a case; the name is the last segment of
/// `POST /api/v1/cases/{id}/<action>` and the audit log's `action`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Triage,
    Claim,
    Assign,
    Unassign,
    Note,
    Priority,
    Resolve,
    Reopen,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Triage => "triage",
            Action::Claim => "claim",
            Action::Assign => "assign",
            Action::Unassign => "unassign",
            Action::Note => "note",
            Action::Priority => "priority",
            Action::Resolve => "resolve",
            Action::Reopen => "reopen",
        }
    }
}

/// The actions legal on a case in `status`, with or without an assignee.
pub fn allowed(status: Status, assigned: bool) -> Vec<Action> {
    use Action::*;
    let mut actions = match status {
        Status::New => vec![Triage, Claim, Assign, Note, Priority, Resolve],
        Status::Triaged => vec![Claim, Assign, Note, Priority, Resolve],
        Status::InReview => vec![Assign, Note, Priority, Resolve],
        Status::Resolved => vec![Reopen, Note],
    };
    if assigned && status != Status::Resolved {
        actions.push(Unassign);
    }
    actions
}

/// The status after `action`, or the 409 listing what is allowed instead.
pub fn next(status: Status, assigned: bool, action: Action) -> Result<Status, Problem> {
    let legal = allowed(status, assigned);
    if !legal.contains(&action) {
        return Err(illegal(status, action, &legal));
    }
    Ok(match (status, action) {
        (_, Action::Resolve) => Status::Resolved,
        (Status::Resolved, Action::Reopen) => Status::Triaged,
        (Status::New, Action::Triage | Action::Assign) => Status::Triaged,
        (_, Action::Claim) => Status::InReview,
        (Status::InReview, Action::Unassign) => Status::Triaged,
        (s, _) => s,
    })
}

fn illegal(status: Status, action: Action, legal: &[Action]) -> Problem {
    let names: Vec<&str> = legal.iter().map(|a| a.as_str()).collect();
    Problem::conflict(
        ErrorCode::IllegalTransition,
        format!(
            "A case that is {} cannot be {}; allowed: {}.",
            status.as_str(),
            past(action),
            names.join(", ")
        ),
    )
    .with("case_status", status.as_str())
    .with("allowed", names)
}

fn past(action: Action) -> &'static str {
    match action {
        Action::Triage => "triaged",
        Action::Claim => "claimed",
        Action::Assign => "assigned",
        Action::Unassign => "unassigned",
        Action::Note => "annotated",
        Action::Priority => "re-prioritised",
        Action::Resolve => "resolved",
        Action::Reopen => "reopened",
    }
}

/// Where a case's sentence stands in the article's current revision.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
    diesel::expression::AsExpression,
    diesel::deserialize::FromSqlRow,
)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[serde(rename_all = "snake_case")]
pub enum AnchorState {
    /// The sentence is unchanged in the current revision.
    Current,
    /// The sentence was edited since the report (see its successor).
    PossiblyFixed,
    /// The sentence was removed.
    Orphaned,
}

impl AnchorState {
    pub const ALL: [AnchorState; 3] = [
        AnchorState::Current,
        AnchorState::PossiblyFixed,
        AnchorState::Orphaned,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AnchorState::Current => "current",
            AnchorState::PossiblyFixed => "possibly_fixed",
            AnchorState::Orphaned => "orphaned",
        }
    }

    pub fn parse(s: &str) -> Option<AnchorState> {
        AnchorState::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// How a case ends.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
    diesel::expression::AsExpression,
    diesel::deserialize::FromSqlRow,
)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    /// The sentence was wrong and was corrected (publishes a correction).
    Corrected,
    /// The sentence was clarified (publishes a correction).
    Clarified,
    /// The article was updated with new facts (publishes a correction).
    Updated,
    /// Checked: the sentence stands.
    NoChange,
    /// The report does not hold.
    Rejected,
    /// Another case covers it (`duplicate_of`).
    Duplicate,
    /// Abuse. Readers see `rejected`.
    Spam,
}

impl Resolution {
    pub const ALL: [Resolution; 7] = [
        Resolution::Corrected,
        Resolution::Clarified,
        Resolution::Updated,
        Resolution::NoChange,
        Resolution::Rejected,
        Resolution::Duplicate,
        Resolution::Spam,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Resolution::Corrected => "corrected",
            Resolution::Clarified => "clarified",
            Resolution::Updated => "updated",
            Resolution::NoChange => "no_change",
            Resolution::Rejected => "rejected",
            Resolution::Duplicate => "duplicate",
            Resolution::Spam => "spam",
        }
    }

    pub fn parse(s: &str) -> Option<Resolution> {
        Resolution::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Resolutions that publish a correction, whose text is then required.
    pub fn publishes_correction(self) -> bool {
        matches!(
            self,
            Resolution::Corrected | Resolution::Clarified | Resolution::Updated
        )
    }

    /// What the reader who filed a report sees. Spam is shown as `rejected`:
    /// an editor's judgement of abuse is not something to tell a reader,
    /// who may well have meant well.
    pub fn for_reader(self) -> Resolution {
        match self {
            Resolution::Spam => Resolution::Rejected,
            r => r,
        }
    }
}

/// A resolve request, checked: a correction text for the resolutions that
/// publish one, a case for `duplicate`, no public text on spam.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolve {
    pub resolution: Resolution,
    pub public_note: Option<String>,
    /// The case it duplicates, by id or number (resolved to an id when the
    /// action runs).
    pub duplicate_of: Option<CaseRef>,
}

impl Resolve {
    pub fn parse(
        resolution: Resolution,
        public_note: Option<&str>,
        duplicate_of: Option<&str>,
    ) -> Result<Resolve, Problem> {
        let mut errors = Vec::new();
        let public_note = match public_note.map(|n| clean(n, MAX_PUBLIC_NOTE, true)) {
            None => None,
            Some(Ok(n)) => Some(n),
            Some(Err(e)) => {
                errors.push(FieldError::new("public_note", e.code(), e.message()));
                None
            }
        };
        if resolution.publishes_correction() && public_note.is_none() && errors.is_empty() {
            errors.push(FieldError::new(
                "public_note",
                "required",
                format!(
                    "is required: a case resolved as {} publishes this text as its correction",
                    resolution.as_str()
                ),
            ));
        }
        if resolution == Resolution::Spam && public_note.is_some() {
            errors.push(FieldError::new(
                "public_note",
                "not_allowed",
                "is not allowed on spam: readers are shown `rejected` without a note",
            ));
        }
        let duplicate_of = duplicate_of.map(str::trim).filter(|d| !d.is_empty());
        match (resolution, duplicate_of) {
            (Resolution::Duplicate, None) => errors.push(FieldError::new(
                "duplicate_of",
                "required",
                "is required when the resolution is duplicate",
            )),
            (Resolution::Duplicate, Some(d)) if CaseRef::parse(d).is_none() => {
                errors.push(FieldError::new(
                    "duplicate_of",
                    "invalid_value",
                    "must be a case id or a case number (#1042)",
                ))
            }
            (r, Some(_)) if r != Resolution::Duplicate => errors.push(FieldError::new(
                "duplicate_of",
                "not_allowed",
                "is only allowed when the resolution is duplicate",
            )),
            _ => {}
        }
        if !errors.is_empty() {
            return Err(Problem::validation(errors));
        }
        Ok(Resolve {
            resolution,
            public_note,
            duplicate_of: duplicate_of.and_then(CaseRef::parse),
        })
    }
}

/// An internal note's text: 1–5000 characters, several lines allowed.
pub fn parse_note(body: &str) -> Result<String, Problem> {
    clean(body, MAX_NOTE, true)
        .map_err(|e| Problem::validation(vec![FieldError::new("body", e.code(), e.message())]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_happy_path() {
        let s = next(Status::New, false, Action::Triage).unwrap();
        assert_eq!(s, Status::Triaged);
        let s = next(s, false, Action::Claim).unwrap();
        assert_eq!(s, Status::InReview);
        let s = next(s, true, Action::Resolve).unwrap();
        assert_eq!(s, Status::Resolved);
        assert_eq!(next(s, true, Action::Reopen).unwrap(), Status::Triaged);
    }

    #[test]
    fn assignment_moves_new_cases_to_triaged_and_unassign_back_from_review() {
        assert_eq!(
            next(Status::New, false, Action::Assign).unwrap(),
            Status::Triaged
        );
        assert_eq!(
            next(Status::InReview, true, Action::Assign).unwrap(),
            Status::InReview
        );
        assert_eq!(
            next(Status::InReview, true, Action::Unassign).unwrap(),
            Status::Triaged
        );
        assert_eq!(
            next(Status::Triaged, true, Action::Unassign).unwrap(),
            Status::Triaged
        );
    }

    #[test]
    fn illegal_transitions_list_the_allowed_ones() {
        let p = next(Status::Resolved, true, Action::Claim).unwrap_err();
        assert_eq!(p.status.as_u16(), 409);
        assert_eq!(p.code, crate::error::ErrorCode::IllegalTransition);
        assert_eq!(
            p.extensions["allowed"],
            serde_json::json!(["reopen", "note"])
        );
        assert!(next(Status::New, false, Action::Reopen).is_err());
        assert!(next(Status::Triaged, false, Action::Triage).is_err());
        assert!(next(Status::Triaged, false, Action::Unassign).is_err());
        assert!(next(Status::InReview, true, Action::Claim).is_err());
        assert!(next(Status::Resolved, false, Action::Resolve).is_err());
        assert!(next(Status::Resolved, false, Action::Priority).is_err());
    }

    #[test]
    fn notes_are_allowed_in_every_status() {
        for s in [
            Status::New,
            Status::Triaged,
            Status::InReview,
            Status::Resolved,
        ] {
            assert_eq!(next(s, false, Action::Note).unwrap(), s);
        }
    }

    #[test]
    fn corrections_need_a_public_text() {
        for r in [
            Resolution::Corrected,
            Resolution::Clarified,
            Resolution::Updated,
        ] {
            let p = Resolve::parse(r, None, None).unwrap_err();
            assert_eq!(p.errors[0].field, "public_note");
            assert!(Resolve::parse(r, Some("Le 4 octobre, pas le 3."), None).is_ok());
        }
        assert!(Resolve::parse(Resolution::NoChange, None, None).is_ok());
        assert!(Resolve::parse(Resolution::Rejected, Some("La date est exacte."), None).is_ok());
        assert!(Resolve::parse(Resolution::Spam, Some("x"), None).is_err());
    }

    #[test]
    fn duplicates_name_a_case_and_only_duplicates_do() {
        let id = uuid::Uuid::now_v7().to_string();
        assert!(Resolve::parse(Resolution::Duplicate, None, None).is_err());
        assert!(Resolve::parse(Resolution::Duplicate, None, Some("nope")).is_err());
        let r = Resolve::parse(Resolution::Duplicate, None, Some(&id)).unwrap();
        assert_eq!(r.duplicate_of, Some(CaseRef::Id(id.clone())));
        let r = Resolve::parse(Resolution::Duplicate, None, Some("#12")).unwrap();
        assert_eq!(r.duplicate_of, Some(CaseRef::Number(12)));
        let p = Resolve::parse(Resolution::Rejected, None, Some(&id)).unwrap_err();
        assert_eq!(p.errors[0].code, "not_allowed");
    }

    #[test]
    fn readers_never_see_spam() {
        assert_eq!(Resolution::Spam.for_reader(), Resolution::Rejected);
        assert_eq!(Resolution::Corrected.for_reader(), Resolution::Corrected);
    }
}
