//! `erratum dev seed --articles N --reports M`: a scale dataset for
//! benchmarks and latency checks, on either backend.
//!
//! Articles go through the real ingest (`app::articles::ingest_in`: the
//! segmenter, revisions, sentence ids). Reports and cases are written in
//! batches with the intake's row shapes and the counters the intake keeps
//! (counts, distinct readers, categories, first/last report, due time), then
//! the priorities are scored once, the dashboard's days rolled up and the
//! planner statistics refreshed.
//! No events are recorded: seeding sends no email.
//!
//! Shape: most cases have 1–3 reports, one in ten has 5–60, one in a
//! thousand (the hot sentences) 200–1,000; categories mixed; 35 % of cases
//! resolved (2 % of those as spam), and those resolved as corrected,
//! clarified or updated publish a correction (the corrections log, the feed
//! and the transparency figures have a history too); ~5 % of reports leave
//! an email; six desks; history spread over the last two years.

use std::collections::{BTreeMap, HashSet};

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::config::Settings;
use crate::db::schema::{articles, cases, corrections, reports};
use crate::db::{DbConn, new_id, now};
use crate::domain::article::{ArticleUpsert, Language, NewArticle};
use crate::domain::report::Category;
use crate::domain::text::sha256_hex;
use crate::domain::workflow::{AnchorState, Resolution, Status};

const DESKS: [&str; 6] = [
    "politique",
    "international",
    "economie",
    "sport",
    "culture",
    "sciences",
];
const WORDS: [&str; 40] = [
    "gouvernement",
    "élection",
    "ministre",
    "budget",
    "réforme",
    "sénat",
    "député",
    "région",
    "économie",
    "entreprise",
    "croissance",
    "chômage",
    "inflation",
    "énergie",
    "climat",
    "océan",
    "forêt",
    "université",
    "hôpital",
    "santé",
    "vaccin",
    "tribunal",
    "procès",
    "enquête",
    "police",
    "frontière",
    "guerre",
    "traité",
    "sommet",
    "festival",
    "musée",
    "théâtre",
    "championnat",
    "équipe",
    "stade",
    "record",
    "satellite",
    "recherche",
    "découverte",
    "village",
];
const COMMENTS: [&str; 10] = [
    "Ce chiffre est faux, la source officielle dit autre chose",
    "Coquille dans le nom propre",
    "Cette information date de l'an dernier",
    "Il manque le contexte de la décision",
    "La traduction de la citation est inexacte",
    "Le lien ne fonctionne plus",
    "Le titre est trompeur par rapport au texte",
    "La date indiquée est erronée",
    "The figure is wrong, see the agency's report",
    "Le ministre cité n'est plus en poste",
];
/// Category weights (percent), in `Category::ALL` order is not assumed.
const CATEGORIES: [(Category, u32); 8] = [
    (Category::FactualError, 30),
    (Category::Typo, 25),
    (Category::Outdated, 12),
    (Category::Misleading, 8),
    (Category::MissingContext, 8),
    (Category::Translation, 4),
    (Category::BrokenLink, 5),
    (Category::Other, 8),
];
const SENTENCES_PER_ARTICLE: usize = 30;
const ARTICLE_BATCH: usize = 200;
const REPORT_BATCH: usize = 5_000;

fn category(rng: &mut StdRng) -> Category {
    let mut n = rng.random_range(0..100);
    for (c, w) in CATEGORIES {
        if n < w {
            return c;
        }
        n -= w;
    }
    Category::Other
}

fn reports_in_case(rng: &mut StdRng) -> usize {
    let r: f64 = rng.random();
    if r < 0.001 {
        rng.random_range(200..=1000)
    } else if r < 0.1 {
        rng.random_range(5..=60)
    } else {
        rng.random_range(1..=3)
    }
}

