//! The review queue: filters, sorts, and pages that hold while reports arrive.

use std::collections::{HashMap, HashSet};

use erratum::domain::editor::Role;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{Backend, TestApp};
use crate::staff::{self, Session, add, article, case_on, login};

backend_tests!(
    pages_neither_skip_nor_repeat_while_reports_arrive,
    pages_hold_after_a_burst_of_reports,
    pages_hold_when_priorities_are_set_by_hand,
    rescores_log_what_they_moved,
    a_minute_rescore_leaves_what_a_full_one_would,
    filters_select_the_right_cases,
    sorts_order_the_queue,
    items_carry_what_triage_needs,
    bad_parameters_are_422,
    search_folding_is_the_same_on_both_backends,
);

/// A report on sentence `i` from a distinct reader.
async fn report_as(
    app: &TestApp,
    external_id: &str,
    i: usize,
    category: &str,
    reader: &str,
    comment: &str,
) {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    // Unique, or the same client's same comment counts as a duplicate.
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let comment = format!("{comment} ({n})");
    let r = app
        .post_report(
            external_id,
            &json!({"quote": {"exact": format!("k{i}x")}, "category": category,
                "comment": comment, "reporter": {"email": reader, "notify": false}}),
        )
        .await;
    assert_eq!(r.status(), 201);
}

async fn ids_of(s: &Session, query: &str) -> Vec<String> {
    let (status, page) = s.get(&format!("/api/v1/queue?{query}")).await;
    assert_eq!(status, 200, "{query}: {page}");
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect()
}

async fn pages_neither_skip_nor_repeat_while_reports_arrive(b: Backend) {
    let app = staff::spawn(b).await;
    let s = login(&app, &add(&app, Role::Viewer, &[]).await).await;
    article(&app, "busy", Some("international"), 100).await;
    // 24 cases of mild categories, with 1 to 3 reports each.
    for i in 0..24 {
        case_on(&app, "busy", i, if i % 2 == 0 { "typo" } else { "other" }).await;
        for r in 0..(i % 3) {
            report_as(
                &app,
                "busy",
                i,
                "typo",
                &format!("r{i}-{r}@example.org"),
                "Encore.",
            )
            .await;
        }
    }
    let mut next_sentence = 24;
    // Each sort with every case reported just now (all of them within
    // `db::queue`'s margin before the snapshot, so every page re-keys them
    // all from their reports), and with the earlier cases made to look
    // reported long ago (read from the stored keys, merged with the few
    // re-keyed after their new reports). `priority` also with the stored
    // scores moved on between pages, as the worker's re-score does: by 20
    // minutes a page, which the re-scores' log covers for the whole walk,
    // and by two hours a page, past the log's reach from the third page on
    // (then the cases a re-score may have moved are keyed again).
    let mut scored_ahead = chrono::Duration::zero();
    let minutes = chrono::Duration::minutes;
    for (sort, aged, rescored) in [
        ("priority", false, None),
        ("priority", true, None),
        ("priority", true, Some(minutes(20))),
        ("priority", false, Some(minutes(20))),
        ("priority", true, Some(minutes(120))),
        ("priority", false, Some(minutes(120))),
        ("reports", false, None),
        ("reports", true, None),
        ("oldest", true, None),
        ("newest", false, None),
    ] {
        if aged {
            age_cases(&app).await;
        }
        let mut walk = Walk::start(&s, sort, "busy", 8).await;
        loop {
            let more = walk.next(&s).await;
            // Between pages, the cases not yet seen get many new reports from
            // new readers in the most severe category (their priority and
            // count jump above everything seen so far), and new cases open.
            for c in walk.unseen().into_iter().take(3) {
                let i = walk.cases.iter().position(|x| *x == c).unwrap();
                for r in 0..4 {
                    let reader = format!("late-{sort}-{i}-{r}-{}@example.org", walk.seen.len());
                    report_as(&app, "busy", i, "factual_error", &reader, "Faux !").await;
                }
            }
            if next_sentence < 100 {
                case_on(&app, "busy", next_sentence, "factual_error").await;
                next_sentence += 1;
            }
            if let Some(step) = rescored {
                scored_ahead += step;
                rescore(&app, scored_ahead).await;
            }
            if !more {
                break;
            }
        }
        let before = walk.finish();
        // The cases opened meanwhile are on the next first page.
        let now: HashSet<String> = ids_of(&s, "sort=oldest&limit=100&article=busy")
            .await
            .into_iter()
            .collect();
        assert!(now.len() > before.len() && now.is_superset(&before));
    }
}

