//! Storing reports and gathering them into cases.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use hmac::{Hmac, Mac};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::articles::Article;
use super::dialect::{is_unique_violation, lock_case};
use super::schema::{
    articles, cases, client_hash_keys, idempotency_keys, instance_secrets, reports,
};
use super::{DbConn, new_id, now};
use crate::config::DueHours;
use crate::domain::anchor::Anchor;
use crate::domain::report::{NewReport, new_reference, thanks_message};
use crate::domain::text::sha256_hex;
use crate::domain::workflow::Resolution;
use crate::error::Problem;

type HmacSha256 = Hmac<Sha256>;

fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    data_encoding::BASE64URL_NOPAD.encode(&bytes)
}

fn hmac_hex(key: &str, parts: &[&str]) -> String {
    let mut mac =
        HmacSha256::new_from_slice(key.as_bytes()).expect("HMAC takes keys of any length");
    for p in parts {
        mac.update(p.as_bytes());
        mac.update(b"\0");
    }
    data_encoding::HEXLOWER.encode(&mac.finalize().into_bytes())
}

/// Get or create a named secret; concurrent creators agree on the first one.
pub fn instance_secret(conn: &mut DbConn, name: &str) -> QueryResult<String> {
    let read = |conn: &mut DbConn| {
        instance_secrets::table
            .find(name)
            .select(instance_secrets::secret)
            .first::<String>(conn)
            .optional()
    };
    if let Some(s) = read(conn)? {
        return Ok(s);
    }
    let created = conn.transaction(|c| {
        diesel::insert_into(instance_secrets::table)
            .values((
                instance_secrets::name.eq(name),
                instance_secrets::secret.eq(random_secret()),
                instance_secrets::created_at.eq(now()),
            ))
            .execute(c)
    });
    match created {
        Ok(_) => {}
        Err(e) if is_unique_violation(&e) => {}
        Err(e) => return Err(e),
    }
    read(conn)?.ok_or(diesel::result::Error::NotFound)
}

/// The keyed hashes of a client address under today's and yesterday's keys.
/// Keys are random per UTC day and deleted after two days, so stored hashes
/// stop being linkable to an address: raw addresses are never stored.
pub fn client_hashes(
    conn: &mut DbConn,
    cache: &KeyCache,
    ip: &str,
    t: NaiveDateTime,
) -> QueryResult<(String, Option<String>)> {
    let (key, old) = cache.day_keys(conn, t)?;
    Ok((
        hmac_hex(&key, &[ip])[..32].to_string(),
        old.map(|k| hmac_hex(&k, &[ip])[..32].to_string()),
    ))
}

/// Keys that never change once committed, kept in memory so the intake does
/// not read them for every report: the status-token secret, and each day's
/// client-hash keys (the first writer of a day wins; every instance reads
/// back the same key). A key this transaction has just created is not cached:
/// the batch could still roll back, and another writer create a different one.
#[derive(Default)]
pub struct KeyCache {
    status_secret: std::sync::OnceLock<String>,
    days: std::sync::Mutex<Option<(chrono::NaiveDate, String, Option<String>)>>,
}

impl KeyCache {
    pub fn status_secret(&self, conn: &mut DbConn) -> QueryResult<String> {
        if let Some(s) = self.status_secret.get() {
            return Ok(s.clone());
        }
        let existing: Option<String> = instance_secrets::table
            .find("status-token")
            .select(instance_secrets::secret)
            .first(conn)
            .optional()?;
        match existing {
            Some(s) => Ok(self.status_secret.get_or_init(|| s).clone()),
            None => instance_secret(conn, "status-token"),
        }
    }

    /// Today's key and yesterday's (if it exists), for the UTC day of `t`.
    fn day_keys(
        &self,
        conn: &mut DbConn,
        t: NaiveDateTime,
    ) -> QueryResult<(String, Option<String>)> {
        let day = t.date();
        if let Ok(guard) = self.days.lock()
            && let Some((d, key, old)) = guard.as_ref()
            && *d == day
        {
            return Ok((key.clone(), old.clone()));
        }
        let (key, old, created) = read_day_keys(conn, t)?;
        if !created && let Ok(mut guard) = self.days.lock() {
            *guard = Some((day, key.clone(), old.clone()));
        }
        Ok((key, old))
    }
}

