//! How the consumers that a commit wakes (email, webhooks, the known
//! sentences, the live queue) pace themselves.
//!
//! Every commit of the instance wakes each of them, and each wake-up costs
//! a read of the events tail (on PostgreSQL, a look at `pg_stat_activity`
//! first) and of what is due. Under a stream of reports the writer commits
//! hundreds of batches a second: woken once per commit, the consumers read
//! the tail three times per batch and took about two fifths of
//! PostgreSQL's time away from the intake (2 s of 4.8 s in a 5 s run). So
//! a consumer woken again sooner than `GAP` after its last pass waits out
//! the rest of the gap, and reads everything committed meanwhile in one
//! pass. A lone commit is still read at once.

use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

/// The least time between two passes of one consumer: the most a commit
/// waits for it under load.
pub const GAP: Duration = Duration::from_millis(25);

/// Wait until `GAP` after `last_pass` started, and then for `notify`. A
/// wake-up that comes meanwhile is kept (`Notify` stores one permit), so no
/// commit is missed; and dropped before it ends (the other arm of a
/// `select!` won), this future has taken no permit.
pub async fn woken(notify: &Notify, last_pass: Instant) {
    tokio::time::sleep_until(last_pass + GAP).await;
    notify.notified().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_wake_soon_after_a_pass_waits_out_the_gap() {
        let notify = Notify::new();
        let pass = Instant::now();
        notify.notify_one();
        woken(&notify, pass).await;
        assert!(pass.elapsed() >= GAP);
    }

    #[tokio::test(start_paused = true)]
    async fn a_wait_dropped_during_the_gap_keeps_the_wake() {
        let notify = Notify::new();
        notify.notify_one();
        let dropped = tokio::time::timeout(GAP / 2, woken(&notify, Instant::now())).await;
        assert!(dropped.is_err());
        let kept = tokio::time::timeout(GAP, woken(&notify, Instant::now() - GAP)).await;
        assert!(kept.is_ok(), "the wake-up was still there");
    }

    #[tokio::test(start_paused = true)]
    async fn a_wake_long_after_a_pass_is_answered_at_once() {
        let notify = Notify::new();
        let pass = Instant::now();
        tokio::time::advance(GAP * 4).await;
        let woke = Instant::now();
        notify.notify_one();
        woken(&notify, pass).await;
        assert_eq!(woke.elapsed(), Duration::ZERO);
    }
}
