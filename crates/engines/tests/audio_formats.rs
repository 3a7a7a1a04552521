//! Every supported container and codec decodes to the same 16 kHz signal length.
//! Sources are made with espeak-ng, sox and lame (Debian packages).

mod support;

use switchboard_engines::audio::{DecodeLimits, decode};

#[test]
fn every_format_decodes_to_16k() {
    if !support::have_tools(&["espeak-ng", "sox", "lame"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    support::speak(
        "Thank you for calling. How can I help you today?",
        dir.path().join("source.wav").as_ref(),
    );
    let source = path("source.wav");
    let variants: &[(&str, &[&str])] = &[
        ("pcm16.wav", &["-b", "16"]),
        ("u8.wav", &["-b", "8", "-e", "unsigned-integer"]),
        ("pcm24.wav", &["-b", "24"]),
        ("pcm32.wav", &["-b", "32"]),
        ("float.wav", &["-e", "floating-point", "-b", "32"]),
        ("ulaw.wav", &["-e", "u-law", "-b", "8", "-r", "8000"]),
        ("alaw.wav", &["-e", "a-law", "-b", "8", "-r", "8000"]),
        ("stereo.wav", &["-c", "2"]),
        ("audio.flac", &[]),
        ("audio.ogg", &[]),
    ];
    for (name, options) in variants {
        let mut args = vec![source.as_str()];
        args.extend_from_slice(options);
        let target = path(name);
        args.push(&target);
        support::run("sox", &args);
    }
    support::run("lame", &["--quiet", &source, &path("audio.mp3")]);

    let reference = decode(&std::fs::read(&source).unwrap(), DecodeLimits::default()).unwrap();
    let expected = reference.duration_seconds();
    assert!(expected > 2.0);
    for name in variants.iter().map(|(n, _)| *n).chain(["audio.mp3"]) {
        let audio = decode(&std::fs::read(path(name)).unwrap(), DecodeLimits::default())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let channels = if name == "stereo.wav" { 2 } else { 1 };
        assert_eq!(audio.channels.len(), channels, "{name}");
        // MP3 adds encoder padding (up to ~50 ms at each end).
        let tolerance = if name.ends_with(".mp3") { 0.12 } else { 0.02 };
        let got = audio.duration_seconds();
        assert!(
            (got - expected).abs() < tolerance,
            "{name}: {got} s vs {expected} s"
        );
        let peak = audio.channels[0].iter().fold(0.0f32, |m, s| m.max(s.abs()));
        assert!(peak > 0.1 && peak <= 1.5, "{name}: peak {peak}");
    }
}

#[test]
fn corrupt_files_are_typed_errors_not_panics() {
    if !support::have_tools(&["espeak-ng"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("s.wav");
    support::speak("hello there", &wav);
    let bytes = std::fs::read(&wav).unwrap();
    let full = decode(&bytes, DecodeLimits::default())
        .unwrap()
        .duration_seconds();
    // A cut inside the header is an error; a cut inside the samples keeps what came before.
    for cut in [0, 12, 40] {
        assert!(
            decode(&bytes[..cut], DecodeLimits::default()).is_err(),
            "cut at {cut}"
        );
    }
    for cut in [100, bytes.len() / 2] {
        let partial = decode(&bytes[..cut], DecodeLimits::default())
            .unwrap_or_else(|e| panic!("cut at {cut}: {e}"));
        assert!(partial.duration_seconds() < full, "cut at {cut}");
    }
    // Bit flips in the header: audio or a typed error, and never the panic backstop (a
    // codec that panicked would surface as "the decoder failed on this input").
    for i in (0..200).step_by(3) {
        let mut damaged = bytes.clone();
        damaged[i] ^= 0xA5;
        if let Err(err) = decode(&damaged, DecodeLimits::default()) {
            assert!(
                !err.to_string().contains("decoder failed"),
                "flip at {i}: {err}"
            );
            assert!(err.code().starts_with("audio_"));
        }
    }
}
