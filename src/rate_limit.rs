//! Token bucket, for per-connection frame rates and per-identity post rates.

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

#[cfg(test)]
mod tests {
    use super::TokenBucket;

    #[test]
    fn allows_burst_then_refuses() {
        let mut b = TokenBucket::new(0.0, 3.0);
        assert!(b.try_take() && b.try_take() && b.try_take());
        assert!(!b.try_take());
    }
}
