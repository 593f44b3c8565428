//! What destinations receive: the signed JSON message of a standard webhook
//! (its schemas are in the OpenAPI description: `WebhookMessage`), and the
//! chat alerts built from the same facts (Slack Block Kit, Teams Adaptive
//! Card). Everything is captured when the event is consumed, so a retry
//! sends the same body.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::db::DbConn;
use crate::db::schema::{articles, cases, corrections, reports};
use crate::domain::event::{EscalationReason, Event};
use crate::domain::hook::HookEvent;
use crate::domain::workflow::{Resolution, Status};

/// One webhook message (the body of every standard delivery).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WebhookMessage {
    /// The event's name, e.g. `case.opened`, `correction.published`.
    #[serde(rename = "type")]
    pub event_type: HookEvent,
    /// When the event happened (RFC 3339, UTC).
    #[schema(format = DateTime)]
    pub timestamp: String,
    pub data: MessageData,
}

/// The message's `data`, by event.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum MessageData {
    /// `correction.published`
    Correction(CorrectionData),
    /// `report.filed` and every `case.*` event
    Case(CaseData),
    /// `article.revised`
    Article(ArticleRevisedData),
    /// `webhook.test`
    Test(TestData),
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ArticleInfo {
    /// The CMS's id for the article.
    pub external_id: String,
    pub title: String,
    pub url: String,
}

