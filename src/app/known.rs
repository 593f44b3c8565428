//! What a reader may already know about an article's sentences: which were
//! corrected (with the correction's text and date) and, when the newsroom
//! turns it on, which have an open case. The widget asks once per page view,
//! so answers come from memory.
//!
//! The cache is kept right by the domain events, not by the use cases: each
//! instance tails the `events` table from an in-memory cursor and drops the
//! answers of the articles that a case opening, a resolution, a reopening, a
//! published correction or a new revision touched. Its own commits wake the
//! tail at once (`AppState::committed`), and until the tail has read them the
//! answers are built from the database, so an instance never serves an answer
//! older than its own commits; other instances' commits are read within
//! `reader.known_refresh_secs`. The ETag is a digest of the answer, so every
//! instance gives the same answer the same ETag.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;
use serde::Serialize;

use super::AppState;
use crate::config::ReaderSettings;
use crate::db::articles as article_store;
use crate::db::events::{self, Cursor};
use crate::db::known as store;
use crate::domain::article::ExternalId;
use crate::domain::event::Event;
use crate::domain::text::sha256_hex;
use crate::domain::workflow::Resolution;
use crate::error::Problem;

/// The answer of `GET /api/v1/articles/{external_id}/known`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct KnownSentences {
    /// The article's external id.
    pub article: String,
    /// Sentences of the current revision with something known, in no
    /// particular order.
    pub sentences: Vec<KnownSentence>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct KnownSentence {
    pub sentence_id: String,
    /// The latest published correction of this sentence, when marking
    /// corrections is on (`reader.mark_corrections`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub correction: Option<KnownCorrection>,
    /// True when a case is open on it and `reader.mark_open_cases` is on
    /// (absent otherwise).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub open_case: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct KnownCorrection {
    pub text: String,
    /// `corrected`, `clarified` or `updated`.
    pub kind: Resolution,
    pub published_at: NaiveDateTime,
}

/// A cached answer: its JSON and ETag.
#[derive(Debug)]
pub struct Known {
    pub body: String,
    pub etag: String,
    article_id: String,
    built: Instant,
}

/// The per-instance cache of answers, by external id.
#[derive(Default)]
pub struct KnownCache {
    entries: RwLock<HashMap<String, Arc<Known>>>,
    /// Bumped by every invalidation: an answer built across one is not kept.
    epoch: AtomicU64,
    /// Bumped after each of this instance's commits...
    committed: AtomicU64,
    /// ...and copied here once the tail has read the events up to it.
    seen: AtomicU64,
    cursor: Mutex<Option<Cursor>>,
    wake: tokio::sync::Notify,
}

impl KnownCache {
    /// A commit of this instance happened: answers are read from the
    /// database until the tail has caught up.
    pub fn committed(&self) {
        self.committed.fetch_add(1, Ordering::SeqCst);
        self.wake.notify_one();
    }

    fn get(&self, external_id: &str, max_age: Duration) -> Option<Arc<Known>> {
        // `seen` is one past the commits read (0: the tail has not run yet).
        if self.seen.load(Ordering::SeqCst) != self.committed.load(Ordering::SeqCst) + 1 {
            return None;
        }
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        entries
            .get(external_id)
            .filter(|k| k.built.elapsed() < max_age)
            .cloned()
    }

    fn put(&self, external_id: String, known: Arc<Known>, epoch: u64, limit: usize) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if self.epoch.load(Ordering::SeqCst) != epoch {
            return;
        }
        if entries.len() >= limit {
            entries.clear();
        }
        entries.insert(external_id, known);
    }

    fn invalidate(&self, article_ids: &HashSet<String>) {
        if article_ids.is_empty() {
            return;
        }
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        entries.retain(|_, k| !article_ids.contains(&k.article_id));
        self.epoch.fetch_add(1, Ordering::SeqCst);
    }
}

/// The known sentences of an article, from memory when possible.
pub async fn get(state: &AppState, external_id: ExternalId) -> Result<Arc<Known>, Problem> {
    let cfg = state.settings.reader;
    let cache = state.known.clone();
    let max_age = Duration::from_secs(cfg.known_max_age_secs);
    if let Some(known) = cache.get(external_id.as_str(), max_age) {
        return Ok(known);
    }
    let epoch = cache.epoch.load(Ordering::SeqCst);
    let key = external_id.as_str().to_string();
    let known = Arc::new(
        state
            .read(move |conn| {
                let article = article_store::find_by_external_id(conn, external_id.as_str())?
                    .ok_or_else(|| super::articles::not_found(&external_id))?;
                let current: HashSet<String> =
                    article_store::revision_sentences(conn, &article.id, article.current_revision)?
                        .into_iter()
                        .map(|s| s.id)
                        .collect();
                let corrections = if cfg.mark_corrections {
                    store::corrections(conn, &article.id)?
                } else {
                    Vec::new()
                };
                let open = if cfg.mark_open_cases {
                    store::open_cases(conn, &article.id)?
                } else {
                    Vec::new()
                };
                Ok(build(
                    &article.external_id,
                    &article.id,
                    &current,
                    corrections,
                    open,
                ))
            })
            .await?,
    );
    cache.put(key, known.clone(), epoch, cfg.known_cache_articles);
    Ok(known)
}

