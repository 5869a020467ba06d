//! The C ABI called from Rust, exactly as C calls it (raw pointers and
//! lengths): every golden file, every damaged copy and every policy variant
//! gives what the Rust API gives (status, message, image SHA-256, where the
//! image is, cmdline); hostile arguments get a status, never a crash.
//! `capi/test.sh` runs the same cases from C.

#[path = "support/cases.rs"]
mod cases;

use cases::{Case, Outcome, PolicySpec, hex, where_is};
use core::ffi::{c_char, c_int, c_void};
use core::ptr;
use rvf_boot_capi::*;

fn text(buf: &[c_char]) -> String {
    let b: Vec<u8> = buf
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c.to_ne_bytes()[0])
        .collect();
    String::from_utf8(b).unwrap()
}

fn zero_kernel() -> rvf_boot_kernel {
    // SAFETY: plain data (integers, raw pointers, arrays): all-zero is valid.
    unsafe { core::mem::zeroed() }
}

fn zero_error() -> rvf_boot_error {
    // SAFETY: as above.
    unsafe { core::mem::zeroed() }
}

/// The C struct for a spec; the vectors it points into must outlive its use.
fn c_policy(p: &PolicySpec, keys: &[u8]) -> rvf_boot_policy {
    rvf_boot_policy {
        flags: p.flags,
        min_epoch: p.min_epoch,
        trusted_keys: if keys.is_empty() {
            ptr::null()
        } else {
            keys.as_ptr()
        },
        trusted_keys_count: p.keys.len(),
        kernel_sha256: p.kernel_sha256.as_ref().map_or(ptr::null(), |d| d.as_ptr()),
        cmdline_sha256: p
            .cmdline_sha256
            .as_ref()
            .map_or(ptr::null(), |d| d.as_ptr()),
    }
}

/// Runs `case` through the C ABI as the C test does.
fn through_capi(case: &Case) -> Outcome {
    let f = &case.bytes;
    let keys: Vec<u8> = case.policy.iter().flat_map(|p| p.keys.concat()).collect();
    let pol = case.policy.as_ref().map(|p| c_policy(p, &keys));
    let pol_ptr = pol
        .as_ref()
        .map_or(ptr::null(), |p| p as *const rvf_boot_policy);
    let mut size = u64::MAX;
    let mut err = zero_error();
    let size_status = unsafe {
        match pol {
            None => rvf_boot_image_size(f.as_ptr(), f.len(), &mut size),
            Some(_) => {
                rvf_boot_image_size_with_policy(f.as_ptr(), f.len(), pol_ptr, &mut size, &mut err)
            }
        }
    };
    if pol.is_some() {
        assert_eq!(err.status, size_status, "{}", case.name);
        assert_eq!(
            text(&err.message).is_empty(),
            size_status == 0,
            "{}",
            case.name
        );
    }
    if size_status != 0 {
        assert_eq!(size, 0, "{}: image_size is 0 on failure", case.name);
    }
    let mut out = vec![0u8; usize::try_from(size).unwrap()];
    let mut state = vec![0xA5u8; RVF_BOOT_STATE_SIZE];
    let mut k = zero_kernel();
    let (out_ptr, out_len) = if out.is_empty() {
        (ptr::null_mut(), 0)
    } else {
        (out.as_mut_ptr(), out.len())
    };
    let status = unsafe {
        rvf_boot_extract_with_policy(
            f.as_ptr(),
            f.len(),
            pol_ptr,
            out_ptr,
            out_len,
            state.as_mut_ptr().cast::<c_void>(),
            state.len(),
            &mut k,
        )
    };
    assert_eq!(k.error.status, status, "{}", case.name);
    if pol.is_none() {
        // The default functions give the same.
        let mut k2 = zero_kernel();
        let s2 = unsafe {
            rvf_boot_extract(
                f.as_ptr(),
                f.len(),
                out_ptr,
                out_len,
                state.as_mut_ptr().cast(),
                state.len(),
                &mut k2,
            )
        };
        assert_eq!(
            (s2, text(&k2.error.message)),
            (status, text(&k.error.message))
        );
    }
    let mut o = Outcome {
        size_status,
        size,
        status,
        message: text(&k.error.message),
        sha256: None,
        image_len: k.image_len,
        image_at: "-".into(),
        cmdline: Vec::new(),
        format: "-",
        kernel_offset: k.kernel_offset,
    };
    if status == 0 {
        let len = usize::try_from(k.image_len).unwrap();
        o.image_at = where_is(
            k.image as usize,
            out_ptr as usize,
            f.as_ptr() as usize,
            len,
            f.len(),
        );
        // SAFETY: the ABI's promise under test: image_len bytes at image,
        // inside out or the RVF (checked just above by where_is).
        let image = unsafe { std::slice::from_raw_parts(k.image, len) };
        assert_eq!(cases::sha256(image), k.image_sha256, "{}", case.name);
        o.sha256 = Some(k.image_sha256);
        if k.cmdline_len > 0 {
            // SAFETY: borrowed from the RVF, cmdline_len bytes.
            o.cmdline = unsafe { std::slice::from_raw_parts(k.cmdline, k.cmdline_len) }.to_vec();
        }
        o.format = if k.format == RVF_BOOT_FORMAT_GZIP {
            "gzip"
        } else {
            "raw"
        };
    } else {
        assert!(
            k.image.is_null() && k.cmdline.is_null() && k.image_len == 0,
            "{}",
            case.name
        );
    }
    o
}

