//! Outgoing integrations: signed webhooks (Standard Webhooks) and chat
//! alerts (Slack, Microsoft Teams), fed by the domain events.
//!
//! - `events`: the consumer (cursor `webhooks`) turns each event into a
//!   delivery row per interested destination, in the transaction that moves
//!   its cursor (`app::events::consume`): nothing lost, nothing doubled.
//! - `worker`: leases destinations, sends their due deliveries in order,
//!   records each try, retries with exponential backoff, dead-letters.
//! - `target`: the SSRF guard of every call; `sign`: the signatures;
//!   `payload`: the bodies (documented in the OpenAPI description).

pub mod events;
pub mod payload;
pub mod sign;
pub mod target;
pub mod worker;
