//! Domain types that parse at the boundary: handlers only ever see valid data.

pub mod actor;
pub mod anchor;
pub mod article;
pub mod case_ref;
pub mod dates;
pub mod editor;
pub mod email;
pub mod event;
pub mod fragment;
pub mod hook;
pub mod locale;
pub mod memory;
pub mod priority;
pub mod reader;
pub mod report;
pub mod search;
pub mod segment;
pub mod similar;
mod sql;
pub mod subject;
pub mod text;
pub mod time_zone;
pub mod utc;
pub mod word_diff;
pub mod workflow;
