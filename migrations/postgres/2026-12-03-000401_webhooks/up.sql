-- Outgoing integrations (src/hooks): signed webhooks (Standard Webhooks) and
-- chat alerts (Slack, Microsoft Teams), one row per destination.
CREATE TABLE webhook_endpoints (
    id TEXT PRIMARY KEY NOT NULL,
    -- standard (signed JSON), slack (Block Kit), teams (Adaptive Card)
    format TEXT NOT NULL,
    url TEXT NOT NULL,
    -- `whsec_<base64>`, kept as it is: the HMAC needs the key itself (see
    -- src/hooks/sign.rs for why it is not encrypted).
    secret TEXT NOT NULL,
    -- JSON array of event names (case.opened, correction.published, …)
    events TEXT NOT NULL,
    -- Chat alerts: only the cases of this desk (NULL: every desk).
    desk TEXT,
    description TEXT NOT NULL,
    created_by TEXT,
    created_at TIMESTAMP NOT NULL,
    -- A worker's lease on the destination: deliveries to one destination
    -- go out one at a time, in order.
    locked_by TEXT,
    locked_until TIMESTAMP,
    -- After a failed try, nothing goes to this destination before this time.
    paused_until TIMESTAMP
);

-- The durable delivery queue, written by the webhooks event consumer in the
-- transaction that moves its cursor; kept after delivery as the log.
CREATE TABLE webhook_deliveries (
    -- Also the `webhook-id` header: the same on every retry.
    id TEXT PRIMARY KEY NOT NULL,
    endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_type TEXT NOT NULL,
    case_id TEXT,
    -- The exact body sent (JSON), captured when the event was consumed.
    payload TEXT NOT NULL,
    -- pending, delivered, dead
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    last_status INTEGER,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    delivered_at TIMESTAMP
);
CREATE INDEX webhook_deliveries_queue_idx ON webhook_deliveries (endpoint_id, status, created_at);
