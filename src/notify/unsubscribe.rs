//! One-click unsubscribe (RFC 8058). Every email carries a link whose token
//! names what to turn off — one kind of editor notification, an editor's
//! digest, or every email to a reader's address — signed with an HMAC under
//! a secret this installation generated, so the link works without logging
//! in and cannot be forged or pointed at someone else.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::prefs::{self, Delivery, NotificationKind};
use crate::db::DbConn;
use crate::db::outbox::{self, OutboxRow, UNSUBSCRIBED};
use crate::db::schema::{digest_items, instance_secrets, notification_prefs, outbox as outbox_t};

type HmacSha256 = Hmac<Sha256>;

/// The name of the secret in `instance_secrets`.
pub const SECRET_NAME: &str = "unsubscribe";

/// What a link turns off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// One kind of notification for one editor.
    EditorKind {
        editor_id: String,
        kind: NotificationKind,
    },
    /// An editor's hourly or daily digest: every kind delivered that way.
    EditorDigest { editor_id: String, cadence: String },
    /// Every email to a reader's address (by its key, never the address).
    Reader { address_key: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsubscribe {
    pub scope: Scope,
    /// The language of the page that confirms it: the email's tag (the
    /// article's for a reader, `fr` or `en` for an editor).
    pub lang: String,
}

impl Unsubscribe {
    /// What the unsubscribe link of an outbox row turns off.
    pub fn for_row(row: &OutboxRow, payload: &super::content::Payload) -> Unsubscribe {
        let lang = tag(&row.language);
        let scope = match (&row.editor_id, &payload.content) {
            (Some(editor_id), super::content::Content::Digest { cadence, .. }) => {
                Scope::EditorDigest {
                    editor_id: editor_id.clone(),
                    cadence: cadence.clone(),
                }
            }
            (Some(editor_id), _) => match NotificationKind::parse(&row.kind) {
                Some(kind) => Scope::EditorKind {
                    editor_id: editor_id.clone(),
                    kind,
                },
                None => Scope::EditorDigest {
                    editor_id: editor_id.clone(),
                    cadence: "hourly".into(),
                },
            },
            (None, _) => Scope::Reader {
                address_key: row.recipient_key.clone(),
            },
        };
        Unsubscribe { scope, lang }
    }

    fn encode(&self) -> String {
        let scope = match &self.scope {
            Scope::EditorKind { editor_id, kind } => format!("e|{editor_id}|{}", kind.as_str()),
            Scope::EditorDigest { editor_id, cadence } => format!("d|{editor_id}|{cadence}"),
            Scope::Reader { address_key } => format!("r|{address_key}|"),
        };
        format!("1|{scope}|{}", self.lang)
    }

    fn decode(s: &str) -> Option<Unsubscribe> {
        let parts: Vec<&str> = s.split('|').collect();
        let [version, what, id, detail, lang] = parts.as_slice() else {
            return None;
        };
        if *version != "1" || id.is_empty() {
            return None;
        }
        let scope = match *what {
            "e" => Scope::EditorKind {
                editor_id: id.to_string(),
                kind: NotificationKind::parse(detail)?,
            },
            "d" if matches!(*detail, "hourly" | "daily") => Scope::EditorDigest {
                editor_id: id.to_string(),
                cadence: detail.to_string(),
            },
            "r" => Scope::Reader {
                address_key: id.to_string(),
            },
            _ => return None,
        };
        Some(Unsubscribe {
            scope,
            lang: tag(lang),
        })
    }

    /// The token for the link: the scope and its signature, URL-safe.
    pub fn sign(&self, secret: &str) -> String {
        let body = self.encode();
        let b64 = data_encoding::BASE64URL_NOPAD;
        format!(
            "{}.{}",
            b64.encode(body.as_bytes()),
            b64.encode(&mac(secret, &body).finalize().into_bytes())
        )
    }

    /// Check a token; `None` for anything not signed with `secret`.
    pub fn verify(token: &str, secret: &str) -> Option<Unsubscribe> {
        if token.len() > 512 {
            return None;
        }
        let (body, sig) = token.split_once('.')?;
        let b64 = data_encoding::BASE64URL_NOPAD;
        let body = String::from_utf8(b64.decode(body.as_bytes()).ok()?).ok()?;
        let sig = b64.decode(sig.as_bytes()).ok()?;
        // Constant-time comparison.
        mac(secret, &body).verify_slice(&sig).ok()?;
        Unsubscribe::decode(&body)
    }
}

/// A language tag as links carry it (no `|`, which separates the token's
/// fields); French, the newsroom's language, for anything else.
fn tag(lang: &str) -> String {
    crate::domain::locale::Locale::parse(lang)
        .map(String::from)
        .unwrap_or_else(|| super::language(lang).to_string())
}

fn mac(secret: &str, body: &str) -> HmacSha256 {
    let mut m =
        HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    m.update(b"erratum-unsubscribe\0");
    m.update(body.as_bytes());
    m
}

/// The secret, if this installation has made it (reads never create it: no
/// secret means no link was ever sent, so every token is invalid).
pub fn read_secret(conn: &mut DbConn) -> QueryResult<Option<String>> {
    instance_secrets::table
        .find(SECRET_NAME)
        .select(instance_secrets::secret)
        .first(conn)
        .optional()
}

/// Turn off what the link names, at once and for good (idempotent). Unsent
/// emails of that scope are dropped too.
pub fn apply(conn: &mut DbConn, u: &Unsubscribe, t: NaiveDateTime) -> QueryResult<()> {
    match &u.scope {
        Scope::EditorKind { editor_id, kind } => {
            prefs::set_one(conn, editor_id, *kind, Delivery::Off, t)
        }
        Scope::EditorDigest { editor_id, cadence } => {
            let delivery = Delivery::parse(cadence).unwrap_or(Delivery::Hourly);
            for kind in NotificationKind::ALL {
                let current = notification_prefs::table
                    .find((editor_id.as_str(), kind.as_str()))
                    .select(notification_prefs::delivery)
                    .first::<String>(conn)
                    .optional()?
                    .and_then(|d| Delivery::parse(&d))
                    .unwrap_or_else(|| kind.default_delivery());
                if current == delivery {
                    prefs::set_one(conn, editor_id, kind, Delivery::Off, t)?;
                }
            }
            diesel::delete(
                digest_items::table
                    .filter(digest_items::editor_id.eq(editor_id))
                    .filter(digest_items::cadence.eq(cadence))
                    .filter(digest_items::outbox_id.is_null()),
            )
            .execute(conn)?;
            Ok(())
        }
        Scope::Reader { address_key } => {
            outbox::suppress(conn, address_key, UNSUBSCRIBED, None, t)?;
            diesel::update(
                outbox_t::table
                    .filter(outbox_t::recipient_key.eq(address_key))
                    .filter(outbox_t::editor_id.is_null())
                    .filter(outbox_t::status.eq(crate::domain::email::OutboxStatus::Pending)),
            )
            .set((
                outbox_t::status.eq(crate::domain::email::OutboxStatus::Skipped),
                outbox_t::last_error.eq("unsubscribed by the recipient"),
                outbox_t::updated_at.eq(t),
            ))
            .execute(conn)?;
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_resist_tampering() {
        let u = Unsubscribe {
            scope: Scope::EditorKind {
                editor_id: "0193-abc".into(),
                kind: NotificationKind::NewCase,
            },
            lang: "fr".into(),
        };
        let token = u.sign("secret");
        assert_eq!(Unsubscribe::verify(&token, "secret"), Some(u.clone()));
        assert_eq!(Unsubscribe::verify(&token, "other secret"), None);
        // Another editor's id with the same signature is refused.
        let forged = Unsubscribe {
            scope: Scope::EditorKind {
                editor_id: "0193-xyz".into(),
                kind: NotificationKind::NewCase,
            },
            lang: "fr".into(),
        }
        .sign("guess");
        let (body, _) = forged.split_once('.').unwrap();
        let (_, sig) = token.split_once('.').unwrap();
        assert_eq!(
            Unsubscribe::verify(&format!("{body}.{sig}"), "secret"),
            None
        );
        for junk in ["", ".", "abc", "a.b.c", "%%%.%%%"] {
            assert_eq!(Unsubscribe::verify(junk, "secret"), None, "{junk}");
        }
        let reader = Unsubscribe {
            scope: Scope::Reader {
                address_key: "ab12".into(),
            },
            lang: "pt-br".into(),
        };
        assert_eq!(
            Unsubscribe::verify(&reader.sign("s"), "s"),
            Some(reader.clone())
        );
    }
}
