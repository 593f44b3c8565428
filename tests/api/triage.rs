//! Deciding from the queue (issue 13): what readers said on each row, the
//! bulk actions, times in the editor's time zone, and server refusals in the
//! interface's language.

use erratum::domain::editor::Role;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::editor_ui::{self, get_page, sign_in};
use crate::helpers::{Backend, TestApp};
use crate::staff::{self, Session, Staff, article, login};

backend_tests!(
    queue_rows_carry_the_readers_words,
    each_bulk_action_lists_its_partial_failures,
    bulk_actions_from_the_queue_page_list_refusals,
    server_refusals_speak_the_interface_language,
    readers_see_a_correction_note_once,
    pages_and_emails_show_times_in_the_editors_zone,
);

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
    assert_eq!(status, 200, "{html}");
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

/// Outcome per case id of a bulk answer.
fn outcomes(answer: &Value) -> Vec<(String, String)> {
    answer["results"]
        .as_array()
        .unwrap_or_else(|| panic!("{answer}"))
        .iter()
        .map(|r| {
            (
                r["case_id"].as_str().unwrap().into(),
                r["outcome"].as_str().unwrap().into(),
            )
        })
        .collect()
}

async fn bulk(s: &Session, body: Value) -> (u16, Value) {
    s.post("/api/v1/cases/bulk", Some(&body)).await
}

