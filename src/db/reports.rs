//! Storage of readers' reports and of the intake's idempotency answers. What
//! a report means for its case (which case, duplicates, escalation) is
//! decided by `app::intake`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::any_of::any_of;
use serde::Serialize;

use super::dialect::is_unique_violation;
use super::schema::{articles, cases, corrections, idempotency_keys, reports};
use super::{DbConn, DbResult};
use crate::domain::article::Language;
use crate::domain::report::Category;
use crate::domain::workflow::{Resolution, Status};

/// An article as reports and cases link to it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ArticleRef {
    pub external_id: String,
    pub title: String,
    pub url: String,
}

/// A report row to insert (the reference is chosen by `insert`).
pub struct NewReportRow<'a> {
    pub id: &'a str,
    pub case_id: &'a str,
    pub article_id: &'a str,
    pub revision: i32,
    pub sentence_id: &'a str,
    /// JSON array of the sentence ids a quote spans.
    pub span_sentence_ids: String,
    pub quote_exact: &'a str,
    pub quote_prefix: Option<&'a str>,
    pub quote_suffix: Option<&'a str>,
    pub category: Category,
    pub comment: &'a str,
    pub suggested_correction: Option<&'a str>,
    /// JSON array of source URLs.
    pub sources: String,
    pub reporter_email: Option<&'a str>,
    pub notify: bool,
    pub reporter_key: &'a str,
    pub client_hash: &'a str,
    pub comment_hash: &'a str,
    pub status_token_hash: &'a str,
    pub is_spam: bool,
    /// Filed into spam because its reader is blocked.
    pub blocked: bool,
    pub created_at: NaiveDateTime,
    /// The case's desk, copied for the dashboard's figures (a case keeps
    /// its desk and a report its case).
    pub desk: Option<&'a str>,
}

/// Insert a report under a fresh reference from `reference`. References are
/// short, so a collision is possible: each try runs in a savepoint and a
/// collision draws another (five times at most). Returns the reference.
pub fn insert(
    conn: &mut DbConn,
    r: &NewReportRow,
    mut reference: impl FnMut() -> String,
) -> DbResult<String> {
    let mut attempt = 0;
    loop {
        let candidate = reference();
        let inserted = conn.transaction(|c| {
            diesel::insert_into(reports::table)
                .values((
                    reports::id.eq(r.id),
                    reports::reference.eq(&candidate),
                    reports::case_id.eq(r.case_id),
                    reports::article_id.eq(r.article_id),
                    reports::revision.eq(r.revision),
                    reports::sentence_id.eq(r.sentence_id),
                    reports::span_sentence_ids.eq(&r.span_sentence_ids),
                    reports::quote_exact.eq(r.quote_exact),
                    reports::quote_prefix.eq(r.quote_prefix),
                    reports::quote_suffix.eq(r.quote_suffix),
                    reports::category.eq(r.category),
                    reports::comment.eq(r.comment),
                    reports::suggested_correction.eq(r.suggested_correction),
                    reports::sources.eq(&r.sources),
                    reports::reporter_email.eq(r.reporter_email),
                    reports::notify.eq(r.notify),
                    reports::reporter_key.eq(r.reporter_key),
                    reports::client_hash.eq(r.client_hash),
                    reports::comment_hash.eq(r.comment_hash),
                    reports::status_token_hash.eq(r.status_token_hash),
                    reports::is_spam.eq(r.is_spam),
                    reports::blocked.eq(r.blocked),
                    reports::created_at.eq(r.created_at),
                    reports::desk.eq(r.desk),
                ))
                .execute(c)
        });
        match inserted {
            Ok(_) => return Ok(candidate),
            Err(e) if is_unique_violation(&e) && attempt < 5 => attempt += 1,
            Err(e) => return Err(e.into()),
        }
    }
}

/// Which of `candidates` are already some report's reference (by the
/// unique index on `reference`).
pub fn references_taken(
    conn: &mut DbConn,
    candidates: &[String],
) -> QueryResult<std::collections::HashSet<String>> {
    reports::table
        .filter(any_of(reports::reference, candidates))
        .select(reports::reference)
        .load::<String>(conn)
        .map(|v| v.into_iter().collect())
}

