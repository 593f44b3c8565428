//! Domain types that parse at the boundary: handlers only ever see valid data.

pub mod actor;
pub mod anchor;
pub mod article;
pub mod editor;
pub mod email;
pub mod event;
pub mod hook;
pub mod priority;
pub mod report;
pub mod search;
pub mod segment;
mod sql;
pub mod text;
pub mod workflow;