async fn each_bulk_action_lists_its_partial_failures(b: Backend) {
    let app = staff::spawn(b).await;
    article(&app, "city-a", Some("city"), 6).await;
    article(&app, "sport-a", Some("sport"), 2).await;
    let ana = staff::add(&app, Role::Editor, &[]).await;
    let bea = staff::add(&app, Role::Editor, &[]).await;
    let city_only = staff::add(&app, Role::Editor, &["city"]).await;
    let viewer = staff::add(&app, Role::Viewer, &[]).await;
    let s = login(&app, &ana).await;
    let sb = login(&app, &bea).await;
    let c: Vec<String> = {
        let mut v = Vec::new();
        for i in 0..6 {
            v.push(staff::case_on(&app, "city-a", i, "typo").await);
        }
        v
    };
    let sport = staff::case_on(&app, "sport-a", 0, "typo").await;
    let gone = "0190f1c2-0000-7000-8000-000000000000".to_string();

    // Claim: Béa holds c0, so Ana gets c1 only.
    assert_eq!(sb.act(&c[0], "claim", None).await.0, 200);
    let (status, a) = bulk(&s, json!({"case_ids": [c[0], c[1]], "action": "claim"})).await;
    assert_eq!(status, 200, "{a}");
    assert_eq!(
        outcomes(&a),
        vec![
            (c[0].clone(), "already_claimed".into()),
            (c[1].clone(), "claimed".into())
        ]
    );
    assert_eq!(
        (a["done"].as_u64(), a["failed"].as_u64()),
        (Some(1), Some(1))
    );

    // Triage: c2 is new, c1 is in review already.
    let (_, a) = bulk(&s, json!({"case_ids": [c[2], c[1]], "action": "triage"})).await;
    assert_eq!(
        outcomes(&a),
        vec![
            (c[2].clone(), "triaged".into()),
            (c[1].clone(), "illegal_transition".into())
        ]
    );

    // Assign to an editor of the city desk: the sport case is not theirs.
    let (_, a) = bulk(
        &s,
        json!({"case_ids": [c[3], sport], "action": "assign", "editor_id": city_only.id}),
    )
    .await;
    assert_eq!(
        outcomes(&a),
        vec![
            (c[3].clone(), "assigned".into()),
            (sport.clone(), "invalid_assignee".into())
        ]
    );
    let (_, case) = s.get(&format!("/api/v1/cases/{}", c[3])).await;
    assert_eq!(
        case["case"]["assignee"]["id"],
        city_only.id.as_str(),
        "{case}"
    );

    // Resolve as no_change with one note: c4 and c5 close, a case that is
    // gone is refused; each closed case has its own audit entry and note.
    let note = "Vérifié : le texte est exact.";
    let (_, a) = bulk(
        &s,
        json!({"case_ids": [c[4], gone, c[5]], "action": "resolve", "resolution": "no_change",
            "public_note": note}),
    )
    .await;
    assert_eq!(
        outcomes(&a),
        vec![
            (c[4].clone(), "resolved".into()),
            (gone.clone(), "case_not_found".into()),
            (c[5].clone(), "resolved".into())
        ]
    );
    for id in [&c[4], &c[5]] {
        let (_, case) = s.get(&format!("/api/v1/cases/{id}")).await;
        assert_eq!(case["case"]["resolution"], "no_change");
        assert_eq!(case["case"]["public_note"], note);
        let audit = staff::audit_of(&app, id).await;
        assert_eq!(
            audit.iter().filter(|(a, _, _)| a == "resolve").count(),
            1,
            "{audit:?}"
        );
    }

    // Priority: c4 is resolved now (refused), c2 takes it.
    let (_, a) = bulk(
        &s,
        json!({"case_ids": [c[4], c[2]], "action": "priority", "priority": 90}),
    )
    .await;
    assert_eq!(
        outcomes(&a),
        vec![
            (c[4].clone(), "illegal_transition".into()),
            (c[2].clone(), "prioritised".into())
        ]
    );
    let (_, case) = s.get(&format!("/api/v1/cases/{}", c[2])).await;
    assert_eq!(case["case"]["priority_override"], 90);

    // Rejected with a note: c5 already closed, c2 closes.
    let (_, a) = bulk(
        &s,
        json!({"case_ids": [c[5], c[2]], "action": "resolve", "resolution": "rejected",
            "public_note": "Merci, mais la phrase est juste."}),
    )
    .await;
    assert_eq!(
        outcomes(&a),
        vec![
            (c[5].clone(), "illegal_transition".into()),
            (c[2].clone(), "resolved".into())
        ]
    );

    // Whole-request refusals: corrections, missing arguments, viewers.
    let (status, p) = bulk(
        &s,
        json!({"case_ids": [c[1]], "action": "resolve", "resolution": "corrected",
        "public_note": "x"}),
    )
    .await;
    assert_eq!(
        (status, p["code"].as_str()),
        (422, Some("bulk_correction")),
        "{p}"
    );
    let (status, p) = bulk(&s, json!({"case_ids": [c[1]], "action": "assign"})).await;
    assert_eq!(status, 422, "{p}");
    assert_eq!(p["errors"][0]["field"], "editor_id");
    let (status, _) = bulk(
        &s,
        json!({"case_ids": [c[1]], "action": "priority", "priority": 101}),
    )
    .await;
    assert_eq!(status, 422);
    let (status, _) = bulk(&s, json!({"case_ids": [], "action": "claim"})).await;
    assert_eq!(status, 422);
    let sv = login(&app, &viewer).await;
    let (status, _) = bulk(&sv, json!({"case_ids": [c[1]], "action": "claim"})).await;
    assert_eq!(status, 403);
}

