//! Which writer's conventions a file follows (§8), in one place.

use crate::checksum::{ContentHash, HashCheck};
use crate::segment::Segment;

/// The on-disk dialect of a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// build-rvf.js: unpadded, SHA-256[0..16] content hashes.
    RuvBot,
    /// rvf-runtime ≤ 0.3.2: unpadded, CRC-32 rot4 content hashes.
    Legacy,
    /// rvf-runtime ≥ 0.4: every segment padded to 64 bytes.
    Wire,
    /// A legacy file appended to by a newer runtime: unpadded, then padded.
    Mixed,
}

impl Dialect {
    /// The report name.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::RuvBot => "ruvbot",
            Self::Legacy => "legacy",
            Self::Wire => "wire",
            Self::Mixed => "mixed",
        }
    }

    /// Decides the dialect from the walk's padding evidence and the winning
    /// manifest's segment and hash check.
    ///
    /// Both kinds of padding evidence ⇒ mixed; padded only ⇒ wire; otherwise
    /// the content-hash convention decides (SHA-256[0..16] ⇒ RuvBot,
    /// algorithm 1 or 2 ⇒ wire, else legacy).
    #[must_use]
    pub fn detect(layout: Layout, manifest: &Segment<'_>, check: HashCheck) -> Self {
        match (layout.unpadded, layout.padded) {
            (true, true) => Self::Mixed,
            (false, true) => Self::Wire,
            _ if check == HashCheck::Verified(ContentHash::Sha256Trunc) => Self::RuvBot,
            (false, false) if manifest.header.checksum_algo != 0 => Self::Wire,
            _ => Self::Legacy,
        }
    }
}

/// Padding evidence gathered during a walk, one segment at a time.
///
/// A segment whose payload ends off a 64-byte boundary is evidence: the next
/// header right after it means unpadded, at the aligned position means padded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Layout {
    /// A next header sat right after an unaligned payload end.
    pub unpadded: bool,
    /// A next header sat at the aligned position after an unaligned payload end.
    pub padded: bool,
    /// Where the previous segment's payload ended.
    previous_end: Option<u64>,
}

impl Layout {
    /// Takes the next segment of the walk, in file order.
    pub fn see(&mut self, s: &Segment<'_>) {
        if let Some(end) = self.previous_end
            && end % 64 != 0
        {
            if s.offset == end {
                self.unpadded = true;
            } else {
                self.padded = true;
            }
        }
        self.previous_end = Some(s.payload_end());
    }
}