/// Seed `articles` articles and `reports` reports (about five per case).
pub async fn seed(settings: Settings, n_articles: usize, n_reports: usize) -> anyhow::Result<()> {
    let url = settings.database.url.clone();
    let due_hours = settings.queue.due_hours.clone();
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let (pool, _) = crate::db::connect(&url, 1, std::time::Duration::from_secs(10))?;
        let mut conn = pool.get()?;
        crate::db::migrate(&mut conn)?;
        let started = std::time::Instant::now();
        let mut rng = StdRng::seed_from_u64(19);
        let t_now = now();
        let run = t_now.and_utc().timestamp();
        let targets = seed_articles(&mut conn, &mut rng, n_articles, run, t_now)?;
        println!(
            "{} articles ingested in {:.1} s",
            targets.len(),
            started.elapsed().as_secs_f64()
        );
        let (n_cases, n_rep) = seed_reports(
            &mut conn, &mut rng, &targets, n_reports, run, t_now, &due_hours,
        )?;
        println!(
            "{n_cases} cases, {n_rep} reports written in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        conn.transaction::<_, diesel::result::Error, _>(|c| {
            crate::db::cases::rescore_recent(c, now(), true)
        })?;
        // SQLite's search index, in one pass rather than by the server's
        // indexer a few thousand documents at a time.
        conn.transaction::<_, diesel::result::Error, _>(|c| {
            crate::db::search_index::index_pending(c, i64::MAX)
        })?;
        // The dashboard's days, rolled up as a server's worker would have
        // done day after day through this history: otherwise the first
        // scan of every copy rolls up two years, two days a writer job
        // (365 jobs of about 4 ms on the 1M dataset, during a benchmark's
        // first minute).
        conn.transaction::<_, crate::db::DbError, _>(|c| {
            use crate::db::stats::rollup::roll_up;
            while roll_up(c, now(), 1000)?.more {}
            Ok(())
        })?;
        crate::db::analyze(&mut conn)?;
        if let DbConn::Pg(pg) = &mut *conn {
            // After a bulk load, as a DBA would: the visibility map lets the
            // figures' index-only scans skip the table (autovacuum would
            // get there, later).
            diesel::connection::SimpleConnection::batch_execute(pg, "VACUUM")?;
        }
        println!(
            "scored and analysed: done in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        Ok(())
    })
    .await?
}

/// An article to report on: its id, desk, publication and sentences.
struct Target {
    id: String,
    desk: String,
    published_at: NaiveDateTime,
    sentences: Vec<(String, String)>,
}

fn seed_articles(
    conn: &mut DbConn,
    rng: &mut StdRng,
    n: usize,
    run: i64,
    t_now: NaiveDateTime,
) -> anyhow::Result<Vec<Target>> {
    let mut out = Vec::with_capacity(n);
    let mut start = 0;
    while start < n {
        let end = (start + ARTICLE_BATCH).min(n);
        let mut batch = Vec::new();
        for i in start..end {
            let desk = DESKS[i % DESKS.len()];
            let age = Duration::minutes(rng.random_range(60..(730 * 24 * 60)));
            let published = t_now - age;
            let mut paragraphs = Vec::new();
            for p in 0..6 {
                let mut sentences = Vec::new();
                for s in 0..(SENTENCES_PER_ARTICLE / 6) {
                    let w: Vec<&str> = (0..8)
                        .map(|_| WORDS[rng.random_range(0..WORDS.len())])
                        .collect();
                    sentences.push(format!(
                        "Le {} du {} {} {} {}, {} {} {} numéro {i}-{p}-{s}.",
                        w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]
                    ));
                }
                paragraphs.push(sentences.join(" "));
            }
            let external_id = format!("seed-{run}-{i}");
            let input = ArticleUpsert {
                url: format!("https://news.example/{external_id}"),
                title: format!("Article {i} : {}", WORDS[i % WORDS.len()]),
                language: Language::Fr.into(),
                desk: Some(desk.to_string()),
                published_at: Some(published.and_utc()),
                body_text: Some(paragraphs.join("\n\n")),
                body_html: None,
            };
            let article = NewArticle::parse(&external_id, input)
                .map_err(|p| anyhow::anyhow!("seed article: {}", p.detail))?;
            batch.push((external_id, article));
        }
        let views = conn.transaction::<_, crate::error::Problem, _>(|c| {
            let mut views = Vec::new();
            for (external_id, article) in &batch {
                let ingested = crate::app::articles::ingest_in(c, article)?;
                let (id, published): (String, Option<NaiveDateTime>) = articles::table
                    .filter(articles::external_id.eq(external_id))
                    .select((articles::id, articles::published_at))
                    .first(c)
                    .map_err(crate::db::DbError::from)?;
                views.push((id, published, ingested.view));
            }
            Ok(views)
        });
        let views = views.map_err(|p| anyhow::anyhow!("seed articles: {}", p.detail))?;
        for (id, published, view) in views {
            out.push(Target {
                id,
                desk: view.desk.clone().unwrap_or_default(),
                published_at: published.unwrap_or(t_now),
                sentences: view
                    .sentences
                    .into_iter()
                    .filter(|s| s.paragraph > 0)
                    .map(|s| (s.id, s.text))
                    .collect(),
            });
        }
        start = end;
        if start % 2000 == 0 || start == n {
            println!("  {start}/{n} articles");
        }
    }
    Ok(out)
}

