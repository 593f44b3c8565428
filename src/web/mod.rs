//! The HTML side of Erratum, in two parts that share nothing but this
//! module: `public` (what readers' browsers load: the widget, the demo and
//! article pages, the status page, the corrections log, the unsubscribe
//! pages) and `editor` (the newsroom's review interface under `/editor/`).
//! Both render minijinja templates compiled into the binary, HTML-escaping
//! every value, and call the use cases (`app`) only.

pub mod charts;
pub mod editor;
pub mod public;

/// The Content-Security-Policy of every page: this origin's own files only,
/// no inline script or style, no framing, forms posting only here. The
/// widget is written to work under it, so the demo page proves that a
/// newsroom can embed it under the same.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; \
     form-action 'self'";
