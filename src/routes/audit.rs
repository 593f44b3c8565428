//! The audit log, for admins: every editorial action, newest first.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::app::audit::{self, AuditEntry};
use crate::auth::CurrentEditor;
use crate::error::{FieldError, Problem};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// From the previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// Page size, 1–200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditEntry>,
    pub next_cursor: Option<String>,
}

/// The audit log, newest first (admins). A case's own trail is in its page.
#[utoipa::path(get, path = "/api/v1/audit", tag = "editors", params(AuditQuery),
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "A page of entries", body = AuditPage),
        (status = 401, description = "Not authenticated", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "Invalid cursor or limit", body = crate::error::ProblemBody, content_type = "application/problem+json"),
    ))]
pub async fn list(
    editor: CurrentEditor,
    state: web::Data<AppState>,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, Problem> {
    let limit = match query.limit.as_deref() {
        None => 50,
        Some(n) => match n.parse::<i64>() {
            Ok(n) if (1..=200).contains(&n) => n,
            _ => {
                return Err(Problem::validation(vec![FieldError::new(
                    "limit",
                    "out_of_range",
                    "must be between 1 and 200",
                )]));
            }
        },
    };
    let mut items =
        audit::recent(&state, editor.actor(), query.cursor.as_deref(), limit + 1).await?;
    let more = items.len() as i64 > limit;
    items.truncate(limit as usize);
    let next_cursor = items.last().filter(|_| more).map(|e| e.id.clone());
    Ok(HttpResponse::Ok().json(AuditPage { items, next_cursor }))
}