/// A case as it stood when the event happened.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CaseInfo {
    pub id: String,
    /// The case's page for editors.
    pub url: String,
    pub status: Status,
    pub desk: Option<String>,
    /// The reported sentence as it read when reported.
    pub sentence: String,
    /// The queue's priority score, 0–100.
    pub priority: f64,
    pub report_count: i32,
    pub reporter_count: i32,
    /// RFC 3339, UTC.
    #[schema(format = DateTime)]
    pub due_at: String,
    pub article: ArticleInfo,
    /// The latest report's words (never the reader's address).
    pub latest_report: Option<ReportWords>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReportWords {
    pub category: String,
    pub comment: String,
    pub suggested_correction: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CaseData {
    pub case: CaseInfo,
    /// The event's own facts (`reason` and `threshold` of an escalation,
    /// `resolution` and `public_note` of a resolution, `assignee_id`, …), as
    /// the domain event records them.
    #[schema(value_type = Object)]
    pub event: serde_json::Value,
}

/// Everything a CMS needs to show a correction under its article.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CorrectionData {
    pub correction_id: String,
    pub case_id: String,
    pub article: ArticleInfo,
    /// `corrected`, `clarified` or `updated`.
    pub kind: Resolution,
    /// The public correction text.
    pub text: String,
    /// The editors' public note on the case, when there is one.
    pub public_note: Option<String>,
    /// The sentence as it read when it was reported.
    pub sentence_before: String,
    /// RFC 3339, UTC.
    #[schema(format = DateTime)]
    pub published_at: String,
    /// A schema.org `CorrectionComment` for the article's page.
    #[schema(value_type = Object)]
    pub json_ld: serde_json::Value,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ArticleRevisedData {
    pub article: ArticleInfo,
    pub revision: i32,
    /// Open cases whose sentence the revision changed (maybe fixed).
    pub possibly_fixed: Vec<String>,
    /// Open cases whose sentence the revision removed.
    pub orphaned: Vec<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TestData {
    pub message: String,
}

pub fn rfc3339(t: NaiveDateTime) -> String {
    t.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn article_info(conn: &mut DbConn, article_id: &str) -> QueryResult<Option<ArticleInfo>> {
    articles::table
        .find(article_id)
        .select((articles::external_id, articles::title, articles::url))
        .first::<(String, String, String)>(conn)
        .optional()
        .map(|o| {
            o.map(|(external_id, title, url)| ArticleInfo {
                external_id,
                title,
                url,
            })
        })
}

/// A case as of `at` (reports after `at` not counted); `None` when it is
/// gone (erased).
pub fn case_info(
    conn: &mut DbConn,
    public_url: &str,
    case_id: &str,
    at: NaiveDateTime,
) -> QueryResult<Option<CaseInfo>> {
    let Some(c) = crate::db::cases::find(conn, case_id)? else {
        return Ok(None);
    };
    let published: Option<NaiveDateTime> = articles::table
        .find(&c.article_id)
        .select(articles::published_at)
        .first(conn)
        .optional()?
        .flatten();
    let Some(article) = article_info(conn, &c.article_id)? else {
        return Ok(None);
    };
    let filed: Vec<(String, String, String, Option<String>)> = reports::table
        .filter(reports::case_id.eq(case_id))
        .filter(reports::is_spam.eq(false))
        .filter(reports::created_at.le(at))
        .order((reports::created_at.asc(), reports::id.asc()))
        .select((
            reports::reporter_key,
            reports::category,
            reports::comment,
            reports::suggested_correction,
        ))
        .load(conn)?;
    let reporters = filed
        .iter()
        .map(|r| r.0.as_str())
        .collect::<std::collections::HashSet<_>>()
        .len();
    let stats = crate::db::cases::Stats::live(&c);
    let priority = crate::db::cases::priority_tenths(&c, &stats, published, at) as f64 / 10.0;
    let latest_report = filed
        .last()
        .map(|(_, category, comment, suggested)| ReportWords {
            category: category.clone(),
            comment: comment.clone(),
            suggested_correction: suggested.clone(),
        });
    Ok(Some(CaseInfo {
        url: format!("{public_url}/editor/cases/{}", c.id),
        id: c.id.clone(),
        status: c.status(),
        desk: c.desk.clone(),
        sentence: c.sentence_text.clone(),
        priority,
        report_count: filed.len() as i32,
        reporter_count: reporters as i32,
        due_at: rfc3339(c.due_at),
        article,
        latest_report,
    }))
}

fn correction_data(
    conn: &mut DbConn,
    correction_id: &str,
    case_id: &str,
) -> QueryResult<Option<CorrectionData>> {
    let row: Option<(String, String, Resolution, String, NaiveDateTime)> = corrections::table
        .find(correction_id)
        .select((
            corrections::article_id,
            corrections::sentence_text,
            corrections::kind,
            corrections::public_note,
            corrections::published_at,
        ))
        .first(conn)
        .optional()?;
    let Some((article_id, sentence_before, kind, text, published_at)) = row else {
        return Ok(None);
    };
    let Some(article) = article_info(conn, &article_id)? else {
        return Ok(None);
    };
    let public_note: Option<String> = cases::table
        .find(case_id)
        .select(cases::public_note)
        .first(conn)
        .optional()?
        .flatten();
    let published = rfc3339(published_at);
    let json_ld = serde_json::json!({
        "@context": "https://schema.org",
        "@type": "CorrectionComment",
        "text": text,
        "datePublished": published,
        "about": {
            "@type": "NewsArticle",
            "@id": article.url,
            "url": article.url,
            "headline": article.title,
        },
    });
    Ok(Some(CorrectionData {
        correction_id: correction_id.to_string(),
        case_id: case_id.to_string(),
        article,
        kind,
        text,
        public_note,
        sentence_before,
        published_at: published,
        json_ld,
    }))
}

/// The webhook message of an event; `None` when what it is about is gone.
pub fn message(
    conn: &mut DbConn,
    public_url: &str,
    event: &Event,
    at: NaiveDateTime,
) -> QueryResult<Option<WebhookMessage>> {
    let Some(event_type) = HookEvent::of(event) else {
        return Ok(None);
    };
    let data = match event {
        Event::CorrectionPublished {
            correction_id,
            case_id,
            ..
        } => correction_data(conn, correction_id, case_id)?.map(MessageData::Correction),
        Event::ArticleRevised {
            article_id,
            revision,
            possibly_fixed,
            orphaned,
        } => article_info(conn, article_id)?.map(|article| {
            MessageData::Article(ArticleRevisedData {
                article,
                revision: *revision,
                possibly_fixed: possibly_fixed.clone(),
                orphaned: orphaned.clone(),
            })
        }),
        other => {
            let Some(case_id) = other.case_id() else {
                return Ok(None);
            };
            let mut facts = serde_json::to_value(other).unwrap_or_default();
            if let Some(map) = facts.as_object_mut() {
                map.remove("type");
                map.remove("case_id");
            }
            case_info(conn, public_url, case_id, at)?
                .map(|case| MessageData::Case(CaseData { case, event: facts }))
        }
    };
    Ok(data.map(|data| WebhookMessage {
        event_type,
        timestamp: rfc3339(at),
        data,
    }))
}

pub fn test_message(at: NaiveDateTime) -> WebhookMessage {
    WebhookMessage {
        event_type: HookEvent::Test,
        timestamp: rfc3339(at),
        data: MessageData::Test(TestData {
            message: "A test event from Erratum: this destination receives its events.".into(),
        }),
    }
}

/// What a chat alert says, whichever chat shows it.
#[derive(Debug, Clone)]
pub struct Alert {
    pub title: String,
    pub sentence: String,
    /// The readers' words (the latest report), or the correction.
    pub words: Option<String>,
    pub words_label: &'static str,
    pub priority: Option<f64>,
    pub desk: Option<String>,
    pub article_title: String,
    pub article_url: String,
    /// The case's page.
    pub link: String,
}

/// The chat alert of a message, for the events chat destinations hear of
/// (`HookEvent::CHAT`); `None` for the others. A new case that escalates at
/// once is announced by its escalation only.
pub fn alert(event: &Event, msg: &WebhookMessage, public_url: &str) -> Option<Alert> {
    let title = match event {
        Event::CaseOpened {
            escalated: false, ..
        } => "New reported error".to_string(),
        Event::CaseEscalated {
            reason: EscalationReason::Threshold,
            threshold,
            ..
        } => format!("Escalated: {threshold} or more reports"),
        Event::CaseEscalated {
            reason: EscalationReason::FreshFactualError,
            ..
        } => "Escalated: factual error on a fresh article".to_string(),
        Event::CaseOverdue { .. } => "Overdue case".to_string(),
        Event::CorrectionPublished { .. } => "Correction published".to_string(),
        _ => return None,
    };
    Some(match &msg.data {
        MessageData::Case(d) => Alert {
            title,
            sentence: d.case.sentence.clone(),
            words: d.case.latest_report.as_ref().map(|r| r.comment.clone()),
            words_label: "Readers' words",
            priority: Some(d.case.priority),
            desk: d.case.desk.clone(),
            article_title: d.case.article.title.clone(),
            article_url: d.case.article.url.clone(),
            link: d.case.url.clone(),
        },
        MessageData::Correction(c) => Alert {
            title,
            sentence: c.sentence_before.clone(),
            words: Some(c.text.clone()),
            words_label: "Correction",
            priority: None,
            desk: None,
            article_title: c.article.title.clone(),
            article_url: c.article.url.clone(),
            link: format!("{public_url}/editor/cases/{}", c.case_id),
        },
        _ => return None,
    })
}

pub fn test_alert(public_url: &str) -> Alert {
    Alert {
        title: "Test alert from Erratum".into(),
        sentence: "This channel will receive new cases, escalations, overdue cases and published corrections.".into(),
        words: None,
        words_label: "Readers' words",
        priority: None,
        desk: None,
        article_title: "Erratum".into(),
        article_url: public_url.to_string(),
        link: format!("{public_url}/editor/"),
    }
}

/// Text cut to `max` characters (chat blocks have limits).
fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max - 1).collect();
        out.push('…');
        out
    }
}