#[test]
fn every_case_through_the_c_abi_matches_the_rust_api() {
    let all = cases::cases();
    let mut by_status = std::collections::BTreeMap::<i32, usize>::new();
    for case in &all {
        let want = cases::reference(case);
        let got = through_capi(case);
        assert_eq!(got.line(&case.name), want.line(&case.name));
        *by_status.entry(got.status).or_default() += 1;
    }
    // The cases reach every status extract can give, and the goldens pass.
    println!("{} cases, by status: {by_status:?}", all.len());
    // (9, a short buffer, is in hostile_arguments_get_a_status: the cases
    // size the buffer as a loader does.)
    for s in [0, 2, 3, 4, 5, 6, 14] {
        assert!(
            by_status.contains_key(&s),
            "no case gives status {s}: {by_status:?}"
        );
    }
    for (name, f) in cases::golden() {
        let case = Case {
            name: name.clone(),
            bytes: f,
            policy: None,
        };
        let got = through_capi(&case);
        // embed-wasm and vectors files carry no kernel.
        let has_kernel = !(name.ends_with("/embed-wasm.rvf") || name.ends_with("/vectors.rvf"));
        assert_eq!(got.status == 0, has_kernel, "{name}: {}", got.message);
    }
}

#[test]
fn a_gzip_kernel_lands_in_out_and_a_raw_one_stays_in_the_rvf() {
    let mut formats = std::collections::BTreeSet::new();
    for (name, f) in cases::golden() {
        let got = through_capi(&Case {
            name: name.clone(),
            bytes: f,
            policy: None,
        });
        if got.status == 0 {
            match got.format {
                "gzip" => assert_eq!(got.image_at, "out", "{name}"),
                _ => assert!(got.image_at.starts_with("rvf+"), "{name}: {}", got.image_at),
            }
            formats.insert(got.format);
        }
    }
    assert_eq!(formats.into_iter().collect::<Vec<_>>(), ["gzip", "raw"]);
}

fn small() -> Vec<u8> {
    std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../host-tests/golden/ruvbot/small.rvf"
    ))
    .unwrap()
}

/// Extract with the given pieces; returns the status and the kernel struct.
#[allow(clippy::too_many_arguments)] // the C function's own arguments
unsafe fn extract(
    rvf: *const u8,
    rvf_len: usize,
    policy: *const rvf_boot_policy,
    out: *mut u8,
    out_len: usize,
    state: *mut u8,
    state_len: usize,
    kernel: *mut rvf_boot_kernel,
) -> c_int {
    unsafe {
        rvf_boot_extract_with_policy(
            rvf,
            rvf_len,
            policy,
            out,
            out_len,
            state.cast(),
            state_len,
            kernel,
        )
    }
}