/// The sentence of the current revision a case's sentence now is: itself,
/// or the sentence that replaced it.
fn in_current(current: &HashSet<String>, id: String, successor: Option<String>) -> Option<String> {
    if current.contains(&id) {
        Some(id)
    } else {
        successor.filter(|s| current.contains(s))
    }
}

fn build(
    external_id: &str,
    article_id: &str,
    current: &HashSet<String>,
    corrections: Vec<store::CorrectedRow>,
    open: Vec<(String, Option<String>)>,
) -> Known {
    // A BTreeMap keeps the answer, hence its ETag, the same on every instance.
    let mut by_id: BTreeMap<String, KnownSentence> = BTreeMap::new();
    fn at(by_id: &mut BTreeMap<String, KnownSentence>, id: String) -> &mut KnownSentence {
        by_id.entry(id.clone()).or_insert_with(|| KnownSentence {
            sentence_id: id,
            correction: None,
            open_case: false,
        })
    }
    // Oldest first: the latest correction of a sentence wins.
    for c in corrections {
        if let Some(id) = in_current(current, c.sentence_id, c.successor_sentence_id) {
            at(&mut by_id, id).correction = Some(KnownCorrection {
                text: c.text,
                kind: c.kind,
                published_at: c.published_at,
            });
        }
    }
    for (sentence, successor) in open {
        if let Some(id) = in_current(current, sentence, successor) {
            at(&mut by_id, id).open_case = true;
        }
    }
    let answer = KnownSentences {
        article: external_id.to_string(),
        sentences: by_id.into_values().collect(),
    };
    let body = serde_json::to_string(&answer).unwrap_or_default();
    let etag = format!("\"k{}\"", &sha256_hex(&body)[..20]);
    Known {
        body,
        etag,
        article_id: article_id.to_string(),
        built: Instant::now(),
    }
}

/// The articles whose known sentences an event may change.
fn touched(event: &Event, articles: &mut HashSet<String>, cases: &mut Vec<String>) {
    match event {
        Event::CaseOpened { article_id, .. }
        | Event::CorrectionPublished { article_id, .. }
        | Event::ArticleRevised { article_id, .. } => {
            articles.insert(article_id.clone());
        }
        Event::CaseResolved { case_id, .. } | Event::CaseReopened { case_id, .. } => {
            cases.push(case_id.clone());
        }
        _ => {}
    }
}

/// Read the events committed since the last call and drop the answers they
/// make stale. Returns how many events were read.
async fn catch_up(state: &AppState) -> Result<usize, Problem> {
    let cache = state.known.clone();
    let start = *cache.cursor.lock().unwrap_or_else(|e| e.into_inner());
    let (cursor, articles, n) = state
        .read(move |conn| {
            let mut cursor = match start {
                Some(c) => c,
                None => events::tail(conn)?,
            };
            let (mut articles, mut cases, mut n) = (HashSet::new(), Vec::new(), 0);
            loop {
                let batch = events::after(conn, cursor, 500)?;
                let Some(last) = batch.last() else { break };
                cursor = Cursor {
                    xid: last.xid,
                    id: last.id,
                };
                n += batch.len();
                for e in &batch {
                    touched(&e.event, &mut articles, &mut cases);
                }
            }
            articles.extend(store::articles_of_cases(conn, &cases)?);
            Ok((cursor, articles, n))
        })
        .await?;
    cache.invalidate(&articles);
    // The intake's current revisions too (it also checks them as it writes).
    state.current_articles.invalidate(&articles);
    *cache.cursor.lock().unwrap_or_else(|e| e.into_inner()) = Some(cursor);
    Ok(n)
}

/// Tail the events for as long as the state lives: at each commit of this
/// instance and every `reader.known_refresh_secs` for the others'.
pub async fn run(state: std::sync::Weak<AppState>, cache: Arc<KnownCache>, cfg: ReaderSettings) {
    let every = Duration::from_secs(cfg.known_refresh_secs);
    loop {
        let pass = tokio::time::Instant::now();
        let Some(state) = state.upgrade() else { break };
        let target = cache.committed.load(Ordering::SeqCst);
        match catch_up(&state).await {
            Ok(_) => cache.seen.store(target + 1, Ordering::SeqCst),
            Err(p) => tracing::warn!(error = %p, "known sentences: events unread, retrying"),
        }
        drop(state);
        let _ = tokio::time::timeout(every, crate::wake::woken(&cache.wake, pass)).await;
    }
}
