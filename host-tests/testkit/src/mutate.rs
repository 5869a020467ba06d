//! Broken copies of a RuvBot RVF for negative tests (the QEMU refusal cases).
//! Segments are walked unpadded (the RuvBot dialect).

/// What to damage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Damage {
    /// Flip bit 0 of the byte in the middle of the first KERNEL_SEG's stored
    /// (gzip) image.
    FlipStored,
    /// Flip bit 0 of the first byte of the kernel header's `image_hash`.
    ImageHash,
}

/// The file offset of the first KERNEL_SEG header, walking unpadded.
pub fn first_kernel(rvf: &[u8]) -> Option<usize> {
    let mut off = 0usize;
    while off.checked_add(64)? <= rvf.len() {
        let len = u64::from_le_bytes(rvf[off + 16..off + 24].try_into().ok()?);
        if rvf[off + 5] == crate::build::KERNEL {
            return Some(off);
        }
        off = off
            .checked_add(64)?
            .checked_add(usize::try_from(len).ok()?)?;
    }
    None
}

/// Applies `damage` to the first KERNEL_SEG and, with `rehash`, recomputes
/// its content hash (algo 0, SHA-256[0..16]) so that the damage reaches the
/// layer behind it. Returns the damaged file offset.
pub fn mutate(rvf: &mut [u8], damage: Damage, rehash: bool) -> Result<usize, String> {
    let k = first_kernel(rvf).ok_or("no KERNEL_SEG found by an unpadded walk")?;
    let payload = k + 64;
    let len = u64::from_le_bytes(rvf[k + 16..k + 24].try_into().unwrap()) as usize;
    if payload + len > rvf.len() || len < 128 {
        return Err("KERNEL_SEG payload runs past the end or has no kernel header".into());
    }
    let at = match damage {
        Damage::FlipStored => {
            let declared =
                u64::from_le_bytes(rvf[payload + 0x20..payload + 0x28].try_into().unwrap());
            let stored = if declared == 0 {
                len - 128
            } else {
                declared as usize
            };
            payload + 128 + stored / 2
        }
        Damage::ImageHash => payload + 0x30,
    };
    if at >= payload + len {
        return Err("the stored image is empty".into());
    }
    rvf[at] ^= 0x01;
    if rehash {
        if rvf[k + 0x20] != 0 {
            return Err(format!(
                "checksum_algo {} is not the RuvBot SHA-256 form",
                rvf[k + 0x20]
            ));
        }
        let h = crate::build::sha256_16(&rvf[payload..payload + len]);
        rvf[k + 0x28..k + 0x38].copy_from_slice(&h);
    }
    Ok(at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ruvbot::{self, Inputs, Package};

    #[test]
    fn flips_one_stored_byte_and_rehashes() {
        let kernel = vec![7u8; 4000];
        let pkg = Package::golden(false);
        let orig = ruvbot::write(&Inputs::new(&kernel, &pkg));
        let stored = ruvbot::stored_gzip(&orig).unwrap().len();

        let mut f = orig.clone();
        let at = mutate(&mut f, Damage::FlipStored, false).unwrap();
        assert_eq!(at, 64 + 128 + stored / 2);
        let diff: Vec<usize> = (0..f.len()).filter(|&i| f[i] != orig[i]).collect();
        assert_eq!(diff, [at]);

        let mut g = orig.clone();
        mutate(&mut g, Damage::FlipStored, true).unwrap();
        let len = u64::from_le_bytes(g[16..24].try_into().unwrap()) as usize;
        assert_eq!(g[0x28..0x38], crate::build::sha256_16(&g[64..64 + len]));
        assert_ne!(g[0x28..0x38], orig[0x28..0x38]);

        let mut h = orig.clone();
        assert_eq!(mutate(&mut h, Damage::ImageHash, true).unwrap(), 64 + 0x30);
        assert_eq!(h[64 + 0x30], orig[64 + 0x30] ^ 1);
    }
}
