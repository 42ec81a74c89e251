//! When each feed is due: its cron schedule shifted by a stable per-feed offset, server hints
//! (`<ttl>`, Cache-Control, Expires, Retry-After, capped), error backoff with jitter.
//! Pure functions over times; the daemon loop acts on what they decide. `host_queue` holds
//! the work waiting per host, started within the per-host limit and in turn across hosts.

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;
use croner::Cron;

use crate::model::UnixTime;

pub mod host_queue;

/// A parsed cron expression and the time zone it is read in.
#[derive(Debug, Clone)]
pub struct Schedule {
    cron: Cron,
    tz: Tz,
    expression: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    #[error("`{expression}` is not a cron expression: {reason}")]
    Cron { expression: String, reason: String },
    #[error("`{0}` is not an IANA time zone (for example \"UTC\" or \"Europe/Berlin\")")]
    TimeZone(String),
    #[error("`{0}` never fires")]
    Never(String),
}

impl Schedule {
    /// Parses a crontab line: five fields (optional sixth for seconds first), `@hourly`-style
    /// aliases, and an optional `TZ=Area/City ` prefix overriding `default_tz`.
    pub fn parse(expression: &str, default_tz: &str) -> Result<Schedule, ScheduleError> {
        let trimmed = expression.trim();
        let (tz_name, pattern) = match trimmed.split_once(char::is_whitespace) {
            Some((head, rest)) if head.starts_with("TZ=") || head.starts_with("CRON_TZ=") => (
                head.split_once('=').map(|(_, tz)| tz).unwrap_or(default_tz),
                rest.trim(),
            ),
            _ => (default_tz, trimmed),
        };
        let tz = Tz::from_str(tz_name).map_err(|_| ScheduleError::TimeZone(tz_name.to_string()))?;
        let cron = Cron::from_str(pattern).map_err(|e| ScheduleError::Cron {
            expression: expression.to_string(),
            reason: e.to_string(),
        })?;
        let schedule = Schedule {
            cron,
            tz,
            expression: expression.to_string(),
        };
        // A pattern like "0 0 30 2 *" parses but never fires.
        if schedule.next_after(Utc::now()).is_none() {
            return Err(ScheduleError::Never(expression.to_string()));
        }
        Ok(schedule)
    }

    pub fn expression(&self) -> &str {
        &self.expression
    }

    /// A description for people, e.g. "Every 15 minutes".
    pub fn describe(&self) -> String {
        self.cron.describe()
    }

    /// The first firing strictly after `t`.
    pub fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let local = t.with_timezone(&self.tz);
        self.cron
            .find_next_occurrence(&local, false)
            .ok()
            .map(|next| next.with_timezone(&Utc))
    }

    /// The typical gap between two firings (measured over the next two), at least a second.
    pub fn period(&self, now: DateTime<Utc>) -> Duration {
        let first = self.next_after(now);
        let second = first.and_then(|f| self.next_after(f));
        match (first, second) {
            (Some(a), Some(b)) => (b - a)
                .to_std()
                .unwrap_or(Duration::from_secs(1))
                .max(Duration::from_secs(1)),
            _ => Duration::from_secs(3600),
        }
    }

    /// A feed's first slot strictly after `t`: the schedule shifted by the feed's stable
    /// offset, so feeds sharing a schedule do not all fire in the same second.
    pub fn slot_after(&self, t: DateTime<Utc>, offset_key: &str) -> DateTime<Utc> {
        let offset = stable_offset(offset_key, self.period(t));
        let offset = chrono::Duration::from_std(offset).unwrap_or_default();
        // Find the firing f with f + offset > t.
        self.next_after(t - offset)
            .map(|fire| fire + offset)
            .unwrap_or(t + chrono::Duration::hours(1))
    }

    /// When a feed polled at `polled_at` is polled next: a poll stands for the slot nearest to
    /// it, so its next poll is the slot after that one. A poll on its slot (or a little late)
    /// is followed by the next slot; a poll made less than half a period before a slot (a
    /// feed polled at once when it is imported, added or the daemon starts) stands for that
    /// slot, and the feed waits for the one after it instead of being polled again seconds
    /// later (issue 16). Two polls of a feed are never less than half a period apart.
    pub fn next_poll(&self, polled_at: DateTime<Utc>, offset_key: &str) -> DateTime<Utc> {
        let slot = self.slot_after(polled_at, offset_key);
        let following = self.slot_after(slot, offset_key);
        if (slot - polled_at) * 2 < following - slot {
            following
        } else {
            slot
        }
    }
}