/// Insert reports whose references are already drawn, in one statement per
/// `rows::CHUNK` (the writer's batches). A reference collision (drawn
/// against `references_taken` first, but another instance may take one
/// meanwhile) fails the statement: the caller's savepoint takes the batch
/// back and files its reports one at a time, where `insert` draws again.
pub fn insert_many(conn: &mut DbConn, rows: &[(NewReportRow, String)]) -> QueryResult<()> {
    super::rows::execute_chunked(
        conn,
        rows,
        |tuples| {
            format!(
                "INSERT INTO reports (id, reference, case_id, article_id, revision, sentence_id, \
                 span_sentence_ids, quote_exact, quote_prefix, quote_suffix, category, comment, \
                 suggested_correction, sources, reporter_email, notify, reporter_key, \
                 client_hash, comment_hash, status_token_hash, is_spam, blocked, created_at, \
                 desk) VALUES {tuples}"
            )
        },
        |(r, reference)| {
            [
                r.id.into(),
                reference.as_str().into(),
                r.case_id.into(),
                r.article_id.into(),
                r.revision.into(),
                r.sentence_id.into(),
                r.span_sentence_ids.as_str().into(),
                r.quote_exact.into(),
                r.quote_prefix.into(),
                r.quote_suffix.into(),
                r.category.as_str().into(),
                r.comment.into(),
                r.suggested_correction.into(),
                r.sources.as_str().into(),
                r.reporter_email.into(),
                r.notify.into(),
                r.reporter_key.into(),
                r.client_hash.into(),
                r.comment_hash.into(),
                r.status_token_hash.into(),
                r.is_spam.into(),
                r.blocked.into(),
                r.created_at.into(),
                r.desk.into(),
            ]
        },
    )
}

/// Which of `keys` already reported on which of `case_ids`: (case, key).
pub fn reporters_in_cases(
    conn: &mut DbConn,
    case_ids: &[String],
    keys: &[String],
) -> QueryResult<std::collections::HashSet<(String, String)>> {
    if case_ids.is_empty() || keys.is_empty() {
        return Ok(Default::default());
    }
    Ok(reports::table
        .filter(any_of(reports::case_id, case_ids))
        .filter(any_of(reports::reporter_key, keys))
        .select((reports::case_id, reports::reporter_key))
        .distinct()
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect())
}

/// A report a new one may repeat (`first_with_comments`).
#[derive(Debug, Clone)]
pub struct CommentRow {
    pub id: String,
    pub case_id: String,
    pub reference: String,
    pub article_id: String,
    pub comment_hash: String,
    pub client_hash: String,
}

/// The reports since `since` with one of `comment_hashes` from one of
/// `clients`, oldest first: `first_with_comment` for a whole batch, through
/// the client-hash index (a client's reports of the window are few).
pub fn first_with_comments(
    conn: &mut DbConn,
    comment_hashes: &[String],
    clients: &[String],
    since: NaiveDateTime,
) -> QueryResult<Vec<CommentRow>> {
    if comment_hashes.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<(String, String, String, String, String, String)> = reports::table
        .filter(any_of(reports::comment_hash, comment_hashes))
        .filter(any_of(reports::client_hash, clients))
        .filter(reports::created_at.ge(since))
        .order((reports::created_at.asc(), reports::id.asc()))
        .select((
            reports::id,
            reports::case_id,
            reports::reference,
            reports::article_id,
            reports::comment_hash,
            reports::client_hash,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(id, case_id, reference, article_id, comment_hash, client_hash)| CommentRow {
                id,
                case_id,
                reference,
                article_id,
                comment_hash,
                client_hash,
            },
        )
        .collect())
}

/// Which of `key_hashes` have a stored answer.
pub fn stored_keys(
    conn: &mut DbConn,
    key_hashes: &[String],
) -> QueryResult<std::collections::HashSet<String>> {
    if key_hashes.is_empty() {
        return Ok(Default::default());
    }
    Ok(idempotency_keys::table
        .filter(any_of(idempotency_keys::key_hash, key_hashes))
        .select(idempotency_keys::key_hash)
        .load::<String>(conn)?
        .into_iter()
        .collect())
}

/// `store_answer` for many keys in one statement per `rows::CHUNK`. A key
/// another instance stored meanwhile fails the statement (see `insert_many`).
pub fn store_answers(
    conn: &mut DbConn,
    answers: &[(String, StoredAnswer)],
    t: NaiveDateTime,
) -> QueryResult<()> {
    super::rows::execute_chunked(
        conn,
        answers,
        |tuples| {
            format!(
                "INSERT INTO idempotency_keys (key_hash, request_hash, status_code, \
                 response_body, created_at) VALUES {tuples}"
            )
        },
        |(key_hash, a)| {
            [
                key_hash.as_str().into(),
                a.request_hash.as_str().into(),
                a.status_code.into(),
                a.response_body.as_str().into(),
                t.into(),
            ]
        },
    )
}

