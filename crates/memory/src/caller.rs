//! Caller identity: `user_id` is the caller's E.164 number; the thread id namespaces it by
//! tenant (`customer_<tenant>_user_<digits>`, SPEC §7; defined beside the rows that store it).

pub use switchboard_store::repo::memory::thread_id;

/// `+` and 7–15 digits, the first not 0 (ITU-T E.164).
pub fn valid_user_id(user_id: &str) -> bool {
    let Some(digits) = user_id.strip_prefix('+') else {
        return false;
    };
    (7..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e164_numbers_are_accepted_and_everything_else_is_not() {
        for ok in ["+15551234567", "+442071838750", "+1234567"] {
            assert!(valid_user_id(ok), "{ok}");
        }
        for bad in [
            "15551234567",
            "+0551234567",
            "+1555",
            "+1555123456789012",
            "+1555-123-4567",
            "anonymous",
            "",
            "+",
        ] {
            assert!(!valid_user_id(bad), "{bad}");
        }
        assert_eq!(
            thread_id("acme", "+15551234567"),
            "customer_acme_user_15551234567"
        );
    }
}
