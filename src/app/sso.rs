//! Signing editors in through the OpenID provider (`[auth.oidc]`).
//!
//! `start` sends the browser to the provider with a fresh `state`, `nonce`
//! and PKCE verifier, which travel in a short-lived cookie signed with an
//! instance secret (so any instance can take the callback); `finish` takes
//! the callback only when its `state` matches that cookie, lets
//! `auth::oidc` exchange the code and check the ID token, then `decide`s
//! what the identity may do:
//! - its address must be in an allowed domain (and not marked unverified);
//! - a disabled account stays disabled;
//! - an existing account signs in as it is (role and desks are managed in
//!   Erratum), if the groups still map to a role;
//! - a new address is created just in time with the mapped role and desks
//!   (audited as made by `sso`), or as the first admin when it is the
//!   `bootstrap_admin_email` and no admin exists yet (audited as `setup`);
//! - anything else is refused with the reason.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::AppState;
use super::accounts::{self, Login};
use crate::auth::oidc::{Identity, OidcError, Pending};
use crate::auth::{keys, secret};
use crate::config::{OidcGroupRule, OidcSettings};
use crate::db::editors::{self as store, EditorRow, NewEditor};
use crate::db::recovery::has_admin;
use crate::db::secrets;
use crate::domain::actor::Who;
use crate::domain::article::Language;
use crate::domain::editor::{EditorEmail, Role, parse_desks, parse_name};
use crate::error::Problem;

/// How long the browser has to come back from the provider.
pub const PENDING_SECS: u64 = 600;
const COOKIE_SECRET_NAME: &str = "oidc-pending";
/// A signed pending cookie is a few hundred bytes; anything longer is not one.
const MAX_COOKIE: usize = 4096;

/// Why an identity the provider vouched for may not come in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The ID token carries no (usable) address in the configured claim.
    NoEmail,
    /// The provider says the address is not verified.
    EmailNotVerified,
    DomainNotAllowed,
    /// None of the identity's groups maps to a role.
    NotMapped,
    Disabled,
}

impl Refusal {
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::NoEmail => "no_email",
            Refusal::EmailNotVerified => "email_not_verified",
            Refusal::DomainNotAllowed => "domain_not_allowed",
            Refusal::NotMapped => "not_mapped",
            Refusal::Disabled => "disabled",
        }
    }
}

/// Why a sign-in through the provider did not end in a session.
#[derive(Debug)]
pub enum SsoFailure {
    /// Single sign-on is not configured.
    Off,
    /// The callback's `state` does not match the browser's pending sign-in
    /// (missing, expired, forged or from another browser).
    State,
    /// The provider sent the browser back with an error (e.g. the user
    /// cancelled); the code, never shown raw to readers of logs.
    Provider(String),
    Oidc(OidcError),
    Refused(Refusal),
    Internal(Problem),
}

impl From<Problem> for SsoFailure {
    fn from(p: Problem) -> Self {
        SsoFailure::Internal(p)
    }
}