/// Today's key (created when missing: the third value says so) and yesterday's.
fn read_day_keys(
    conn: &mut DbConn,
    t: NaiveDateTime,
) -> QueryResult<(String, Option<String>, bool)> {
    let today = t.date().format("%Y-%m-%d").to_string();
    let yesterday = (t.date() - Duration::days(1))
        .format("%Y-%m-%d")
        .to_string();
    let mut created = false;
    let key = match client_hash_keys::table
        .find(&today)
        .select(client_hash_keys::secret)
        .first::<String>(conn)
        .optional()?
    {
        Some(k) => k,
        None => {
            let inserted = conn.transaction(|c| {
                diesel::insert_into(client_hash_keys::table)
                    .values((
                        client_hash_keys::day.eq(&today),
                        client_hash_keys::secret.eq(random_secret()),
                        client_hash_keys::created_at.eq(t),
                    ))
                    .execute(c)
            });
            match inserted {
                Ok(_) => created = true,
                Err(e) if is_unique_violation(&e) => {}
                Err(e) => return Err(e),
            }
            diesel::delete(client_hash_keys::table.filter(client_hash_keys::day.lt(&yesterday)))
                .execute(conn)?;
            client_hash_keys::table
                .find(&today)
                .select(client_hash_keys::secret)
                .first(conn)?
        }
    };
    let old: Option<String> = client_hash_keys::table
        .find(&yesterday)
        .select(client_hash_keys::secret)
        .first(conn)
        .optional()?;
    Ok((key, old, created))
}

/// What the reader gets back.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReportReceipt {
    pub report_id: String,
    pub case_id: String,
    /// Short human reference, e.g. `ERR-7KQ2-MX`.
    #[schema(example = "ERR-7KQ2-MX")]
    pub reference: String,
    /// Private link to follow the report (absent when answering a duplicate:
    /// the first answer carried it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_url: Option<String>,
    pub message: String,
    /// True when this answers a duplicate of an earlier report.
    #[serde(default)]
    pub duplicate: bool,
}

/// Everything the handler knows about the request besides the report.
pub struct Submission<'a> {
    pub article: &'a Article,
    pub anchor: &'a Anchor,
    pub report: &'a NewReport,
    pub client_ip: String,
    /// `Idempotency-Key` header and the hash of the request body.
    pub idempotency: Option<(String, String)>,
    pub public_url: &'a str,
    pub due_hours: &'a DueHours,
    pub duplicate_window_hours: u32,
    /// For the emails the report causes, written in the same transaction.
    pub notify: &'a crate::notify::NotifyConfig,
    pub keys: &'a KeyCache,
}

/// HTTP status and receipt.
pub type Answer = (u16, ReportReceipt);

fn status_url(public_url: &str, token: &str) -> String {
    format!("{public_url}/r/{token}")
}

/// A status token. With an Idempotency-Key it is derived from the raw key, so
/// a replay can hand the same link back although only its hash is stored.
fn status_token(secret: &str, idempotency_key: Option<&str>, report_id: &str) -> String {
    match idempotency_key {
        Some(key) => {
            let hex = hmac_hex(secret, &["status-token", key, report_id]);
            let bytes = data_encoding::HEXLOWER
                .decode(hex.as_bytes())
                .unwrap_or_default();
            data_encoding::BASE64URL_NOPAD.encode(&bytes)
        }
        None => random_secret(),
    }
}

fn idempotency_key_hash(article_id: &str, key: &str) -> String {
    sha256_hex(format!("{article_id}\0{key}"))
}

pub fn idempotency_key_exists(conn: &mut DbConn, article_id: &str, key: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        idempotency_keys::table.find(idempotency_key_hash(article_id, key)),
    ))
    .get_result(conn)
}

