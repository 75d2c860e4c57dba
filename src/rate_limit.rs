//! Token bucket, for per-connection frame rates and per-identity post rates.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::Instant;

#[derive(Debug, Clone)]
pub struct TokenBucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    pub fn new(rate_per_sec: f64, burst: f64) -> Self {
        let burst = burst.max(1.0);
        TokenBucket {
            rate: rate_per_sec.max(0.0),
            burst,
            tokens: burst,
            last: Instant::now(),
        }
    }

    fn refill(&mut self) {
        let now = Instant::now();
        let earned = now.duration_since(self.last).as_secs_f64() * self.rate;
        self.tokens = (self.tokens + earned).min(self.burst);
        self.last = now;
    }

    /// Take one token if there is one.
    pub fn try_take(&mut self) -> bool {
        self.refill();
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Refilled to the brim: as good as a fresh one, so it can be forgotten.
    pub fn is_full(&mut self) -> bool {
        self.refill();
        self.tokens >= self.burst
    }
}

/// Token buckets by key (identity, IP address), created on first use. Buckets that
/// have refilled completely are as good as new and are dropped when the map grows.
#[derive(Debug)]
pub struct KeyedLimiter<K> {
    rate: f64,
    burst: f64,
    buckets: Mutex<HashMap<K, TokenBucket>>,
}

/// Past this many keys, full buckets are dropped before a new one is added.
const PRUNE_AT: usize = 10_000;

impl<K: Hash + Eq> KeyedLimiter<K> {
    pub fn new(rate_per_sec: f64, burst: f64) -> Self {
        KeyedLimiter {
            rate: rate_per_sec,
            burst,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Take one token from `key`'s bucket if there is one.
    pub fn allow(&self, key: K) -> bool {
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if buckets.len() >= PRUNE_AT && !buckets.contains_key(&key) {
            buckets.retain(|_, b| !b.is_full());
        }
        buckets
            .entry(key)
            .or_insert_with(|| TokenBucket::new(self.rate, self.burst))
            .try_take()
    }

    /// Drop buckets that have refilled completely.
    pub fn prune(&self) {
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        buckets.retain(|_, b| !b.is_full());
    }
}

#[cfg(test)]
mod tests {
    use super::TokenBucket;

    #[test]
    fn keyed_buckets_are_independent() {
        let l = super::KeyedLimiter::new(0.0, 2.0);
        assert!(l.allow("a") && l.allow("a"));
        assert!(!l.allow("a"));
        assert!(l.allow("b"));
    }

    #[test]
    fn allows_burst_then_refuses() {
        let mut b = TokenBucket::new(0.0, 3.0);
        assert!(b.try_take() && b.try_take() && b.try_take());
        assert!(!b.try_take());
    }
}
