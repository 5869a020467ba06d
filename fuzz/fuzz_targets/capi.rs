//! The C ABI (capi/, `rvf_boot.h`) with raw pointers and lengths from the
//! input: `mode ‖ policy ‖ out_delta ‖ state ‖ RVF bytes`.
//!
//! - mode bit 0: the `_with_policy` functions (policy byte: bits 0-2 the
//!   `RVF_BOOT_POLICY_*` flags, bit 3 the golden signing key, bit 4 a second
//!   (untrusted) key, bit 5 a kernel pin, bit 6 a cmdline pin (those of the
//!   golden `ruvbot/tiny.rvf`); bit 7 `min_epoch` = u32::MAX);
//!   bit 1: a NULL `rvf`; bit 2: a NULL `out` (with its length);
//!   bit 3: `rvf_len` past the end (`usize::MAX`); bit 4: out overlaps the
//!   RVF; bit 5: a NULL kernel struct.
//! - out_delta: the output buffer is the size `rvf_boot_image_size` gave
//!   plus (signed) this many bytes; state: its low 6 bits skew the state's
//!   address, bit 7 makes it one byte short.
//!
//! Invariants: valid arguments give exactly what the library gives through
//! its Rust API (status = the error class's exit code, the message = its
//! Display, the image's bytes and SHA-256, where the image is, the cmdline);
//! hostile ones give their status; the image stays inside `out` or the RVF.
//! The RVF is an exact-size heap copy, so ASan sees any read past it.
#![no_main]
use core::ffi::c_char;
use core::ptr;
use libfuzzer_sys::fuzz_target;
use rvf_boot::gzip::InflateState;
use rvf_boot::{Container, Error, Policy};
use rvf_boot_capi::{
    RVF_BOOT_E_NULL, RVF_BOOT_E_OVERLAP, RVF_BOOT_E_POLICY, RVF_BOOT_E_RANGE, RVF_BOOT_E_STATE,
    RVF_BOOT_OK, RVF_BOOT_POLICY_ALLOW_UNSIGNED_TAIL, RVF_BOOT_POLICY_MIN_EPOCH,
    RVF_BOOT_STATE_SIZE, rvf_boot_error, rvf_boot_extract, rvf_boot_extract_with_policy,
    rvf_boot_image_size, rvf_boot_image_size_with_policy, rvf_boot_kernel, rvf_boot_policy,
};
use rvf_boot_fuzz::invariants::{MAX_EXTRACT, SIGNED_PUBKEY};

/// The policies' keys and pins: statics, as the library's `&'static` API
/// wants (nothing leaked per input: LeakSanitizer is on).
static KEYS_SIGNED: [[u8; 32]; 1] = [SIGNED_PUBKEY];
static KEYS_OTHER: [[u8; 32]; 1] = [[7; 32]];
static KEYS_BOTH: [[u8; 32]; 2] = [SIGNED_PUBKEY, [7; 32]];
/// SHA-256 of the image of golden `ruvbot/tiny.rvf`.
static TINY_IMAGE_SHA256: [u8; 32] = [
    0x2a, 0x16, 0x32, 0xd7, 0x1f, 0x4f, 0x76, 0xd4, 0x0f, 0xd4, 0x63, 0x3a, 0x66, 0x07, 0xb8, 0xef,
    0xf8, 0xe1, 0xe7, 0x31, 0x06, 0x93, 0x2a, 0xee, 0x79, 0xcc, 0xa1, 0x1f, 0x91, 0x97, 0x71, 0x9a,
];
/// SHA-256 of the RuvBot golden files' cmdline.
static RUVBOT_CMDLINE_SHA256: [u8; 32] = [
    0x4d, 0xab, 0xdf, 0x17, 0x2c, 0x27, 0x1b, 0x4e, 0xce, 0x05, 0xb5, 0x84, 0x5a, 0xd8, 0x4e, 0x5a,
    0xdd, 0xe5, 0x28, 0x2b, 0xe1, 0x1f, 0x14, 0x5f, 0x37, 0x19, 0x4b, 0x61, 0xa2, 0x21, 0x1d, 0xa2,
];

fn text(buf: &[c_char]) -> String {
    let b: Vec<u8> = buf
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c.to_ne_bytes()[0])
        .collect();
    String::from_utf8(b).expect("messages are UTF-8")
}

fn status(e: &Error) -> i32 {
    i32::from(e.class().exit_code())
}