/// One sort's pages followed through the cursor, each item checked against
/// the snapshot of the first page: the article's cases (`sort=oldest`, up
/// to 100) and their report counts as it stood.
struct Walk {
    sort: &'static str,
    query: String,
    /// The snapshot's cases, oldest first.
    cases: Vec<String>,
    counts: HashMap<String, i64>,
    seen: Vec<String>,
    keys: Vec<f64>,
    cursor: Option<String>,
}

impl Walk {
    async fn start(s: &Session, sort: &'static str, article: &str, limit: usize) -> Walk {
        // The queue as it stands when the first page is read.
        let (status, first) = s
            .get(&format!(
                "/api/v1/queue?sort=oldest&limit=100&article={article}"
            ))
            .await;
        assert_eq!(status, 200, "{first}");
        let items = first["items"].as_array().unwrap();
        let cases = items
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_string())
            .collect();
        // Each case's report count as the snapshot has it.
        let counts = items
            .iter()
            .map(|i| {
                let id = i["id"].as_str().unwrap().to_string();
                (id, i["report_count"].as_i64().unwrap())
            })
            .collect();
        Walk {
            sort,
            query: format!("sort={sort}&limit={limit}&article={article}"),
            cases,
            counts,
            seen: Vec::new(),
            keys: Vec::new(),
            cursor: None,
        }
    }

    /// Read the next page and check it; whether another page follows.
    async fn next(&mut self, s: &Session) -> bool {
        let sort = self.sort;
        let mut q = self.query.clone();
        if let Some(c) = &self.cursor {
            q.push_str(&format!("&cursor={c}"));
        }
        let (status, page) = s.get(&format!("/api/v1/queue?{q}")).await;
        assert_eq!(status, 200, "{page}");
        for item in page["items"].as_array().unwrap() {
            let id = item["id"].as_str().unwrap();
            // Counts are those of the snapshot too, though the cases
            // not yet seen got reports since (they are recounted).
            assert_eq!(
                item["report_count"].as_i64(),
                self.counts.get(id).copied(),
                "{sort}: {id}'s count as of the first page"
            );
            self.seen.push(id.to_string());
            self.keys.push(match sort {
                "priority" => item["priority"].as_f64().unwrap(),
                "reports" => item["report_count"].as_f64().unwrap(),
                _ => 0.0,
            });
        }
        self.cursor = page["next_cursor"].as_str().map(str::to_string);
        self.cursor.is_some()
    }

    /// The snapshot's cases not seen yet, oldest first.
    fn unseen(&self) -> Vec<String> {
        self.cases
            .iter()
            .filter(|c| !self.seen.contains(c))
            .cloned()
            .collect()
    }

    /// Every case of the snapshot seen once, keys in order; the snapshot's
    /// cases.
    fn finish(self) -> HashSet<String> {
        let sort = self.sort;
        let unique: HashSet<String> = self.seen.iter().cloned().collect();
        assert_eq!(unique.len(), self.seen.len(), "{sort}: a case was repeated");
        let before: HashSet<String> = self.cases.into_iter().collect();
        assert_eq!(
            unique, before,
            "{sort}: exactly the cases of the first page's snapshot"
        );
        let keys = self.keys;
        assert!(
            keys.windows(2).all(|w| w[0] >= w[1]),
            "{sort}: keys are in order across pages: {keys:?}"
        );
        before
    }
}

/// Past 2,000 reports since a first page, the cases changed since its
/// snapshot are read from the cases reported since a minute before it
/// (`db::queue::changed_since`): the pages still hold.
async fn pages_hold_after_a_burst_of_reports(b: Backend) {
    let app = staff::spawn(b).await;
    let s = login(&app, &add(&app, Role::Viewer, &[]).await).await;
    article(&app, "burst", None, 20).await;
    let mut ids = Vec::new();
    for i in 0..12 {
        ids.push(case_on(&app, "burst", i, if i % 2 == 0 { "typo" } else { "other" }).await);
    }
    // The cases aged: only those reported after the first page are listed.
    age_cases(&app).await;
    for sort in ["priority", "reports"] {
        let mut walk = Walk::start(&s, sort, "burst", 3).await;
        let mut more = walk.next(&s).await;
        // An unseen case jumps above the others: readers report a factual
        // error on it…
        let unseen = walk.unseen();
        let i = ids.iter().position(|c| *c == unseen[0]).unwrap();
        for r in 0..4 {
            let reader = format!("b{sort}{r}@example.org");
            report_as(&app, "burst", i, "factual_error", &reader, "Faux !").await;
        }
        // …and another case gets 2,001 more reports.
        copy_reports(&app, &unseen[1], 2001).await;
        while more {
            more = walk.next(&s).await;
        }
        walk.finish();
    }
}

