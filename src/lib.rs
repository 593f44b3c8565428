// `Problem` is the one error type from the database to the HTTP answer; it is
// cold-path data, so its size does not matter enough to box it everywhere.
#![allow(clippy::result_large_err)]

//! Erratum: readers report errors on article sentences; editors triage them
//! and publish corrections.

pub mod app;
pub mod auth;
pub mod backup;
pub mod cli;
pub mod config;
pub mod db;
pub mod demo;
pub mod domain;
pub mod editor_cli;
pub mod error;
pub mod hooks;
pub mod locales;
pub mod notify;
pub mod openapi;
pub mod router;
pub mod routes;
pub mod seed_cli;
pub mod segment_cli;
pub mod startup;
pub mod state;
pub mod subjects_cli;
pub mod telemetry;
pub mod wake;
pub mod web;
