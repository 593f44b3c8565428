//! Emails from templates, compiled into the binary and rendered with
//! minijinja: `subject.txt`, `body.txt` and `body.html` per kind. Editors'
//! emails have one folder per interface language
//! (`src/notify/templates/<kind>/<fr|en>/`); readers' emails
//! (`EmailKind::is_for_reader`) have one folder per kind whose words come
//! from the reader catalog of the article's language (`crate::locales`,
//! `t.email…`), so a language added by one file covers them too. HTML
//! templates escape every value (readers' text and the catalogs' words
//! included); text templates do not need to. A subject is one line: whatever
//! a value holds, CR and LF never reach a header.

use std::sync::Arc;

use chrono::NaiveDateTime;
use lettre::Message;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde_json::{Value, json};

use super::content::Payload;
use crate::db::outbox::OutboxRow;
use crate::domain::email::EmailKind;
use crate::locales::Catalogs;

macro_rules! templates {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("templates/", $name)))),*]
    };
}

/// Every template, by name.
const TEMPLATES: &[(&str, &str)] = templates!(
    "_layout/base.html",
    "_layout/footer.txt",
    "_layout/case.html",
    "_layout/case.txt",
    "_layout/reader.html",
    "_layout/reader_footer.txt",
    "new_case/fr/subject.txt",
    "new_case/fr/body.txt",
    "new_case/fr/body.html",
    "new_case/en/subject.txt",
    "new_case/en/body.txt",
    "new_case/en/body.html",
    "escalation/fr/subject.txt",
    "escalation/fr/body.txt",
    "escalation/fr/body.html",
    "escalation/en/subject.txt",
    "escalation/en/body.txt",
    "escalation/en/body.html",
    "assigned/fr/subject.txt",
    "assigned/fr/body.txt",
    "assigned/fr/body.html",
    "assigned/en/subject.txt",
    "assigned/en/body.txt",
    "assigned/en/body.html",
    "overdue/fr/subject.txt",
    "overdue/fr/body.txt",
    "overdue/fr/body.html",
    "overdue/en/subject.txt",
    "overdue/en/body.txt",
    "overdue/en/body.html",
    "digest/fr/subject.txt",
    "digest/fr/body.txt",
    "digest/fr/body.html",
    "digest/en/subject.txt",
    "digest/en/body.txt",
    "digest/en/body.html",
    "reader_receipt/subject.txt",
    "reader_receipt/body.txt",
    "reader_receipt/body.html",
    "reader_outcome/subject.txt",
    "reader_outcome/body.txt",
    "reader_outcome/body.html",
    "password_reset/fr/subject.txt",
    "password_reset/fr/body.txt",
    "password_reset/fr/body.html",
    "password_reset/en/subject.txt",
    "password_reset/en/body.txt",
    "password_reset/en/body.html",
    "status_link/subject.txt",
    "status_link/body.txt",
    "status_link/body.html",
);

/// A rendered email.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Links the emails carry, made by the worker (which knows the public URL).
pub struct Links {
    pub public_url: String,
    pub unsubscribe_url: String,
    /// A link made from a key the database does not hold with the row: a
    /// password reset's, or a reader's status link.
    pub secret_url: Option<String>,
    /// IANA name of the zone the email's times are written in (the
    /// editor's own, else `[ui] time_zone`).
    pub time_zone: String,
}

/// Where a reader's status link leads.
pub fn status_url(public_url: &str, token: &str) -> String {
    format!("{public_url}/r/{token}")
}

/// Where a password-reset link leads.
pub fn reset_url(public_url: &str, token: &str) -> String {
    format!("{public_url}/editor/password/reset?token={token}")
}

/// Where an editor opens a case.
pub fn case_url(public_url: &str, case_id: &str) -> String {
    format!("{public_url}/editor/cases/{case_id}")
}

pub struct Renderer {
    env: Environment<'static>,
    /// Readers' words, by language.
    catalogs: Arc<Catalogs>,
}

