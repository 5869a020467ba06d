//! Little-endian field readers for tests that check bytes the library wrote
//! (zero page, headers). They panic when the field runs past the end.

/// The `u16` at `p[o..o + 2]`.
pub fn u16_at(p: &[u8], o: usize) -> u16 {
    u16::from_le_bytes(p[o..o + 2].try_into().unwrap())
}

/// The `u32` at `p[o..o + 4]`.
pub fn u32_at(p: &[u8], o: usize) -> u32 {
    u32::from_le_bytes(p[o..o + 4].try_into().unwrap())
}

/// The `u64` at `p[o..o + 8]`.
pub fn u64_at(p: &[u8], o: usize) -> u64 {
    u64::from_le_bytes(p[o..o + 8].try_into().unwrap())
}