/// A stored score also moves without a report: an editor sets or clears
/// a case's priority by hand, or trusts a reader (the same holds for a
/// correction published on the sentence). Pages that followed the first
/// hold all the same: a case set high after the first page was read is not
/// skipped, one set low is not shown twice, and one set before the first
/// page keeps the key that page showed it with.
async fn pages_hold_when_priorities_are_set_by_hand(b: Backend) {
    let app = staff::spawn(b).await;
    let s = login(&app, &add(&app, Role::Viewer, &[]).await).await;
    let editor = login(&app, &add(&app, Role::Editor, &[]).await).await;
    article(&app, "hand", None, 16).await;
    let mut ids = Vec::new();
    for i in 0..16 {
        let category = ["factual_error", "typo", "other", "missing_context"][i % 4];
        ids.push(case_on(&app, "hand", i, category).await);
    }
    age_cases(&app).await;
    let priority = |p: Option<i32>| Some(json!({ "priority": p }));
    for (round, mut rescored) in [(0, false), (1, true)] {
        // A stored score the worker re-scored: the log of moves is in use.
        rescore(&app, chrono::Duration::minutes(20 * (round + 1))).await;
        // Set before the first page: its key on every page is the one set.
        let (status, body) = editor
            .act(&ids[round as usize], "priority", priority(Some(99)))
            .await;
        assert_eq!(status, 200, "{body}");
        let mut walk = Walk::start(&s, "priority", "hand", 4).await;
        let mut more = walk.next(&s).await;
        // The first page's highest case falls to nothing and the first
        // unseen one rises to the top; another unseen one goes back to its
        // computed score.
        let (status, body) = editor
            .act(&walk.seen[1], "priority", priority(Some(0)))
            .await;
        assert_eq!(status, 200, "{body}");
        let unseen = walk.unseen();
        let (status, body) = editor
            .act(&unseen[0], "priority", priority(Some(100)))
            .await;
        assert_eq!(status, 200, "{body}");
        let (status, body) = editor.act(&unseen[1], "priority", priority(Some(1))).await;
        assert_eq!(status, 200, "{body}");
        while more {
            more = walk.next(&s).await;
            if rescored {
                rescore(&app, chrono::Duration::minutes(60)).await;
                rescored = false;
            }
            if let Some(c) = walk.unseen().first() {
                let (status, body) = editor.act(c, "priority", priority(None)).await;
                assert_eq!(status, 200, "{body}");
            }
        }
        walk.finish();
    }
    // A reader trusted between pages: the cases not seen yet rise by the
    // trusted reader's bonus, above the first page's last key.
    let mut walk = Walk::start(&s, "priority", "hand", 4).await;
    let mut more = walk.next(&s).await;
    for c in walk.unseen() {
        let (status, case) = editor.get(&format!("/api/v1/cases/{c}")).await;
        assert_eq!(status, 200, "{case}");
        let report = case["reports"][0]["id"].as_str().unwrap().to_string();
        let standing = Some(json!({ "standing": "trusted" }));
        let path = format!("/api/v1/reports/{report}/reader");
        let (status, body) = editor.post(&path, standing.as_ref()).await;
        assert_eq!(status, 200, "{body}");
    }
    while more {
        more = walk.next(&s).await;
    }
    walk.finish();
}

/// `n` copies of one of `case_id`'s reports, filed now (as a burst of
/// readers would, without going through HTTP `n` times).
async fn copy_reports(app: &TestApp, case_id: &str, n: usize) {
    let (url, case_id) = (app.database_url.clone(), case_id.to_string());
    tokio::task::spawn_blocking(move || {
        use diesel::prelude::*;
        use diesel::sql_types::{Text, Timestamp};
        use erratum::db::schema::cases;
        let (pool, _) = erratum::db::connect(&url, 1, std::time::Duration::from_secs(10)).unwrap();
        let mut conn = pool.get().unwrap();
        let now = erratum::db::now();
        erratum::db::dialect::write_transaction(&mut conn, |c| {
            let cols = "case_id, article_id, revision, sentence_id, span_sentence_ids, \
                        quote_exact, quote_prefix, quote_suffix, category, comment, \
                        suggested_correction, sources, reporter_email, notify, reporter_key, \
                        client_hash, comment_hash, is_spam, blocked, desk";
            let sql = format!(
                "INSERT INTO reports (id, reference, status_token_hash, created_at, {cols}) \
                 SELECT $1, $2, $3, $4, {cols} FROM reports WHERE case_id = $5 LIMIT 1"
            );
            for _ in 0..n {
                let id = uuid::Uuid::now_v7().to_string();
                diesel::sql_query(&sql)
                    .bind::<Text, _>(&id)
                    .bind::<Text, _>(format!("BURST-{id}"))
                    .bind::<Text, _>(format!("burst-{id}"))
                    .bind::<Timestamp, _>(now)
                    .bind::<Text, _>(&case_id)
                    .execute(c)?;
            }
            // The counters move with the reports, as intake moves them.
            diesel::update(cases::table.find(&case_id))
                .set((
                    cases::last_reported_at.eq(now),
                    cases::report_count.eq(cases::report_count + n as i32),
                ))
                .execute(c)
        })
        .unwrap();
    })
    .await
    .unwrap();
}

