//! The case page (the sentence in its paragraph, its reports a page at a
//! time, notes, history, corrections) and its actions, which run the same workflow
//! function as the API (`db::workflow::act`).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use minijinja::{Value, context};
use serde::Deserialize;

use super::flash::{self, Flash};
use super::i18n::{self, Lang};
use super::page;
use super::session::{Editor, Posted};
use crate::app::AppState;
use crate::app::cases::{self, CaseAction, CasePage};
use crate::auth::CurrentEditor;
use crate::domain::editor::Role;
use crate::domain::workflow::{Resolution, Resolve, parse_note};
use crate::error::{ErrorCode, FieldError, Problem};

/// What a refused form left behind, to show it again.
#[derive(Default)]
pub struct Refusal {
    status: Option<StatusCode>,
    message: Option<String>,
    errors: Vec<FieldError>,
    form: Option<ActionForm>,
}

async fn case_page(
    state: &AppState,
    editor: &CurrentEditor,
    id: String,
    reports_after: Option<cases::ReportsAfter>,
    flash: Option<Value>,
    refusal: Refusal,
) -> Result<HttpResponse, Problem> {
    let later_page = reports_after.is_some();
    let CasePage {
        detail,
        article,
        paragraph,
        assignees,
    } = cases::page(state, editor.actor().clone(), id, reports_after).await?;
    // The "more reports" link keeps the rest of the page as it is.
    let more_reports = detail.reports_next_cursor.as_ref().map(|c| {
        format!(
            "/editor/cases/{}?reports_cursor={c}#h-reports",
            detail.case.id
        )
    });
    let lang = page::lang_of(editor);
    let article_lang = Lang::from_tag(article.language.as_str());
    let highlighted = detail.context.sentence.as_ref().map(|s| s.id.clone());
    let paragraph: Vec<Value> = paragraph
        .iter()
        .map(|s| context! { text => s.text.clone(), hit => Some(&s.id) == highlighted.as_ref() })
        .collect();
    let assignees: Vec<Value> = assignees
        .iter()
        .map(|r| context! { id => r.id.clone(), name => r.name.clone() })
        .collect();
    let resolutions: Vec<Value> = Resolution::ALL
        .iter()
        .map(|r| {
            context! {
                value => r.as_str(),
                publishes => r.publishes_correction(),
                template => i18n::resolution_template(article_lang, r.as_str(), &detail.case.sentence_text),
            }
        })
        .collect();
    let allowed: Vec<&str> = detail
        .case
        .allowed_actions
        .iter()
        .map(|a| a.as_str())
        .collect();
    let errors: Vec<Value> = page::field_errors(&refusal.errors);
    let form = refusal.form.unwrap_or_default();
    let status = refusal.status.unwrap_or(StatusCode::OK);
    let ctx = context! {
        case => Value::from_serialize(&detail.case),
        context => Value::from_serialize(&detail.context),
        reports => Value::from_serialize(&detail.reports),
        more_reports,
        later_page,
        notes => Value::from_serialize(&detail.notes),
        corrections => Value::from_serialize(&detail.corrections),
        history => Value::from_serialize(&detail.history),
        similar => Value::from_serialize(&detail.similar),
        paragraph,
        article => context! { language => article.language, title => article.title.clone(),
            url => article.url.clone(), external_id => article.external_id.clone() },
        assignees, resolutions, allowed,
        mine => detail.case.assignee.as_ref().is_some_and(|a| a.id == editor.id),
        sees_emails => editor.actor().sees_reporter_emails()
            && editor.actor().covers_desk(detail.case.desk.as_deref()),
        flash,
        refused => refusal.message,
        errors,
        form => Value::from_serialize(&form),
        article_lang_differs => article_lang != lang,
        ..page::base(editor, "queue"),
    };
    page::render(status, "case.html", ctx)
}

#[derive(Debug, Default, Deserialize)]
pub struct ReportsQuery {
    /// The "more reports" link's cursor.
    reports_cursor: Option<String>,
}

/// GET /editor/cases/{id}
pub async fn show(
    Editor(editor): Editor,
    state: web::Data<AppState>,
    path: web::Path<String>,
    flash: web::Query<Flash>,
    reports: web::Query<ReportsQuery>,
) -> Result<HttpResponse, Problem> {
    let after = cases::reports_after(reports.reports_cursor.as_deref())?;
    // `/editor/cases/1042` works as well as the id.
    let id = cases::case_id_or_number(&state, &path).await?;
    let message = flash.message(page::lang_of(&editor));
    case_page(&state, &editor, id, after, message, Refusal::default()).await
}

/// Every field any action form sends; each action takes what it needs.
#[derive(Debug, Default, Clone, Deserialize, serde::Serialize)]
pub struct ActionForm {
    /// `me` or an editor id (assign).
    assignee: Option<String>,
    /// The note's text (note).
    body: Option<String>,
    /// 0–100, or empty to clear (priority).
    priority: Option<String>,
    resolution: Option<String>,
    public_note: Option<String>,
    duplicate_of: Option<String>,
    /// A number typed in the duplicate picker: wins over its proposals.
    duplicate_number: Option<String>,
    /// The page to go back to (the queue, when acting from there).
    #[serde(skip_serializing)]
    return_to: Option<String>,
}

