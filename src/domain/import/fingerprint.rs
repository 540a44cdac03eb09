//! A source's fingerprint: SHA-256 over its bytes and the flags that change how they are
//! read. Two imports with one fingerprint into one conference give the same result, so a
//! re-import of an identical source can be skipped; and a preview's Confirm button carries
//! the fingerprint of what it showed, so a click applies exactly that source and not
//! whatever the URL serves a minute later.

use std::fmt;
use std::str::FromStr;

use chrono_tz::Tz;
use sha2::{Digest, Sha256};

use super::Format;

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint([u8; 32]);

impl Fingerprint {
    /// `format: None` is "detected from the content"; `zone` is a zone forced on the import.
    pub fn of(
        bytes: &[u8],
        format: Option<Format>,
        zone: Option<Tz>,
        summary_speakers: bool,
    ) -> Self {
        let mut hasher = Self::hasher(format, zone, summary_speakers);
        hasher.update(bytes);
        hasher.finish()
    }

    /// [`Fingerprint::of`] the bytes given to the hasher, in order, as they are read.
    pub fn hasher(format: Option<Format>, zone: Option<Tz>, summary_speakers: bool) -> Hasher {
        let mut hasher = Sha256::new();
        hasher.update(format.map_or("auto", Format::as_str).as_bytes());
        hasher.update([0]);
        hasher.update(zone.map_or("", |z| z.name()).as_bytes());
        hasher.update([0]);
        // Absent unless set, so fingerprints stored before the flag existed still match.
        if summary_speakers {
            hasher.update(b"summary-speakers\0");
        }
        Hasher(hasher)
    }
}

/// A fingerprint being taken ([`Fingerprint::hasher`]).
#[derive(Clone)]
pub struct Hasher(Sha256);

impl Hasher {
    pub fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    pub fn finish(self) -> Fingerprint {
        Fingerprint(self.0.finalize().into())
    }
}

/// 64 lower-case hex digits, as stored with each import.
impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

/// Not 64 hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotAFingerprint;

impl FromStr for Fingerprint {
    type Err = NotAFingerprint;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let digits = text.as_bytes();
        // `from_str_radix` alone would take a sign ("+1").
        if digits.len() != 64 || !digits.iter().all(u8::is_ascii_hexdigit) {
            return Err(NotAFingerprint);
        }
        let mut bytes = [0u8; 32];
        for (byte, pair) in bytes.iter_mut().zip(digits.chunks_exact(2)) {
            let pair = std::str::from_utf8(pair).map_err(|_| NotAFingerprint)?;
            *byte = u8::from_str_radix(pair, 16).map_err(|_| NotAFingerprint)?;
        }
        Ok(Self(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_form_reads_back_and_anything_else_is_refused() {
        let print = Fingerprint::of(b"BEGIN:VCALENDAR", None, None, false);
        let text = print.to_string();
        assert_eq!(text.len(), 64);
        assert_eq!(text.parse::<Fingerprint>(), Ok(print));
        assert_eq!(text.to_uppercase().parse::<Fingerprint>(), Ok(print));
        for bad in [
            "",
            "ab",
            &text[..63],
            &format!("{text}0"),
            &format!("{}zz", &text[..62]),
            &format!("{}+1", &text[..62]),
        ] {
            assert_eq!(bad.parse::<Fingerprint>(), Err(NotAFingerprint), "{bad}");
        }
    }

    #[test]
    fn every_flag_that_changes_the_reading_changes_the_fingerprint() {
        let bytes = b"BEGIN:VCALENDAR";
        let plain = Fingerprint::of(bytes, None, None, false);
        assert_eq!(plain, Fingerprint::of(bytes, None, None, false));
        assert_ne!(
            plain,
            Fingerprint::of(b"BEGIN:VCALENDAR ", None, None, false)
        );
        assert_ne!(
            plain,
            Fingerprint::of(bytes, Some(Format::Ics), None, false)
        );
        assert_ne!(plain, Fingerprint::of(bytes, None, Some(Tz::UTC), false));
        assert_ne!(plain, Fingerprint::of(bytes, None, None, true));
    }

    #[test]
    fn fingerprints_stored_by_earlier_versions_still_match() {
        // The SHA-256 of "auto\0\0" followed by the bytes: what every earlier release stored.
        let mut hasher = Sha256::new();
        hasher.update(b"auto\0\0BEGIN:VCALENDAR");
        let stored: String = hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            Fingerprint::of(b"BEGIN:VCALENDAR", None, None, false).to_string(),
            stored
        );
    }
}
