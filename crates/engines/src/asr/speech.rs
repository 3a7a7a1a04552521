//! A channel without its long silences, and the way back to the channel's own times.
//!
//! Each channel of a stereo call is silent while the other party talks, often half the call.
//! whisper's encoder pays for every 30 s window whether it holds speech or not, and a remote
//! engine is sent every byte, so each channel is transcribed with silences of
//! [`MIN_CUT_MS`] or more cut down to [`PAD_MS`] of quiet either side, and the utterances'
//! times are mapped back. The thresholds follow faster-whisper's VAD defaults
//! (`min_silence_duration_ms` 2000, `speech_pad_ms` 400); "silent" is the same −50 dBFS as
//! [`super::is_silent`], per 20 ms frame.

use std::borrow::Cow;

use super::{FRAME, Utterance, is_silent};
use crate::audio::TARGET_RATE;
/// Silences at least this long are cut.
const MIN_CUT_MS: usize = 2000;
/// Quiet kept either side of a cut.
const PAD_MS: usize = 400;

fn samples_of(ms: usize) -> usize {
    ms * TARGET_RATE as usize / 1000
}

/// A stretch of the original channel, and where it starts in the cut one.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Kept {
    /// Start in the cut channel (samples).
    at: usize,
    /// Start in the original channel (samples).
    from: usize,
    len: usize,
}

/// A channel with its long silences cut.
pub struct Speech<'a> {
    samples: Cow<'a, [f32]>,
    kept: Vec<Kept>,
}

impl<'a> Speech<'a> {
    /// Cuts the silences of `samples`; borrows them when there is nothing to cut.
    pub fn of(samples: &'a [f32]) -> Self {
        let kept = kept_stretches(samples);
        let whole = [Kept {
            at: 0,
            from: 0,
            len: samples.len(),
        }];
        if kept == whole {
            return Self {
                samples: Cow::Borrowed(samples),
                kept: whole.to_vec(),
            };
        }
        let mut cut = Vec::with_capacity(kept.iter().map(|k| k.len).sum());
        for k in &kept {
            cut.extend_from_slice(&samples[k.from..k.from + k.len]);
        }
        Self {
            samples: Cow::Owned(cut),
            kept,
        }
    }

    /// The samples to transcribe.
    pub fn samples(&self) -> &[f32] {
        &self.samples
    }

    /// Where [`Self::samples`] joins stretches that a cut silence kept apart (ms). An engine
    /// that times words can end an utterance there: on either side of a cut the speaker paused
    /// for 2 s or more.
    pub fn cuts_ms(&self) -> Vec<u64> {
        let rate = u64::from(TARGET_RATE);
        self.kept
            .iter()
            .skip(1)
            .map(|k| k.at as u64 * 1000 / rate)
            .collect()
    }

    /// Moves an utterance timed on [`Self::samples`] to the original channel's times, inside
    /// the one stretch it overlaps most. whisper's segment times are rough at a cut: a segment
    /// often ends where the next one starts, or starts in the quiet before its words, and a cut
    /// stands for a silence of 2 s or more that the utterance did not fill.
    pub fn restore(&self, utterance: &mut Utterance) {
        let rate = u64::from(TARGET_RATE);
        let at = |ms: u64| (ms * rate / 1000) as usize;
        let to_ms = |sample: usize| sample as u64 * 1000 / rate;
        let (start, end) = (
            at(utterance.start_ms),
            at(utterance.end_ms).max(at(utterance.start_ms)),
        );
        let overlap = |k: &Kept| end.min(k.at + k.len).saturating_sub(start.max(k.at));
        let most = self.kept.iter().map(overlap).max().unwrap_or(0);
        let chosen = if most > 0 {
            self.kept.iter().find(|k| overlap(k) == most)
        } else {
            // A zero-length utterance, or one past the end: the stretch it starts in.
            self.kept.iter().rev().find(|k| k.at <= start)
        };
        let Some(&k) = chosen else {
            return;
        };
        let original = |sample: usize| k.from + sample.clamp(k.at, k.at + k.len) - k.at;
        utterance.start_ms = to_ms(original(start));
        utterance.end_ms = to_ms(original(end));
    }
}

