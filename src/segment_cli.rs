//! `erratum segment` (how an article will be split, no database) and
//! `erratum article resplit` (split stored articles again with the current
//! rules, see `app::resplit`).

use std::io::{Read, Write};
use std::path::PathBuf;

use clap::{Args, ValueEnum};

use crate::config::Settings;
use crate::domain::segment::{self, Lang};
use crate::domain::text::normalize_ws;

/// Largest input `erratum segment` reads: far above any article, and a
/// bound on memory for a wrong file.
pub const MAX_INPUT_BYTES: u64 = 16 * 1024 * 1024;

#[derive(Debug, Args)]
pub struct SegmentArgs {
    /// The article's language.
    #[arg(long, value_enum, default_value_t = crate::cli::Lang::Fr)]
    pub lang: crate::cli::Lang,
    /// How to read the input: `auto` takes HTML for a .html/.htm file or a
    /// text starting with "<", plain text (paragraphs separated by blank
    /// lines) otherwise.
    #[arg(long, value_enum, default_value_t = Format::Auto)]
    pub format: Format,
    /// The article body; standard input when absent.
    pub file: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Auto,
    Text,
    Html,
}

/// Print one sentence per line as `paragraph<TAB>sentence`. Paragraphs are
/// numbered from 1, as in the API, where paragraph 0 is the title; the
/// feedback footer is dropped, as on import.
pub fn segment(args: SegmentArgs) -> anyhow::Result<()> {
    let (input, is_html_file) = read_input(args.file.as_ref())?;
    let html = match args.format {
        Format::Html => true,
        Format::Text => false,
        Format::Auto => is_html_file || input.trim_start().starts_with('<'),
    };
    let lang = match args.lang {
        crate::cli::Lang::Fr => Lang::Fr,
        crate::cli::Lang::En => Lang::En,
    };
    let paragraphs = if html {
        segment::paragraphs_from_html(&input)
    } else {
        segment::paragraphs_from_text(&input)
    };
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for (p, paragraph) in segment::segment(paragraphs, lang).iter().enumerate() {
        for sentence in &paragraph.sentences {
            // The form sentences are stored in (build_paragraphs).
            let sentence = normalize_ws(sentence);
            if !sentence.is_empty() {
                writeln!(out, "{}\t{sentence}", p + 1)?;
            }
        }
    }
    out.flush()?;
    Ok(())
}

fn read_input(file: Option<&PathBuf>) -> anyhow::Result<(String, bool)> {
    let mut bytes = Vec::new();
    let is_html_file = match file {
        Some(path) => {
            let f = std::fs::File::open(path)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
            f.take(MAX_INPUT_BYTES + 1).read_to_end(&mut bytes)?;
            path.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| e.eq_ignore_ascii_case("html") || e.eq_ignore_ascii_case("htm"))
        }
        None => {
            std::io::stdin()
                .lock()
                .take(MAX_INPUT_BYTES + 1)
                .read_to_end(&mut bytes)?;
            false
        }
    };
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        anyhow::bail!("the input is larger than {MAX_INPUT_BYTES} bytes");
    }
    let text = String::from_utf8(bytes).map_err(|_| anyhow::anyhow!("the input is not UTF-8"))?;
    Ok((text, is_html_file))
}

/// `erratum article resplit <external_id> | --all`: one transaction per
/// article; prints what moved and every open case that could not follow its
/// sentence. Exit code 1 when an article fails (the others are still done).
pub async fn resplit(
    settings: Settings,
    external_id: Option<String>,
    all: bool,
) -> anyhow::Result<()> {
    let url = settings.database.url.clone();
    let lines = tokio::task::spawn_blocking(move || -> anyhow::Result<(Vec<String>, usize)> {
        let mut conn = crate::db::open_migrated(&url)?;
        let ids = match (external_id, all) {
            (Some(id), _) => vec![id],
            (None, _) => crate::app::resplit::outdated_articles(&mut conn)?,
        };
        let mut lines = Vec::new();
        let mut failures = 0;
        for id in ids {
            match crate::db::dialect::write_transaction(&mut conn, |c| {
                crate::app::resplit::resplit_in(c, &id)
            }) {
                Ok(r) => lines.extend(describe(&r)),
                Err(p) => {
                    failures += 1;
                    lines.push(format!("{id}: failed: {}", p.detail));
                }
            }
        }
        if lines.is_empty() {
            lines.push(format!(
                "every article is split with rules version {}",
                segment::rules_version()
            ));
        }
        Ok((lines, failures))
    })
    .await??;
    let (lines, failures) = lines;
    for line in lines {
        println!("{line}");
    }
    if failures > 0 {
        anyhow::bail!("{failures} article(s) could not be re-split");
    }
    Ok(())
}

fn describe(r: &crate::app::resplit::ResplitReport) -> Vec<String> {
    let what = match r.new_revision {
        Some(rev) => format!("revision {rev}"),
        None => "same sentences, no new revision".to_string(),
    };
    let mut lines = vec![format!(
        "{}: rules {} -> {}: {what}, {} sentences, {} open case(s) moved, {} not mapped",
        r.external_id,
        r.from_rules,
        r.to_rules,
        r.sentences,
        r.moved.len(),
        r.unmapped.len()
    )];
    for (case, why) in &r.unmapped {
        lines.push(format!("  not mapped: case {case}: {why}"));
    }
    lines
}
