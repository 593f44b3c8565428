//! Domain types that parse at the boundary: handlers only ever see valid data.

pub mod anchor;
pub mod article;
pub mod editor;
pub mod priority;
pub mod report;
pub mod search;
pub mod segment;
pub mod text;
pub mod workflow;
