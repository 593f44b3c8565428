//! Sentence segmentation speed on a 5,000-word article: the fixture article
//! plus news-style paragraphs in both languages that exercise the rules
//! (abbreviations, quotes, inline lists, ellipses, citations), repeated until
//! the body reaches 5,000 words. Prints the time per article and per
//! sentence (median of the runs), for plain text and for HTML.
//!
//!     cargo bench --bench segment
//!
//! Knob: BENCH_RUNS (default 200).

use std::time::{Duration, Instant};

use erratum::domain::segment::{self, Lang};

const FIXTURE: &str = include_str!("../tests/fixtures/article-fr-coree-du-nord.txt");

const EXTRA_FR: &[&str] = &[
    "Selon l'art. L. 121-1 du code, M. Dupont et Mme Martin (cf. p. 12) ont saisi le tribunal le 8 oct. 2024. Ils attendent une réponse… « Nous irons jusqu'au bout », a déclaré leur avocat, Me Durand. (AFP)",
    "Trois mesures sont prévues : 1) Une hausse des salaires 2) Une baisse des impôts 3) Un plan d'investissement. Le gouvernement, etc. Ensuite viendra le budget.",
    "Il hésita... puis il partit. « Je reviendrai. Tu verras. » Puis il a fermé la porte. Aux É.-U. Il n'en a jamais parlé.",
];

const EXTRA_EN: &[&str] = &[
    "Mr. Smith went to Washington at 5 p.m. on Friday. He met Sen. Jones and the U.S. Army chief. \"We will act,\" he said. (Reuters)",
    "The plan has three parts: 1. A new tax 2. A new fund 3. A review in 2026. Critics say it is too little . . . and too late. I never meant that.... She left the room.",
    "J. P. Morgan, Inc. reported earnings of $1,234.56 per share (see p. 12). Analysts at Smith et al. agree. Visit example.com/a.b for details.",
];

fn article(words: usize) -> String {
    let mut paragraphs: Vec<String> = segment::paragraphs_from_text(FIXTURE);
    let mut extra = EXTRA_FR.iter().chain(EXTRA_EN).cycle();
    let mut count: usize = paragraphs
        .iter()
        .map(|p| p.split_whitespace().count())
        .sum();
    while count < words {
        let p = extra.next().expect("cycle never ends");
        count += p.split_whitespace().count();
        paragraphs.push((*p).to_string());
    }
    paragraphs.join("\n\n")
}

fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}

fn measure(name: &str, runs: usize, words: usize, split: impl Fn() -> usize) {
    let sentences = split();
    for _ in 0..runs / 10 + 1 {
        split();
    }
    let times: Vec<Duration> = (0..runs)
        .map(|_| {
            let started = Instant::now();
            std::hint::black_box(split());
            started.elapsed()
        })
        .collect();
    let per_article = median(times);
    let per_sentence = per_article / sentences as u32;
    println!(
        "{name:<5} {words} words, {sentences} sentences: {:>8.3} ms per article, {:>6.2} µs per sentence ({runs} runs, median)",
        per_article.as_secs_f64() * 1e3,
        per_sentence.as_secs_f64() * 1e6,
    );
}

fn main() {
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let text = article(5_000);
    let words = text.split_whitespace().count();
    let html: String = text
        .split("\n\n")
        .map(|p| format!("<p>{}</p>\n", p.replace('&', "&amp;").replace('<', "&lt;")))
        .collect();
    measure("text", runs, words, || {
        segment::segment(segment::paragraphs_from_text(&text), Lang::Fr)
            .iter()
            .map(|p| p.sentences.len())
            .sum()
    });
    measure("html", runs, words, || {
        segment::segment(segment::paragraphs_from_html(&html), Lang::Fr)
            .iter()
            .map(|p| p.sentences.len())
            .sum()
    });
}