async fn bulk_actions_from_the_queue_page_list_refusals(b: Backend) {
    let app = staff::spawn(b).await;
    article(&app, "page-bulk", None, 3).await;
    let (_, ana) = editor(&app, Role::Editor, "Ana").await;
    let (bea_s, _) = editor(&app, Role::Editor, "Béa").await;
    let c0 = staff::case_on(&app, "page-bulk", 0, "typo").await;
    let c1 = staff::case_on(&app, "page-bulk", 1, "typo").await;
    let sb = login(&app, &bea_s).await;
    assert_eq!(sb.act(&c0, "claim", None).await.0, 200);
    let (c, csrf) = sign_in(&app, &ana).await;
    let (_, html) = get_page(&app, &c, "/editor/").await;
    for action in ["claim", "triage", "assign", "priority"] {
        assert!(
            html.contains(&format!("name=\"action\" value=\"{action}\"")),
            "{action}"
        );
    }
    assert!(html.contains("value=\"no_change\"") && html.contains("name=\"public_note\""));

    let r = editor_ui::post_form(
        &app,
        &c,
        "/editor/cases/bulk",
        &[
            ("csrf_token", &csrf),
            ("ids", &c0),
            ("ids", &c1),
            ("action", "claim"),
            ("return_to", "/editor/"),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    let to = r.headers()["location"].to_str().unwrap().to_string();
    let (_, html) = get_page(&app, &c, &to).await;
    assert!(html.contains("1 dossier(s) pris ; 1 refusé(s)."), "{to}");
    // The refused case is listed, with the reason in French.
    assert!(
        html.contains(&format!("<a href=\"/editor/cases/{c0}\">{}</a>", &c0[..8])),
        "{html}"
    );
    assert!(html.contains("Un autre éditeur a déjà pris ce dossier."));

    // Closing without correction, one note for all: c1 is Ana's now.
    let r = editor_ui::post_form(
        &app,
        &c,
        "/editor/cases/bulk",
        &[
            ("csrf_token", &csrf),
            ("ids", &c1),
            ("resolution", "no_change"),
            ("public_note", "Le texte est exact."),
            ("return_to", "/editor/"),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    let s = login(&app, &bea_s).await;
    let (_, case) = s.get(&format!("/api/v1/cases/{c1}")).await;
    assert_eq!(case["case"]["resolution"], "no_change");
    assert_eq!(case["case"]["public_note"], "Le texte est exact.");
    // Assign without choosing whom: said in words, nothing done.
    let r = editor_ui::post_form(
        &app,
        &c,
        "/editor/cases/bulk",
        &[
            ("csrf_token", &csrf),
            ("ids", &c0),
            ("action", "assign"),
            ("return_to", "/editor/"),
        ],
    )
    .await;
    let to = r.headers()["location"].to_str().unwrap().to_string();
    assert!(to.contains("err=assignee_required"), "{to}");
    let (_, html) = get_page(&app, &c, &to).await;
    assert!(html.contains("Choisissez à qui attribuer"));
}

/// The emails the file transport wrote, as parsed text parts.
pub fn email_texts(app: &TestApp) -> Vec<String> {
    let dir = app.dir().join("mail");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .map(|p| {
            let raw = std::fs::read(p).unwrap();
            let m = mail_parser::MessageParser::default().parse(&raw).unwrap();
            format!(
                "Subject: {}\n{}",
                m.subject().unwrap_or_default(),
                m.body_text(0).unwrap_or_default()
            )
        })
        .collect()
}

async fn server_refusals_speak_the_interface_language(b: Backend) {
    let app = staff::spawn(b).await;
    article(&app, "lang", None, 2).await;
    let case = staff::case_on(&app, "lang", 0, "typo").await;
    let (_, ana) = editor(&app, Role::Editor, "Ana").await;
    let (c, csrf) = sign_in(&app, &ana).await;
    let empty_correction = [
        ("csrf_token", csrf.as_str()),
        ("resolution", "corrected"),
        ("public_note", ""),
    ];
    let path = format!("/editor/cases/{case}/resolve");

    // French: the refusal, the field and the reason, no English.
    let r = editor_ui::post_form(&app, &c, &path, &empty_correction).await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Le formulaire contient une valeur incorrecte."),
        "{html}"
    );
    assert!(html.contains("Note publique : est obligatoire"), "{html}");
    assert!(
        !html.contains("is required") && !html.contains("when the resolution"),
        "{html}"
    );
    // The booleans the script reads are `true` / `false`.
    assert_eq!(html.matches("data-publishes=\"true\"").count(), 3, "{html}");
    assert!(html.contains("data-publishes=\"false\""));
    assert!(!html.contains("data-publishes=\"True\"") && !html.contains("data-publishes=\"\""));
    // An error page says the fields at fault in French too.
    let (status, html) = get_page(&app, &c, "/editor/?sort=sideways").await;
    assert_eq!(status, 422);
    assert!(html.contains("sort : n’est pas valable"), "{html}");
    assert!(!html.contains("must be priority"), "{html}");

    // English once the editor switches.
    let r = c
        .post(app.url("/editor/language"))
        .form(&[("csrf_token", csrf.as_str()), ("language", "en")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let r = editor_ui::post_form(&app, &c, &path, &empty_correction).await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("The form holds a value that is not valid."),
        "{html}"
    );
    assert!(html.contains("Public note: is required"), "{html}");
    assert!(!html.contains("obligatoire"), "{html}");
}

async fn readers_see_a_correction_note_once(b: Backend) {
    let app = staff::spawn(b).await;
    article(&app, "once", None, 2).await;
    let r = app
        .post_report(
            "once",
            &json!({"quote": {"exact": "k0x"}, "category": "typo", "comment": "Coquille.",
                "reporter": {"email": "lecteur@example.org", "notify": true}}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let receipt: Value = r.json().await.unwrap();
    let case = receipt["case_id"].as_str().unwrap().to_string();
    let status_path = receipt["status_url"]
        .as_str()
        .unwrap()
        .split_once("/r/")
        .map(|(_, t)| format!("/r/{t}"))
        .unwrap();
    let (who, _) = editor(&app, Role::Editor, "Ana").await;
    let s = login(&app, &who).await;
    let note = "Le dossier s’appelle k1x, et non k0x.";
    let (status, a) = s
        .act(
            &case,
            "resolve",
            Some(json!({"resolution": "corrected", "public_note": note})),
        )
        .await;
    assert_eq!(status, 200, "{a}");

    let html = app.get(&status_path).await.text().await.unwrap();
    // The note holds no character the page escapes: it is found as written.
    assert_eq!(html.matches(note).count(), 1, "{html}");
    assert!(html.contains("Correction publiée"), "{html}");

    app.run_worker_once().await;
    let outcome: Vec<String> = email_texts(&app)
        .into_iter()
        .filter(|m| m.contains("corrigé"))
        .collect();
    assert_eq!(outcome.len(), 1, "{outcome:?}");
    assert_eq!(outcome[0].matches(note).count(), 1, "{}", outcome[0]);
    assert!(
        !outcome[0].contains("Le mot de la rédaction"),
        "{}",
        outcome[0]
    );
}

/// `2026-…T…Z` (the API's UTC) as the pages write it in `zone`.
fn shown_in(rfc3339: &str, zone: chrono_tz::Tz, label: &str) -> String {
    let t = chrono::DateTime::parse_from_rfc3339(rfc3339).unwrap();
    format!(
        "{} ({label})",
        t.with_timezone(&zone).format("%Y-%m-%d %H:%M")
    )
}

async fn pages_and_emails_show_times_in_the_editors_zone(b: Backend) {
    use diesel::prelude::*;
    use erratum::db::schema::cases;
    use erratum::notify::prefs::{self, Delivery, NotificationPrefsUpdate};

    let app = staff::spawn(b).await;
    article(&app, "tz", None, 2).await;
    let case = staff::case_on(&app, "tz", 0, "factual_error").await;
    let (who, ana) = editor(&app, Role::Editor, "Ana").await;
    let (admin_s, admin) = editor(&app, Role::Admin, "Ada").await;
    let s = login(&app, &who).await;
    let (_, page) = s.get("/api/v1/queue?article=tz").await;
    let due = page["items"][0]["due_at"].as_str().unwrap().to_string();
    assert!(due.ends_with('Z'), "the API stays UTC: {due}");

    // The installation's zone by default: Paris, labelled.
    let (c, csrf) = sign_in(&app, &ana).await;
    let (_, html) = get_page(&app, &c, "/editor/?article=tz").await;
    let paris = shown_in(&due, chrono_tz::Europe::Paris, "Paris");
    assert!(
        html.contains(&format!("<time datetime=\"{due}\">{paris}</time>")),
        "{paris} in {html}"
    );

    // The editor's own zone, from the account settings.
    let r = editor_ui::post_form(
        &app,
        &c,
        "/editor/settings/time-zone",
        &[("csrf_token", &csrf), ("time_zone", "America/New_York")],
    )
    .await;
    assert_eq!(r.status(), 303);
    let (_, html) = get_page(&app, &c, "/editor/?article=tz").await;
    let ny = shown_in(&due, chrono_tz::America::New_York, "New York");
    assert!(html.contains(&ny), "{ny} in {html}");
    let (_, html) = get_page(&app, &c, "/editor/settings/account").await;
    assert!(
        html.contains("value=\"America&#x2f;New_York\" list=\"time-zones\""),
        "{html}"
    );
    // A name outside the tz database is refused, in words.
    let r = editor_ui::post_form(
        &app,
        &c,
        "/editor/settings/time-zone",
        &[("csrf_token", &csrf), ("time_zone", "Mars/Olympus")],
    )
    .await;
    let to = r.headers()["location"].to_str().unwrap().to_string();
    let (_, html) = get_page(&app, &c, &to).await;
    assert!(
        html.contains("Ce n’est pas un nom de fuseau horaire"),
        "{html}"
    );
    let (_, html) = get_page(&app, &c, "/editor/?article=tz").await;
    assert!(html.contains(&ny), "the zone is unchanged");

    // An admin sets it on the account's edit page (Tokyo), audited; the
    // API shows the choice and still answers times in UTC.
    let (ac, acsrf) = sign_in(&app, &admin).await;
    let r = editor_ui::post_form(
        &app,
        &ac,
        &format!("/editor/admin/editors/{}", who.id),
        &[
            ("csrf_token", &acsrf),
            ("name", "Ana"),
            ("role", "editor"),
            ("desks", ""),
            ("language", "fr"),
            ("time_zone", "Asia/Tokyo"),
            ("password", ""),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    let sa = login(&app, &admin_s).await;
    let (_, list) = sa.get("/api/v1/editors").await;
    let view = list
        .as_array()
        .or_else(|| list["editors"].as_array())
        .unwrap_or_else(|| panic!("{list}"))
        .iter()
        .find(|e| e["id"] == who.id.as_str())
        .cloned()
        .unwrap();
    assert_eq!(view["time_zone"], "Asia/Tokyo", "{view}");
    let (_, html) = get_page(&app, &c, "/editor/?article=tz").await;
    assert!(html.contains(&shown_in(&due, chrono_tz::Asia::Tokyo, "Tokyo")));

    // An email to her (the overdue notice) writes the due time in Tokyo's zone.
    let (id, cid) = (who.id.clone(), case.clone());
    let due_at = app
        .app_state
        .write(move |conn| -> Result<_, erratum::error::Problem> {
            prefs::set(
                conn,
                &id,
                &NotificationPrefsUpdate {
                    new_case: Some(Delivery::Off),
                    overdue: Some(Delivery::Immediate),
                    ..Default::default()
                },
            )?;
            diesel::update(cases::table.find(&cid))
                .set(cases::assignee_id.eq(&id))
                .execute(conn)?;
            Ok(cases::table
                .find(&cid)
                .select(cases::due_at)
                .first::<chrono::NaiveDateTime>(conn)?)
        })
        .await
        .unwrap();
    app.scan_at(due_at + chrono::Duration::minutes(1)).await;
    app.run_worker_once().await;
    let tokyo = chrono::TimeZone::from_utc_datetime(&chrono_tz::Asia::Tokyo, &due_at)
        .format("%d/%m/%Y à %H:%M (Tokyo)")
        .to_string();
    let overdue: Vec<String> = email_texts(&app)
        .into_iter()
        .filter(|m| m.contains("En retard"))
        .collect();
    assert_eq!(overdue.len(), 1, "{overdue:?}");
    assert!(overdue[0].contains(&tokyo), "{tokyo} in {}", overdue[0]);
    assert!(!overdue[0].contains(" UTC"), "{}", overdue[0]);
}
