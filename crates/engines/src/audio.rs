//! Audio decoding for speech-to-text: any supported container/codec in, 16 kHz mono
//! `f32` per channel out.
//!
//! symphonia decodes (WAV PCM 8/16/24/32-bit, float, μ-law, A-law; MP3; FLAC;
//! OGG/Vorbis) and rubato's FFT resampler converts each channel to 16 kHz. A stereo
//! call recording keeps its channels apart (agent and customer are usually one
//! channel each), so speech-to-text can attribute speakers by channel.
//!
//! Every failure is an [`AudioError`]; nothing here panics on bad input. The decoder
//! entry point is fuzzed (`fuzz/fuzz_targets/decode.rs`), and a panic inside a codec
//! is caught and reported as corrupt input as a last line of defence.

use std::io::Cursor;

use rubato::audioadapter_buffers::direct::SequentialSliceOfVecs;
use rubato::{Fft, FixedSync, Resampler};
use symphonia::core::codecs::audio::AudioDecoderOptions;
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, TrackType};
use symphonia::core::io::{MediaSourceStream, MediaSourceStreamOptions};
use symphonia::core::meta::MetadataOptions;

/// The sample rate speech-to-text models take.
pub const TARGET_RATE: u32 = 16_000;

/// More channels than this is not a call recording.
const MAX_CHANNELS: usize = 8;

/// Limits applied while decoding.
#[derive(Debug, Clone, Copy)]
pub struct DecodeLimits {
    /// Longest accepted recording, in seconds (setting `MAX_AUDIO_SECONDS`).
    pub max_seconds: f64,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        // Four hours: longer than any call a contact centre records.
        Self {
            max_seconds: 4.0 * 3600.0,
        }
    }
}

/// Decoded audio: one 16 kHz mono signal per source channel.
#[derive(Debug, Clone)]
pub struct DecodedAudio {
    /// The source's sample rate, before resampling.
    pub source_rate: u32,
    /// One vector of 16 kHz samples in [-1, 1] per source channel.
    pub channels: Vec<Vec<f32>>,
}

impl DecodedAudio {
    /// Duration in seconds.
    pub fn duration_seconds(&self) -> f64 {
        self.channels
            .first()
            .map_or(0.0, |c| c.len() as f64 / f64::from(TARGET_RATE))
    }

    /// All channels mixed down to one (the average), for single-speaker-track models.
    pub fn mixdown(&self) -> Vec<f32> {
        let n = self.channels.len().max(1) as f32;
        let len = self.channels.iter().map(Vec::len).max().unwrap_or(0);
        let mut out = vec![0.0f32; len];
        for channel in &self.channels {
            for (o, s) in out.iter_mut().zip(channel) {
                *o += s / n;
            }
        }
        out
    }
}

/// Why audio could not be decoded. `code()` is the machine-readable reason.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum AudioError {
    #[error("the audio is empty")]
    Empty,
    #[error("the audio decodes to zero samples")]
    ZeroLength,
    #[error("the audio format is not supported: {0}")]
    Unsupported(String),
    #[error("the audio is corrupt: {0}")]
    Corrupt(String),
    #[error(
        "the audio is {seconds:.0} s long; the limit is {max_seconds:.0} s (setting MAX_AUDIO_SECONDS)"
    )]
    TooLong { seconds: f64, max_seconds: f64 },
}

impl AudioError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Empty => "audio_empty",
            Self::ZeroLength => "audio_zero_length",
            Self::Unsupported(_) => "audio_unsupported",
            Self::Corrupt(_) => "audio_corrupt",
            Self::TooLong { .. } => "audio_too_long",
        }
    }
}

/// Decodes `bytes` and resamples every channel to 16 kHz.
pub fn decode(bytes: &[u8], limits: DecodeLimits) -> Result<DecodedAudio, AudioError> {
    if bytes.is_empty() {
        return Err(AudioError::Empty);
    }
    let (rate, channels) = match std::panic::catch_unwind(|| decode_native(bytes, limits)) {
        Ok(result) => result?,
        Err(_) => {
            return Err(AudioError::Corrupt(
                "the decoder failed on this input".into(),
            ));
        }
    };
    let channels = resample(channels, rate)?;
    Ok(DecodedAudio {
        source_rate: rate,
        channels,
    })
}

