//! The one diesel schema for both backends. Kept by hand in step with
//! `migrations/sqlite` and `migrations/postgres`; `tests/schema.rs` checks that
//! the two migrated databases have the same tables and columns.

diesel::table! {
    articles (id) {
        id -> Text,
        external_id -> Text,
        url -> Text,
        url_key -> Text,
        title -> Text,
        language -> Text,
        desk -> Nullable<Text>,
        current_revision -> Integer,
        published_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        locale -> Nullable<Text>,
    }
}

diesel::table! {
    article_revisions (id) {
        id -> Text,
        article_id -> Text,
        revision -> Integer,
        title -> Text,
        body_hash -> Text,
        created_at -> Timestamp,
        rules_version -> Integer,
    }
}

diesel::table! {
    sentences (id) {
        id -> Text,
        article_id -> Text,
        text -> Text,
        first_revision -> Integer,
        created_at -> Timestamp,
        lineage_id -> Text,
    }
}

diesel::table! {
    revision_sentences (revision_id, ordinal) {
        revision_id -> Text,
        ordinal -> Integer,
        sentence_id -> Text,
        paragraph -> Integer,
        position -> Integer,
    }
}

diesel::table! {
    cases (id) {
        id -> Text,
        article_id -> Text,
        sentence_id -> Text,
        open_key -> Nullable<Text>,
        sentence_text -> Text,
        desk -> Nullable<Text>,
        status -> Text,
        anchor_state -> Text,
        successor_sentence_id -> Nullable<Text>,
        report_count -> Integer,
        reporter_count -> Integer,
        categories -> Text,
        first_reported_at -> Timestamp,
        last_reported_at -> Timestamp,
        due_at -> Timestamp,
        assignee_id -> Nullable<Text>,
        priority_override -> Nullable<Integer>,
        resolution -> Nullable<Text>,
        public_note -> Nullable<Text>,
        duplicate_of -> Nullable<Text>,
        resolved_at -> Nullable<Timestamp>,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        escalated_at -> Nullable<Timestamp>,
        overdue_notified_at -> Nullable<Timestamp>,
        priority_tenths -> Integer,
        number -> Integer,
        possible_duplicate_of -> Nullable<Text>,
        known_correction_id -> Nullable<Text>,
        trusted_reader -> Bool,
    }
}