/// Make every case look last reported two hours ago, as the queue's list
/// of the cases changed since a snapshot sees it. Only that column moves:
/// the stored keys and the reports' own times (which re-keying reads) stay.
async fn age_cases(app: &TestApp) {
    let url = app.database_url.clone();
    tokio::task::spawn_blocking(move || {
        use diesel::prelude::*;
        use erratum::db::schema::cases;
        let (pool, _) = erratum::db::connect(&url, 1, std::time::Duration::from_secs(10)).unwrap();
        let mut conn = pool.get().unwrap();
        let t = erratum::db::now() - chrono::Duration::hours(2);
        diesel::update(cases::table)
            .set(cases::last_reported_at.eq(t))
            .execute(&mut *conn)
            .unwrap();
    })
    .await
    .unwrap();
}

/// Move the stored priorities to `ahead` of now, as the worker's periodic
/// re-score moves them to its time: the cases' urgency grows and their
/// freshness fades.
async fn rescore(app: &TestApp, ahead: chrono::Duration) {
    let url = app.database_url.clone();
    tokio::task::spawn_blocking(move || {
        use erratum::db::cases::rescore_recent;
        let (pool, _) = erratum::db::connect(&url, 1, std::time::Duration::from_secs(10)).unwrap();
        let mut conn = pool.get().unwrap();
        let at = erratum::db::now() + ahead;
        let moved =
            erratum::db::dialect::write_transaction(&mut conn, |c| rescore_recent(c, at, false))
                .unwrap();
        assert!(moved > 0, "the re-score moves some scores");
    })
    .await
    .unwrap();
}

/// Every case's stored score, by id.
fn stored_scores(conn: &mut erratum::db::DbConn) -> HashMap<String, i32> {
    use diesel::prelude::*;
    use erratum::db::schema::cases;
    cases::table
        .select((cases::id, cases::priority_tenths))
        .load::<(String, i32)>(conn)
        .unwrap()
        .into_iter()
        .collect()
}

/// `db::cases::moved_since` from the stored scoring row.
fn log_from(
    conn: &mut erratum::db::DbConn,
    at: chrono::NaiveDateTime,
    max: usize,
) -> diesel::QueryResult<Option<Vec<(String, i32)>>> {
    use erratum::db::cases::{moved_since, scoring};
    let s = scoring(conn)?.expect("a re-score ran");
    moved_since(conn, &s, at, None, max)
}

