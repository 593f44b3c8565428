//! API tests: the real application on port 0, on SQLite and (when
//! `ERRATUM_TEST_DATABASE_URL` is set) PostgreSQL.

#![allow(clippy::result_large_err)]

mod helpers;
mod layers;
mod mail;
mod smtp;

mod articles;
mod auth;
mod backup;
mod case_reports;
mod cases_memory;
mod cli;
mod corrections;
mod cors;
mod db_restart;
mod durability;
mod editor_account;
mod editor_cli;
mod editor_ui;
mod email_crash;
mod email_delivery;
mod email_drain;
mod email_outbox;
mod email_prefs;
mod email_routes;
mod email_workflow;
mod errors;
mod events;
mod guard;
mod hostile_ingest;
mod hostile_input;
mod instances;
mod known;
mod leaks;
mod live;
mod operations;
mod planner;
mod queue;
mod reader_languages;
mod readers;
mod recovery;
mod reports;
mod retention;
mod roles;
mod schema;
mod seed;
mod segment;
mod shared_limits;
mod sso;
mod staff;
mod stats;
mod status_link;
mod subjects;
mod timestamps;
mod triage;
mod web;
mod webhooks;
mod workflow;
