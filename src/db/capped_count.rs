//! `SELECT COUNT(*) FROM (<query> LIMIT n)`: a count that stops at `n`.
//!
//! A count of every matching row costs as much as the rows, and the queue
//! page's per-status counts would then grow with the history (330 ms at a
//! million reports, nearly all of the page). Counting up to a cap walks at
//! most `n` index entries; above it the page says "10,000+". Diesel has no
//! count over a subquery, so this wraps any query as one.

use diesel::backend::Backend;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::BigInt;
use diesel::{QueryResult, RunQueryDsl};

/// The rows of `inner` (already limited), counted.
#[derive(Debug, Clone)]
pub struct CountOf<Q>(pub Q);

impl<Q> Query for CountOf<Q> {
    type SqlType = BigInt;
}

impl<Q> QueryId for CountOf<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q, DB> QueryFragment<DB> for CountOf<Q>
where
    DB: Backend,
    Q: QueryFragment<DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("SELECT COUNT(*) FROM (");
        self.0.walk_ast(out.reborrow())?;
        out.push_sql(") capped");
        Ok(())
    }
}

impl<Q, Conn> RunQueryDsl<Conn> for CountOf<Q> {}

/// A count that may have stopped at its cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Capped {
    pub n: i64,
    /// True when there are more than `n`.
    pub more: bool,
}

impl Capped {
    /// From the count of a query limited to `cap + 1` rows.
    pub fn of(counted: i64, cap: i64) -> Capped {
        Capped {
            n: counted.min(cap),
            more: counted > cap,
        }
    }

    /// The sum of several counts (more when any is).
    pub fn sum<'a>(parts: impl IntoIterator<Item = &'a Capped>) -> Capped {
        parts
            .into_iter()
            .fold(Capped { n: 0, more: false }, |a, b| Capped {
                n: a.n + b.n,
                more: a.more || b.more,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_count_past_its_cap_says_so_and_sums_keep_it() {
        assert_eq!(Capped::of(5, 10), Capped { n: 5, more: false });
        assert_eq!(Capped::of(10, 10), Capped { n: 10, more: false });
        assert_eq!(Capped::of(11, 10), Capped { n: 10, more: true });
        let parts = [Capped::of(3, 10), Capped::of(11, 10)];
        assert_eq!(Capped::sum(&parts), Capped { n: 13, more: true });
        assert_eq!(Capped::sum(&parts[..1]), Capped { n: 3, more: false });
    }
}
