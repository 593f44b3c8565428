//! `erratum segment` (no database) and `erratum article resplit` with open
//! cases, on both backends.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{Backend, TestApp};

backend_tests!(resplit_moves_open_cases_and_reports_the_others,);

fn erratum(dir: &std::path::Path, args: &[&str], stdin: Option<&[u8]>, db: &str) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_erratum"));
    cmd.current_dir(dir).env_remove("RUST_LOG");
    for (k, _) in std::env::vars() {
        if k.starts_with("ERRATUM__") {
            cmd.env_remove(k);
        }
    }
    cmd.env("ERRATUM__DATABASE__URL", db)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(bytes) = stdin {
        input.write_all(bytes).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

fn segment(dir: &std::path::Path, args: &[&str], stdin: Option<&[u8]>) -> Output {
    erratum(dir, args, stdin, "sqlite://data/unused.db")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn segment_prints_paragraph_and_sentence_per_line() {
    let dir = tempfile::tempdir().unwrap();
    let text = "Le 8 oct. 2024, M. Kim a parlé aux É.-U. Il a conclu : « Nous verrons. » (AFP)\n\n\
                Trois mesures : 1) Une taxe 2) Un fonds\n\n\
                Avez-vous trouvé une erreur ou une inexactitude ?\n";
    let out = segment(dir.path(), &["segment"], Some(text.as_bytes()));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout(&out),
        "1\tLe 8 oct. 2024, M. Kim a parlé aux É.-U.\n\
         1\tIl a conclu : « Nous verrons. » (AFP)\n\
         2\tTrois mesures : 1) Une taxe\n\
         2\t2) Un fonds\n"
    );

    // English rules with --lang; HTML read from a .html file; the footer goes.
    let html = dir.path().join("article.html");
    std::fs::write(
        &html,
        "<h1>Ignored? No: a block.</h1><p>She lives in the U.S. How about you?</p>\
         <figure><figcaption>Photo. AFP</figcaption></figure>\
         <ul><li>• First item • Second item</li></ul><p>Report an error</p>",
    )
    .unwrap();
    let out = segment(
        dir.path(),
        &["segment", "--lang", "en", html.to_str().unwrap()],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout(&out),
        "1\tIgnored?\n1\tNo: a block.\n\
         2\tShe lives in the U.S.\n2\tHow about you?\n\
         3\t• First item\n3\t• Second item\n"
    );

    // The same markup from stdin with --format text is plain text.
    let out = segment(
        dir.path(),
        &["segment", "--lang", "en", "--format", "text"],
        Some(b"<p>One. Two.</p>"),
    );
    assert_eq!(stdout(&out), "1\t<p>One.\n1\tTwo.</p>\n");
    // ...and auto-detected as HTML without it.
    let out = segment(dir.path(), &["segment"], Some(b"  <p>Un. Deux.</p>"));
    assert_eq!(stdout(&out), "1\tUn.\n1\tDeux.\n");

    // Empty input: no sentence, success.
    let out = segment(dir.path(), &["segment"], Some(b""));
    assert!(out.status.success());
    assert_eq!(stdout(&out), "");
}

#[test]
fn segment_rejects_bad_input_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = segment(dir.path(), &["segment", "/no/such/file.txt"], None);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot read /no/such/file.txt"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1);

    let out = segment(dir.path(), &["segment"], Some(&[0xff, 0xfe, b'a']));
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not UTF-8"));

    let out = segment(dir.path(), &["segment", "--lang", "de"], Some(b"Hallo."));
    assert_eq!(out.status.code(), Some(2));

    let too_big = vec![b'a'; erratum::segment_cli::MAX_INPUT_BYTES as usize + 1];
    let out = segment(dir.path(), &["segment"], Some(&too_big));
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("larger than"));
}

