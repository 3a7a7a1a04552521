//! The audio decoder entry point never panics: any bytes give audio or a typed error.
//! Run: `cargo +nightly fuzz run decode -- -max_total_time=60` (from the repository root).
#![no_main]

use libfuzzer_sys::fuzz_target;
use switchboard_engines::audio::{DecodeLimits, decode};

fuzz_target!(|data: &[u8]| {
    // A short limit keeps each run fast; over-limit input is a typed error too.
    let _ = decode(data, DecodeLimits { max_seconds: 30.0 });
});