impl Renderer {
    pub fn new(catalogs: Arc<Catalogs>) -> Result<Renderer, minijinja::Error> {
        let mut env = Environment::new();
        env.set_auto_escape_callback(|name| {
            if name.ends_with(".html") {
                AutoEscape::Html
            } else {
                AutoEscape::None
            }
        });
        // A missing value is a bug in a template, not an empty string.
        env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        env.set_formatter(html_formatter);
        env.add_filter("category", category_label);
        env.add_filter("datetime", datetime);
        env.add_filter("fill", crate::locales::fill_filter);
        for (name, source) in TEMPLATES {
            env.add_template(name, source)?;
        }
        Ok(Renderer { env, catalogs })
    }

    /// Render one kind of email in one language from its context: a
    /// reader's in the catalog `lang` (the article's tag) resolves to, an
    /// editor's in French or English.
    pub fn render(
        &self,
        kind: &str,
        lang: &str,
        ctx: &Value,
    ) -> Result<Rendered, minijinja::Error> {
        let (folder, ctx) = if EmailKind::parse(kind).is_some_and(EmailKind::is_for_reader) {
            let words = self.catalogs.resolve(lang);
            let ctx = minijinja::context! {
                lang => words.tag.as_str(),
                t => words.value(),
                ..minijinja::Value::from_serialize(ctx)
            };
            (kind.to_string(), ctx)
        } else {
            let lang = super::language(lang);
            (
                format!("{kind}/{lang}"),
                minijinja::Value::from_serialize(ctx),
            )
        };
        let get = |file: &str| {
            self.env
                .get_template(&format!("{folder}/{file}"))?
                .render(&ctx)
        };
        Ok(Rendered {
            subject: one_line(&get("subject.txt")?),
            text: get("body.txt")?,
            html: get("body.html")?,
        })
    }
}

/// A header value of one line: control characters (CR and LF above all)
/// become spaces, runs of spaces one, and it is cut at 200 characters.
pub fn one_line(s: &str) -> String {
    let cleaned: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let words: Vec<&str> = cleaned.split_whitespace().collect();
    let joined = words.join(" ");
    match joined.char_indices().nth(200) {
        Some((i, _)) => format!("{}…", &joined[..i]),
        None => joined,
    }
}

/// The template context: the stored content plus the language, greeting and
/// links.
pub fn context(row: &OutboxRow, payload: &Payload, links: &Links) -> Value {
    let mut ctx = serde_json::to_value(&payload.content).unwrap_or_else(|_| json!({}));
    let case_url = |id: &str| Value::String(case_url(&links.public_url, id));
    if let Some(obj) = ctx.as_object_mut() {
        obj.insert("lang".into(), json!(super::language(&row.language)));
        obj.insert("name".into(), json!(payload.recipient_name));
        obj.insert("unsubscribe_url".into(), json!(links.unsubscribe_url));
        obj.insert("public_url".into(), json!(links.public_url));
        obj.insert("time_zone".into(), json!(links.time_zone));
        if let Some(url) = &links.secret_url {
            let name = match payload.content {
                super::content::Content::StatusLink { .. } => "status_url",
                _ => "reset_url",
            };
            obj.insert(name.into(), json!(url));
        }
        if let Some(id) = payload.content.case_id() {
            obj.insert("case_url".into(), case_url(id));
        }
        if let Some(Value::Array(entries)) = obj.get_mut("entries") {
            for e in entries.iter_mut() {
                let id = e["case"]["case_id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                if let Some(e) = e.as_object_mut() {
                    e.insert("case_url".into(), case_url(&id));
                }
            }
        }
    }
    ctx
}

