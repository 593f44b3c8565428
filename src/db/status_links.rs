//! Status links emailed at the reader's request (`app::status_link`): one
//! row per emailed link, holding the hash of its token and, until the email
//! is queued, the address to send it to.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::{articles, cases, reports, status_links};

pub struct NewLink<'a> {
    pub id: &'a str,
    pub report_id: &'a str,
    pub token_hash: &'a str,
    pub email: &'a str,
    pub language: &'a str,
}

pub fn create(conn: &mut DbConn, link: &NewLink, t: NaiveDateTime) -> QueryResult<()> {
    diesel::insert_into(status_links::table)
        .values((
            status_links::id.eq(link.id),
            status_links::report_id.eq(link.report_id),
            status_links::token_hash.eq(link.token_hash),
            status_links::email.eq(Some(link.email)),
            status_links::language.eq(link.language),
            status_links::created_at.eq(t),
        ))
        .execute(conn)
        .map(|_| ())
}

/// How many links were emailed for a report since `since`.
pub fn count_since(conn: &mut DbConn, report_id: &str, since: NaiveDateTime) -> QueryResult<i64> {
    status_links::table
        .filter(status_links::report_id.eq(report_id))
        .filter(status_links::created_at.ge(since))
        .count()
        .get_result(conn)
}

/// The hash under which the report is found for a token's hash: the report's
/// own when the token is an emailed link's, else the hash as given.
pub fn report_token_hash(conn: &mut DbConn, hash: &str) -> QueryResult<String> {
    let own: Option<String> = status_links::table
        .inner_join(reports::table)
        .filter(status_links::token_hash.eq(hash))
        .select(reports::status_token_hash)
        .first(conn)
        .optional()?;
    Ok(own.unwrap_or_else(|| hash.to_string()))
}

/// The report a status token's hash is its own, and its article's language
/// tag (`es`, `pt-br`…: the email's language).
pub fn report_of(conn: &mut DbConn, hash: &str) -> QueryResult<Option<(String, String)>> {
    let found: Option<(String, String, Option<String>)> = reports::table
        .inner_join(articles::table.on(articles::id.eq(reports::article_id)))
        .filter(reports::status_token_hash.eq(hash))
        .select((reports::id, articles::language, articles::locale))
        .first(conn)
        .optional()?;
    Ok(found.map(|(id, language, locale)| (id, locale.unwrap_or(language))))
}

/// What the email of a link says, and to whom.
pub struct Pending {
    pub email: String,
    pub language: String,
    pub reference: String,
    pub sentence: String,
    pub article_title: String,
    pub article_url: String,
}

/// Take a link's address for its email (the row forgets it) with what the
/// email says; None when it was taken already or erased.
pub fn take_pending(conn: &mut DbConn, link_id: &str) -> QueryResult<Option<Pending>> {
    let found: Option<(Option<String>, String, String, String, String, String)> =
        status_links::table
            .inner_join(reports::table.inner_join(cases::table))
            .inner_join(articles::table.on(articles::id.eq(reports::article_id)))
            .filter(status_links::id.eq(link_id))
            .select((
                status_links::email,
                status_links::language,
                reports::reference,
                cases::sentence_text,
                articles::title,
                articles::url,
            ))
            .first(conn)
            .optional()?;
    let Some((Some(email), language, reference, sentence, article_title, article_url)) = found
    else {
        return Ok(None);
    };
    diesel::update(status_links::table.find(link_id))
        .set(status_links::email.eq(None::<String>))
        .execute(conn)?;
    Ok(Some(Pending {
        email,
        language,
        reference,
        sentence,
        article_title,
        article_url,
    }))
}

/// Forget an address in links not yet emailed (a reader's erasure).
pub fn forget_email(conn: &mut DbConn, email: &str) -> QueryResult<usize> {
    diesel::update(status_links::table.filter(status_links::email.eq(email)))
        .set(status_links::email.eq(None::<String>))
        .execute(conn)
}
