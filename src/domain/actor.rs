//! Who is acting: the plain value every use case takes, whatever the way in
//! (a session cookie, an API token, the command line). The HTTP extractor
//! (`auth::CurrentEditor`) builds one; use cases never see HTTP.

use super::editor::Role;
use crate::error::Problem;

/// Who the audit log names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Who {
    Editor(String),
    /// The `erratum` command line, run by whoever has the server's shell.
    Cli,
    /// The first admin's one-time setup (the link `erratum serve` prints, or
    /// the OpenID Connect bootstrap address).
    Setup,
    /// An account created on its first sign-in through the OpenID provider
    /// (its role and desks from the group mapping).
    Sso,
}

impl Who {
    pub fn kind(&self) -> &'static str {
        match self {
            Who::Editor(_) => "editor",
            Who::Cli => "cli",
            Who::Setup => "setup",
            Who::Sso => "sso",
        }
    }

    pub fn editor_id(&self) -> Option<&str> {
        match self {
            Who::Editor(id) => Some(id),
            Who::Cli | Who::Setup | Who::Sso => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub who: Who,
    pub role: Role,
    /// Desks this editor triages; empty means every desk.
    pub desks: Vec<String>,
}

impl Actor {
    pub fn editor(id: impl Into<String>, role: Role, desks: Vec<String>) -> Actor {
        Actor {
            who: Who::Editor(id.into()),
            role,
            desks,
        }
    }

    /// The command line acts with an admin's rights on every desk.
    pub fn cli() -> Actor {
        Actor {
            who: Who::Cli,
            role: Role::Admin,
            desks: Vec::new(),
        }
    }

    /// The editor's account id; the command line has none.
    pub fn editor_id(&self) -> Option<&str> {
        self.who.editor_id()
    }

    /// The account id of an action that needs one (a claim, a note).
    pub fn require_account(&self) -> Result<&str, Problem> {
        self.editor_id()
            .ok_or_else(|| Problem::forbidden("This action needs an editor's account."))
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// 403 unless the actor has at least `role`.
    pub fn require(&self, role: Role) -> Result<(), Problem> {
        if self.role >= role {
            Ok(())
        } else {
            Err(Problem::forbidden(format!(
                "This needs the {} role; you are {}.",
                role.as_str(),
                self.role.as_str()
            ))
            .with("required_role", role.as_str()))
        }
    }

    /// The one desk rule: may this account see and act on a case of `desk`?
    /// Admins and accounts without desks cover everything; a case without a
    /// desk is covered only by them.
    pub fn covers_desk(&self, desk: Option<&str>) -> bool {
        covers(self.role, &self.desks, desk)
    }

    /// 403 unless this actor may triage a case of `desk`.
    pub fn require_desk(&self, desk: Option<&str>) -> Result<(), Problem> {
        self.require(Role::Editor)?;
        if self.covers_desk(desk) {
            Ok(())
        } else {
            Err(Problem::forbidden(format!(
                "This case belongs to the {} desk, which is not one of yours.",
                desk.unwrap_or("(no)")
            )))
        }
    }

    /// Reporters' addresses are personal data: editors and admins see them,
    /// viewers do not.
    pub fn sees_reporter_emails(&self) -> bool {
        self.role >= Role::Editor
    }
}

/// Whether an account with `role` and `desks` covers a case of `desk` (also
/// used for accounts other than the actor, e.g. an assignee).
pub fn covers(role: Role, desks: &[String], desk: Option<&str>) -> bool {
    role == Role::Admin || desks.is_empty() || desk.is_some_and(|d| desks.iter().any(|m| m == d))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn desks_cover_their_cases_and_admins_cover_all() {
        let sport = Actor::editor("e", Role::Editor, vec!["sport".into()]);
        assert!(sport.covers_desk(Some("sport")));
        assert!(!sport.covers_desk(Some("politique")));
        assert!(!sport.covers_desk(None));
        let all = Actor::editor("e", Role::Editor, vec![]);
        assert!(all.covers_desk(None) && all.covers_desk(Some("x")));
        assert!(Actor::cli().covers_desk(Some("x")));
        let viewer = Actor::editor("v", Role::Viewer, vec![]);
        assert!(viewer.require_desk(Some("x")).is_err());
    }
}