fn sentence_texts(article: &Value) -> Vec<String> {
    article["sentences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["text"].as_str().unwrap().to_string())
        .collect()
}

fn sentence_id(article: &Value, text: &str) -> String {
    article["sentences"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["text"] == text)
        .unwrap_or_else(|| panic!("no sentence {text:?} in {article}"))["id"]
        .as_str()
        .unwrap()
        .to_string()
}

const BODY: &str = "Il vit aux É.-U. Il est rentré en 2010. Tout va bien.\n\n\
                    Il a pris de la vitamine C. Elle ne l'a pas aidé.";

/// The split that rules version 1 gave BODY: it never ended a sentence on
/// "É.-U." nor on a single initial.
fn old_split() -> Vec<Vec<String>> {
    [
        vec!["Un titre"],
        vec!["Il vit aux É.-U. Il est rentré en 2010.", "Tout va bien."],
        vec!["Il a pris de la vitamine C. Elle ne l'a pas aidé."],
    ]
    .iter()
    .map(|p| p.iter().map(|s| s.to_string()).collect())
    .collect()
}

async fn resplit_moves_open_cases_and_reports_the_others(b: Backend) {
    let app = TestApp::spawn(b).await;
    let current = erratum::domain::segment::rules_version();
    assert!(current > 1);
    // Store the article as version 1 of the rules had split it.
    app.app_state
        .read(move |conn| {
            use diesel::prelude::*;
            use erratum::db::schema::article_revisions;
            let article = erratum::domain::article::NewArticle {
                external_id: erratum::domain::article::ExternalId::parse("r-1").unwrap(),
                url: "https://news.example/r-1".into(),
                title: "Un titre".into(),
                language: erratum::domain::article::Language::Fr.into(),
                desk: None,
                published_at: None,
                paragraphs: old_split(),
            };
            let (stored, _, _) = erratum::db::articles::upsert(conn, &article)?;
            diesel::update(article_revisions::table)
                .filter(article_revisions::article_id.eq(&stored.id))
                .set(article_revisions::rules_version.eq(1))
                .execute(conn)?;
            Ok(())
        })
        .await
        .unwrap();
    for quote in ["rentré en 2010", "Tout va bien", "vitamine C", "pas aidé"] {
        let r = app
            .post_report(
                "r-1",
                &json!({"quote": {"exact": quote}, "category": "typo", "comment": format!("Voir « {quote} ».")}),
            )
            .await;
        assert_eq!(r.status(), 201, "{quote}");
    }
    let (_, before) = app.get_json("/api/v1/articles/r-1").await;
    let kept_id = sentence_id(&before, "Tout va bien.");

    // The CMS sends the same text again: the newer rules would split it
    // differently, but the text did not change, so neither do the sentences.
    let same = json!({"url": "https://news.example/r-1", "title": "Un titre", "language": "fr", "body_text": BODY});
    assert_eq!(app.put_article("r-1", &same).await.status(), 200);
    let (_, after_put) = app.get_json("/api/v1/articles/r-1").await;
    assert_eq!(after_put["revision"], 1);
    assert_eq!(sentence_texts(&after_put), sentence_texts(&before));

    let dir = tempfile::tempdir().unwrap();
    let out = erratum(
        dir.path(),
        &["article", "resplit", "r-1"],
        None,
        &app.database_url,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = stdout(&out);
    assert!(
        printed.starts_with(&format!(
            "r-1: rules 1 -> {current}: revision 2, 6 sentences, 1 open case(s) moved, 1 not mapped\n"
        )),
        "{printed}"
    );
    assert!(
        printed.contains("quotes are now in different sentences"),
        "{printed}"
    );

    let (_, after) = app.get_json("/api/v1/articles/r-1").await;
    assert_eq!(after["revision"], 2);
    assert_eq!(
        sentence_texts(&after),
        vec![
            "Un titre",
            "Il vit aux É.-U.",
            "Il est rentré en 2010.",
            "Tout va bien.",
            "Il a pris de la vitamine C.",
            "Elle ne l'a pas aidé.",
        ]
    );
    assert_eq!(
        sentence_id(&after, "Tout va bien."),
        kept_id,
        "unchanged text keeps its id"
    );
    let moved_to = sentence_id(&after, "Il est rentré en 2010.");

    let (cases, versions) = app
        .app_state
        .read(|conn| {
            use diesel::prelude::*;
            use erratum::db::schema::{article_revisions, articles, cases};
            let article_id: String = articles::table
                .filter(articles::external_id.eq("r-1"))
                .select(articles::id)
                .first(conn)?;
            let cases = cases::table
                .order(cases::created_at.asc())
                .select((
                    cases::sentence_id,
                    cases::sentence_text,
                    cases::anchor_state,
                ))
                .load::<(String, String, String)>(conn)?;
            let versions = article_revisions::table
                .filter(article_revisions::article_id.eq(&article_id))
                .order(article_revisions::revision.asc())
                .select(article_revisions::rules_version)
                .load::<i32>(conn)?;
            Ok((cases, versions))
        })
        .await
        .unwrap();
    assert_eq!(versions, vec![1, current]);
    assert_eq!(
        cases[0],
        (
            moved_to,
            "Il est rentré en 2010.".to_string(),
            "current".to_string()
        )
    );
    assert_eq!(cases[1].0, kept_id);
    assert_eq!(cases[1].2, "current");
    assert_eq!(
        cases[2].1,
        "Il a pris de la vitamine C. Elle ne l'a pas aidé."
    );
    assert_ne!(cases[2].2, "current", "the unmapped case stays flagged");

    // Reports still open on the moved case land on it.
    let r = app
        .post_report(
            "r-1",
            &json!({"quote": {"exact": "rentré en 2010"}, "category": "typo", "comment": "Encore."}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let count: i64 = app
        .app_state
        .read(|conn| {
            use diesel::prelude::*;
            use erratum::db::schema::cases;
            Ok(cases::table.count().get_result(conn)?)
        })
        .await
        .unwrap();
    assert_eq!(count, 3, "the new report joined the moved case");

    // Nothing is left to re-split; an unknown article is an error.
    let out = erratum(
        dir.path(),
        &["article", "resplit", "--all"],
        None,
        &app.database_url,
    );
    assert!(out.status.success());
    assert_eq!(
        stdout(&out),
        format!("every article is split with rules version {current}\n")
    );
    let out = erratum(
        dir.path(),
        &["article", "resplit", "nope"],
        None,
        &app.database_url,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("nope: failed"));
}