/// `db::cases::moved_since` gives, for every case a re-score moved since an
/// instant, the score it was stored with at that instant, however many
/// re-scores ran since; and nothing once the log no longer covers them all.
async fn rescores_log_what_they_moved(b: Backend) {
    let app = staff::spawn(b).await;
    article(&app, "log", Some("international"), 12).await;
    for i in 0..12 {
        let category = ["factual_error", "typo", "other"][i % 3];
        case_on(&app, "log", i, category).await;
    }
    let url = app.database_url.clone();
    tokio::task::spawn_blocking(move || {
        use erratum::db::cases::{MOVES_KEPT, rescore_recent};
        let (pool, _) = erratum::db::connect(&url, 1, std::time::Duration::from_secs(10)).unwrap();
        let mut conn = pool.get().unwrap();
        let t0 = erratum::db::now();
        let run = |c: &mut erratum::db::DbConn, at, full| {
            erratum::db::dialect::write_transaction(c, |c| rescore_recent(c, at, full)).unwrap()
        };
        // The scores as of t0, then four re-scores 40 minutes apart.
        run(&mut conn, t0, true);
        let at_t0 = stored_scores(&mut conn);
        assert_eq!(log_from(&mut conn, t0, 1000).unwrap(), Some(Vec::new()));
        let mut instants = vec![t0];
        let mut scores = vec![at_t0.clone()];
        for k in 1..=4 {
            let at = t0 + chrono::Duration::minutes(40 * k);
            run(&mut conn, at, false);
            instants.push(at);
            scores.push(stored_scores(&mut conn));
        }
        assert_ne!(scores[0], scores[4], "the re-scores move some scores");
        // Another instance's re-score at an earlier instant, arriving late,
        // leaves the later one's scores and log as they are.
        let late_log = log_from(&mut conn, t0, 1000).unwrap();
        assert_eq!(run(&mut conn, instants[3], false), 0);
        assert_eq!(stored_scores(&mut conn), scores[4]);
        assert_eq!(
            erratum::db::cases::scored_at(&mut conn).unwrap(),
            Some(instants[4])
        );
        assert_eq!(log_from(&mut conn, t0, 1000).unwrap(), late_log);
        // From each instant, the log gives back exactly the cases whose
        // stored score differs now, each with its score of then.
        for (at, then) in instants.iter().zip(&scores) {
            let log = log_from(&mut conn, *at, 1000).unwrap().expect("covered");
            let now = &scores[4];
            let moved: HashMap<String, i32> = log.into_iter().collect();
            for (id, score) in then {
                match moved.get(id) {
                    Some(logged) => assert_eq!(logged, score, "{id} at {at}"),
                    None => assert_eq!(now[id], *score, "{id} at {at} moved unlogged"),
                }
            }
        }
        // More moved cases than asked for: no answer.
        let moved_from_t0 = log_from(&mut conn, t0, 1000).unwrap().unwrap().len();
        assert!(moved_from_t0 > 1);
        assert_eq!(log_from(&mut conn, t0, moved_from_t0 - 1).unwrap(), None);
        // Kept for `MOVES_KEPT`: a re-score past it drops t0's first moves.
        let late = t0 + MOVES_KEPT + chrono::Duration::minutes(41);
        run(&mut conn, late, false);
        assert_eq!(log_from(&mut conn, t0, 1000).unwrap(), None);
        assert!(log_from(&mut conn, instants[2], 1000).unwrap().is_some());
        // A full re-score may move anything: the log starts over.
        let full = late + chrono::Duration::minutes(1);
        run(&mut conn, full, true);
        assert_eq!(log_from(&mut conn, instants[4], 1000).unwrap(), None);
        assert_eq!(log_from(&mut conn, full, 1000).unwrap(), Some(Vec::new()));
    })
    .await
    .unwrap();
}

/// The worker's re-score reads only the cases whose score can still move
/// (not yet due at the previous one, or on an article published lately):
/// after it, a full re-score at the same instant moves nothing, whatever
/// time passed, for articles fresh, a week old, two months old or
/// undated, and cases due long ago, lately or not yet.
async fn a_minute_rescore_leaves_what_a_full_one_would(b: Backend) {
    let app = staff::spawn(b).await;
    let ages = [
        ("fresh", Some(1)),
        ("week", Some(10)),
        ("old", Some(60)),
        ("undated", None),
    ];
    for (name, _) in ages {
        article(&app, name, Some("international"), 6).await;
    }
    for (name, _) in ages {
        for i in 0..6 {
            case_on(&app, name, i, ["factual_error", "typo", "outdated"][i % 3]).await;
        }
    }
    let url = app.database_url.clone();
    tokio::task::spawn_blocking(move || {
        use diesel::prelude::*;
        use erratum::db::cases::rescore_recent;
        use erratum::db::schema::{articles, cases};
        let (pool, _) = erratum::db::connect(&url, 1, std::time::Duration::from_secs(10)).unwrap();
        let mut conn = pool.get().unwrap();
        let t0 = erratum::db::now();
        let days = chrono::Duration::days;
        for (name, age) in ages {
            diesel::update(articles::table.filter(articles::external_id.eq(name)))
                .set(articles::published_at.eq(age.map(|d| t0 - days(d))))
                .execute(&mut *conn)
                .unwrap();
        }
        // A third of the cases reported days ago and due since, a third
        // due within days.
        let ids: Vec<String> = cases::table
            .select(cases::id)
            .order(cases::id)
            .load(&mut *conn)
            .unwrap();
        for (k, id) in ids.iter().enumerate() {
            let (first, due) = match k % 3 {
                0 => (t0 - days(20), t0 - days(2)),
                1 => (t0 - chrono::Duration::hours(3), t0 + days(2)),
                _ => continue,
            };
            diesel::update(cases::table.find(id))
                .set((cases::first_reported_at.eq(first), cases::due_at.eq(due)))
                .execute(&mut *conn)
                .unwrap();
        }
        let run = |c: &mut erratum::db::DbConn, at, full| {
            erratum::db::dialect::write_transaction(c, |c| rescore_recent(c, at, full)).unwrap()
        };
        run(&mut conn, t0, true);
        let mut moved = 0;
        for at in [
            t0 + chrono::Duration::minutes(1),
            t0 + chrono::Duration::hours(5),
            t0 + days(1),
            t0 + days(3),
            t0 + days(9),
            t0 + days(20),
        ] {
            moved += run(&mut conn, at, false);
            assert_eq!(run(&mut conn, at, true), 0, "a score left behind at {at}");
        }
        assert!(moved > 0, "the re-scores move some scores");
    })
    .await
    .unwrap();
}

