//! The spectrogram Resemblyzer's voice encoder was trained on: what
//! `librosa.feature.melspectrogram(y, sr=16000, n_fft=400, hop_length=160, n_mels=40)` returns —
//! a centred STFT (zero padding) with a periodic Hann window, power 2, and 40 Slaney mel
//! filters with Slaney normalisation. Not a log spectrogram.

use std::sync::Arc;

use realfft::{RealFftPlanner, RealToComplex};

pub const SAMPLE_RATE: usize = crate::audio::TARGET_RATE as usize;
pub const N_FFT: usize = 400;
pub const HOP: usize = 160;
pub const N_MELS: usize = 40;
pub const N_FREQS: usize = N_FFT / 2 + 1;

pub struct PowerSpectrogram {
    window: Vec<f32>,
    fft: Arc<dyn RealToComplex<f32>>,
}

impl Default for PowerSpectrogram {
    fn default() -> Self {
        let window = (0..N_FFT)
            .map(|i| {
                let phase = 2.0 * std::f64::consts::PI * i as f64 / N_FFT as f64;
                (0.5 - 0.5 * phase.cos()) as f32
            })
            .collect();
        Self {
            window,
            fft: RealFftPlanner::<f32>::new().plan_fft_forward(N_FFT),
        }
    }
}

impl PowerSpectrogram {
    /// Frames × [`N_FREQS`] power values, row-major; frame `i` is centred on sample `i * HOP`.
    pub fn frames(&self, samples: &[f32]) -> (usize, Vec<f32>) {
        let n_frames = 1 + samples.len() / HOP;
        let mut out = Vec::with_capacity(n_frames * N_FREQS);
        let mut input = vec![0.0f32; N_FFT];
        let mut spectrum = self.fft.make_output_vec();
        let mut scratch = self.fft.make_scratch_vec();
        for frame in 0..n_frames {
            // Sample index of the window's first value, with N_FFT / 2 zeros before the audio.
            let first = (frame * HOP) as isize - (N_FFT / 2) as isize;
            for (i, slot) in input.iter_mut().enumerate() {
                let at = first + i as isize;
                let sample = if at >= 0 {
                    samples.get(at as usize).copied().unwrap_or(0.0)
                } else {
                    0.0
                };
                *slot = sample * self.window[i];
            }
            // Lengths come from the plan itself, so processing cannot fail.
            let _ = self
                .fft
                .process_with_scratch(&mut input, &mut spectrum, &mut scratch);
            out.extend(spectrum.iter().map(|c| c.norm_sqr()));
        }
        (n_frames, out)
    }
}

/// The mel filter bank, [`N_MELS`] × [`N_FREQS`] row-major (librosa's `filters.mel` with
/// `htk=False, norm="slaney"`).
pub fn mel_filters() -> Vec<f32> {
    let f_max = SAMPLE_RATE as f64 / 2.0;
    let mel_points: Vec<f64> = (0..N_MELS + 2)
        .map(|i| mel_to_hz(hz_to_mel(f_max) * i as f64 / (N_MELS + 1) as f64))
        .collect();
    let fft_freqs: Vec<f64> = (0..N_FREQS)
        .map(|i| f_max * i as f64 / (N_FREQS - 1) as f64)
        .collect();
    let mut weights = Vec::with_capacity(N_MELS * N_FREQS);
    for m in 0..N_MELS {
        let (lo, mid, hi) = (mel_points[m], mel_points[m + 1], mel_points[m + 2]);
        let norm = 2.0 / (hi - lo);
        for &f in &fft_freqs {
            let rising = (f - lo) / (mid - lo);
            let falling = (hi - f) / (hi - mid);
            weights.push((rising.min(falling).max(0.0) * norm) as f32);
        }
    }
    weights
}

const F_SP: f64 = 200.0 / 3.0;
const MIN_LOG_HZ: f64 = 1000.0;
const MIN_LOG_MEL: f64 = MIN_LOG_HZ / F_SP;

fn log_step() -> f64 {
    6.4f64.ln() / 27.0
}

fn hz_to_mel(hz: f64) -> f64 {
    if hz >= MIN_LOG_HZ {
        MIN_LOG_MEL + (hz / MIN_LOG_HZ).ln() / log_step()
    } else {
        hz / F_SP
    }
}

fn mel_to_hz(mel: f64) -> f64 {
    if mel >= MIN_LOG_MEL {
        MIN_LOG_HZ * (log_step() * (mel - MIN_LOG_MEL)).exp()
    } else {
        mel * F_SP
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slaney_scale_round_trips_and_matches_librosa() {
        for hz in [0.0, 440.0, 1000.0, 3000.0, 8000.0] {
            assert!((mel_to_hz(hz_to_mel(hz)) - hz).abs() < 1e-6);
        }
        // librosa.hz_to_mel(8000) == 45.245640471924965
        assert!((hz_to_mel(8000.0) - 45.245_640_471_924_965).abs() < 1e-9);
    }

    #[test]
    fn filters_cover_the_band_with_unit_area_in_hz() {
        let filters = mel_filters();
        assert_eq!(filters.len(), N_MELS * N_FREQS);
        let bin_hz = SAMPLE_RATE as f32 / N_FFT as f32;
        for m in 0..N_MELS {
            let row = &filters[m * N_FREQS..(m + 1) * N_FREQS];
            assert!(row.iter().all(|w| *w >= 0.0));
            // Slaney normalisation: each triangle has area ~1 over frequency.
            let area: f32 = row.iter().sum::<f32>() * bin_hz;
            assert!((0.5..1.5).contains(&area), "filter {m}: area {area}");
        }
    }

    #[test]
    fn a_tone_peaks_in_its_frequency_bin() {
        let tone: Vec<f32> = (0..SAMPLE_RATE)
            .map(|i| (2.0 * std::f32::consts::PI * 1000.0 * i as f32 / SAMPLE_RATE as f32).sin())
            .collect();
        let (n, power) = PowerSpectrogram::default().frames(&tone);
        assert_eq!(n, 1 + SAMPLE_RATE / HOP);
        let frame = &power[50 * N_FREQS..51 * N_FREQS];
        let peak = (0..N_FREQS)
            .max_by(|a, b| frame[*a].total_cmp(&frame[*b]))
            .unwrap();
        // 1000 Hz / (16000 / 400) Hz per bin = bin 25.
        assert_eq!(peak, 25);
    }
}