fn parse_action(
    action: &str,
    form: &ActionForm,
    editor: &CurrentEditor,
) -> Result<CaseAction, Problem> {
    let present = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    Ok(match action {
        "triage" => CaseAction::Triage,
        "claim" => CaseAction::Claim,
        "unassign" => CaseAction::Unassign,
        "reopen" => CaseAction::Reopen,
        "already-corrected" => CaseAction::ResolveAlreadyCorrected,
        "assign" => {
            let editor_id = match present(&form.assignee).as_deref() {
                Some("me") => editor.id.clone(),
                Some(id) if uuid::Uuid::parse_str(id).is_ok() => id.to_string(),
                _ => {
                    return Err(Problem::field(
                        ErrorCode::InvalidAssignee,
                        "Invalid assignee",
                        "assignee",
                        "choose an editor",
                    ));
                }
            };
            CaseAction::Assign { editor_id }
        }
        "note" => CaseAction::Note {
            body: parse_note(form.body.as_deref().unwrap_or_default())?,
        },
        "priority" => {
            let priority = match present(&form.priority) {
                None => None,
                Some(p) => match p.parse::<i32>() {
                    Ok(n) if (0..=100).contains(&n) => Some(n),
                    _ => {
                        return Err(Problem::validation(vec![FieldError::new(
                            "priority",
                            "out_of_range",
                            "must be a whole number between 0 and 100, or empty",
                        )]));
                    }
                },
            };
            CaseAction::Priority { priority }
        }
        "resolve" => {
            let resolution = present(&form.resolution)
                .as_deref()
                .and_then(Resolution::parse)
                .ok_or_else(|| {
                    Problem::validation(vec![FieldError::new(
                        "resolution",
                        "required",
                        "choose how the case ends",
                    )])
                })?;
            // Spam carries no public text, whatever the form still holds.
            let note = match resolution {
                Resolution::Spam => None,
                _ => present(&form.public_note),
            };
            let dup = match resolution {
                Resolution::Duplicate => {
                    present(&form.duplicate_number).or_else(|| present(&form.duplicate_of))
                }
                _ => None,
            };
            CaseAction::Resolve(Resolve::parse(resolution, note.as_deref(), dup.as_deref())?)
        }
        _ => return Err(Problem::not_found(ErrorCode::NotFound, "No such action.")),
    })
}

/// The word the page shows after an action.
fn done_word(action: &CaseAction) -> &'static str {
    match action {
        CaseAction::Triage => "triaged",
        CaseAction::Claim => "claimed",
        CaseAction::Assign { .. } => "assigned",
        CaseAction::Unassign => "unassigned",
        CaseAction::Note { .. } => "noted",
        CaseAction::Priority { .. } => "prioritised",
        CaseAction::Resolve(r) if r.resolution == Resolution::Spam => "spam",
        CaseAction::Resolve(_) | CaseAction::ResolveAlreadyCorrected => "resolved",
        CaseAction::Reopen => "reopened",
    }
}

/// POST /editor/cases/{id}/{action}
pub async fn act(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    posted: Posted<ActionForm>,
) -> Result<HttpResponse, Problem> {
    let Posted { editor, form } = posted;
    let (raw_id, action_name) = path.into_inner();
    editor.require(Role::Editor)?;
    let id = cases::case_id_or_number(&state, &raw_id).await?;
    let from_queue = form
        .return_to
        .as_deref()
        .is_some_and(|r| !r.starts_with("/editor/cases/"));
    let back = if from_queue {
        format!("{}#c-{id}", flash::safe_return(form.return_to.as_deref()))
    } else {
        format!("/editor/cases/{id}")
    };
    let outcome = match parse_action(&action_name, &form, &editor) {
        Ok(action) => {
            let word = done_word(&action);
            cases::act(&state, editor.actor().clone(), id.clone(), action)
                .await
                .map(|_| word)
        }
        Err(p) => Err(p),
    };
    match outcome {
        Ok(word) => {
            tracing::info!(case_id = %id, action = %action_name, "case action (page)");
            Ok(page::see_other(&flash::with(
                &back,
                &[("done", word), ("case", &id)],
            )))
        }
        Err(p)
            if p.status.is_client_error()
                && p.status != StatusCode::FORBIDDEN
                && p.status != StatusCode::NOT_FOUND =>
        {
            if from_queue {
                return Ok(page::see_other(&flash::with(
                    &back,
                    &[("err", p.code.as_str())],
                )));
            }
            let lang = page::lang_of(&editor);
            let key = format!("flash_error.{}", p.code);
            let mut message = i18n::text(lang, &key);
            if message == key {
                // Problem details are English, for API clients.
                message = match lang {
                    Lang::En => p.detail.clone(),
                    _ => i18n::text(lang, "flash_error.other"),
                };
            }
            let refusal = Refusal {
                status: Some(p.status),
                message: Some(message),
                errors: p.errors.clone(),
                form: Some(form),
            };
            case_page(&state, &editor, id, None, None, refusal).await
        }
        Err(p) => Err(p),
    }
}
