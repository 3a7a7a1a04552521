//! Recognising an upload's container by its first bytes, so a recording is stored with the right
//! extension and non-audio is refused at the door. Decoding proper is the engines' job.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AudioFormat {
    Wav,
    Mp3,
    Flac,
    Ogg,
}

impl AudioFormat {
    pub fn extension(self) -> &'static str {
        match self {
            AudioFormat::Wav => "wav",
            AudioFormat::Mp3 => "mp3",
            AudioFormat::Flac => "flac",
            AudioFormat::Ogg => "ogg",
        }
    }

    pub fn parse(extension: &str) -> Option<AudioFormat> {
        match extension {
            "wav" => Some(AudioFormat::Wav),
            "mp3" => Some(AudioFormat::Mp3),
            "flac" => Some(AudioFormat::Flac),
            "ogg" => Some(AudioFormat::Ogg),
            _ => None,
        }
    }

    /// The container of `bytes`, from its magic number.
    pub fn sniff(bytes: &[u8]) -> Option<AudioFormat> {
        match bytes {
            [
                b'R',
                b'I',
                b'F',
                b'F',
                _,
                _,
                _,
                _,
                b'W',
                b'A',
                b'V',
                b'E',
                ..,
            ] => Some(AudioFormat::Wav),
            [b'f', b'L', b'a', b'C', ..] => Some(AudioFormat::Flac),
            [b'O', b'g', b'g', b'S', ..] => Some(AudioFormat::Ogg),
            [b'I', b'D', b'3', ..] => Some(AudioFormat::Mp3),
            // An MPEG audio frame sync: 11 set bits, layer bits not 00.
            [0xFF, second, ..] if second & 0xE0 == 0xE0 && second & 0x06 != 0 => {
                Some(AudioFormat::Mp3)
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_the_four_containers() {
        assert_eq!(
            AudioFormat::sniff(b"RIFF\x24\0\0\0WAVEfmt "),
            Some(AudioFormat::Wav)
        );
        assert_eq!(
            AudioFormat::sniff(b"fLaC\0\0\0\x22"),
            Some(AudioFormat::Flac)
        );
        assert_eq!(AudioFormat::sniff(b"OggS\0\x02"), Some(AudioFormat::Ogg));
        assert_eq!(AudioFormat::sniff(b"ID3\x04\0"), Some(AudioFormat::Mp3));
        assert_eq!(
            AudioFormat::sniff(&[0xFF, 0xFB, 0x90, 0x64]),
            Some(AudioFormat::Mp3)
        );
    }

    #[test]
    fn refuses_everything_else() {
        for bytes in [
            &b""[..],
            b"RIFF",
            b"RIFF\x24\0\0\0AVI ",
            b"%PDF-1.7",
            b"<html>",
            &[0xFF, 0x00],
        ] {
            assert_eq!(AudioFormat::sniff(bytes), None, "{bytes:?}");
        }
    }
}
