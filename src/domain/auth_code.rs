//! Onboarding auth codes (seed 003): six random digits, stored only as a hash with a
//! server secret mixed in, single use, a few attempts.

use sha2::{Digest, Sha256};

/// Wrong guesses against a person's live codes before they lock.
pub const MAX_ATTEMPTS: i32 = 5;

/// A fresh code, uniformly from 000000 to 999999.
pub fn new_code() -> String {
    format!("{:06}", rand::random_range(0..1_000_000u32))
}

/// What is stored instead of the code. The pepper keeps a leaked table from being
/// brute-forced offline (a million codes would take no time otherwise).
pub fn hash(pepper: &str, code: &str) -> String {
    hex::encode(Sha256::digest(format!("{pepper}:{}", code.trim())))
}

/// Why a code was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Invalid,
    Expired,
    Used,
    TooManyAttempts,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_digits_and_hashed_with_the_pepper() {
        for _ in 0..100 {
            let c = new_code();
            assert_eq!(c.len(), 6);
            assert!(c.bytes().all(|b| b.is_ascii_digit()));
        }
        assert_eq!(hash("p", "123456"), hash("p", " 123456 "));
        assert_ne!(hash("p", "123456"), hash("q", "123456"));
    }
}
