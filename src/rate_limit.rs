//! Token bucket, for per-connection frame rates and per-identity post rates. Keyed
//! limiters can share their allowance with other processes (`SharedAllowance`).

use std::collections::HashMap;
use std::fmt::Display;
use std::hash::Hash;
use std::str::FromStr;
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

    /// Tokens taken elsewhere (another process sharing this allowance): the bucket may
    /// go into debt, down to minus its burst, and refills from there.
    pub fn charge(&mut self, taken: u32) {
        self.refill();
        self.tokens = (self.tokens - f64::from(taken)).max(-self.burst);
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
    /// Shared: the tokens taken here since the last `drain`, by key.
    taken: Mutex<Option<HashMap<K, u32>>>,
}

/// A keyed allowance that several processes share: each lets requests through by its
/// own buckets, and hands over what it let through, which the others charge to theirs.
/// So the sustained rate holds over all of them; a burst split over processes can go
/// past it only by what they let through before hearing of each other.
pub trait SharedAllowance: Send + Sync {
    /// Start counting what is let through here.
    fn share(&self);
    /// What was let through here since the last call, by key.
    fn drain(&self) -> Vec<(String, u32)>;
    /// Another process let `taken` through for `key`.
    fn charge(&self, key: &str, taken: u32);
}

/// Past this many keys, full buckets are dropped before a new one is added.
const PRUNE_AT: usize = 10_000;

impl<K: Hash + Eq> KeyedLimiter<K> {
    pub fn new(rate_per_sec: f64, burst: f64) -> Self {
        KeyedLimiter {
            rate: rate_per_sec,
            burst,
            buckets: Mutex::new(HashMap::new()),
            taken: Mutex::new(None),
        }
    }

    fn buckets(&self) -> std::sync::MutexGuard<'_, HashMap<K, TokenBucket>> {
        self.buckets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn taken(&self) -> std::sync::MutexGuard<'_, Option<HashMap<K, u32>>> {
        self.taken
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn bucket<'a>(&self, buckets: &'a mut HashMap<K, TokenBucket>, key: K) -> &'a mut TokenBucket {
        if buckets.len() >= PRUNE_AT && !buckets.contains_key(&key) {
            buckets.retain(|_, b| !b.is_full());
        }
        buckets
            .entry(key)
            .or_insert_with(|| TokenBucket::new(self.rate, self.burst))
    }

    /// Take one token from `key`'s bucket if there is one.
    pub fn allow(&self, key: K) -> bool
    where
        K: Clone,
    {
        let allowed = self.bucket(&mut self.buckets(), key.clone()).try_take();
        if allowed {
            if let Some(taken) = self.taken().as_mut() {
                *taken.entry(key).or_default() += 1;
            }
        }
        allowed
    }

    /// Drop buckets that have refilled completely.
    pub fn prune(&self) {
        self.buckets().retain(|_, b| !b.is_full());
    }
}

impl<K> SharedAllowance for KeyedLimiter<K>
where
    K: Hash + Eq + Clone + Display + FromStr + Send,
{
    fn share(&self) {
        self.taken().get_or_insert_with(HashMap::new);
    }

    fn drain(&self) -> Vec<(String, u32)> {
        let Some(taken) = self.taken().as_mut().map(std::mem::take) else {
            return Vec::new();
        };
        taken.into_iter().map(|(k, n)| (k.to_string(), n)).collect()
    }

    fn charge(&self, key: &str, taken: u32) {
        if let Ok(key) = key.parse::<K>() {
            self.bucket(&mut self.buckets(), key).charge(taken);
        }
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
    fn takes_elsewhere_are_charged_and_counted_once() {
        use super::SharedAllowance;
        let l = super::KeyedLimiter::<String>::new(0.0, 3.0);
        l.share();
        assert!(l.allow("a".into()));
        assert_eq!(l.drain(), vec![("a".to_owned(), 1)]);
        assert!(l.drain().is_empty());
        // Five taken on another node: the bucket is in debt.
        l.charge("a", 5);
        assert!(!l.allow("a".into()));
        assert!(l.drain().is_empty(), "refusals are not handed over");
    }

    #[test]
    fn allows_burst_then_refuses() {
        let mut b = TokenBucket::new(0.0, 3.0);
        assert!(b.try_take() && b.try_take() && b.try_take());
        assert!(!b.try_take());
    }
}
