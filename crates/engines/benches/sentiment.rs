//! Benchmark: sentiment utterances per second on one core.
//!
//!   cargo bench -p switchboard-engines --bench sentiment

use std::time::Instant;

use switchboard_engines::{SentimentEngine, VaderSentiment};

const UTTERANCES: &[&str] = &[
    "Thank you for calling Acme Insurance, this is Ana, how may I help you?",
    "Hi, I would like to change the address on my policy.",
    "Sure, I can help with that. Can you confirm your date of birth?",
    "This is the third time I'm calling and nobody has fixed it, I'm really frustrated.",
    "I'm so sorry about that, I completely understand. Let me sort it out right now.",
    "Okay. That's great, thank you so much, you've been really helpful!",
    "Is there anything else I can help you with today?",
    "No, that's all. Have a good day.",
];

fn main() {
    let engine = VaderSentiment::new();
    let rounds = 5_000;
    let mut total = 0.0;
    let started = Instant::now();
    for _ in 0..rounds {
        for text in UTTERANCES {
            total += engine.score(text).score;
        }
    }
    let elapsed = started.elapsed();
    let count = rounds * UTTERANCES.len();
    println!(
        "| VADER + courtesy adjustment | {count} utterances (avg {} chars) | {:.2} s | {:.0} utterances/s | checksum {total:.3} |",
        UTTERANCES.iter().map(|u| u.len()).sum::<usize>() / UTTERANCES.len(),
        elapsed.as_secs_f64(),
        count as f64 / elapsed.as_secs_f64()
    );
}