async fn filters_select_the_right_cases(b: Backend) {
    let app = staff::spawn(b).await;
    article(&app, "pol", Some("politique"), 10).await;
    article(&app, "spo", Some("sport"), 10).await;
    let me = add(&app, Role::Editor, &[]).await;
    let other = add(&app, Role::Editor, &[]).await;
    let s = login(&app, &me).await;
    let o = login(&app, &other).await;

    let typo = case_on(&app, "pol", 0, "typo").await;
    let factual = case_on(&app, "pol", 1, "factual_error").await;
    let busy = case_on(&app, "pol", 2, "outdated").await;
    for r in 0..3 {
        report_as(
            &app,
            "pol",
            2,
            "typo",
            &format!("b{r}@example.org"),
            "Le chiffre date de 2019.",
        )
        .await;
    }
    let sport = case_on(&app, "spo", 0, "misleading").await;
    report_as(
        &app,
        "spo",
        1,
        "other",
        "e@example.org",
        "Le président a parlé depuis l'ÉLYSÉE, pas depuis Matignon.",
    )
    .await;
    let elysee = ids_of(&s, "q=élysée").await;
    assert_eq!(elysee.len(), 1, "case-insensitive, accents included");
    assert_eq!(
        ids_of(&s, "q=ELYSEE").await,
        elysee,
        "accents are optional in the search"
    );
    assert_eq!(
        ids_of(&s, "q=l%E2%80%99%C3%A9lys%C3%A9e").await,
        elysee,
        "a typographic apostrophe matches a plain one"
    );
    let resolved = case_on(&app, "spo", 2, "typo").await;
    assert_eq!(
        s.act(
            &resolved,
            "resolve",
            Some(json!({"resolution": "no_change"}))
        )
        .await
        .0,
        200
    );
    assert_eq!(s.act(&typo, "triage", None).await.0, 200);
    assert_eq!(s.act(&factual, "claim", None).await.0, 200);
    assert_eq!(o.act(&busy, "claim", None).await.0, 200);

    let set = |v: Vec<String>| v.into_iter().collect::<HashSet<String>>();
    let of = |ids: &[&String]| {
        ids.iter()
            .map(|s| s.to_string())
            .collect::<HashSet<String>>()
    };
    let open_all = of(&[&typo, &factual, &busy, &sport, &elysee[0]]);
    assert_eq!(set(ids_of(&s, "").await), open_all, "default: open cases");
    assert_eq!(set(ids_of(&s, "status=triaged").await), of(&[&typo]));
    assert_eq!(
        set(ids_of(&s, "status=in_review").await),
        of(&[&factual, &busy])
    );
    assert_eq!(set(ids_of(&s, "status=resolved").await), of(&[&resolved]));
    assert_eq!(
        set(ids_of(&s, "status=new,triaged").await),
        of(&[&typo, &sport, &elysee[0]])
    );
    assert_eq!(ids_of(&s, "status=all").await.len(), 6);
    assert_eq!(set(ids_of(&s, "category=typo").await), of(&[&typo, &busy]));
    assert_eq!(set(ids_of(&s, "category=misleading").await), of(&[&sport]));
    assert_eq!(
        set(ids_of(&s, "desk=sport").await),
        of(&[&sport, &elysee[0]])
    );
    assert_eq!(
        set(ids_of(&s, "article=pol").await),
        of(&[&typo, &factual, &busy])
    );
    assert!(ids_of(&s, "article=nope").await.is_empty());
    assert_eq!(set(ids_of(&s, "assignee=me").await), of(&[&factual]));
    assert_eq!(set(ids_of(&o, "assignee=me").await), of(&[&busy]));
    assert_eq!(
        set(ids_of(&s, &format!("assignee={}", other.id)).await),
        of(&[&busy])
    );
    assert_eq!(
        set(ids_of(&s, "assignee=none").await),
        of(&[&typo, &sport, &elysee[0]])
    );
    assert_eq!(set(ids_of(&s, "min_reports=2").await), of(&[&busy]));
    assert_eq!(
        set(ids_of(&s, "q=chiffre%20date").await),
        of(&[&busy]),
        "in comments"
    );
    // Sentence 1 of both articles reads "… k1x …".
    assert_eq!(
        set(ids_of(&s, "q=K1X").await),
        of(&[&factual, &elysee[0]]),
        "in the sentence"
    );
    assert_eq!(
        set(ids_of(&s, "q=100%25").await),
        of(&[]),
        "% is not a wildcard"
    );
    // Filters combine.
    assert_eq!(
        set(ids_of(&s, "article=pol&category=typo&assignee=none").await),
        of(&[&typo])
    );
    // Answered above from SQLite's pending documents (just filed), the
    // same searches give the same cases once the index holds them.
    index_caught_up(&app).await;
    assert_eq!(ids_of(&s, "q=ELYSEE").await, elysee);
    assert_eq!(set(ids_of(&s, "q=chiffre%20date").await), of(&[&busy]));
    assert_eq!(set(ids_of(&s, "q=K1X").await), of(&[&factual, &elysee[0]]));
    assert_eq!(set(ids_of(&s, "q=100%25").await), of(&[]));
}

