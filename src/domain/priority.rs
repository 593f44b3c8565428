//! The queue's priority score, 0–100: a documented formula, computed here and
//! nowhere else (the README repeats it for the newsroom).
//!
//! ```text
//! score = severity + reach + freshness + urgency        (each capped as below)
//!   severity  0–40  the most severe category reported:
//!                   factual_error 40, misleading 40, outdated 28,
//!                   missing_context 24, translation 20, broken_link 15,
//!                   typo 10, other 5
//!   reach     0–25  10 × ln(distinct reporters)   (1 → 0, 2 → 6.9, 5 → 16.1, 12+ → 25)
//!   freshness 0–15  15 × 2^(−article age in hours / 24)  (halves every day);
//!                   0 when the sentence (or the one it replaced) already has
//!                   a published correction: the report is most likely about
//!                   an error already fixed, not a fresh one
//!   urgency   0–20  15 × the share of the time to the due time already spent
//!                   (from the first report), + 5 once the case is overdue
//!   trust     0 or 10   + 10 when a reader an editor marked as trusted
//!                   reported on the case (`TRUSTED_BONUS`; the total stays
//!                   capped at 100)
//! ```
//!
//! An editor's explicit priority (`POST /cases/{id}/priority`) replaces the
//! score. Scores are rounded to one decimal, the unit the queue sorts on.

use chrono::NaiveDateTime;

use super::report::Category;

/// Severity weight of one category.
pub fn severity(category: Category) -> f64 {
    match category {
        Category::FactualError | Category::Misleading => 40.0,
        Category::Outdated => 28.0,
        Category::MissingContext => 24.0,
        Category::Translation => 20.0,
        Category::BrokenLink => 15.0,
        Category::Typo => 10.0,
        Category::Other => 5.0,
    }
}

/// Points a case gains when a trusted reader reported on it: as much as a
/// case reported by three readers gains in reach over one, so a trusted
/// reader's report ranks with a small crowd's without overtaking a graver
/// category.
pub const TRUSTED_BONUS: f64 = 10.0;

/// What the score depends on, as of one instant.
#[derive(Debug, Clone)]
pub struct Inputs<'a> {
    pub categories: &'a [Category],
    pub reporters: i64,
    pub article_published_at: Option<NaiveDateTime>,
    pub first_reported_at: NaiveDateTime,
    pub due_at: NaiveDateTime,
    pub priority_override: Option<i32>,
    /// The sentence lineage has a published correction (`already_corrected`).
    pub already_corrected: bool,
    /// A trusted reader reported on the case.
    pub trusted: bool,
    pub now: NaiveDateTime,
}

/// The score in tenths (0–1000): the integer the queue sorts and pages on.
pub fn score_tenths(i: &Inputs) -> i64 {
    if let Some(p) = i.priority_override {
        return i64::from(p.clamp(0, 100)) * 10;
    }
    let hours = |from: NaiveDateTime, to: NaiveDateTime| (to - from).num_seconds() as f64 / 3600.0;
    let severity = i
        .categories
        .iter()
        .map(|c| severity(*c))
        .fold(0.0, f64::max);
    let reach = (10.0 * (i.reporters.max(1) as f64).ln()).min(25.0);
    let freshness = i
        .article_published_at
        .filter(|_| !i.already_corrected)
        .map(|p| 15.0 * 2f64.powf(-hours(p, i.now).max(0.0) / 24.0))
        .unwrap_or(0.0);
    let window = hours(i.first_reported_at, i.due_at).max(1.0 / 60.0);
    let spent = (hours(i.first_reported_at, i.now) / window).clamp(0.0, 1.0);
    let overdue = if i.now >= i.due_at { 5.0 } else { 0.0 };
    let urgency = 15.0 * spent + overdue;
    let trust = if i.trusted { TRUSTED_BONUS } else { 0.0 };
    let total = (severity + reach + freshness + urgency + trust).clamp(0.0, 100.0);
    (total * 10.0).round() as i64
}