/// The stretches to keep: every frame with sound and the quiet around it, except that a
/// silence of [`MIN_CUT_MS`] or more — between sounds or at either end — keeps only [`PAD_MS`]
/// next to each sound. None when the channel has no sound.
fn kept_stretches(samples: &[f32]) -> Vec<Kept> {
    let loud: Vec<usize> = samples
        .chunks(FRAME)
        .enumerate()
        .filter(|(_, frame)| !is_silent(frame))
        .map(|(i, _)| i * FRAME)
        .collect();
    let (min_cut, pad) = (samples_of(MIN_CUT_MS), samples_of(PAD_MS));
    // Runs of sound whose gaps are shorter than a cut: [start, end) in samples.
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for start in loud {
        let end = (start + FRAME).min(samples.len());
        match runs.last_mut() {
            Some(run) if start - run.1 < min_cut => run.1 = end,
            _ => runs.push((start, end)),
        }
    }
    let mut kept: Vec<Kept> = Vec::new();
    let mut at = 0;
    for (start, end) in runs {
        // Quiet at either end of the channel is cut like a silence between sounds.
        let from = if start < min_cut { 0 } else { start - pad };
        let to = if samples.len() - end < min_cut {
            samples.len()
        } else {
            end + pad
        };
        match kept.last_mut() {
            // Padding can only meet when a cut is shorter than two pads; join them.
            Some(last) if last.from + last.len >= from => {
                let grown = to - last.from;
                at += grown - last.len;
                last.len = grown;
            }
            _ => {
                kept.push(Kept {
                    at,
                    from,
                    len: to - from,
                });
                at += to - from;
            }
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(seconds: f32) -> Vec<f32> {
        let n = (seconds * TARGET_RATE as f32) as usize;
        (0..n).map(|i| (i as f32 * 0.05).sin() * 0.3).collect()
    }

    fn quiet(seconds: f32) -> Vec<f32> {
        vec![0.0; (seconds * TARGET_RATE as f32) as usize]
    }

    fn utterance(start_ms: u64, end_ms: u64) -> Utterance {
        Utterance {
            channel: 0,
            start_ms,
            end_ms,
            text: "x".into(),
            confidence: 1.0,
        }
    }

    #[test]
    fn long_silences_shrink_to_the_padding_and_times_map_back() {
        // 1 s sound, 5 s quiet, 1 s sound, 3 s quiet.
        let channel = [tone(1.0), quiet(5.0), tone(1.0), quiet(3.0)].concat();
        let speech = Speech::of(&channel);
        // 1 s + 0.4 s | 0.4 s + 1 s + 0.4 s.
        assert_eq!(speech.samples().len(), samples_of(3200));
        assert!(matches!(speech.samples, Cow::Owned(_)));
        assert_eq!(speech.cuts_ms(), [1400]);

        let mut first = utterance(100, 900);
        speech.restore(&mut first);
        assert_eq!((first.start_ms, first.end_ms), (100, 900));
        // The second sound starts at 1.8 s in the cut channel, at 6 s in the original.
        let mut second = utterance(1800, 2800);
        speech.restore(&mut second);
        assert_eq!((second.start_ms, second.end_ms), (6000, 7000));
        // An utterance stays inside the stretch it overlaps most: one that starts early, in the
        // quiet before the cut (1.4 s), and one whose end runs on past it.
        let mut starts_early = utterance(1200, 2800);
        speech.restore(&mut starts_early);
        assert_eq!((starts_early.start_ms, starts_early.end_ms), (5600, 7000));
        let mut ends_late = utterance(500, 2000);
        speech.restore(&mut ends_late);
        assert_eq!((ends_late.start_ms, ends_late.end_ms), (500, 1400));
        // A start on the cut goes after it.
        let mut on_cut = utterance(1400, 1400);
        speech.restore(&mut on_cut);
        assert_eq!((on_cut.start_ms, on_cut.end_ms), (5600, 5600));
        // Past the end of the cut channel: the end of the original's last kept stretch.
        let mut beyond = utterance(3000, 9000);
        speech.restore(&mut beyond);
        assert_eq!((beyond.start_ms, beyond.end_ms), (7200, 7400));
    }

    #[test]
    fn short_silences_are_kept_and_nothing_is_copied() {
        let channel = [quiet(1.5), tone(1.0), quiet(1.9), tone(1.0), quiet(0.3)].concat();
        let speech = Speech::of(&channel);
        assert!(matches!(speech.samples, Cow::Borrowed(_)));
        assert!(speech.cuts_ms().is_empty());
        let mut u = utterance(1500, 4400);
        speech.restore(&mut u);
        assert_eq!((u.start_ms, u.end_ms), (1500, 4400));
    }

    #[test]
    fn a_silent_channel_keeps_nothing() {
        let channel = quiet(4.0);
        let speech = Speech::of(&channel);
        assert!(speech.samples().is_empty());
        let mut u = utterance(0, 1000);
        speech.restore(&mut u);
        assert_eq!((u.start_ms, u.end_ms), (0, 1000));
    }
}
