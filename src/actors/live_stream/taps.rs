//! Reaction taps, counted where they arrive. A tap is a frame from any viewer, ten
//! thousand a second in a big crowd; a message to the LiveStream and its answer for
//! each would wake the LiveStream's thread and then the viewer's again. Instead the
//! connection adds the tap to a shared count, and the LiveStream takes the counts at
//! each flush and sends them on coalesced.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::domain::stream::{reaction, ReactionCounts, REACTIONS};
use crate::error::AppError;

#[derive(Default)]
pub struct Taps {
    /// A stream is live here (the LiveStream says when it starts and stops).
    live: AtomicBool,
    counts: [AtomicU64; REACTIONS.len()],
}

impl Taps {
    /// Count a viewer's tap, or say why not.
    pub fn tap(&self, emoji: &str) -> Result<(), AppError> {
        if !self.live.load(Ordering::Acquire) {
            return Err(super::no_stream());
        }
        let i = reaction(emoji).ok_or_else(|| {
            AppError::validation("Unknown reaction")
                .with_detail(format!("emoji must be one of {}", REACTIONS.join(" ")))
        })?;
        self.counts[i].fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// The taps since the last take.
    pub(super) fn take(&self) -> ReactionCounts {
        std::array::from_fn(|i| self.counts[i].swap(0, Ordering::Relaxed))
    }

    pub(super) fn set_live(&self, live: bool) {
        self.live.store(live, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn taps_count_only_while_live_and_only_the_allowed_set() {
        let taps = Taps::default();
        let refused = taps.tap("❤️").unwrap_err();
        assert_eq!(refused.message, "No active stream");
        taps.set_live(true);
        for _ in 0..3 {
            taps.tap("❤️").unwrap();
        }
        taps.tap("🔥").unwrap();
        assert_eq!(taps.tap("💩").unwrap_err().message, "Unknown reaction");
        assert_eq!(taps.take(), [3, 0, 0, 0, 1, 0]);
        assert_eq!(taps.take(), [0; 6], "taken once");
    }
}