/// Whether the case already has a report from this reporter.
pub fn reporter_in_case(conn: &mut DbConn, case_id: &str, reporter_key: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        reports::table
            .filter(reports::case_id.eq(case_id))
            .filter(reports::reporter_key.eq(reporter_key)),
    ))
    .get_result(conn)
}

/// The first report on the article with this comment from one of `clients`
/// since `since`: (report id, case id, reference).
pub fn first_with_comment(
    conn: &mut DbConn,
    article_id: &str,
    comment_hash: &str,
    clients: &[&str],
    since: NaiveDateTime,
) -> QueryResult<Option<(String, String, String)>> {
    reports::table
        .filter(reports::article_id.eq(article_id))
        .filter(reports::comment_hash.eq(comment_hash))
        .filter(reports::client_hash.eq_any(clients))
        .filter(reports::created_at.ge(since))
        .order(reports::created_at.asc())
        .select((reports::id, reports::case_id, reports::reference))
        .first(conn)
        .optional()
}

/// An answered request, kept under the hash of its Idempotency-Key.
#[derive(Debug, Clone)]
pub struct StoredAnswer {
    pub request_hash: String,
    pub status_code: i32,
    pub response_body: String,
}

pub fn idempotency_key_exists(conn: &mut DbConn, key_hash: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(idempotency_keys::table.find(key_hash))).get_result(conn)
}

pub fn stored_answer(conn: &mut DbConn, key_hash: &str) -> QueryResult<Option<StoredAnswer>> {
    let row: Option<(String, i32, String)> = idempotency_keys::table
        .find(key_hash)
        .select((
            idempotency_keys::request_hash,
            idempotency_keys::status_code,
            idempotency_keys::response_body,
        ))
        .first(conn)
        .optional()?;
    Ok(
        row.map(|(request_hash, status_code, response_body)| StoredAnswer {
            request_hash,
            status_code,
            response_body,
        }),
    )
}

pub fn store_answer(
    conn: &mut DbConn,
    key_hash: &str,
    answer: &StoredAnswer,
    t: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::key_hash.eq(key_hash),
            idempotency_keys::request_hash.eq(&answer.request_hash),
            idempotency_keys::status_code.eq(answer.status_code),
            idempotency_keys::response_body.eq(&answer.response_body),
            idempotency_keys::created_at.eq(t),
        ))
        .execute(conn)?;
    Ok(())
}

/// A report with its case and article, found by its status token's hash.
#[derive(Debug, Clone)]
pub struct StatusRow {
    pub reference: String,
    pub is_spam: bool,
    pub case_id: String,
    pub status: Status,
    pub resolution: Option<Resolution>,
    pub public_note: Option<String>,
    pub duplicate_of: Option<String>,
    pub updated_at: NaiveDateTime,
    pub article: ArticleRef,
    pub language: Language,
    /// The reader's quote with the text they selected around it, and the
    /// sentence it is in (for a text-fragment link to it).
    pub quote: (String, Option<String>, Option<String>, String),
}

pub fn by_status_token_hash(conn: &mut DbConn, hash: &str) -> QueryResult<Option<StatusRow>> {
    #[allow(clippy::type_complexity)]
    let row: Option<(
        String,
        bool,
        String,
        Status,
        Option<Resolution>,
        Option<String>,
        Option<String>,
        NaiveDateTime,
        String,
        String,
        String,
        Language,
        (String, Option<String>, Option<String>, String),
    )> = reports::table
        .inner_join(cases::table)
        .inner_join(articles::table.on(articles::id.eq(reports::article_id)))
        .filter(reports::status_token_hash.eq(hash))
        .select((
            reports::reference,
            reports::is_spam,
            cases::id,
            cases::status,
            cases::resolution,
            cases::public_note,
            cases::duplicate_of,
            cases::updated_at,
            articles::external_id,
            articles::title,
            articles::url,
            articles::language,
            (
                reports::quote_exact,
                reports::quote_prefix,
                reports::quote_suffix,
                cases::sentence_text,
            ),
        ))
        .first(conn)
        .optional()?;
    Ok(row.map(
        |(
            reference,
            is_spam,
            case_id,
            status,
            resolution,
            public_note,
            duplicate_of,
            updated_at,
            external_id,
            title,
            url,
            language,
            quote,
        )| StatusRow {
            reference,
            is_spam,
            case_id,
            status,
            resolution,
            public_note,
            duplicate_of,
            updated_at,
            article: ArticleRef {
                external_id,
                title,
                url,
            },
            language,
            quote,
        },
    ))
}