/// A stable offset in `[0, min(period, 1 h))` derived from the key (the feed URL).
pub fn stable_offset(key: &str, period: Duration) -> Duration {
    let span = period.min(Duration::from_secs(3600)).as_secs().max(1);
    let hash = xxhash_rust::xxh3::xxh3_64(key.as_bytes());
    Duration::from_secs(hash % span)
}

/// What the server said about when to come back.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ServerHints {
    /// Cache-Control max-age, or Expires minus now.
    pub fresh_for: Option<Duration>,
    /// Retry-After (on 429/503, or with any answer).
    pub retry_after: Option<Duration>,
    /// RSS `<ttl>`.
    pub ttl: Option<Duration>,
}

impl ServerHints {
    /// The longest wait any hint asks for, capped at `max_hint`.
    pub fn wait(&self, max_hint: Duration) -> Option<Duration> {
        [self.fresh_for, self.retry_after, self.ttl]
            .into_iter()
            .flatten()
            .max()
            .map(|d| d.min(max_hint))
    }
}

/// The inputs to the next-poll decision.
#[derive(Debug, Clone, Copy)]
pub struct PollPlan<'a> {
    pub schedule: &'a Schedule,
    pub offset_key: &'a str,
    pub hints: ServerHints,
    pub max_hint: Duration,
    /// Consecutive errors including this poll's (0 after a success).
    pub consecutive_errors: u32,
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// The server asked us to slow down (429/503) without counting as an error.
    pub slow_down: bool,
}

/// When to poll next: never sooner than the schedule, the server's hint (capped) or the
/// error backoff allows.
pub fn next_poll_at(now: DateTime<Utc>, plan: &PollPlan) -> UnixTime {
    let mut next = plan.schedule.next_poll(now, plan.offset_key);
    if let Some(wait) = plan.hints.wait(plan.max_hint) {
        next = next.max(now + chrono::Duration::from_std(wait).unwrap_or_default());
    }
    if plan.slow_down && plan.hints.retry_after.is_none() {
        // Slow down without a Retry-After: skip one whole period.
        let period = plan.schedule.period(now).min(plan.max_hint);
        next = next.max(now + chrono::Duration::from_std(period * 2).unwrap_or_default());
    }
    if plan.consecutive_errors > 0 {
        let backoff = error_backoff(plan.consecutive_errors, plan.backoff_base, plan.backoff_max);
        next = next.max(now + chrono::Duration::from_std(backoff).unwrap_or_default());
    }
    next.timestamp()
}

/// Exponential backoff for the n-th consecutive error (n ≥ 1): base·2^(n−1), capped, with up
/// to 20% random jitter so failing feeds do not retry in lockstep.
pub fn error_backoff(errors: u32, base: Duration, max: Duration) -> Duration {
    let exp = errors.saturating_sub(1).min(30);
    let raw = base.saturating_mul(1u32 << exp).min(max);
    let jitter = raw.mul_f64(fastrand::f64() * 0.2);
    (raw + jitter).min(max)
}