pub fn submit(conn: &mut DbConn, sub: &Submission) -> Result<Answer, Problem> {
    let t = now();
    let secret = sub.keys.status_secret(conn)?;
    let key_hash = sub
        .idempotency
        .as_ref()
        .map(|(key, _)| idempotency_key_hash(&sub.article.id, key));
    if let (Some(key_hash), Some((key, request_hash))) = (&key_hash, &sub.idempotency) {
        let stored: Option<(String, i32, String)> = idempotency_keys::table
            .find(key_hash)
            .select((
                idempotency_keys::request_hash,
                idempotency_keys::status_code,
                idempotency_keys::response_body,
            ))
            .first(conn)
            .optional()?;
        if let Some((stored_hash, code, body)) = stored {
            if &stored_hash != request_hash {
                return Err(Problem::field(
                    "idempotency_key_reused",
                    "Idempotency key reused",
                    "Idempotency-Key",
                    "was already used with a different request body",
                ));
            }
            let mut receipt: ReportReceipt =
                serde_json::from_str(&body).map_err(Problem::internal)?;
            if !receipt.duplicate {
                receipt.status_url = Some(status_url(
                    sub.public_url,
                    &status_token(&secret, Some(key), &receipt.report_id),
                ));
            }
            return Ok((code as u16, receipt));
        }
    }

    let (client_hash, old_client_hash) = client_hashes(conn, sub.keys, &sub.client_ip, t)?;
    let comment_hash = sha256_hex(sub.report.comment.to_lowercase());
    let answer = match find_duplicate(
        conn,
        sub,
        &comment_hash,
        &client_hash,
        old_client_hash.as_deref(),
        t,
    )? {
        Some(receipt) => (200, receipt),
        None => {
            let receipt = insert(conn, sub, &secret, &client_hash, &comment_hash, t)?;
            (201, receipt)
        }
    };
    if let (Some(key_hash), Some((_, request_hash))) = (key_hash, &sub.idempotency) {
        let mut stored = answer.1.clone();
        stored.status_url = None; // the token is never stored, only re-derived
        let body = serde_json::to_string(&stored).map_err(Problem::internal)?;
        diesel::insert_into(idempotency_keys::table)
            .values((
                idempotency_keys::key_hash.eq(key_hash),
                idempotency_keys::request_hash.eq(request_hash),
                idempotency_keys::status_code.eq(answer.0 as i32),
                idempotency_keys::response_body.eq(body),
                idempotency_keys::created_at.eq(t),
            ))
            .execute(conn)?;
    }
    Ok(answer)
}

fn find_duplicate(
    conn: &mut DbConn,
    sub: &Submission,
    comment_hash: &str,
    client_hash: &str,
    old_client_hash: Option<&str>,
    t: NaiveDateTime,
) -> QueryResult<Option<ReportReceipt>> {
    let since = t - Duration::hours(sub.duplicate_window_hours as i64);
    let clients: Vec<&str> = std::iter::once(client_hash)
        .chain(old_client_hash)
        .collect();
    let first: Option<(String, String, String)> = reports::table
        .filter(reports::article_id.eq(&sub.article.id))
        .filter(reports::comment_hash.eq(comment_hash))
        .filter(reports::client_hash.eq_any(clients))
        .filter(reports::created_at.ge(since))
        .order(reports::created_at.asc())
        .select((reports::id, reports::case_id, reports::reference))
        .first(conn)
        .optional()?;
    Ok(first.map(|(report_id, case_id, reference)| ReportReceipt {
        report_id,
        case_id,
        reference,
        status_url: None,
        message: thanks_message(&sub.article.language).to_string(),
        duplicate: true,
    }))
}

fn insert(
    conn: &mut DbConn,
    sub: &Submission,
    secret: &str,
    client_hash: &str,
    comment_hash: &str,
    t: NaiveDateTime,
) -> Result<ReportReceipt, Problem> {
    let report = sub.report;
    let case_id = if report.is_spam {
        spam_case(conn, sub, t)?
    } else {
        open_case(conn, sub, t)?
    };
    let reporter_key = match &report.reporter {
        Some((email, _)) => format!("email:{}", sha256_hex(email.as_str().to_lowercase())),
        None => format!("client:{client_hash}"),
    };
    let new_reporter = !report.is_spam
        && !diesel::select(diesel::dsl::exists(
            reports::table
                .filter(reports::case_id.eq(&case_id))
                .filter(reports::reporter_key.eq(&reporter_key)),
        ))
        .get_result::<bool>(conn)?;

    let report_id = new_id();
    let token = status_token(
        secret,
        sub.idempotency.as_ref().map(|(k, _)| k.as_str()),
        &report_id,
    );
    let mut reference = new_reference();
    // References are short, so a collision is possible: retry in a savepoint.
    for attempt in 0.. {
        let inserted = conn.transaction(|c| {
            diesel::insert_into(reports::table)
                .values((
                    reports::id.eq(&report_id),
                    reports::reference.eq(&reference),
                    reports::case_id.eq(&case_id),
                    reports::article_id.eq(&sub.article.id),
                    reports::revision.eq(sub.article.current_revision),
                    reports::sentence_id.eq(&sub.anchor.sentence_id),
                    reports::span_sentence_ids
                        .eq(serde_json::to_string(&sub.anchor.span).unwrap_or_default()),
                    reports::quote_exact.eq(&report.quote.exact),
                    reports::quote_prefix.eq(&report.quote.prefix),
                    reports::quote_suffix.eq(&report.quote.suffix),
                    reports::category.eq(report.category.as_str()),
                    reports::comment.eq(&report.comment),
                    reports::suggested_correction.eq(&report.suggested_correction),
                    reports::sources.eq(serde_json::to_string(&report.sources).unwrap_or_default()),
                    reports::reporter_email.eq(report.reporter.as_ref().map(|(e, _)| e.as_str())),
                    reports::notify.eq(report.reporter.as_ref().is_some_and(|(_, n)| *n)),
                    reports::reporter_key.eq(&reporter_key),
                    reports::client_hash.eq(client_hash),
                    reports::comment_hash.eq(comment_hash),
                    reports::status_token_hash.eq(sha256_hex(&token)),
                    reports::is_spam.eq(report.is_spam),
                    reports::created_at.eq(t),
                ))
                .execute(c)
        });
        match inserted {
            Ok(_) => break,
            Err(e) if is_unique_violation(&e) && attempt < 5 => reference = new_reference(),
            Err(e) => return Err(e.into()),
        }
    }
    if !report.is_spam {
        count_report(conn, &case_id, sub, new_reporter, t)?;
        crate::notify::events::report_received(
            conn,
            sub.notify,
            &crate::notify::events::ReportEvent {
                case_id: &case_id,
                reference: &reference,
                article: sub.article,
                category: report.category,
                reporter: report.reporter.as_ref().map(|(e, n)| (e, *n)),
                t,
            },
        )?;
    }
    Ok(ReportReceipt {
        report_id,
        case_id,
        reference,
        status_url: Some(status_url(sub.public_url, &token)),
        message: thanks_message(&sub.article.language).to_string(),
        duplicate: false,
    })
}

