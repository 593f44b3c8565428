//! The use cases: one module per thing a reader, an editor, an admin or the
//! CMS does. The edges (`routes/` for the JSON API, `web/` for pages, the
//! command line) parse their input into domain values, call a function here
//! with an `Actor` when someone acts, and render what it returns; they call
//! nothing below this layer.
//!
//! A use case that changes something runs its writes through the
//! group-commit writer and records what happened as `domain::event::Event`s
//! in the same transaction, then calls `AppState::committed` so the event
//! consumers (email today, see `notify::consumer`) wake up. Use cases never
//! call a consumer: a new integration reads the events instead.

pub mod accounts;
pub mod articles;
pub mod audit;
pub mod bulk;
pub mod cases;
pub mod corrections;
pub mod events;
pub mod health;
pub mod intake;
pub mod known;
pub mod live;
pub mod notifications;
pub mod planner;
pub mod queue;
pub mod readers;
pub mod recovery;
pub mod resplit;
pub mod search_index;
pub mod sso;
pub mod stats;
pub mod status_link;
pub mod subjects;
pub mod webhooks;

pub use crate::state::AppState;