/// What the browser keeps between `start` and `finish` (signed).
#[derive(Serialize, Deserialize)]
struct PendingCookie {
    #[serde(flatten)]
    oidc: Pending,
    next: String,
    lang: String,
    exp: u64,
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

async fn cookie_key(state: &AppState) -> Result<String, Problem> {
    if let Some(k) = state
        .read(|conn| Ok(secrets::instance_secret(conn, COOKIE_SECRET_NAME)?))
        .await?
    {
        return Ok(k);
    }
    state
        .write(|conn| Ok(keys::instance_secret(conn, COOKIE_SECRET_NAME)?))
        .await
}

fn sign(key: &str, payload: &str) -> String {
    keys::hmac_hex(key, &["oidc-pending", payload])
}

/// The provider's URL to send the browser to, and the signed cookie value
/// that must come back with it. `next` is a checked path of these pages.
pub async fn start(
    state: &AppState,
    next: String,
    lang: Language,
) -> Result<(String, String), SsoFailure> {
    let oidc = state.oidc.as_ref().ok_or(SsoFailure::Off)?;
    let (url, pending) = oidc.begin().await.map_err(SsoFailure::Oidc)?;
    let cookie = PendingCookie {
        oidc: pending,
        next,
        lang: lang.as_str().to_string(),
        exp: unix_now() + PENDING_SECS,
    };
    let json = serde_json::to_vec(&cookie).map_err(Problem::internal)?;
    let payload = data_encoding::BASE64URL_NOPAD.encode(&json);
    let key = cookie_key(state).await?;
    let value = format!("{payload}.{}", sign(&key, &payload));
    Ok((url, value))
}

/// What the provider's redirect carries.
#[derive(Debug, Default, Deserialize)]
pub struct Callback {
    pub state: Option<String>,
    pub code: Option<String>,
    pub error: Option<String>,
}

/// A signed-in editor and where the browser goes next.
#[derive(Debug)]
pub struct Finished {
    pub login: Login,
    pub next: String,
    pub created: bool,
}

async fn open_pending(
    state: &AppState,
    cookie: Option<String>,
) -> Result<PendingCookie, SsoFailure> {
    let cookie = cookie
        .filter(|c| c.len() <= MAX_COOKIE)
        .ok_or(SsoFailure::State)?;
    let (payload, sig) = cookie.split_once('.').ok_or(SsoFailure::State)?;
    let key = cookie_key(state).await?;
    if !secret::same_secret(sig, &sign(&key, payload)) {
        return Err(SsoFailure::State);
    }
    let json = data_encoding::BASE64URL_NOPAD
        .decode(payload.as_bytes())
        .map_err(|_| SsoFailure::State)?;
    let p: PendingCookie = serde_json::from_slice(&json).map_err(|_| SsoFailure::State)?;
    if p.exp <= unix_now() {
        return Err(SsoFailure::State);
    }
    Ok(p)
}

/// The provider's callback: check `state` against the signed cookie, let
/// the provider client check the code and ID token, decide, and open a
/// session.
pub async fn finish(
    state: &AppState,
    cookie: Option<String>,
    callback: Callback,
) -> Result<Finished, SsoFailure> {
    let oidc = state.oidc.as_ref().ok_or(SsoFailure::Off)?;
    let pending = open_pending(state, cookie).await?;
    let sent = callback.state.unwrap_or_default();
    if sent.is_empty() || !secret::same_secret(&sent, &pending.oidc.state) {
        return Err(SsoFailure::State);
    }
    if let Some(e) = callback.error {
        let e: String = e
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .take(60)
            .collect();
        return Err(SsoFailure::Provider(e));
    }
    let code = callback
        .code
        .filter(|c| !c.is_empty() && c.len() <= 2048)
        .ok_or(SsoFailure::State)?;
    let identity = oidc
        .finish(code, pending.oidc)
        .await
        .map_err(SsoFailure::Oidc)?;
    let lang = Language::parse(&pending.lang).unwrap_or(Language::Fr);
    let (row, created) = sign_in(state, oidc.settings().clone(), identity, lang).await?;
    let login = accounts::open_session(state, row, Some("oidc")).await?;
    Ok(Finished {
        login,
        next: pending.next,
        created,
    })
}

/// The account an identity signs in as: found, or created just in time, in
/// one write (two first sign-ins at once create one account).
async fn sign_in(
    state: &AppState,
    settings: OidcSettings,
    identity: Identity,
    lang: Language,
) -> Result<(EditorRow, bool), SsoFailure> {
    let email = checked_email(&identity)?;
    let name = identity
        .name
        .as_deref()
        .and_then(|n| parse_name(n).ok())
        .unwrap_or_else(|| {
            email
                .as_str()
                .split('@')
                .next()
                .unwrap_or_default()
                .to_string()
        });
    let groups = identity.groups;
    let outcome = state
        .write(
            move |conn| -> Result<Result<(EditorRow, bool), Refusal>, Problem> {
                let existing = store::find_by_email(conn, email.as_str())?;
                let admin_exists = has_admin(conn)?;
                let decision = decide(
                    &settings,
                    email.as_str(),
                    &groups,
                    existing.as_ref().map(|r| r.disabled),
                    admin_exists,
                );
                let grant = match (decision, existing) {
                    (Err(r), _) => return Ok(Err(r)),
                    (Ok(Decision::Existing), Some(row)) => return Ok(Ok((row, false))),
                    (Ok(Decision::Existing), None) => return Ok(Err(Refusal::NotMapped)),
                    (Ok(Decision::Create(g)), _) => g,
                };
                let who = if grant.bootstrap {
                    Who::Setup
                } else {
                    Who::Sso
                };
                let new = NewEditor {
                    email,
                    name,
                    role: grant.role,
                    desks: grant.desks,
                    language: lang,
                    // Not an Argon2 hash: no password opens this account until
                    // an admin or a reset sets one.
                    password_hash: "!sso".to_string(),
                };
                let row = store::create(conn, &who, &new)?
                    .ok_or_else(|| Problem::internal("account created concurrently"))?;
                Ok(Ok((row, true)))
            },
        )
        .await?;
    match outcome {
        Ok((row, created)) => {
            if created {
                tracing::info!(editor_id = %row.id, role = row.role.as_str(), "account created on first single sign-on");
            }
            Ok((row, created))
        }
        Err(r) => {
            tracing::info!(reason = r.as_str(), "single sign-on refused");
            Err(SsoFailure::Refused(r))
        }
    }
}

fn checked_email(identity: &Identity) -> Result<EditorEmail, SsoFailure> {
    let email = identity
        .email
        .as_deref()
        .and_then(|e| EditorEmail::parse(e).ok())
        .ok_or(SsoFailure::Refused(Refusal::NoEmail))?;
    if identity.email_verified == Some(false) {
        return Err(SsoFailure::Refused(Refusal::EmailNotVerified));
    }
    Ok(email)
}

/// The role and desks a new account gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub role: Role,
    pub desks: Vec<String>,
    /// The first admin, through `bootstrap_admin_email`.
    pub bootstrap: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Sign in as the existing account, unchanged.
    Existing,
    Create(Grant),
}