fn new_case_values(sub: &Submission, t: NaiveDateTime) -> NewCase {
    NewCase {
        id: new_id(),
        article_id: sub.article.id.clone(),
        sentence_id: sub.anchor.sentence_id.clone(),
        open_key: None,
        sentence_text: sub.anchor.sentence_text.clone(),
        desk: sub.article.desk.clone(),
        status: "new".into(),
        anchor_state: "current".into(),
        report_count: 0,
        reporter_count: 0,
        categories: "{}".into(),
        first_reported_at: t,
        last_reported_at: t,
        due_at: t + Duration::hours(sub.report.category.due_hours(sub.due_hours) as i64),
        version: 1,
        created_at: t,
        updated_at: t,
        resolution: None,
        resolved_at: None,
    }
}

#[derive(Insertable)]
#[diesel(table_name = cases)]
struct NewCase {
    id: String,
    article_id: String,
    sentence_id: String,
    open_key: Option<String>,
    sentence_text: String,
    desk: Option<String>,
    status: String,
    anchor_state: String,
    report_count: i32,
    reporter_count: i32,
    categories: String,
    first_reported_at: NaiveDateTime,
    last_reported_at: NaiveDateTime,
    due_at: NaiveDateTime,
    version: i32,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    resolution: Option<String>,
    resolved_at: Option<NaiveDateTime>,
}

/// The open case for the sentence, created when there is none. The unique
/// `open_key` makes concurrent creators (other instances) agree on one case.
fn open_case(conn: &mut DbConn, sub: &Submission, t: NaiveDateTime) -> Result<String, Problem> {
    let key = format!("{}/{}", sub.article.id, sub.anchor.sentence_id);
    let find = |conn: &mut DbConn| {
        cases::table
            .filter(cases::open_key.eq(&key))
            .select(cases::id)
            .first::<String>(conn)
            .optional()
    };
    if let Some(id) = find(conn)? {
        return Ok(id);
    }
    let mut case = new_case_values(sub, t);
    case.open_key = Some(key.clone());
    match conn.transaction(|c| diesel::insert_into(cases::table).values(&case).execute(c)) {
        Ok(_) => Ok(case.id),
        Err(e) if is_unique_violation(&e) => {
            find(conn)?.ok_or_else(|| Problem::internal("open case vanished"))
        }
        Err(e) => Err(e.into()),
    }
}

/// A honeypot report gets a case of its own, already resolved as spam, so it
/// never reaches the queue nor counts in real cases.
fn spam_case(conn: &mut DbConn, sub: &Submission, t: NaiveDateTime) -> Result<String, Problem> {
    let mut case = new_case_values(sub, t);
    case.status = "resolved".into();
    case.resolution = Some("spam".into());
    case.resolved_at = Some(t);
    case.report_count = 1;
    case.reporter_count = 1;
    case.categories = serde_json::json!({ sub.report.category.as_str(): 1 }).to_string();
    diesel::insert_into(cases::table)
        .values(&case)
        .execute(conn)?;
    Ok(case.id)
}