/// One report row, as the intake writes it. `None` is written as NULL (not
/// as SQL `DEFAULT`), so SQLite takes many rows in one statement instead of
/// diesel's one-insert-per-row fallback.
#[derive(Insertable)]
#[diesel(table_name = reports, treat_none_as_default_value = false)]
struct ReportSeed {
    id: String,
    reference: String,
    case_id: String,
    article_id: String,
    revision: i32,
    sentence_id: String,
    span_sentence_ids: &'static str,
    quote_exact: String,
    category: Category,
    comment: String,
    suggested_correction: Option<String>,
    sources: &'static str,
    reporter_email: Option<String>,
    notify: bool,
    reporter_key: String,
    client_hash: String,
    comment_hash: String,
    status_token_hash: String,
    is_spam: bool,
    created_at: NaiveDateTime,
    desk: Option<String>,
}

/// A case row as the intake leaves it after its reports; the number comes
/// from the database (SQLite's trigger, PostgreSQL's sequence).
#[derive(Insertable)]
#[diesel(table_name = cases, treat_none_as_default_value = false)]
struct CaseSeed {
    id: String,
    article_id: String,
    sentence_id: String,
    open_key: Option<String>,
    sentence_text: String,
    desk: Option<String>,
    status: Status,
    anchor_state: AnchorState,
    report_count: i32,
    reporter_count: i32,
    categories: String,
    first_reported_at: NaiveDateTime,
    last_reported_at: NaiveDateTime,
    due_at: NaiveDateTime,
    version: i32,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    resolution: Option<Resolution>,
    resolved_at: Option<NaiveDateTime>,
}

#[allow(clippy::too_many_arguments)]
fn seed_reports(
    conn: &mut DbConn,
    rng: &mut StdRng,
    targets: &[Target],
    n_reports: usize,
    run: i64,
    t_now: NaiveDateTime,
    due_hours: &crate::config::DueHours,
) -> anyhow::Result<(usize, usize)> {
    if targets.is_empty() {
        return Ok((0, 0));
    }
    let mut written = 0usize;
    let mut n_cases = 0usize;
    let mut open_keys: HashSet<String> = HashSet::new();
    let mut case_batch: Vec<CaseSeed> = Vec::new();
    let mut report_batch: Vec<ReportSeed> = Vec::new();
    let mut correction_batch: Vec<CorrectionSeed> = Vec::new();
    let mut n = 0usize;
    while written < n_reports {
        let target = &targets[n_cases % targets.len()];
        let slot = (n_cases / targets.len()) % target.sentences.len().max(1);
        let Some((sentence_id, sentence_text)) = target.sentences.get(slot) else {
            n_cases += 1;
            continue;
        };
        let count = reports_in_case(rng).min(n_reports - written);
        let case_id = new_id();
        // First report between the publication and now, mostly soon after it.
        let span = (t_now - target.published_at).num_minutes().max(2);
        let first = target.published_at
            + Duration::minutes(rng.random_range(1..span.clamp(2, 7 * 24 * 60)));
        let mut counts: BTreeMap<String, i64> = BTreeMap::new();
        let mut reporters = 0;
        let mut due = first + Duration::days(3650);
        let mut last = first;
        for r in 0..count {
            let at = if r == 0 {
                first
            } else {
                (first + Duration::minutes(rng.random_range(0..(3 * 24 * 60)))).min(t_now)
            };
            last = last.max(at);
            let c = category(rng);
            *counts.entry(c.as_str().to_string()).or_default() += 1;
            due = due.min(at + Duration::hours(c.due_hours(due_hours).into()));
            let repeat = r > 0 && rng.random_bool(0.1);
            if !repeat {
                reporters += 1;
            }
            let with_email = rng.random_bool(0.05);
            let comment = format!(
                "{} ({}, {})",
                COMMENTS[rng.random_range(0..COMMENTS.len())],
                WORDS[rng.random_range(0..WORDS.len())],
                n
            );
            // A third of readers propose the fix: the queue shows it as a
            // word diff of the sentence.
            let (from, to) = (
                WORDS[rng.random_range(0..WORDS.len())],
                WORDS[rng.random_range(0..WORDS.len())],
            );
            let suggestion = rng
                .random_bool(0.3)
                .then(|| sentence_text.replacen(from, to, 1));
            report_batch.push(ReportSeed {
                id: new_id(),
                reference: format!("S{run:x}{n:08}"),
                case_id: case_id.clone(),
                article_id: target.id.clone(),
                revision: 1,
                sentence_id: sentence_id.clone(),
                span_sentence_ids: "[]",
                quote_exact: sentence_text.chars().take(60).collect(),
                category: c,
                comment_hash: sha256_hex(&comment),
                comment,
                suggested_correction: suggestion,
                sources: "[]",
                reporter_email: with_email.then(|| format!("reader{n}@example.org")),
                notify: false,
                reporter_key: format!("seed:{}", if repeat { n - 1 } else { n }),
                client_hash: format!("seed-client-{}", n % 50_000),
                status_token_hash: sha256_hex(format!("seed-token-{run}-{n}")),
                is_spam: false,
                created_at: at,
                desk: Some(target.desk.clone()),
            });
            n += 1;
        }
        // Older cases are more often resolved; an open case needs its
        // sentence free.
        let key = crate::db::cases::open_key(&target.id, sentence_id);
        let resolved = rng.random_bool(0.35) || open_keys.contains(&key);
        let resolution = resolved.then(|| match rng.random_range(0..100) {
            0..=1 => Resolution::Spam,
            2..=40 => Resolution::Corrected,
            41..=60 => Resolution::NoChange,
            61..=80 => Resolution::Rejected,
            81..=90 => Resolution::Clarified,
            _ => Resolution::Updated,
        });
        let status = if resolved {
            Status::Resolved
        } else {
            match rng.random_range(0..100) {
                0..=74 => Status::New,
                75..=89 => Status::Triaged,
                _ => Status::InReview,
            }
        };
        if !resolved {
            open_keys.insert(key.clone());
        }
        let resolved_at = resolved.then(|| (last + Duration::hours(6)).min(t_now));
        if let (
            Some(kind @ (Resolution::Corrected | Resolution::Clarified | Resolution::Updated)),
            Some(at),
        ) = (resolution, resolved_at)
        {
            correction_batch.push(CorrectionSeed {
                id: new_id(),
                case_id: case_id.clone(),
                article_id: target.id.clone(),
                sentence_id: sentence_id.clone(),
                sentence_text: sentence_text.clone(),
                kind,
                public_note: format!("Seed correction {n_cases}: the sentence was amended."),
                editor_id: None,
                published_at: at,
            });
        }
        case_batch.push(CaseSeed {
            id: case_id,
            article_id: target.id.clone(),
            sentence_id: sentence_id.clone(),
            open_key: (!resolved).then_some(key),
            sentence_text: sentence_text.clone(),
            desk: Some(target.desk.clone()),
            status,
            anchor_state: AnchorState::Current,
            report_count: count as i32,
            reporter_count: reporters,
            categories: serde_json::to_string(&counts).unwrap_or_default(),
            first_reported_at: first,
            last_reported_at: last,
            due_at: due,
            version: 1,
            created_at: first,
            updated_at: last,
            resolution,
            resolved_at,
        });
        written += count;
        n_cases += 1;
        if report_batch.len() >= REPORT_BATCH {
            flush(
                conn,
                &mut case_batch,
                &mut report_batch,
                &mut correction_batch,
            )?;
            if written % 100_000 < REPORT_BATCH {
                println!("  {written}/{n_reports} reports");
            }
        }
    }
    flush(
        conn,
        &mut case_batch,
        &mut report_batch,
        &mut correction_batch,
    )?;
    Ok((n_cases, written))
}