/// The message as it goes out: multipart text and HTML, its own stable
/// Message-ID, threaded on the case's first email, with one-click unsubscribe
/// (RFC 8058; not on an email that answers the recipient's own request, such
/// as a password reset: `unsubscribe_url` is then `None`) and marked as
/// automatic (RFC 3834, so autoresponders stay quiet).
pub fn message(
    from: &Mailbox,
    row: &OutboxRow,
    recipient_name: Option<&str>,
    rendered: Rendered,
    unsubscribe_url: Option<&str>,
) -> Result<Message, String> {
    let address = row
        .recipient
        .parse::<lettre::Address>()
        .map_err(|e| format!("invalid recipient address: {e}"))?;
    let to = Mailbox::new(
        recipient_name.map(one_line).filter(|n| !n.is_empty()),
        address,
    );
    let mut builder = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(rendered.subject)
        .message_id(Some(row.message_id.clone()))
        .date_now()
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("Auto-Submitted"),
            "auto-generated".into(),
        ));
    if let Some(url) = unsubscribe_url {
        builder = builder
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe"),
                format!("<{url}>"),
            ))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                "List-Unsubscribe=One-Click".into(),
            ));
    }
    if let Some(thread) = &row.thread_message_id {
        builder = builder
            .in_reply_to(thread.clone())
            .references(thread.clone());
    }
    builder
        .multipart(
            MultiPart::alternative()
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_PLAIN)
                        .body(rendered.text),
                )
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_HTML)
                        .body(rendered.html),
                ),
        )
        .map_err(|e| format!("cannot build the message: {e}"))
}

/// HTML escaping of `& < > " '`, which is all HTML text and quoted
/// attributes need. minijinja's default also escapes `/`, which turns every
/// link into `https:&#x2f;&#x2f;…`: valid, but what phishing filters look for.
fn html_formatter(
    out: &mut minijinja::Output,
    state: &minijinja::State,
    value: &minijinja::Value,
) -> Result<(), minijinja::Error> {
    match (state.auto_escape(), value.as_str()) {
        (AutoEscape::Html, Some(s)) if !value.is_safe() => {
            let mut escaped = String::with_capacity(s.len() + 16);
            for c in s.chars() {
                match c {
                    '&' => escaped.push_str("&amp;"),
                    '<' => escaped.push_str("&lt;"),
                    '>' => escaped.push_str("&gt;"),
                    '"' => escaped.push_str("&quot;"),
                    '\'' => escaped.push_str("&#39;"),
                    c => escaped.push(c),
                }
            }
            out.write_str(&escaped).map_err(minijinja::Error::from)
        }
        _ => minijinja::escape_formatter(out, state, value),
    }
}

/// `{{ code | category(lang) }}`: a report category in words.
fn category_label(code: &str, lang: &str) -> String {
    let (fr, en) = match code {
        "factual_error" => ("Erreur factuelle", "Factual error"),
        "typo" => ("Coquille", "Typo"),
        "outdated" => ("Information dépassée", "Outdated"),
        "misleading" => ("Trompeur", "Misleading"),
        "missing_context" => ("Contexte manquant", "Missing context"),
        "translation" => ("Traduction", "Translation"),
        "broken_link" => ("Lien cassé", "Broken link"),
        _ => ("Autre", "Other"),
    };
    if lang == "en" { en } else { fr }.to_string()
}