fn count_report(
    conn: &mut DbConn,
    case_id: &str,
    sub: &Submission,
    new_reporter: bool,
    t: NaiveDateTime,
) -> Result<(), Problem> {
    lock_case(conn, case_id)?;
    let (categories, due_at): (String, NaiveDateTime) = cases::table
        .find(case_id)
        .select((cases::categories, cases::due_at))
        .first(conn)?;
    let mut counts: BTreeMap<String, i64> = serde_json::from_str(&categories).unwrap_or_default();
    *counts
        .entry(sub.report.category.as_str().to_string())
        .or_default() += 1;
    let due = t + Duration::hours(sub.report.category.due_hours(sub.due_hours) as i64);
    diesel::update(cases::table.find(case_id))
        .set((
            cases::report_count.eq(cases::report_count + 1),
            cases::reporter_count.eq(cases::reporter_count + new_reporter as i32),
            cases::categories.eq(serde_json::to_string(&counts).unwrap_or_default()),
            cases::last_reported_at.eq(t),
            cases::due_at.eq(due.min(due_at)),
            cases::version.eq(cases::version + 1),
            cases::updated_at.eq(t),
        ))
        .execute(conn)?;
    Ok(())
}

/// What a reader sees through the status link: nothing about other readers.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReportStatus {
    pub reference: String,
    /// `received`, `in_review` or `resolved`.
    pub status: String,
    /// Once resolved: `corrected`, `clarified`, `updated`, `no_change`,
    /// `rejected` or `duplicate`. (A case an editor marks as spam reads
    /// `rejected`: readers are not told they were taken for spammers.)
    pub resolution: Option<String>,
    pub public_note: Option<String>,
    /// The published correction, when the case (or the case it duplicates)
    /// was corrected, clarified or updated.
    pub correction: Option<CorrectionSummary>,
    pub updated_at: NaiveDateTime,
    pub article: ArticleRef,
    pub language: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CorrectionSummary {
    pub text: String,
    pub kind: String,
    pub published_at: NaiveDateTime,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ArticleRef {
    pub external_id: String,
    pub title: String,
    pub url: String,
}

#[allow(clippy::type_complexity)]
pub fn status_by_token(conn: &mut DbConn, token: &str) -> QueryResult<Option<ReportStatus>> {
    let row: Option<(
        String,
        bool,
        String,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        NaiveDateTime,
        String,
        String,
        String,
        String,
    )> = reports::table
        .inner_join(cases::table)
        .inner_join(articles::table.on(articles::id.eq(reports::article_id)))
        .filter(reports::status_token_hash.eq(sha256_hex(token)))
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
        ))
        .first(conn)
        .optional()?;
    let Some((
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
    )) = row
    else {
        return Ok(None);
    };
    // A honeypot report must look like any other to whoever filed it.
    let (status, resolution, public_note, correction) = if is_spam {
        ("received".to_string(), None, None, None)
    } else {
        let shown = match status.as_str() {
            "in_review" => "in_review",
            "resolved" => "resolved",
            _ => "received",
        };
        let resolution = resolution
            .filter(|_| shown == "resolved")
            .and_then(|r| Resolution::parse(&r));
        // A correction is shown for the case's own resolution, or for the
        // case it duplicates: that is where this reader's error was fixed.
        let correction = match resolution {
            Some(r) if r.publishes_correction() => latest_correction(conn, &case_id)?,
            Some(Resolution::Duplicate) => match &duplicate_of {
                Some(other) => latest_correction(conn, other)?,
                None => None,
            },
            _ => None,
        };
        (
            shown.to_string(),
            // Spam is shown as rejected, without a note.
            resolution.map(|r| r.for_reader().as_str().to_string()),
            public_note.filter(|_| resolution.is_some_and(|r| r != Resolution::Spam)),
            correction,
        )
    };
    Ok(Some(ReportStatus {
        reference,
        status,
        resolution,
        public_note,
        correction,
        updated_at,
        article: ArticleRef {
            external_id,
            title,
            url,
        },
        language,
    }))
}

fn latest_correction(conn: &mut DbConn, case_id: &str) -> QueryResult<Option<CorrectionSummary>> {
    use super::schema::corrections;
    let found: Option<(String, String, NaiveDateTime)> = corrections::table
        .filter(corrections::case_id.eq(case_id))
        .order((corrections::published_at.desc(), corrections::id.desc()))
        .select((
            corrections::public_note,
            corrections::kind,
            corrections::published_at,
        ))
        .first(conn)
        .optional()?;
    Ok(found.map(|(text, kind, published_at)| CorrectionSummary {
        text,
        kind,
        published_at,
    }))
}