/// What an identity (its lower-cased address and groups) may do, given
/// whether an account has its address (`Some(disabled)`) and whether an
/// enabled admin exists.
pub fn decide(
    settings: &OidcSettings,
    email: &str,
    groups: &[String],
    existing_disabled: Option<bool>,
    admin_exists: bool,
) -> Result<Decision, Refusal> {
    if !settings.domain_allowed(email) {
        return Err(Refusal::DomainNotAllowed);
    }
    let bootstrap = !settings.bootstrap_admin_email.is_empty()
        && settings
            .bootstrap_admin_email
            .trim()
            .eq_ignore_ascii_case(email);
    let mapped = map_groups(&settings.groups, groups);
    match existing_disabled {
        Some(true) => Err(Refusal::Disabled),
        // The bootstrap address keeps its way in, groups or not: the first
        // admin must not be locked out by an IdP without group claims.
        Some(false) if bootstrap || mapped.is_some() => Ok(Decision::Existing),
        Some(false) => Err(Refusal::NotMapped),
        None if bootstrap && !admin_exists => Ok(Decision::Create(Grant {
            role: Role::Admin,
            desks: Vec::new(),
            bootstrap: true,
        })),
        None => mapped
            .map(|(role, desks)| {
                Decision::Create(Grant {
                    role,
                    desks,
                    bootstrap: false,
                })
            })
            .ok_or(Refusal::NotMapped),
    }
}

/// A rule for this group matches every identity (for providers that send
/// no groups, such as Google: the domain is then the only gate).
pub const ANY_GROUP: &str = "*";