/// Wait for the server's search indexer to empty SQLite's pending list
/// (`db::search_index`; PostgreSQL has none).
async fn index_caught_up(app: &TestApp) {
    let url = app.database_url.clone();
    tokio::task::spawn_blocking(move || {
        let (pool, _) = erratum::db::connect(&url, 1, std::time::Duration::from_secs(5)).unwrap();
        let mut conn = pool.get().unwrap();
        for _ in 0..200 {
            if !erratum::db::search_index::has_pending(&mut conn).unwrap() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("the search index did not catch up within 10 s");
    })
    .await
    .unwrap();
}

async fn sorts_order_the_queue(b: Backend) {
    let app = staff::spawn(b).await;
    article(&app, "s", Some("international"), 10).await;
    let s = login(&app, &add(&app, Role::Editor, &[]).await).await;
    let first = case_on(&app, "s", 0, "typo").await;
    let second = case_on(&app, "s", 1, "factual_error").await;
    let third = case_on(&app, "s", 2, "other").await;
    for r in 0..3 {
        report_as(
            &app,
            "s",
            2,
            "other",
            &format!("t{r}@example.org"),
            "Autre remarque.",
        )
        .await;
    }
    assert_eq!(
        ids_of(&s, "sort=oldest").await,
        [first.as_str(), &second, &third]
    );
    assert_eq!(
        ids_of(&s, "sort=newest").await,
        [third.as_str(), &second, &first]
    );
    assert_eq!(ids_of(&s, "sort=reports").await[0], third);
    // Priority: a factual error comes before four readers reporting "other"
    // (40 against 5 + 10·ln 4 ≈ 18.9), which come before one typo.
    assert_eq!(
        ids_of(&s, "sort=priority").await,
        [second.as_str(), &third, &first]
    );
    assert_eq!(
        ids_of(&s, "").await,
        [second.as_str(), &third, &first],
        "the default"
    );
    // An explicit priority replaces the score.
    let (status, answer) = s
        .act(&first, "priority", Some(json!({"priority": 100})))
        .await;
    assert_eq!(
        (status, answer["case"]["priority"].as_f64()),
        (200, Some(100.0))
    );
    assert_eq!(ids_of(&s, "sort=priority").await[0], first);
    s.act(&first, "priority", Some(json!({"priority": null})))
        .await;
    assert_eq!(ids_of(&s, "sort=priority").await[2], first);
}

async fn items_carry_what_triage_needs(b: Backend) {
    let app = staff::spawn(b).await;
    article(&app, "it", Some("international"), 3).await;
    let ed = add(&app, Role::Editor, &[]).await;
    let s = login(&app, &ed).await;
    let id = case_on(&app, "it", 1, "typo").await;
    report_as(&app, "it", 1, "factual_error", "a@example.org", "Faux.").await;
    report_as(
        &app,
        "it",
        1,
        "factual_error",
        "a@example.org",
        "Toujours faux.",
    )
    .await;
    s.act(&id, "claim", None).await;
    let (_, page) = s.get("/api/v1/queue").await;
    assert!(page["next_cursor"].is_null());
    assert!(page["as_of"].is_string());
    let item = &page["items"][0];
    assert_eq!(item["id"], id.as_str());
    assert_eq!(
        item["article"],
        json!({"external_id": "it", "title": "Article it", "url": "https://news.example/it"})
    );
    assert_eq!(item["sentence_text"], "Le dossier k1x avance lentement.");
    assert_eq!(item["report_count"], 3);
    assert_eq!(
        item["reporter_count"], 2,
        "one reader twice, one anonymous client"
    );
    assert_eq!(
        item["categories"],
        json!([{"category": "factual_error", "count": 2}, {"category": "typo", "count": 1}])
    );
    assert_eq!(item["status"], "in_review");
    assert_eq!(item["assignee"]["id"], ed.id.as_str());
    assert!(item["first_reported_at"].as_str() <= item["last_reported_at"].as_str());
    // Due at the earliest target: the factual error's 4 hours.
    // RFC 3339 with the offset (issue 12, item 6).
    let first =
        chrono::DateTime::parse_from_rfc3339(item["first_reported_at"].as_str().unwrap()).unwrap();
    let due = chrono::DateTime::parse_from_rfc3339(item["due_at"].as_str().unwrap()).unwrap();
    let hours = (due - first).num_minutes() as f64 / 60.0;
    assert!((3.9..=4.0).contains(&hours), "{hours}");
    assert_eq!(item["overdue"], false);
    let p = item["priority"].as_f64().unwrap();
    // 40 (factual error) + 6.9 (two readers) + ~15 (a fresh article) + ~0 urgency.
    assert!((61.0..=63.0).contains(&p), "{p}");
    assert!(
        item["allowed_actions"]
            .as_array()
            .unwrap()
            .contains(&json!("resolve"))
    );
}

async fn bad_parameters_are_422(b: Backend) {
    let app = staff::spawn(b).await;
    article(&app, "x", None, 3).await;
    let s = login(&app, &add(&app, Role::Viewer, &[]).await).await;
    for i in 0..3 {
        case_on(&app, "x", i, "typo").await;
    }
    let mut fields: HashMap<&str, &str> = HashMap::new();
    fields.insert("status=open", "status");
    fields.insert("category=spelling", "category");
    fields.insert("assignee=bob", "assignee");
    fields.insert("min_reports=0", "min_reports");
    fields.insert("min_reports=x", "min_reports");
    fields.insert("sort=random", "sort");
    fields.insert("limit=101", "limit");
    fields.insert("limit=0", "limit");
    fields.insert("cursor=garbage", "cursor");
    fields.insert("resolution=fixed", "resolution");
    for (query, field) in fields {
        let (status, p) = s.get(&format!("/api/v1/queue?{query}")).await;
        assert_eq!(status, 422, "{query}");
        assert_eq!(p["errors"][0]["field"], field, "{query}");
    }
    // A cursor belongs to its query.
    let (_, page) = s.get("/api/v1/queue?limit=1&sort=oldest").await;
    let cursor = page["next_cursor"].as_str().unwrap();
    assert_eq!(
        s.get(&format!(
            "/api/v1/queue?limit=1&sort=oldest&cursor={cursor}"
        ))
        .await
        .0,
        200
    );
    let (status, p) = s
        .get(&format!(
            "/api/v1/queue?limit=1&sort=newest&cursor={cursor}"
        ))
        .await;
    assert_eq!(
        (status, p["errors"][0]["code"].as_str()),
        (422, Some("invalid_cursor"))
    );
    let (status, _) = s
        .get(&format!(
            "/api/v1/queue?limit=1&sort=oldest&category=typo&cursor={cursor}"
        ))
        .await;
    assert_eq!(status, 422);
    // Several errors at once.
    let (_, p) = s.get("/api/v1/queue?sort=x&limit=500").await;
    assert_eq!(p["errors"].as_array().unwrap().len(), 2);
    let _: Value = p;
}

/// The SQL `erratum_fold` (a migration's function on PostgreSQL, the Rust one
/// registered on SQLite) folds exactly like `domain::search::fold`, on every
/// character of its table and on ordinary text.
async fn search_folding_is_the_same_on_both_backends(b: Backend) {
    use diesel::RunQueryDsl;
    use erratum::domain::search::{FROM, LIGATURES, fold};
    let app = TestApp::spawn(b).await;
    let mut samples: Vec<String> = FROM.chars().map(String::from).collect();
    samples.extend(LIGATURES.iter().map(|(l, _)| l.to_string()));
    samples.extend(
        [
            "Kim Jong-un a reçu à PYONGYANG l’ÉMISSAIRE russe",
            "Œuvres complètes, Straße, Łódź\u{202f}!",
            "Déjà-vu — «\u{a0}citation\u{a0}»",
        ]
        .map(String::from),
    );
    let from_sql = app
        .app_state
        .read(move |conn| {
            samples
                .iter()
                .map(|s| {
                    diesel::select(erratum::db::dialect::fold(s.clone()))
                        .get_result::<String>(conn)
                        .map(|folded| (s.clone(), folded))
                })
                .collect::<Result<Vec<_>, _>>()
                .map_err(erratum::error::Problem::from)
        })
        .await
        .unwrap();
    for (s, folded) in from_sql {
        assert_eq!(folded, fold(&s), "{s:?}");
    }
}