/// The published correction of a case resolved as corrected, clarified or
/// updated, as `app::cases` publishes it (no editor: the seed has none).
#[derive(Insertable)]
#[diesel(table_name = corrections, treat_none_as_default_value = false)]
struct CorrectionSeed {
    id: String,
    case_id: String,
    article_id: String,
    sentence_id: String,
    sentence_text: String,
    kind: Resolution,
    public_note: String,
    editor_id: Option<String>,
    published_at: NaiveDateTime,
}

/// Rows per INSERT: 1,000 reports are 20,000 parameters, under SQLite's
/// 32,766 and PostgreSQL's 65,535.
const ROWS_PER_STATEMENT: usize = 1_000;

/// Multi-row inserts, on the backend's own connection: diesel's
/// multi-backend connection writes a batch one row at a time.
macro_rules! insert_rows {
    ($conn:expr, $table:expr, $rows:expr) => {
        for chunk in $rows.chunks(ROWS_PER_STATEMENT) {
            match $conn {
                DbConn::Sqlite(c) => diesel::insert_into($table).values(chunk).execute(c)?,
                DbConn::Pg(c) => diesel::insert_into($table).values(chunk).execute(c)?,
            };
        }
    };
}

/// One transaction per batch: the cases, then their reports.
fn flush(
    conn: &mut DbConn,
    cases_b: &mut Vec<CaseSeed>,
    reports_b: &mut Vec<ReportSeed>,
    corrections_b: &mut Vec<CorrectionSeed>,
) -> anyhow::Result<()> {
    conn.transaction::<_, diesel::result::Error, _>(|c| {
        insert_rows!(c, cases::table, cases_b);
        insert_rows!(c, reports::table, reports_b);
        insert_rows!(c, corrections::table, corrections_b);
        Ok(())
    })?;
    cases_b.clear();
    reports_b.clear();
    corrections_b.clear();
    Ok(())
}
