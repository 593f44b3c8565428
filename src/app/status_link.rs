//! "Email me this link": a reader who holds a status link has it sent to an
//! address they give, so that a link shown once in the widget is not lost.
//!
//! The link shown after filing is never stored (only its hash), so it cannot
//! be sent later. The email carries a new link to the same status page: its
//! token is derived from the new row's id with the status-token secret when
//! the email is sent (`notify::worker`), as password-reset links are; only
//! its hash is stored. The address is kept on the row only until the email
//! is queued; sending it is the reader's consent for this one email, and
//! subscribes them to nothing.

use std::net::IpAddr;

use chrono::Duration;

use super::AppState;
use crate::auth::keys;
use crate::db::status_links::{self, NewLink};
use crate::db::{events, new_id, now};
use crate::domain::event::Event;
use crate::domain::report::ReporterEmail;
use crate::domain::text::sha256_hex;
use crate::error::{ErrorCode, Problem};

/// Links one report may have emailed in 24 hours: enough for a typo in the
/// address, too few to use Erratum to write to someone else.
pub const PER_REPORT_PER_DAY: i64 = 3;

/// Queue an email with a status link for the report `token` leads to; the
/// email goes out in the article's language. 404 for a token that is not
/// one, 422 for a malformed address, 429 past the limits.
pub async fn email_status_link(
    state: &AppState,
    ip: IpAddr,
    token: String,
    email: String,
) -> Result<(), Problem> {
    super::intake::count_status_lookup(state, ip)?;
    let email = ReporterEmail::parse(&email).map_err(|mut e| {
        e.field = "email".into();
        Problem::validation(vec![e])
    })?;
    let unknown =
        || Problem::not_found(ErrorCode::ReportNotFound, "No report has this status link.");
    if token.is_empty() || token.len() > 128 {
        return Err(unknown());
    }
    let address = email.as_str().trim().to_lowercase();
    let keys_ = state.keys.clone();
    state
        .write(move |conn| {
            let t = now();
            let hash = status_links::report_token_hash(conn, &sha256_hex(&token))?;
            let (report_id, language) =
                status_links::report_of(conn, &hash)?.ok_or_else(unknown)?;
            if status_links::count_since(conn, &report_id, t - Duration::hours(24))?
                >= PER_REPORT_PER_DAY
            {
                return Err(Problem::rate_limited(
                    "This status link was emailed too often today; retry tomorrow.",
                    3600,
                ));
            }
            let link_id = new_id();
            let secret = keys_.status_secret(conn)?;
            let link_hash = sha256_hex(keys::status_link_token(&secret, &link_id));
            status_links::create(
                conn,
                &NewLink {
                    id: &link_id,
                    report_id: &report_id,
                    token_hash: &link_hash,
                    email: &address,
                    language: &language,
                },
                t,
            )?;
            events::record(conn, &Event::StatusLinkRequested { link_id, report_id }, t)?;
            Ok(())
        })
        .await?;
    state.committed();
    // Never the address: it is personal data.
    tracing::info!("status link emailed at the reader's request");
    Ok(())
}