#[test]
fn hostile_arguments_get_a_status() {
    let f = small();
    let mut size = 0u64;
    assert_eq!(
        unsafe { rvf_boot_image_size(f.as_ptr(), f.len(), &mut size) },
        RVF_BOOT_OK
    );
    let need = usize::try_from(size).unwrap();
    assert!(need > 0);
    let mut out = vec![0u8; need + 64];
    let mut state = vec![0u8; RVF_BOOT_STATE_SIZE + 64];
    let st = state.as_mut_ptr();
    let o = out.as_mut_ptr();
    let mut k = zero_kernel();
    let msg = |k: &rvf_boot_kernel| text(&k.error.message);
    unsafe {
        // NULLs.
        assert_eq!(
            rvf_boot_image_size(ptr::null(), 10, &mut size),
            RVF_BOOT_E_NULL
        );
        assert_eq!(size, 0);
        assert_eq!(
            rvf_boot_image_size(ptr::null(), 0, &mut size),
            RVF_BOOT_E_NULL
        );
        assert_eq!(
            rvf_boot_image_size(f.as_ptr(), f.len(), ptr::null_mut()),
            RVF_BOOT_E_NULL
        );
        assert_eq!(
            extract(
                f.as_ptr(),
                f.len(),
                ptr::null(),
                o,
                need,
                st,
                RVF_BOOT_STATE_SIZE,
                ptr::null_mut()
            ),
            RVF_BOOT_E_NULL
        );
        assert_eq!(
            extract(
                ptr::null(),
                f.len(),
                ptr::null(),
                o,
                need,
                st,
                RVF_BOOT_STATE_SIZE,
                &mut k
            ),
            RVF_BOOT_E_NULL
        );
        assert_eq!(msg(&k), "argument rvf is NULL");
        assert_eq!(
            extract(
                f.as_ptr(),
                f.len(),
                ptr::null(),
                ptr::null_mut(),
                need,
                st,
                RVF_BOOT_STATE_SIZE,
                &mut k
            ),
            RVF_BOOT_E_NULL
        );
        assert_eq!(msg(&k), "argument out is NULL");
        assert_eq!(
            extract(
                f.as_ptr(),
                f.len(),
                ptr::null(),
                o,
                need,
                ptr::null_mut(),
                RVF_BOOT_STATE_SIZE,
                &mut k
            ),
            RVF_BOOT_E_NULL
        );
        assert_eq!(msg(&k), "argument state is NULL");
        // A NULL out with length 0: the gzip kernel needs a buffer.
        assert_eq!(
            extract(
                f.as_ptr(),
                f.len(),
                ptr::null(),
                ptr::null_mut(),
                0,
                st,
                RVF_BOOT_STATE_SIZE,
                &mut k
            ),
            RVF_BOOT_E_MEMORY
        );
        assert_eq!(
            msg(&k),
            format!("output buffer too small: the image needs {need} bytes, the buffer has 0")
        );
        // Short buffers.
        assert_eq!(
            extract(
                f.as_ptr(),
                f.len(),
                ptr::null(),
                o,
                need - 1,
                st,
                RVF_BOOT_STATE_SIZE,
                &mut k
            ),
            RVF_BOOT_E_MEMORY
        );
        assert_eq!(
            extract(
                f.as_ptr(),
                f.len(),
                ptr::null(),
                o,
                need,
                st,
                RVF_BOOT_STATE_SIZE - 1,
                &mut k
            ),
            RVF_BOOT_E_STATE
        );
        assert_eq!(
            msg(&k),
            format!(
                "the inflate state has {} bytes, fewer than RVF_BOOT_STATE_SIZE ({RVF_BOOT_STATE_SIZE})",
                RVF_BOOT_STATE_SIZE - 1
            )
        );
        assert_eq!(
            extract(
                f.as_ptr(),
                f.len() - 1,
                ptr::null(),
                o,
                need,
                st,
                RVF_BOOT_STATE_SIZE,
                &mut k
            ),
            RVF_BOOT_E_STRUCTURE
        );
        // Lengths that wrap or exceed PTRDIFF_MAX (never dereferenced).
        assert_eq!(
            rvf_boot_image_size(f.as_ptr(), usize::MAX, &mut size),
            RVF_BOOT_E_RANGE
        );
        assert_eq!(
            rvf_boot_image_size(f.as_ptr(), isize::MAX as usize + 1, &mut size),
            RVF_BOOT_E_RANGE
        );
        assert_eq!(
            extract(
                f.as_ptr(),
                f.len(),
                ptr::null(),
                o,
                usize::MAX - 8,
                st,
                RVF_BOOT_STATE_SIZE,
                &mut k
            ),
            RVF_BOOT_E_RANGE
        );
        assert_eq!(
            extract(
                f.as_ptr(),
                f.len(),
                ptr::null(),
                o,
                need,
                st,
                usize::MAX,
                &mut k
            ),
            RVF_BOOT_E_RANGE
        );
        let top = usize::MAX as *const u8;
        assert_eq!(
            extract(
                top,
                2,
                ptr::null(),
                o,
                need,
                st,
                RVF_BOOT_STATE_SIZE,
                &mut k
            ),
            RVF_BOOT_E_RANGE
        );
        // Misaligned structs.
        let mut raw = vec![0u64; 2];
        let mis = (raw.as_mut_ptr() as *mut u8).add(1).cast::<u64>();
        assert_eq!(
            rvf_boot_image_size(f.as_ptr(), f.len(), mis),
            RVF_BOOT_E_RANGE
        );
        let mut kb = vec![0u64; size_of::<rvf_boot_kernel>() / 8 + 2];
        let kmis = (kb.as_mut_ptr() as *mut u8)
            .add(4)
            .cast::<rvf_boot_kernel>();
        assert_eq!(
            extract(
                f.as_ptr(),
                f.len(),
                ptr::null(),
                o,
                need,
                st,
                RVF_BOOT_STATE_SIZE,
                kmis
            ),
            RVF_BOOT_E_RANGE
        );
        assert!(
            kb.iter().all(|&w| w == 0),
            "a misaligned kernel struct is not written"
        );
        // Overlaps: out over the RVF, the state over out, the kernel over the RVF.
        let mut g = f.clone();
        g.resize(f.len() + need, 0);
        let gp = g.as_mut_ptr();
        assert_eq!(
            extract(
                gp,
                f.len(),
                ptr::null(),
                gp.add(f.len() - 1),
                need,
                st,
                RVF_BOOT_STATE_SIZE,
                &mut k
            ),
            RVF_BOOT_E_OVERLAP
        );
        assert_eq!(
            msg(&k),
            "argument rvf overlaps out; buffers the call writes must not overlap any other"
        );
        assert_eq!(
            extract(
                f.as_ptr(),
                f.len(),
                ptr::null(),
                o,
                need + 64,
                o.add(need),
                RVF_BOOT_STATE_SIZE,
                &mut k
            ),
            RVF_BOOT_E_OVERLAP
        );
        assert_eq!(&g[..f.len()], &f[..], "nothing written on overlap");
        let mut kbuf = vec![0u64; (f.len() + size_of::<rvf_boot_kernel>()) / 8 + 1];
        let kp = kbuf.as_mut_ptr().cast::<u8>();
        ptr::copy_nonoverlapping(f.as_ptr(), kp, f.len());
        let before = kbuf.clone();
        assert_eq!(
            extract(
                kp,
                f.len(),
                ptr::null(),
                o,
                need,
                st,
                RVF_BOOT_STATE_SIZE,
                kp.cast()
            ),
            RVF_BOOT_E_OVERLAP
        );
        assert_eq!(kbuf, before, "a kernel struct over the RVF is not written");
        // Adjacent is fine: out right after the RVF.
        let mut g = f.clone();
        g.resize(f.len() + need, 0);
        let gp = g.as_mut_ptr();
        assert_eq!(
            extract(
                gp,
                f.len(),
                ptr::null(),
                gp.add(f.len()),
                need,
                st,
                RVF_BOOT_STATE_SIZE,
                &mut k
            ),
            RVF_BOOT_OK
        );
        // Any state alignment, any content.
        for skew in 0..16 {
            state[..].fill(0xFF);
            assert_eq!(
                extract(
                    f.as_ptr(),
                    f.len(),
                    ptr::null(),
                    o,
                    need,
                    st.add(skew),
                    RVF_BOOT_STATE_SIZE,
                    &mut k
                ),
                RVF_BOOT_OK
            );
            assert_eq!(k.image, o.cast_const());
        }
        // Policies.
        let key = cases::SIGNED_PUBKEY;
        let mut p = rvf_boot_policy {
            flags: 8,
            min_epoch: 0,
            trusted_keys: ptr::null(),
            trusted_keys_count: 0,
            kernel_sha256: ptr::null(),
            cmdline_sha256: ptr::null(),
        };
        assert_eq!(
            extract(
                f.as_ptr(),
                f.len(),
                &p,
                o,
                need,
                st,
                RVF_BOOT_STATE_SIZE,
                &mut k
            ),
            RVF_BOOT_E_POLICY
        );
        assert_eq!(
            msg(&k),
            "policy flags 0x8 has bits other than RVF_BOOT_POLICY_* (0x7)"
        );
        p.flags = RVF_BOOT_POLICY_MIN_EPOCH;
        assert_eq!(
            extract(
                f.as_ptr(),
                f.len(),
                &p,
                o,
                need,
                st,
                RVF_BOOT_STATE_SIZE,
                &mut k
            ),
            RVF_BOOT_E_POLICY
        );
        p.flags = RVF_BOOT_POLICY_ALLOW_UNSIGNED_TAIL;
        assert_eq!(
            extract(
                f.as_ptr(),
                f.len(),
                &p,
                o,
                need,
                st,
                RVF_BOOT_STATE_SIZE,
                &mut k
            ),
            RVF_BOOT_E_POLICY
        );
        p.flags = 0;
        p.trusted_keys_count = 1;
        assert_eq!(
            extract(
                f.as_ptr(),
                f.len(),
                &p,
                o,
                need,
                st,
                RVF_BOOT_STATE_SIZE,
                &mut k
            ),
            RVF_BOOT_E_NULL
        );
        assert_eq!(msg(&k), "argument policy->trusted_keys is NULL");
        p.trusted_keys = key.as_ptr();
        p.trusted_keys_count = usize::MAX / 16;
        assert_eq!(
            extract(
                f.as_ptr(),
                f.len(),
                &p,
                o,
                need,
                st,
                RVF_BOOT_STATE_SIZE,
                &mut k
            ),
            RVF_BOOT_E_RANGE
        );
        p.trusted_keys_count = 1;
        // The small RuvBot file is not signed.
        assert_eq!(
            extract(
                f.as_ptr(),
                f.len(),
                &p,
                o,
                need,
                st,
                RVF_BOOT_STATE_SIZE,
                &mut k
            ),
            RVF_BOOT_E_AUTHENTICATION
        );
        // A key inside the output buffer: refused, not read while written.
        ptr::copy_nonoverlapping(key.as_ptr(), o, 32);
        p.trusted_keys = o;
        assert_eq!(
            extract(
                f.as_ptr(),
                f.len(),
                &p,
                o,
                need,
                st,
                RVF_BOOT_STATE_SIZE,
                &mut k
            ),
            RVF_BOOT_E_OVERLAP
        );
        // A kernel struct over the RVF is never written, even when another
        // argument (here the policy) would be refused first.
        p.flags = 8;
        let before = kbuf.clone();
        assert_eq!(
            extract(kp, f.len(), &p, o, need, st, RVF_BOOT_STATE_SIZE, kp.cast()),
            RVF_BOOT_E_OVERLAP
        );
        assert_eq!(kbuf, before);
        let pmis = (raw.as_mut_ptr() as *mut u8)
            .add(1)
            .cast::<rvf_boot_policy>();
        assert_eq!(
            extract(
                f.as_ptr(),
                f.len(),
                pmis,
                o,
                need,
                st,
                RVF_BOOT_STATE_SIZE,
                &mut k
            ),
            RVF_BOOT_E_RANGE
        );
        // The error struct of image_size: optional, and filled.
        let mut e = zero_error();
        assert_eq!(
            rvf_boot_image_size_with_policy(f.as_ptr(), 3, ptr::null(), &mut size, &mut e),
            RVF_BOOT_E_STRUCTURE
        );
        assert_eq!(e.status, RVF_BOOT_E_STRUCTURE);
        let want = rvf_boot::Container::parse(&f[..3], rvf_boot::Policy::default()).unwrap_err();
        assert_eq!(text(&e.message), want.to_string());
        assert_eq!(
            rvf_boot_image_size_with_policy(f.as_ptr(), f.len(), ptr::null(), &mut size, &mut e),
            RVF_BOOT_OK
        );
        assert_eq!((e.status, text(&e.message)), (0, String::new()));
        // image_size and error over the RVF: not written.
        let mut fb = vec![0u64; f.len() / 8 + 1];
        let fp = fb.as_mut_ptr().cast::<u8>();
        ptr::copy_nonoverlapping(f.as_ptr(), fp, f.len());
        assert_eq!(
            rvf_boot_image_size(fp, f.len(), fb.as_mut_ptr()),
            RVF_BOOT_E_OVERLAP
        );
        assert_eq!(std::slice::from_raw_parts(fp, f.len()), &f[..]);
    }
}