/// Decodes to planar `f32` at the source rate.
fn decode_native(bytes: &[u8], limits: DecodeLimits) -> Result<(u32, Vec<Vec<f32>>), AudioError> {
    let source = Cursor::new(bytes.to_vec());
    let stream = MediaSourceStream::new(Box::new(source), MediaSourceStreamOptions::default());
    let mut format = symphonia::default::get_probe()
        .probe(
            &Hint::new(),
            stream,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .map_err(|e| match e {
            SymphoniaError::Unsupported(what) => AudioError::Unsupported(what.to_string()),
            other => AudioError::Corrupt(other.to_string()),
        })?;
    let track = format
        .default_track(TrackType::Audio)
        .ok_or_else(|| AudioError::Unsupported("no audio track".into()))?;
    let track_id = track.id;
    let params = track
        .codec_params
        .as_ref()
        .and_then(|p| p.audio())
        .ok_or_else(|| AudioError::Unsupported("no audio codec parameters".into()))?
        .clone();
    let rate = params
        .sample_rate
        .filter(|r| (1_000..=384_000).contains(r))
        .ok_or_else(|| AudioError::Corrupt("missing or implausible sample rate".into()))?;
    let max_frames = (limits.max_seconds * f64::from(rate)).ceil() as u64;
    if let Some(frames) = track.num_frames
        && frames > max_frames
    {
        return Err(too_long(frames, rate, limits));
    }
    let mut decoder = symphonia::default::get_codecs()
        .make_audio_decoder(&params, &AudioDecoderOptions::default())
        .map_err(|e| AudioError::Unsupported(e.to_string()))?;

    let mut planes: Vec<Vec<f32>> = Vec::new();
    let mut scratch: Vec<Vec<f32>> = Vec::new();
    loop {
        let packet = match format.next_packet() {
            Ok(Some(packet)) => packet,
            Ok(None) => break,
            // A truncated tail ends the stream; what came before is kept.
            Err(SymphoniaError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                break;
            }
            Err(e) => return Err(AudioError::Corrupt(e.to_string())),
        };
        if packet.track_id != track_id {
            continue;
        }
        let buffer = match decoder.decode(&packet) {
            Ok(buffer) => buffer,
            // One damaged packet is skipped, as players do.
            Err(SymphoniaError::DecodeError(_)) => continue,
            Err(e) => return Err(AudioError::Corrupt(e.to_string())),
        };
        let count = buffer.spec().channels().count();
        if count == 0 || count > MAX_CHANNELS {
            return Err(AudioError::Unsupported(format!("{count} channels")));
        }
        if planes.is_empty() {
            planes = vec![Vec::new(); count];
        } else if planes.len() != count {
            return Err(AudioError::Corrupt(
                "the channel count changes mid-stream".into(),
            ));
        }
        buffer.copy_to_vecs_planar::<f32>(&mut scratch);
        for (plane, decoded) in planes.iter_mut().zip(&scratch) {
            plane.extend_from_slice(decoded);
        }
        let frames = planes[0].len() as u64;
        if frames > max_frames {
            return Err(too_long(frames, rate, limits));
        }
    }
    if planes.first().is_none_or(Vec::is_empty) {
        return Err(AudioError::ZeroLength);
    }
    for plane in &mut planes {
        for sample in plane.iter_mut() {
            if !sample.is_finite() {
                *sample = 0.0;
            }
        }
    }
    Ok((rate, planes))
}

fn too_long(frames: u64, rate: u32, limits: DecodeLimits) -> AudioError {
    AudioError::TooLong {
        seconds: frames as f64 / f64::from(rate),
        max_seconds: limits.max_seconds,
    }
}

/// Resamples each channel to [`TARGET_RATE`] with rubato's FFT resampler.
fn resample(channels: Vec<Vec<f32>>, rate: u32) -> Result<Vec<Vec<f32>>, AudioError> {
    if rate == TARGET_RATE {
        return Ok(channels);
    }
    let failed = |e: &dyn std::fmt::Display| AudioError::Corrupt(format!("resampling failed: {e}"));
    let mut resampler = Fft::<f32>::new(
        rate as usize,
        TARGET_RATE as usize,
        1024,
        1,
        FixedSync::Both,
    )
    .map_err(|e| failed(&e))?;
    channels
        .into_iter()
        .map(|channel| {
            let len = channel.len();
            let input = [channel];
            let adapter = SequentialSliceOfVecs::new(&input, 1, len).map_err(|e| failed(&e))?;
            let out = resampler
                .process_all(&adapter, len, None)
                .map_err(|e| failed(&e))?;
            Ok(out.take_data())
        })
        .collect()
}

/// A canonical 16-bit PCM mono WAV of `samples` (clamped to [-1, 1]).
/// Root-mean-square level of `samples` (full scale = 1.0); 0 for none.
pub fn rms(samples: &[f32]) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    let energy = samples.iter().map(|s| f64::from(*s).powi(2)).sum::<f64>();
    (energy / samples.len() as f64).sqrt()
}

