//! Deciding from the queue (issue 13): what readers said on each row, the
//! bulk actions, times in the editor's time zone, and server refusals in the
//! interface's language.

use erratum::domain::editor::Role;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::editor_ui::{self, get_page, sign_in};
use crate::helpers::{Backend, TestApp};
use crate::staff::{self, Session, Staff, article, login};

backend_tests!(queue_rows_carry_the_readers_words,);

const HOSTILE: &str = "<script>alert(1)</script> & \"quoted\"";

/// A report on sentence `i` of `article` (`Le dossier k{i}x avance lentement.`).
async fn file(app: &TestApp, external_id: &str, body: Value) -> String {
    let r = app.post_report(external_id, &body).await;
    assert_eq!(r.status(), 201);
    let v: Value = r.json().await.unwrap();
    v["case_id"].as_str().unwrap().to_string()
}

pub async fn editor(app: &TestApp, role: Role, name: &str) -> (Staff, editor_ui::Account) {
    let a = editor_ui::account(app, role, name).await;
    let s = Staff {
        id: a.id.clone(),
        email: a.email.clone(),
        password: a.password.clone(),
    };
    (s, a)
}

async fn item<'a>(page: &'a Value, id: &str) -> &'a Value {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == id)
        .unwrap_or_else(|| panic!("{id} in {page}"))
}

async fn queue_rows_carry_the_readers_words(b: Backend) {
    let app = staff::spawn(b).await;
    article(&app, "words", None, 4).await;
    // A suggestion with markup, then a newer comment without suggestion.
    let case = file(
        &app,
        "words",
        json!({"quote": {"exact": "k1x"}, "category": "typo",
            "comment": "Le nom est mal écrit.", "suggested_correction": "<b>K1X</b> & co"}),
    )
    .await;
    let same = file(
        &app,
        "words",
        json!({"quote": {"exact": "k1x"}, "category": "factual_error", "comment": HOSTILE}),
    )
    .await;
    assert_eq!(case, same);
    // A case nobody suggested anything for.
    let plain = file(
        &app,
        "words",
        json!({"quote": {"exact": "k2x"}, "category": "other", "comment": "Bof."}),
    )
    .await;

    let (who, account) = editor(&app, Role::Editor, "Ana").await;
    let s: Session = login(&app, &who).await;
    let (status, page) = s.get("/api/v1/queue?article=words").await;
    assert_eq!(status, 200, "{page}");
    let it = item(&page, &case).await;
    assert_eq!(it["latest_comment"]["text"], HOSTILE, "{it}");
    assert_eq!(it["latest_comment"]["category"], "factual_error");
    assert!(
        it["latest_comment"]["reported_at"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    assert_eq!(it["latest_suggestion"]["text"], "<b>K1X</b> & co");
    let diff: Vec<(String, String)> = it["latest_suggestion"]["diff"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["op"].as_str().unwrap().into(),
                p["text"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        diff,
        vec![
            ("equal".into(), "Le dossier ".into()),
            ("delete".into(), "k1x".into()),
            ("insert".into(), "<b>K1X</b> & co".into()),
            ("equal".into(), " avance lentement.".into()),
        ]
    );
    // Categories with counts and the number of readers stay on the row.
    assert_eq!(it["report_count"], 2);
    assert_eq!(it["categories"].as_array().unwrap().len(), 2, "{it}");
    let other = item(&page, &plain).await;
    assert_eq!(other["latest_comment"]["text"], "Bof.");
    assert!(other["latest_suggestion"].is_null(), "{other}");

    // The page shows them, escaped: the diff as <del>/<ins>, the comment
    // clipped in a <details> that opens in place.
    let (c, _) = sign_in(&app, &account).await;
    let (status, html) = get_page(&app, &c, "/editor/?article=words").await;
    assert_eq!(status, 200);
    assert!(!html.contains("<script>alert"), "reader markup is escaped");
    assert!(!html.contains("<b>K1X"), "reader markup is escaped");
    assert!(
        html.contains("<del>k1x</del><ins>&lt;b&gt;K1X&lt;&#x2f;b&gt; &amp; co</ins>"),
        "{html}"
    );
    assert!(html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"));
    assert!(html.contains("<details class=\"words\" data-words>"));
    assert!(html.contains("Dernier commentaire"));
}