/// The score as shown: one decimal.
pub fn score(i: &Inputs) -> f64 {
    score_tenths(i) as f64 / 10.0
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, NaiveDate};

    use super::*;

    fn t0() -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 10, 3)
            .unwrap()
            .and_hms_opt(12, 0, 0)
            .unwrap()
    }

    fn base(categories: &[Category]) -> Inputs<'_> {
        Inputs {
            categories,
            reporters: 1,
            article_published_at: None,
            first_reported_at: t0(),
            due_at: t0() + Duration::hours(4),
            priority_override: None,
            already_corrected: false,
            trusted: false,
            now: t0(),
        }
    }

    #[test]
    fn a_trusted_reader_adds_the_documented_bonus_within_the_cap() {
        let cats = [Category::Typo];
        let trusted = Inputs {
            trusted: true,
            ..base(&cats)
        };
        assert_eq!(score(&trusted), score(&base(&cats)) + TRUSTED_BONUS);
        let full = [Category::FactualError];
        let max = Inputs {
            reporters: 50,
            article_published_at: Some(t0()),
            now: t0() + chrono::Duration::hours(5),
            trusted: true,
            ..base(&full)
        };
        assert_eq!(score(&max), 100.0);
    }

    #[test]
    fn severity_orders_the_categories_as_documented() {
        use Category::*;
        let order = [
            FactualError,
            Outdated,
            MissingContext,
            Translation,
            BrokenLink,
            Typo,
            Other,
        ];
        for pair in order.windows(2) {
            assert!(severity(pair[0]) > severity(pair[1]), "{pair:?}");
        }
        assert_eq!(severity(Misleading), severity(FactualError));
        // A case is as severe as its most severe report.
        assert_eq!(score(&base(&[Typo, FactualError])), 40.0);
        assert_eq!(score(&base(&[])), 0.0);
    }

    #[test]
    fn reach_grows_with_the_log_of_reporters_and_is_capped() {
        let cats = [Category::Typo];
        let with = |n| {
            score(&Inputs {
                reporters: n,
                ..base(&cats)
            })
        };
        assert_eq!(with(1), 10.0);
        assert_eq!(with(2), 10.0 + 6.9);
        assert_eq!(with(5), 10.0 + 16.1);
        assert_eq!(with(1000), 35.0);
        assert!(with(3) - with(2) < with(2) - with(1), "diminishing returns");
    }

    #[test]
    fn fresh_articles_come_first_and_freshness_halves_daily() {
        let cats = [Category::Other];
        let aged = |h| {
            score(&Inputs {
                article_published_at: Some(t0() - Duration::hours(h)),
                ..base(&cats)
            })
        };
        assert_eq!(aged(0), 5.0 + 15.0);
        assert_eq!(aged(24), 5.0 + 7.5);
        assert_eq!(aged(48), 5.0 + 3.8);
        assert!(aged(24 * 30) < 5.1);
        let corrected = score(&Inputs {
            article_published_at: Some(t0()),
            already_corrected: true,
            ..base(&cats)
        });
        assert_eq!(corrected, 5.0, "no freshness once corrected");
    }

    #[test]
    fn urgency_rises_towards_the_due_time_and_jumps_when_overdue() {
        let cats = [Category::Other];
        let at = |h| {
            score(&Inputs {
                now: t0() + Duration::hours(h),
                ..base(&cats)
            })
        };
        assert_eq!(at(0), 5.0);
        assert_eq!(at(2), 5.0 + 7.5);
        assert_eq!(at(4), 5.0 + 15.0 + 5.0);
        assert_eq!(at(40), 25.0);
    }

    #[test]
    fn the_maximum_is_100_and_an_override_replaces_the_score() {
        let cats = [Category::FactualError];
        let now = t0() + Duration::minutes(1);
        let max = Inputs {
            reporters: 50,
            article_published_at: Some(now),
            due_at: t0(),
            now,
            ..base(&cats)
        };
        assert_eq!(score(&max), 100.0);
        assert_eq!(
            score(&Inputs {
                priority_override: Some(3),
                ..max.clone()
            }),
            3.0
        );
        assert_eq!(
            score_tenths(&Inputs {
                priority_override: Some(500),
                ..max
            }),
            1000
        );
    }
}
