//! What the email tests share: an app wired to a test SMTP server, editors
//! inserted directly (their accounts come from another part of the service),
//! and a hand on the outbox and its worker.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use erratum::db::outbox::OutboxRow;
use erratum::db::schema::{cases, editors, outbox};
use erratum::db::{DbConn, new_id, now};
use erratum::domain::event::Event;
use erratum::domain::workflow::{Resolution, Status};
use erratum::error::Problem;
use erratum::notify::worker::RunStats;
use serde_json::{Value, json};

use crate::helpers::{Backend, DEMO, TestApp, merge};

pub const FROM: &str = "Erratum <erratum@news.example>";

/// The app, sending through SMTP (no TLS) to 127.0.0.1:`port`.
pub async fn spawn_smtp(b: Backend, port: u16, extra: &str) -> TestApp {
    let mut doc: toml::Table = format!(
        r#"
[email]
transport = "smtp"
from = "{FROM}"
[email.smtp]
host = "127.0.0.1"
port = {port}
security = "none"
timeout_secs = 5
pool_size = 2
"#
    )
    .parse()
    .unwrap();
    merge(&mut doc, extra.parse().expect("extra settings are TOML"));
    TestApp::spawn_with(b, &toml::to_string(&doc).unwrap()).await
}

#[allow(dead_code)]
impl TestApp {
    /// Run a closure in the write transaction, as the service does.
    pub async fn write<T, F>(&self, f: F) -> T
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> Result<T, Problem> + Send + 'static,
    {
        self.app_state.write(f).await.expect("the write succeeds")
    }

    /// Send everything due, as the worker does on each pass.
    pub async fn run_worker_once(&self) -> RunStats {
        self.app_state
            .mailer
            .run_once()
            .await
            .expect("the worker pass succeeds")
    }

    /// Write the digests and overdue notices due at `at`.
    pub async fn scan_at(&self, at: NaiveDateTime) -> (usize, usize) {
        self.app_state
            .mailer
            .scan(at)
            .await
            .expect("the scan succeeds")
    }

    /// An editor account, inserted as the editors' part of the service would.
    pub async fn insert_editor(&self, email: &str, desks: &[&str], language: &str) -> String {
        self.insert_staff(email, desks, language, "editor").await
    }

    pub async fn insert_staff(
        &self,
        email: &str,
        desks: &[&str],
        language: &str,
        role: &str,
    ) -> String {
        let id = new_id();
        let (id2, email, role, language) = (
            id.clone(),
            email.to_string(),
            role.to_string(),
            language.to_string(),
        );
        let desks = serde_json::to_string(desks).unwrap();
        let name = format!("Éditeur {}", &email[..email.find('@').unwrap_or(0)]);
        self.write(move |conn| {
            diesel::insert_into(editors::table)
                .values((
                    editors::id.eq(&id2),
                    editors::email.eq(&email),
                    editors::name.eq(&name),
                    editors::role.eq(&role),
                    editors::desks.eq(&desks),
                    editors::password_hash.eq("not-a-hash"),
                    editors::disabled.eq(false),
                    editors::language.eq(&language),
                    editors::created_at.eq(now()),
                    editors::updated_at.eq(now()),
                ))
                .execute(conn)?;
            Ok(())
        })
        .await;
        id
    }

    /// Every outbox row, once the committed events have been turned into
    /// emails (as the worker does before sending).
    pub async fn outbox_rows(&self) -> Vec<OutboxRow> {
        self.app_state
            .mailer
            .consume_events()
            .await
            .expect("the events are consumed");
        self.app_state
            .read(|conn| {
                Ok(outbox::table
                    .order((outbox::created_at.asc(), outbox::id.asc()))
                    .select(OutboxRow::as_select())
                    .load(conn)?)
            })
            .await
            .unwrap()
    }

    /// File a report on the demo article and return its receipt.
    pub async fn report_on(
        &self,
        quote: &str,
        category: &str,
        comment: &str,
        reporter: Option<(&str, bool)>,
    ) -> Value {
        self.report_on_article(DEMO, quote, category, comment, reporter)
            .await
    }

    pub async fn report_on_article(
        &self,
        external_id: &str,
        quote: &str,
        category: &str,
        comment: &str,
        reporter: Option<(&str, bool)>,
    ) -> Value {
        let mut body = json!({
            "quote": {"exact": quote},
            "category": category,
            "comment": comment,
        });
        if let Some((email, notify)) = reporter {
            body["reporter"] = json!({"email": email, "notify": notify});
        }
        let r = self.post_report(external_id, &body).await;
        assert_eq!(r.status(), 201, "the report is accepted");
        r.json().await.unwrap()
    }

    /// Resolve a case as the editors' workflow would, with its event.
    pub async fn resolve_case(
        &self,
        case_id: &str,
        resolution: Resolution,
        public_note: Option<&str>,
        correction: Option<&str>,
    ) {
        let case_id = case_id.to_string();
        let (note, correction) = (
            public_note.map(str::to_string),
            correction.map(str::to_string),
        );
        self.write(move |conn| {
            diesel::update(cases::table.find(&case_id))
                .set((
                    cases::status.eq(Status::Resolved),
                    cases::resolution.eq(resolution),
                    cases::public_note.eq(&note),
                    cases::resolved_at.eq(now()),
                    cases::open_key.eq(None::<String>),
                ))
                .execute(conn)?;
            // What the case workflow records with a resolution.
            let event = Event::CaseResolved {
                correction_id: correction.as_ref().map(|_| new_id()),
                case_id,
                resolution,
                public_note: note,
                duplicate_of: None,
                correction,
                by: "an-editor".into(),
            };
            Ok(erratum::db::events::record(conn, &event, now())?)
        })
        .await;
        self.app_state.committed();
    }
}

/// A header's raw value(s) as received, unfolded.
pub fn raw_header(raw: &str, name: &str) -> Option<String> {
    let head = raw.split("\r\n\r\n").next().unwrap_or(raw);
    let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
    unfolded.split("\r\n").find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
    })
}

/// The text and HTML parts of a received message.
pub fn parts(m: &mail_parser::Message) -> (String, String) {
    (
        m.body_text(0).map(|t| t.into_owned()).unwrap_or_default(),
        m.body_html(0).map(|t| t.into_owned()).unwrap_or_default(),
    )
}

/// The URL in a `List-Unsubscribe: <…>` header.
pub fn unsubscribe_url(raw: &str) -> String {
    let v = raw_header(raw, "List-Unsubscribe").expect("a List-Unsubscribe header");
    v.trim_start_matches('<').trim_end_matches('>').to_string()
}

/// Every email the file transport wrote, as raw text, oldest first.
pub fn emails(app: &TestApp) -> Vec<String> {
    let dir = app.dir().join("mail");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
    files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect()
}

/// The token that follows `marker` in an email's text part (a link's
/// token: letters, digits, `-` and `_`).
pub fn token_after(raw: &str, marker: &str) -> String {
    let m = mail_parser::MessageParser::default()
        .parse(raw.as_bytes())
        .unwrap();
    let text = m.body_text(0).unwrap().into_owned();
    let start = text.find(marker).expect("a link") + marker.len();
    text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}
