//! Every problem `code` the API answers with, in one enum: the last part of
//! the problem's `type` URI (`urn:erratum:problem:<code>`), stable across
//! versions because clients match on it. Pages compare these, never strings.

macro_rules! error_codes {
    ($($(#[$doc:meta])* $variant:ident => $text:literal,)*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $($(#[$doc])* $variant,)*
        }

        impl ErrorCode {
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $text,)*
                }
            }
        }
    };
}

error_codes! {
    // The request itself.
    /// 422 with the fields at fault.
    Validation => "validation",
    /// 400: a body that is not JSON, with `line` and `column`.
    MalformedJson => "malformed_json",
    /// 400: a request actix could not read (a bad header, query or path).
    BadRequest => "bad_request",
    UnsupportedMediaType => "unsupported_media_type",
    PayloadTooLarge => "payload_too_large",
    NotFound => "not_found",
    MethodNotAllowed => "method_not_allowed",
    RateLimited => "rate_limited",
    Unauthorized => "unauthorized",
    Forbidden => "forbidden",
    /// 503 with Retry-After: the database could not answer.
    Unavailable => "unavailable",
    /// 503 with Retry-After: an editors' heavy read (queue, search, case,
    /// dashboard) spent its time budget (`database.read_budget_ms`) and was
    /// cancelled.
    ReadOverBudget => "read_over_budget",
    /// 500: a bug, logged with its cause.
    Internal => "internal",
    // Articles and readers' reports.
    ArticleNotFound => "article_not_found",
    ReportNotFound => "report_not_found",
    UnknownSentence => "unknown_sentence",
    QuoteNotInSentence => "quote_not_in_sentence",
    QuoteNotFound => "quote_not_found",
    AmbiguousQuote => "ambiguous_quote",
    HtmlTooComplex => "html_too_complex",
    IdempotencyKeyReused => "idempotency_key_reused",
    InvalidIdempotencyKey => "invalid_idempotency_key",
    /// 409: the same key is being handled by another request right now.
    IdempotencyKeyInFlight => "idempotency_key_in_flight",
    /// 409: "me too" on a sentence that has no open case.
    NoOpenCase => "no_open_case",
    // Editors.
    InvalidCredentials => "invalid_credentials",
    /// 403: local passwords are turned off (`auth.oidc.local_passwords`).
    PasswordLoginDisabled => "password_login_disabled",
    CsrfTokenInvalid => "csrf_token_invalid",
    CaseNotFound => "case_not_found",
    EditorNotFound => "editor_not_found",
    TokenNotFound => "token_not_found",
    IllegalTransition => "illegal_transition",
    AlreadyClaimed => "already_claimed",
    SentenceHasOpenCase => "sentence_has_open_case",
    NotASession => "not_a_session",
    EditorExists => "editor_exists",
    CannotChangeSelf => "cannot_change_self",
    InvalidAssignee => "invalid_assignee",
    BulkCorrection => "bulk_correction",
    /// 409: "resolve as already corrected" on a case whose sentence has no
    /// published correction.
    NotAlreadyCorrected => "not_already_corrected",
    /// 409: the report's reader was erased; nothing links it to others.
    ReaderErased => "reader_erased",
    /// 503 with Retry-After: every live-queue stream of the instance is taken.
    TooManyStreams => "too_many_streams",
    // Email.
    UnsubscribeLinkInvalid => "unsubscribe_link_invalid",
    OutboxEntryNotFound => "outbox_entry_not_found",
    OutboxEntryFinal => "outbox_entry_final",
    // Webhooks and chat destinations.
    WebhookNotFound => "webhook_not_found",
    TooManyWebhooks => "too_many_webhooks",
    DeliveryNotFound => "delivery_not_found",
    // Account recovery and the first admin.
    ResetTokenInvalid => "reset_token_invalid",
    SetupTokenInvalid => "setup_token_invalid",
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::ErrorCode;

    #[test]
    fn codes_are_distinct_snake_case_and_documented() {
        let mut seen = std::collections::HashSet::new();
        let readme = include_str!("../../README.md");
        for code in ErrorCode::ALL {
            let text = code.as_str();
            assert!(seen.insert(text), "{text} twice");
            assert!(
                text.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{text}"
            );
            assert!(
                readme.contains(&format!("`{text}`")),
                "README's Errors section lacks `{text}`"
            );
        }
    }
}
