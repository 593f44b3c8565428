//! Pages for browsers. `editor`: the newsroom's review interface under
//! `/editor/`.

pub mod editor;