/// `{{ time | datetime(lang) }}`: a stored UTC time, written for people in
/// the email's `time_zone` (UTC where none is set), labelled.
fn datetime(state: &minijinja::State, value: &str, lang: &str) -> String {
    use crate::domain::time_zone;
    let zone = state
        .lookup("time_zone")
        .and_then(|v| v.as_str().and_then(time_zone::parse))
        .unwrap_or(chrono_tz::UTC);
    let parsed = NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S"))
        .ok()
        .or_else(|| crate::domain::utc::parse(value));
    match parsed {
        Some(t) if lang == "en" => time_zone::format(t, zone, "%-d %b %Y, %H:%M"),
        Some(t) => time_zone::format(t, zone, "%d/%m/%Y à %H:%M"),
        None => value.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::notify::content::{
        CaseSummary, Content, DigestEntry, EscalationReason, Payload, ReportExcerpt,
    };

    fn case() -> CaseSummary {
        CaseSummary {
            case_id: "c1".into(),
            number: Some(1042),
            already_corrected: Some(super::super::content::KnownCorrection {
                date: NaiveDateTime::parse_from_str("2026-11-20 09:00:00", "%Y-%m-%d %H:%M:%S")
                    .unwrap(),
                text: "Le 4 octobre, pas le 3 <b>.".into(),
            }),
            article_title: "Un titre".into(),
            article_url: "https://news.example/a".into(),
            desk: Some("politique".into()),
            sentence: "La frappe a eu lieu le 3 octobre.".into(),
            report_count: 2,
            reporter_count: 1,
            categories: vec!["factual_error".into(), "typo".into()],
            due_at: NaiveDateTime::parse_from_str("2026-11-24 14:05:00", "%Y-%m-%d %H:%M:%S")
                .unwrap(),
            latest: Some(ReportExcerpt {
                reference: "ERR-AAAA-BB".into(),
                category: "factual_error".into(),
                comment: "<img src=x onerror=alert(1)> & \"quotes\"".into(),
                suggested_correction: None,
            }),
        }
    }

    fn every_content() -> Vec<Content> {
        let at = case().due_at;
        vec![
            Content::NewCase { case: case() },
            Content::Escalation {
                case: case(),
                reason: EscalationReason::Threshold,
                threshold: 5,
            },
            Content::Escalation {
                case: case(),
                reason: EscalationReason::FreshFactualError,
                threshold: 5,
            },
            Content::Assigned { case: case() },
            Content::Overdue { case: case() },
            Content::Digest {
                cadence: "daily".into(),
                entries: vec![
                    DigestEntry {
                        kind: "new_case".into(),
                        at,
                        case: case(),
                    },
                    DigestEntry {
                        kind: "escalation".into(),
                        at,
                        case: case(),
                    },
                ],
            },
            Content::ReaderReceipt {
                reference: "ERR-AAAA-BB".into(),
                article_title: "Un titre".into(),
                article_url: "https://news.example/a".into(),
                sentence: "Une phrase.".into(),
            },
            Content::ReaderOutcome {
                reference: "ERR-AAAA-BB".into(),
                article_title: "Un titre".into(),
                article_url: "https://news.example/a".into(),
                sentence: "Une phrase.".into(),
                resolution: crate::domain::workflow::Resolution::Corrected,
                public_note: Some("<b>note</b>".into()),
                correction: None,
            },
            Content::PasswordReset {
                reset_id: "p1".into(),
                expires_at: at,
                minutes: 30,
            },
            Content::StatusLink {
                link_id: "l1".into(),
                reference: "ERR-AAAA-BB".into(),
                article_title: "<i>Un titre</i>".into(),
                article_url: "https://news.example/a".into(),
                sentence: "<img src=x onerror=alert(1)> phrase.".into(),
            },
        ]
    }

    fn kind_of(c: &Content) -> &'static str {
        match c {
            Content::NewCase { .. } => "new_case",
            Content::Escalation { .. } => "escalation",
            Content::Assigned { .. } => "assigned",
            Content::Overdue { .. } => "overdue",
            Content::Digest { .. } => "digest",
            Content::ReaderReceipt { .. } => "reader_receipt",
            Content::ReaderOutcome { .. } => "reader_outcome",
            Content::PasswordReset { .. } => "password_reset",
            Content::StatusLink { .. } => "status_link",
        }
    }

    fn row(kind: &str, lang: &str) -> OutboxRow {
        let t = case().due_at;
        OutboxRow {
            id: "r1".into(),
            kind: kind.into(),
            recipient: "jane@example.org".into(),
            recipient_key: "k".into(),
            editor_id: None,
            case_id: None,
            language: lang.into(),
            payload: String::new(),
            message_id: "<r1@example.org>".into(),
            thread_message_id: Some("<r0@example.org>".into()),
            status: "pending".into(),
            attempts: 0,
            next_attempt_at: t,
            locked_by: None,
            locked_until: None,
            last_error: None,
            created_at: t,
            updated_at: t,
            sent_at: None,
        }
    }

    #[test]
    fn every_kind_renders_in_both_languages_with_reader_text_escaped() {
        let renderer = Renderer::new(Arc::new(Catalogs::built_in())).unwrap();
        let links = Links {
            public_url: "https://erratum.example".into(),
            unsubscribe_url: "https://erratum.example/unsubscribe/t".into(),
            secret_url: None,
            time_zone: "Europe/Paris".into(),
        };
        for content in every_content() {
            let kind = kind_of(&content);
            let reader = EmailKind::parse(kind).unwrap().is_for_reader();
            let langs: &[&str] = if reader {
                &["fr", "en", "es"]
            } else {
                &["fr", "en"]
            };
            for &lang in langs {
                let links = Links {
                    secret_url: match kind {
                        "password_reset" => Some(reset_url("https://erratum.example", "tok")),
                        "status_link" => Some(status_url("https://erratum.example", "tok")),
                        _ => None,
                    },
                    public_url: links.public_url.clone(),
                    unsubscribe_url: links.unsubscribe_url.clone(),
                    time_zone: links.time_zone.clone(),
                };
                let payload = Payload {
                    recipient_name: Some("Jane".into()),
                    content: content.clone(),
                };
                let r = row(kind, lang);
                let ctx = context(&r, &payload, &links);
                let out = renderer
                    .render(kind, lang, &ctx)
                    .unwrap_or_else(|e| panic!("{kind}/{lang}: {e:#}"));
                assert!(!out.subject.is_empty() && !out.subject.contains('\n'));
                let transactional = matches!(kind, "password_reset" | "status_link");
                assert_eq!(
                    out.text.contains(&links.unsubscribe_url),
                    !transactional,
                    "{kind}/{lang}"
                );
                assert_eq!(
                    out.html.contains(&links.unsubscribe_url),
                    !transactional,
                    "{kind}/{lang}"
                );
                if transactional {
                    let url = links.secret_url.as_deref().unwrap();
                    assert!(
                        out.text.contains(url) && out.html.contains(url),
                        "{kind}/{lang}"
                    );
                }
                assert!(!out.html.contains("<img src=x"), "{kind}/{lang}");
                assert!(!out.html.contains("<b>note"), "{kind}/{lang}");
                assert!(!out.text.contains("none"), "{kind}/{lang}: {}", out.text);
                if matches!(kind, "new_case" | "escalation" | "assigned" | "overdue") {
                    assert!(out.html.contains("&lt;img src=x onerror=alert(1)&gt;"));
                    assert!(out.text.contains("<img src=x onerror=alert(1)>"));
                    assert!(out.html.contains("https://erratum.example/editor/cases/c1"));
                    // The case number and the correction it already had.
                    assert!(out.text.contains("1042") && out.html.contains("#1042"));
                    let already = if lang == "fr" {
                        "Déjà corrigé le"
                    } else {
                        "Already corrected on"
                    };
                    assert!(out.text.contains(already) && out.html.contains(already));
                    assert!(out.html.contains("pas le 3 &lt;b&gt;."), "{kind}/{lang}");
                }
                let msg = message(
                    &"Erratum <erratum@example.org>".parse().unwrap(),
                    &r,
                    Some("Jane\r\nBcc: evil@example.org"),
                    out,
                    (!transactional).then_some(links.unsubscribe_url.as_str()),
                )
                .unwrap();
                let raw = String::from_utf8(msg.formatted()).unwrap();
                assert!(!raw.contains("\r\nBcc:"), "{raw}");
                assert_eq!(
                    raw.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"),
                    !transactional
                );
                assert!(raw.contains("In-Reply-To: <r0@example.org>"));
            }
        }
    }

    #[test]
    fn subjects_are_one_line() {
        assert_eq!(one_line("a\r\nBcc: x@y\tz  "), "a Bcc: x@y z");
        assert_eq!(one_line(&"é".repeat(300)).chars().count(), 201);
    }

    #[test]
    fn dates_are_written_per_language_in_the_email_time_zone() {
        let mut env = Environment::new();
        env.add_filter("datetime", datetime);
        let render = |t: &str, lang: &str, zone: &str| {
            env.render_str(
                "{{ t | datetime(lang) }}",
                minijinja::context! { t, lang, time_zone => zone },
            )
            .unwrap()
        };
        assert_eq!(
            render("2026-11-24T14:05:00.123456", "fr", "Europe/Paris"),
            "24/11/2026 à 15:05 (Paris)"
        );
        assert_eq!(
            render("2026-11-24T14:05:00", "en", "UTC"),
            "24 Nov 2026, 14:05 (UTC)"
        );
    }
}