/// Slack's mrkdwn escapes: `&`, `<` and `>` (reader text cannot make links
/// or mentions).
fn slack_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn quote(s: &str) -> String {
    s.lines()
        .map(|l| format!(">{l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A Slack Block Kit message (incoming webhook).
pub fn slack(a: &Alert) -> serde_json::Value {
    let mut blocks = vec![
        serde_json::json!({"type": "header", "text": {"type": "plain_text", "text": cut(&a.title, 150)}}),
        serde_json::json!({"type": "section", "text": {"type": "mrkdwn",
            "text": format!("*Sentence*\n{}", quote(&slack_escape(&cut(&a.sentence, 2500))))}}),
    ];
    if let Some(words) = &a.words {
        blocks.push(
            serde_json::json!({"type": "section", "text": {"type": "mrkdwn",
            "text": format!("*{}*\n{}", a.words_label, quote(&slack_escape(&cut(words, 2500))))}}),
        );
    }
    let mut fields = vec![serde_json::json!({"type": "mrkdwn",
        "text": format!("*Article*\n<{}|{}>", a.article_url, slack_escape(&cut(&a.article_title, 200)))})];
    if let Some(p) = a.priority {
        fields.push(serde_json::json!({"type": "mrkdwn", "text": format!("*Priority*\n{p:.1}")}));
    }
    if let Some(d) = &a.desk {
        fields.push(
            serde_json::json!({"type": "mrkdwn", "text": format!("*Desk*\n{}", slack_escape(&cut(d, 100)))}),
        );
    }
    blocks.push(serde_json::json!({"type": "section", "fields": fields}));
    blocks.push(serde_json::json!({"type": "actions", "elements": [
        {"type": "button", "text": {"type": "plain_text", "text": "Open the case"}, "url": a.link}
    ]}));
    serde_json::json!({
        "text": format!("{}: {}", a.title, cut(&a.sentence, 200)),
        "blocks": blocks,
    })
}

/// A Microsoft Teams message carrying an Adaptive Card (incoming webhook or
/// Workflows "post to a channel when a webhook request is received").
pub fn teams(a: &Alert) -> serde_json::Value {
    let mut body = vec![
        serde_json::json!({"type": "TextBlock", "text": cut(&a.title, 150), "weight": "Bolder", "size": "Medium", "wrap": true}),
        serde_json::json!({"type": "TextBlock", "text": "Sentence", "weight": "Bolder", "spacing": "Medium"}),
        serde_json::json!({"type": "TextBlock", "text": cut(&a.sentence, 2500), "wrap": true, "isSubtle": true}),
    ];
    if let Some(words) = &a.words {
        body.push(serde_json::json!({"type": "TextBlock", "text": a.words_label, "weight": "Bolder", "spacing": "Medium"}));
        body.push(serde_json::json!({"type": "TextBlock", "text": cut(words, 2500), "wrap": true}));
    }
    let mut facts =
        vec![serde_json::json!({"title": "Article", "value": cut(&a.article_title, 200)})];
    if let Some(p) = a.priority {
        facts.push(serde_json::json!({"title": "Priority", "value": format!("{p:.1}")}));
    }
    if let Some(d) = &a.desk {
        facts.push(serde_json::json!({"title": "Desk", "value": cut(d, 100)}));
    }
    body.push(serde_json::json!({"type": "FactSet", "facts": facts}));
    serde_json::json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "body": body,
                "actions": [
                    {"type": "Action.OpenUrl", "title": "Open the case", "url": a.link},
                    {"type": "Action.OpenUrl", "title": "Open the article", "url": a.article_url},
                ],
            },
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert() -> Alert {
        Alert {
            title: "New reported error".into(),
            sentence: "The bridge opened in 1932.".into(),
            words: Some("It was <1933> & @channel".into()),
            words_label: "Readers' words",
            priority: Some(42.5),
            desk: Some("city".into()),
            article_title: "Bridges".into(),
            article_url: "https://news.example/bridges".into(),
            link: "https://erratum.example/editor/cases/c1".into(),
        }
    }

    #[test]
    fn slack_escapes_reader_text() {
        let s = slack(&alert()).to_string();
        assert!(s.contains("&lt;1933&gt; &amp; @channel"), "{s}");
        assert!(!s.contains("<1933>"));
    }

    #[test]
    fn teams_carries_an_adaptive_card() {
        let t = teams(&alert());
        let card = &t["attachments"][0];
        assert_eq!(
            card["contentType"],
            "application/vnd.microsoft.card.adaptive"
        );
        assert_eq!(card["content"]["type"], "AdaptiveCard");
    }
}