diesel::table! {
    queue_scores (id) {
        id -> Integer,
        scored_at -> Timestamp,
        moves_since -> Nullable<Timestamp>,
        written_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    queue_score_moves (scored_at, case_id) {
        scored_at -> Timestamp,
        case_id -> Text,
        tenths -> Integer,
        by_write -> Bool,
    }
}

diesel::table! {
    search_docs (id) {
        id -> Integer,
        ref_id -> Text,
        case_id -> Text,
        body -> Text,
    }
}

diesel::table! {
    reports (id) {
        id -> Text,
        reference -> Text,
        case_id -> Text,
        article_id -> Text,
        revision -> Integer,
        sentence_id -> Text,
        span_sentence_ids -> Text,
        quote_exact -> Text,
        quote_prefix -> Nullable<Text>,
        quote_suffix -> Nullable<Text>,
        category -> Text,
        comment -> Text,
        suggested_correction -> Nullable<Text>,
        sources -> Text,
        reporter_email -> Nullable<Text>,
        notify -> Bool,
        reporter_key -> Text,
        client_hash -> Text,
        comment_hash -> Text,
        status_token_hash -> Text,
        is_spam -> Bool,
        created_at -> Timestamp,
        blocked -> Bool,
        desk -> Nullable<Text>,
    }
}

diesel::table! {
    idempotency_keys (key_hash) {
        key_hash -> Text,
        request_hash -> Text,
        status_code -> Integer,
        response_body -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    client_hash_keys (day) {
        day -> Text,
        secret -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    instance_secrets (name) {
        name -> Text,
        secret -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    editors (id) {
        id -> Text,
        email -> Text,
        name -> Text,
        role -> Text,
        desks -> Text,
        password_hash -> Text,
        disabled -> Bool,
        language -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        time_zone -> Nullable<Text>,
    }
}

diesel::table! {
    editor_sessions (id) {
        id -> Text,
        editor_id -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> Text,
        editor_id -> Text,
        name -> Text,
        token_hash -> Text,
        prefix -> Text,
        created_at -> Timestamp,
        expires_at -> Nullable<Timestamp>,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    case_notes (id) {
        id -> Text,
        case_id -> Text,
        author_id -> Text,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Text,
        created_at -> Timestamp,
        actor_kind -> Text,
        actor_id -> Nullable<Text>,
        action -> Text,
        subject_type -> Text,
        subject_id -> Text,
        before_state -> Nullable<Text>,
        after_state -> Nullable<Text>,
    }
}

diesel::table! {
    corrections (id) {
        id -> Text,
        case_id -> Text,
        article_id -> Text,
        sentence_id -> Text,
        sentence_text -> Text,
        kind -> Text,
        public_note -> Text,
        editor_id -> Nullable<Text>,
        published_at -> Timestamp,
    }
}

diesel::table! {
    outbox (id) {
        id -> Text,
        kind -> Text,
        recipient -> Text,
        recipient_key -> Text,
        editor_id -> Nullable<Text>,
        case_id -> Nullable<Text>,
        language -> Text,
        payload -> Text,
        message_id -> Text,
        thread_message_id -> Nullable<Text>,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        locked_by -> Nullable<Text>,
        locked_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    notification_prefs (editor_id, kind) {
        editor_id -> Text,
        kind -> Text,
        delivery -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    digest_items (id) {
        id -> Text,
        editor_id -> Text,
        cadence -> Text,
        kind -> Text,
        case_id -> Text,
        payload -> Text,
        due_at -> Timestamp,
        outbox_id -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    email_suppressions (address_key, reason) {
        address_key -> Text,
        reason -> Text,
        detail -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::joinable!(article_revisions -> articles (article_id));
diesel::table! {
    events (id) {
        id -> Integer,
        xid -> BigInt,
        kind -> Text,
        case_id -> Nullable<Text>,
        article_id -> Nullable<Text>,
        payload -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    event_cursors (consumer) {
        consumer -> Text,
        last_xid -> BigInt,
        last_id -> Integer,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    password_resets (id) {
        id -> Text,
        editor_id -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    webhook_endpoints (id) {
        id -> Text,
        format -> Text,
        url -> Text,
        secret -> Text,
        events -> Text,
        desk -> Nullable<Text>,
        description -> Text,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
        locked_by -> Nullable<Text>,
        locked_until -> Nullable<Timestamp>,
        paused_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    setup_tokens (id) {
        id -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Text,
        endpoint_id -> Text,
        event_type -> Text,
        case_id -> Nullable<Text>,
        payload -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        last_status -> Nullable<Integer>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        delivered_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(sentences -> articles (article_id));
diesel::joinable!(revision_sentences -> article_revisions (revision_id));
diesel::joinable!(revision_sentences -> sentences (sentence_id));
diesel::joinable!(reports -> cases (case_id));
diesel::joinable!(cases -> articles (article_id));
diesel::joinable!(editor_sessions -> editors (editor_id));
diesel::joinable!(api_tokens -> editors (editor_id));
diesel::joinable!(password_resets -> editors (editor_id));
diesel::joinable!(case_notes -> cases (case_id));
diesel::joinable!(corrections -> articles (article_id));
diesel::joinable!(webhook_deliveries -> webhook_endpoints (endpoint_id));

diesel::table! {
    rate_windows (bucket, window_start) {
        bucket -> Text,
        window_start -> Timestamp,
        hits -> Integer,
    }
}

diesel::table! {
    status_links (id) {
        id -> Text,
        report_id -> Text,
        token_hash -> Text,
        email -> Nullable<Text>,
        language -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(status_links -> reports (report_id));

diesel::allow_tables_to_appear_in_same_query!(
    articles,
    article_revisions,
    sentences,
    revision_sentences,
    cases,
    reports,
    queue_scores,
    queue_score_moves,
    search_docs,
    idempotency_keys,
    client_hash_keys,
    instance_secrets,
    editors,
    editor_sessions,
    api_tokens,
    password_resets,
    setup_tokens,
    case_notes,
    audit_log,
    corrections,
    outbox,
    notification_prefs,
    digest_items,
    email_suppressions,
    events,
    event_cursors,
    webhook_endpoints,
    webhook_deliveries,
    rate_windows,
    status_links,
);