#[test]
fn error_message_is_snprintf_like() {
    unsafe {
        let n = rvf_boot_error_message(RVF_BOOT_E_INTEGRITY, ptr::null_mut(), 0);
        let mut buf = vec![0x55 as c_char; n + 1];
        assert_eq!(
            rvf_boot_error_message(RVF_BOOT_E_INTEGRITY, buf.as_mut_ptr(), buf.len()),
            n
        );
        assert_eq!(
            text(&buf),
            "integrity: a content hash, root-page CRC or signature does not verify"
        );
        let mut small = [0x55 as c_char; 10];
        assert_eq!(
            rvf_boot_error_message(RVF_BOOT_E_INTEGRITY, small.as_mut_ptr(), 10),
            n
        );
        assert_eq!(text(&small), "integrity");
        assert_eq!(small[9], 0);
        let mut one = [0x55 as c_char; 1];
        assert_eq!(rvf_boot_error_message(0, one.as_mut_ptr(), 1), 7);
        assert_eq!(one[0], 0);
        // A length that wraps: nothing written, the length returned.
        assert_eq!(rvf_boot_error_message(0, small.as_mut_ptr(), usize::MAX), 7);
        assert_eq!(text(&small), "integrity");
        assert_eq!(rvf_boot_error_message(-1, ptr::null_mut(), 5), 26);
    }
}

#[test]
fn the_header_is_the_one_checked_in() {
    let h = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/include/rvf_boot.h"))
        .unwrap();
    assert!(h.contains(&format!(
        "#define RVF_BOOT_STATE_SIZE {RVF_BOOT_STATE_SIZE}\n"
    )));
    assert!(h.contains(&format!(
        "#define RVF_BOOT_MESSAGE_SIZE {RVF_BOOT_MESSAGE_SIZE}\n"
    )));
    for f in [
        "rvf_boot_image_size(",
        "rvf_boot_extract(",
        "rvf_boot_error_message(",
        "rvf_boot_extract_with_policy(",
        "rvf_boot_image_size_with_policy(",
    ] {
        assert!(h.contains(f), "{f}");
    }
    assert!(!h.contains("rust_eh_personality"));
    let _ = hex(&[]);
}