/// Converts a Unix time to a UTC date-time (the epoch for out-of-range values).
pub fn to_datetime(t: UnixTime) -> DateTime<Utc> {
    Utc.timestamp_opt(t, 0).single().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn crontab_dialect() {
        let s = Schedule::parse("*/15 * * * *", "UTC").unwrap();
        assert_eq!(
            s.next_after(at("2026-01-01T00:00:30Z")),
            Some(at("2026-01-01T00:15:00Z"))
        );
        let s = Schedule::parse("@hourly", "UTC").unwrap();
        assert_eq!(
            s.next_after(at("2026-01-01T00:00:30Z")),
            Some(at("2026-01-01T01:00:00Z"))
        );
        // Weekday 1 is Monday (POSIX); 2026-01-01 is a Thursday.
        let s = Schedule::parse("0 9 * * 1", "UTC").unwrap();
        assert_eq!(
            s.next_after(at("2026-01-01T00:00:00Z")),
            Some(at("2026-01-05T09:00:00Z"))
        );
        // Optional seconds field.
        let s = Schedule::parse("30 0 * * * *", "UTC").unwrap();
        assert_eq!(
            s.next_after(at("2026-01-01T00:00:00Z")),
            Some(at("2026-01-01T00:00:30Z"))
        );
    }

    #[test]
    fn time_zone_and_dst() {
        let s = Schedule::parse("0 9 * * *", "Europe/Berlin").unwrap();
        assert_eq!(
            s.next_after(at("2026-03-28T12:00:00Z")),
            Some(at("2026-03-29T07:00:00Z"))
        );
        let s = Schedule::parse("TZ=America/New_York 0 9 * * *", "UTC").unwrap();
        assert_eq!(
            s.next_after(at("2026-01-01T00:00:00Z")),
            Some(at("2026-01-01T14:00:00Z"))
        );
        // A run in the DST gap fires at the next valid minute rather than being skipped.
        let s = Schedule::parse("30 2 * * *", "Europe/Berlin").unwrap();
        assert_eq!(
            s.next_after(at("2026-03-29T00:00:00Z")),
            Some(at("2026-03-29T01:00:00Z"))
        );
    }

    #[test]
    fn errors_are_clear() {
        assert!(
            Schedule::parse("61 * * * *", "UTC")
                .unwrap_err()
                .to_string()
                .contains("61 * * * *")
        );
        assert!(
            Schedule::parse("* * * * *", "Mars/Olympus")
                .unwrap_err()
                .to_string()
                .contains("Mars/Olympus")
        );
    }

    #[test]
    fn offsets_spread_feeds_but_stay_stable() {
        let s = Schedule::parse("*/15 * * * *", "UTC").unwrap();
        let now = at("2026-01-01T00:00:00Z");
        let a = s.slot_after(now, "https://a.example/feed");
        assert_eq!(a, s.slot_after(now, "https://a.example/feed"));
        let distinct: std::collections::HashSet<_> = (0..50)
            .map(|i| s.slot_after(now, &format!("https://h{i}.example/feed")))
            .collect();
        assert!(distinct.len() > 40, "{}", distinct.len());
        for t in distinct {
            assert!(t > now && t <= now + chrono::Duration::minutes(15));
        }
        // Polled once per period: the next poll after a poll is one period later.
        assert_eq!(
            s.next_poll(a, "https://a.example/feed"),
            a + chrono::Duration::minutes(15)
        );
    }

    #[test]
    fn issue_16_a_feed_polled_off_its_slot_is_not_polled_again_seconds_later() {
        let s = Schedule::parse("*/15 * * * *", "UTC").unwrap();
        let key = "https://a.example/feed";
        let start = at("2026-01-01T00:00:00Z");
        let slot = s.slot_after(start, key);
        let period = chrono::Duration::minutes(15);
        // On its slot, or late by less than half a period: the next slot.
        assert_eq!(s.next_poll(slot, key), slot + period);
        assert_eq!(
            s.next_poll(slot + chrono::Duration::minutes(7), key),
            slot + period
        );
        // Seconds before its slot (imported, added, or polled at start): the slot after.
        assert_eq!(
            s.next_poll(slot - chrono::Duration::seconds(3), key),
            slot + period
        );
        // Whenever a feed is first polled, its second poll comes at least half a period and
        // at most one and a half periods later, on one of its slots.
        for i in 0..200 {
            let key = format!("https://h{i}.example/feed");
            let polled = start + chrono::Duration::seconds(i * 97 % 3600);
            let next = s.next_poll(polled, &key);
            assert!(next - polled >= period / 2, "{key} at {polled}: {next}");
            assert!(next - polled <= period * 3 / 2, "{key} at {polled}: {next}");
            assert_eq!(
                s.slot_after(next - chrono::Duration::seconds(1), &key),
                next
            );
        }
    }

    fn plan<'a>(s: &'a Schedule, hints: ServerHints, errors: u32, slow_down: bool) -> PollPlan<'a> {
        PollPlan {
            schedule: s,
            offset_key: "k",
            hints,
            max_hint: Duration::from_secs(24 * 3600),
            consecutive_errors: errors,
            backoff_base: Duration::from_secs(300),
            backoff_max: Duration::from_secs(12 * 3600),
            slow_down,
        }
    }

    #[test]
    fn hints_delay_but_are_capped() {
        let s = Schedule::parse("*/15 * * * *", "UTC").unwrap();
        let now = at("2026-01-01T00:00:00Z");
        let hints = ServerHints {
            retry_after: Some(Duration::from_secs(7200)),
            ..Default::default()
        };
        assert!(
            next_poll_at(now, &plan(&s, hints, 0, true))
                >= (now + chrono::Duration::hours(2)).timestamp()
        );
        let week = ServerHints {
            ttl: Some(Duration::from_secs(7 * 86400)),
            ..Default::default()
        };
        assert_eq!(
            next_poll_at(now, &plan(&s, week, 0, false)),
            (now + chrono::Duration::hours(24)).timestamp()
        );
    }

    #[test]
    fn backoff_doubles_and_caps() {
        let base = Duration::from_secs(300);
        let max = Duration::from_secs(3600);
        let first = error_backoff(1, base, max);
        assert!(first >= base && first <= base.mul_f64(1.2));
        let third = error_backoff(3, base, max);
        assert!(third >= base * 4);
        assert_eq!(error_backoff(20, base, max), max);
    }
}