/// A case's latest correction: (text, kind, published at).
pub fn latest_correction(
    conn: &mut DbConn,
    case_id: &str,
) -> QueryResult<Option<(String, Resolution, NaiveDateTime)>> {
    corrections::table
        .filter(corrections::case_id.eq(case_id))
        .order((corrections::published_at.desc(), corrections::id.desc()))
        .select((
            corrections::public_note,
            corrections::kind,
            corrections::published_at,
        ))
        .first(conn)
        .optional()
}

/// A report's author, for the consumers that write to them.
#[derive(Debug, Clone)]
pub struct ReporterRow {
    pub reference: String,
    pub email: Option<String>,
    pub notify: bool,
    pub is_spam: bool,
}

pub fn reporter(conn: &mut DbConn, report_id: &str) -> QueryResult<Option<ReporterRow>> {
    let row: Option<(String, Option<String>, bool, bool)> = reports::table
        .find(report_id)
        .select((
            reports::reference,
            reports::reporter_email,
            reports::notify,
            reports::is_spam,
        ))
        .first(conn)
        .optional()?;
    Ok(row.map(|(reference, email, notify, is_spam)| ReporterRow {
        reference,
        email,
        notify,
        is_spam,
    }))
}

/// Readers of a case who asked for its outcome: (address, reference), the
/// earliest report first.
pub fn outcome_subscribers(conn: &mut DbConn, case_id: &str) -> QueryResult<Vec<(String, String)>> {
    reports::table
        .filter(reports::case_id.eq(case_id))
        .filter(reports::notify.eq(true))
        .filter(reports::is_spam.eq(false))
        .filter(reports::reporter_email.is_not_null())
        .order((reports::created_at.asc(), reports::id.asc()))
        .select((
            reports::reporter_email.assume_not_null(),
            reports::reference,
        ))
        .load(conn)
}

/// What a reader wrote, repeated to the holder of its status link, with the
/// times of its case's steps.
pub struct ReaderCopy {
    pub quote_exact: String,
    /// The sentence as it read when it was reported.
    pub sentence_text: String,
    /// The sentence as it reads now (its successor's text when it was edited).
    pub current_sentence: String,
    pub category: Category,
    pub comment: String,
    pub filed_at: NaiveDateTime,
    /// When an editor first took the case up (triaged, claimed or assigned).
    pub in_review_at: Option<NaiveDateTime>,
    pub decided_at: Option<NaiveDateTime>,
}

pub fn reader_copy(conn: &mut DbConn, hash: &str) -> QueryResult<Option<ReaderCopy>> {
    use super::schema::{events, sentences};
    #[allow(clippy::type_complexity)]
    let row: Option<(
        String,
        String,
        Category,
        String,
        NaiveDateTime,
        String,
        Option<String>,
        Option<NaiveDateTime>,
    )> = reports::table
        .inner_join(cases::table)
        .filter(reports::status_token_hash.eq(hash))
        .select((
            reports::quote_exact,
            cases::sentence_text,
            reports::category,
            reports::comment,
            reports::created_at,
            cases::id,
            cases::successor_sentence_id,
            cases::resolved_at,
        ))
        .first(conn)
        .optional()?;
    let Some((
        quote_exact,
        sentence_text,
        category,
        comment,
        filed_at,
        case_id,
        successor,
        decided_at,
    )) = row
    else {
        return Ok(None);
    };
    let current_sentence = match successor {
        Some(id) => sentences::table
            .find(id)
            .select(sentences::text)
            .first::<String>(conn)
            .optional()?,
        None => None,
    }
    .unwrap_or_else(|| sentence_text.clone());
    let in_review_at: Option<NaiveDateTime> = events::table
        .filter(events::case_id.eq(&case_id))
        .filter(events::kind.eq_any(vec!["case_triaged", "case_claimed", "case_assigned"]))
        .filter(events::created_at.ge(filed_at))
        .select(diesel::dsl::min(events::created_at))
        .first(conn)?;
    Ok(Some(ReaderCopy {
        quote_exact,
        sentence_text,
        current_sentence,
        category,
        comment,
        filed_at,
        in_review_at,
        decided_at,
    }))
}