/// The most powerful role among the rules matching `groups`, with the desks
/// of the matching rules of that role (every desk if one of them has none).
pub fn map_groups(rules: &[OidcGroupRule], groups: &[String]) -> Option<(Role, Vec<String>)> {
    let matching: Vec<&OidcGroupRule> = rules
        .iter()
        .filter(|r| r.group == ANY_GROUP || groups.iter().any(|g| g == &r.group))
        .collect();
    let role = matching.iter().map(|r| r.role).max()?;
    let top: Vec<&&OidcGroupRule> = matching.iter().filter(|r| r.role == role).collect();
    if top.iter().any(|r| r.desks.is_empty()) {
        return Some((role, Vec::new()));
    }
    let all: Vec<String> = top.iter().flat_map(|r| r.desks.iter().cloned()).collect();
    Some((role, parse_desks(&all).unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(group: &str, role: Role, desks: &[&str]) -> OidcGroupRule {
        OidcGroupRule {
            group: group.into(),
            role,
            desks: desks.iter().map(|d| d.to_string()).collect(),
        }
    }

    fn settings(domains: &[&str], bootstrap: &str) -> OidcSettings {
        let mut s = crate::config::Settings::from_toml_overrides("")
            .unwrap()
            .auth
            .oidc;
        s.allowed_domains = domains.iter().map(|d| d.to_string()).collect();
        s.bootstrap_admin_email = bootstrap.into();
        s.groups = vec![
            rule("staff", Role::Viewer, &[]),
            rule("politics", Role::Editor, &["politique"]),
            rule("world", Role::Editor, &["monde"]),
            rule("chiefs", Role::Admin, &[]),
        ];
        s
    }

    fn g(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn the_most_powerful_role_wins_with_its_desks() {
        let s = settings(&[], "");
        assert_eq!(
            map_groups(&s.groups, &g(&["staff", "politics", "world"])),
            Some((Role::Editor, g(&["politique", "monde"])))
        );
        assert_eq!(
            map_groups(&s.groups, &g(&["politics", "chiefs"])),
            Some((Role::Admin, vec![]))
        );
        assert_eq!(
            map_groups(&s.groups, &g(&["staff"])),
            Some((Role::Viewer, vec![]))
        );
        assert_eq!(map_groups(&s.groups, &g(&["Staff", "other"])), None);
        assert_eq!(map_groups(&s.groups, &[]), None);
        let mut any = s.groups.clone();
        any.push(rule("*", Role::Viewer, &[]));
        assert_eq!(map_groups(&any, &[]), Some((Role::Viewer, vec![])));
        assert_eq!(
            map_groups(&any, &g(&["politics"])),
            Some((Role::Editor, g(&["politique"])))
        );
    }

    #[test]
    fn decisions() {
        let s = settings(&["news.example"], "boss@news.example");
        let create = |role, desks: &[&str]| {
            Ok(Decision::Create(Grant {
                role,
                desks: g(desks),
                bootstrap: false,
            }))
        };
        assert_eq!(
            decide(&s, "ana@news.example", &g(&["politics"]), None, true),
            create(Role::Editor, &["politique"])
        );
        assert_eq!(
            decide(&s, "ana@evil.example", &g(&["chiefs"]), None, true),
            Err(Refusal::DomainNotAllowed)
        );
        assert_eq!(
            decide(&s, "ana@news.example", &g(&["nope"]), None, true),
            Err(Refusal::NotMapped)
        );
        assert_eq!(
            decide(&s, "ana@news.example", &g(&["chiefs"]), Some(true), true),
            Err(Refusal::Disabled)
        );
        assert_eq!(
            decide(&s, "ana@news.example", &g(&["staff"]), Some(false), true),
            Ok(Decision::Existing)
        );
        assert_eq!(
            decide(&s, "ana@news.example", &[], Some(false), true),
            Err(Refusal::NotMapped)
        );
        // The bootstrap address: the first admin only while there is none.
        assert_eq!(
            decide(&s, "boss@news.example", &[], None, false),
            Ok(Decision::Create(Grant {
                role: Role::Admin,
                desks: vec![],
                bootstrap: true
            }))
        );
        assert_eq!(
            decide(&s, "boss@news.example", &[], None, true),
            Err(Refusal::NotMapped)
        );
        assert_eq!(
            decide(&s, "boss@news.example", &[], Some(false), true),
            Ok(Decision::Existing)
        );
        assert_eq!(
            decide(&s, "boss@news.example", &[], Some(true), false),
            Err(Refusal::Disabled)
        );
    }

    #[test]
    fn an_unverified_or_missing_address_is_refused() {
        let id = |email: Option<&str>, verified| Identity {
            subject: "s".into(),
            email: email.map(str::to_string),
            email_verified: verified,
            name: None,
            groups: vec![],
        };
        assert!(checked_email(&id(Some("Ana@News.Example"), Some(true))).is_ok());
        assert!(checked_email(&id(Some("ana@news.example"), None)).is_ok());
        assert!(matches!(
            checked_email(&id(Some("ana@news.example"), Some(false))),
            Err(SsoFailure::Refused(Refusal::EmailNotVerified))
        ));
        assert!(matches!(
            checked_email(&id(None, None)),
            Err(SsoFailure::Refused(Refusal::NoEmail))
        ));
        assert!(matches!(
            checked_email(&id(Some("not an address"), None)),
            Err(SsoFailure::Refused(Refusal::NoEmail))
        ));
    }
}