fuzz_target!(|data: &[u8]| {
    let Some((ctl, file)) = data.split_first_chunk::<4>() else {
        return;
    };
    let [mode, pbits, out_delta, sbits] = *ctl;
    let file: Vec<u8> = file.to_vec();
    let with_policy = mode & 1 != 0;

    // The policy, as C gives it and as the library means it.
    let keys: &'static [[u8; 32]] = match (pbits & 8 != 0, pbits & 16 != 0) {
        (false, false) => &[],
        (true, false) => &KEYS_SIGNED,
        (false, true) => &KEYS_OTHER,
        (true, true) => &KEYS_BOTH,
    };
    let kpin = (pbits & 32 != 0).then_some(&TINY_IMAGE_SHA256);
    let cpin = (pbits & 64 != 0).then_some(&RUVBOT_CMDLINE_SHA256);
    let flags = u32::from(pbits & 7);
    let pol = rvf_boot_policy {
        flags,
        min_epoch: if pbits & 128 != 0 { u32::MAX } else { 0 },
        trusted_keys: if keys.is_empty() {
            ptr::null()
        } else {
            keys.as_ptr().cast()
        },
        trusted_keys_count: keys.len(),
        kernel_sha256: kpin.map_or(ptr::null(), |d| d.as_ptr()),
        cmdline_sha256: cpin.map_or(ptr::null(), |d| d.as_ptr()),
    };
    let policy_valid = !keys.is_empty()
        || flags & (RVF_BOOT_POLICY_MIN_EPOCH | RVF_BOOT_POLICY_ALLOW_UNSIGNED_TAIL) == 0;
    let policy = if with_policy {
        let mut p = Policy::allowing_unset_hash(flags & 1 != 0);
        if !keys.is_empty() {
            p = p
                .requiring_signature(keys)
                .serving_signed_prefix(flags & 4 != 0);
            if flags & 2 != 0 {
                p = p.with_min_epoch(pol.min_epoch);
            }
        }
        if let Some(d) = kpin {
            p = p.pinning_kernel_sha256(d);
        }
        if let Some(d) = cpin {
            p = p.pinning_cmdline_sha256(d);
        }
        p
    } else {
        Policy::default()
    };
    let pol_ptr: *const rvf_boot_policy = if with_policy { &pol } else { ptr::null() };
    let policy_ok = !with_policy || policy_valid;

    // rvf_boot_image_size.
    let rvf_ptr = if mode & 2 != 0 {
        ptr::null()
    } else {
        file.as_ptr()
    };
    let rvf_len = if mode & 8 != 0 {
        usize::MAX
    } else {
        file.len()
    };
    let mut size = u64::MAX;
    // SAFETY: an all-zero rvf_boot_error is valid (integers and chars).
    let mut err: rvf_boot_error = unsafe { core::mem::zeroed() };
    // SAFETY: the pointers are NULL or point to live buffers of the stated
    // lengths, except the hostile ones under test (refused before any access).
    let got = unsafe {
        if with_policy {
            rvf_boot_image_size_with_policy(rvf_ptr, rvf_len, pol_ptr, &mut size, &mut err)
        } else {
            rvf_boot_image_size(rvf_ptr, rvf_len, &mut size)
        }
    };
    let want_size = Container::parse(&file, policy).and_then(|c| {
        c.selected_kernel()
            .map(|k| rvf_boot::image::buffer_size(&k))
    });
    if mode & 2 != 0 {
        assert_eq!(got, RVF_BOOT_E_NULL);
    } else if mode & 8 != 0 {
        assert_eq!(got, RVF_BOOT_E_RANGE);
    } else if !policy_ok {
        assert_eq!(got, RVF_BOOT_E_POLICY);
    } else {
        match want_size {
            Ok(s) => assert_eq!((got, size), (RVF_BOOT_OK, s)),
            Err(e) => {
                assert_eq!((got, size), (status(&e), 0));
                if with_policy {
                    assert_eq!(text(&err.message), e.to_string());
                }
            }
        }
    }
    if with_policy {
        assert_eq!(err.status, got);
    }

    // rvf_boot_extract: buffers sized from the real answer.
    let base = want_size.unwrap_or(0);
    if base > MAX_EXTRACT {
        return;
    }
    let delta = i64::from(i8::from_ne_bytes([out_delta]));
    let out_len = usize::try_from((i64::try_from(base).unwrap() + delta).max(0)).unwrap();
    let mut out = vec![0u8; out_len];
    let mut both = vec![0u8; file.len() + out_len];
    both[..file.len()].copy_from_slice(&file);
    let state_short = sbits & 128 != 0;
    let state_len = RVF_BOOT_STATE_SIZE - usize::from(state_short);
    let skew = usize::from(sbits & 63);
    let mut state = vec![0x5Au8; state_len + skew];
    // SAFETY: an all-zero rvf_boot_kernel is valid (NULL pointers, zeros).
    let mut k: rvf_boot_kernel = unsafe { core::mem::zeroed() };
    let overlap = mode & 16 != 0 && out_len > 0 && !file.is_empty();
    let (rvf_ptr, out_ptr) = if overlap {
        // out starts on the RVF's last byte.
        let p = both.as_mut_ptr();
        // SAFETY: file.len() - 1 < both.len().
        (p.cast_const(), unsafe { p.add(file.len() - 1) })
    } else {
        (
            rvf_ptr,
            if mode & 4 != 0 {
                ptr::null_mut()
            } else {
                out.as_mut_ptr()
            },
        )
    };
    let kernel_ptr: *mut rvf_boot_kernel = if mode & 32 != 0 {
        ptr::null_mut()
    } else {
        &mut k
    };
    // SAFETY: as above; `state[skew..]` has state_len bytes.
    let got = unsafe {
        let st = state.as_mut_ptr().add(skew).cast();
        if with_policy {
            rvf_boot_extract_with_policy(
                rvf_ptr, rvf_len, pol_ptr, out_ptr, out_len, st, state_len, kernel_ptr,
            )
        } else {
            rvf_boot_extract(
                rvf_ptr, rvf_len, out_ptr, out_len, st, state_len, kernel_ptr,
            )
        }
    };
    let null_out = mode & 4 != 0 && !overlap && out_len > 0;
    let expect_arg = if mode & 32 != 0 || (mode & 2 != 0 && !overlap) {
        Some(RVF_BOOT_E_NULL)
    } else if mode & 8 != 0 {
        Some(RVF_BOOT_E_RANGE)
    } else if !policy_ok {
        Some(RVF_BOOT_E_POLICY)
    } else if null_out {
        Some(RVF_BOOT_E_NULL)
    } else if state_short {
        Some(RVF_BOOT_E_STATE)
    } else if overlap {
        Some(RVF_BOOT_E_OVERLAP)
    } else {
        None
    };
    if let Some(s) = expect_arg {
        assert_eq!(got, s);
        if mode & 32 == 0 {
            assert_eq!(k.error.status, s);
            assert!(k.image.is_null());
        }
        return;
    }
    assert_eq!(k.error.status, got);
    // The reference: the library itself, on a buffer of the same length.
    let mut ref_out = vec![0u8; out_len];
    let mut ref_state = Box::new(InflateState::new());
    let want = Container::parse(&file, policy).and_then(|c| {
        let kernel = c.selected_kernel()?;
        let v = rvf_boot::image::extract(&kernel, &mut ref_out, &mut ref_state)?;
        rvf_boot::authenticate(&c, &v, kernel.cmdline())?;
        let at = v.bytes().as_ptr() as usize;
        let in_file = at
            .checked_sub(file.as_ptr() as usize)
            .filter(|&o| o < file.len());
        Ok((
            v.bytes().to_vec(),
            v.sha256(),
            kernel.cmdline().to_vec(),
            in_file,
        ))
    });
    match want {
        Err(e) => {
            assert_eq!(got, status(&e));
            assert_eq!(text(&k.error.message), e.to_string());
            assert!(k.image.is_null() && k.cmdline.is_null() && k.image_len == 0);
        }
        Ok((image, sha, cmdline, in_file)) => {
            assert_eq!(got, RVF_BOOT_OK, "{}", text(&k.error.message));
            assert_eq!(k.image_len, image.len() as u64);
            assert_eq!(k.image_sha256, sha);
            let at = k.image as usize;
            match in_file {
                Some(o) => assert_eq!(
                    at,
                    file.as_ptr() as usize + o,
                    "a stored image is in the RVF"
                ),
                None => assert_eq!(at, out.as_ptr() as usize, "a gzip image is in out"),
            }
            // SAFETY: just checked to be inside `file` or `out`, image_len bytes.
            let got_image = unsafe { std::slice::from_raw_parts(k.image, image.len()) };
            assert_eq!(got_image, &image[..]);
            let got_cmd = if k.cmdline_len == 0 {
                &[][..]
            } else {
                let c = k.cmdline as usize;
                let f = file.as_ptr() as usize;
                assert!(
                    c >= f && c + k.cmdline_len <= f + file.len(),
                    "cmdline inside the RVF"
                );
                // SAFETY: inside `file`, just checked.
                unsafe { std::slice::from_raw_parts(k.cmdline, k.cmdline_len) }
            };
            assert_eq!(got_cmd, &cmdline[..]);
        }
    }
});