pub fn encode_wav_pcm16(samples: &[f32], rate: u32) -> Vec<u8> {
    let pcm: Vec<i16> = samples
        .iter()
        .map(|s| (s.clamp(-1.0, 1.0) * 32767.0).round() as i16)
        .collect();
    wav_i16(rate, 1, &pcm)
}

/// A canonical 16-bit PCM WAV of `channels` interleaved channels.
pub fn wav_i16(rate: u32, channels: u16, samples: &[i16]) -> Vec<u8> {
    let data_len = (samples.len() * 2) as u32;
    let mut out = Vec::new();
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&channels.to_le_bytes());
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * u32::from(channels) * 2).to_le_bytes());
    out.extend_from_slice(&(channels * 2).to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        out.extend_from_slice(&s.to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stereo_8k_becomes_two_16k_channels() {
        // Left: a tone; right: silence. One second at 8 kHz.
        let mut samples = Vec::new();
        for i in 0..8000 {
            let tone = ((i as f32) * 440.0 * std::f32::consts::TAU / 8000.0).sin();
            samples.push((tone * 16000.0) as i16);
            samples.push(0);
        }
        let audio = decode(&wav_i16(8000, 2, &samples), DecodeLimits::default()).unwrap();
        assert_eq!(audio.source_rate, 8000);
        assert_eq!(audio.channels.len(), 2);
        assert!(
            (audio.duration_seconds() - 1.0).abs() < 0.01,
            "{}",
            audio.duration_seconds()
        );
        let energy = |c: &[f32]| c.iter().map(|s| s * s).sum::<f32>() / c.len() as f32;
        assert!(energy(&audio.channels[0]) > 0.1);
        assert!(energy(&audio.channels[1]) < 1e-6);
    }

    #[test]
    fn bad_input_is_a_typed_error() {
        let limits = DecodeLimits::default();
        assert_eq!(decode(b"", limits).unwrap_err(), AudioError::Empty);
        assert_eq!(
            decode(b"hello, this is not audio", limits)
                .unwrap_err()
                .code(),
            "audio_unsupported"
        );
        assert_eq!(
            decode(&wav_i16(16000, 1, &[]), limits).unwrap_err(),
            AudioError::ZeroLength
        );
        let mut truncated = wav_i16(16000, 1, &[1000; 1600]);
        truncated.truncate(30);
        assert!(decode(&truncated, limits).is_err());
    }

    #[test]
    fn over_limit_is_rejected() {
        let wav = wav_i16(16000, 1, &vec![0; 16000 * 3]);
        let err = decode(&wav, DecodeLimits { max_seconds: 2.0 }).unwrap_err();
        assert_eq!(err.code(), "audio_too_long");
        assert!(err.to_string().contains("MAX_AUDIO_SECONDS"));
    }
}
