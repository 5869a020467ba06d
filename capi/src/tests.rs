//! Unit tests of the argument checks and the message buffer; the golden and
//! damaged files go through the C ABI in `tests/abi.rs` and `tests/c/`.

use super::*;
use std::string::String;

fn text(buf: &[c_char]) -> String {
    let bytes: std::vec::Vec<u8> = buf
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c.to_ne_bytes()[0])
        .collect();
    String::from_utf8(bytes).unwrap()
}

#[test]
fn state_size_holds_the_state_at_any_alignment() {
    const { assert!(verify::STATE_NEED <= RVF_BOOT_STATE_SIZE) };
    // Not wasteful: at most 1 KiB more than the worst case.
    const { assert!(RVF_BOOT_STATE_SIZE - verify::STATE_NEED <= 1024) };
}

#[test]
fn line_cuts_at_a_character_boundary_and_counts_the_full_length() {
    let mut buf = [1 as c_char; 6];
    let mut l = Line::new(&mut buf);
    write!(l, "ab\u{e9}cdef").unwrap(); // é is 2 bytes
    assert_eq!(l.finish(), 8);
    assert_eq!(text(&buf), "ab\u{e9}c");
    let mut buf = [1 as c_char; 4];
    let mut l = Line::new(&mut buf);
    write!(l, "ab\u{e9}c").unwrap(); // é does not fit with the NUL: cut before it
    assert_eq!(l.finish(), 5);
    assert_eq!(text(&buf), "ab");
    assert_eq!(buf[2], 0);
    let mut l = Line::new(&mut []);
    write!(l, "abc").unwrap();
    assert_eq!(l.finish(), 3);
}

#[test]
fn regions_refuse_null_wrap_and_overlap() {
    let p = 16usize as *const u8;
    assert_eq!(
        Region::new("x", ptr::null(), 1, true, false).err(),
        Some(Arg::Null("x"))
    );
    assert!(Region::new("x", ptr::null(), 0, true, false).is_ok());
    assert_eq!(
        Region::new("x", ptr::null(), 0, false, false).err(),
        Some(Arg::Null("x"))
    );
    assert_eq!(
        Region::new("x", p, usize::MAX - 8, false, false).err(),
        Some(Arg::Range("x"))
    );
    assert_eq!(
        Region::new("x", usize::MAX as *const u8, 2, false, false).err(),
        Some(Arg::Range("x"))
    );
    let a = Region::new("a", p, 8, false, false).unwrap();
    let b = Region::new("b", 23usize as *const u8, 4, false, true).unwrap();
    let c = Region::new("c", 24usize as *const u8, 4, false, true).unwrap();
    assert_eq!(disjoint(&[a, b]), Err(Arg::Overlap("a", "b")));
    assert_eq!(disjoint(&[a, c]), Ok(()));
    // Two read-only regions may overlap.
    let d = Region::new("d", 20usize as *const u8, 4, false, false).unwrap();
    assert_eq!(disjoint(&[a, d]), Ok(()));
    // Empty regions overlap nothing.
    let e = Region::new("e", 20usize as *const u8, 0, false, true).unwrap();
    assert_eq!(disjoint(&[a, e]), Ok(()));
}

#[test]
fn every_status_has_a_sentence() {
    for s in [0, 2, 3, 4, 5, 6, 7, 8, 9, 14, 20, 21, 22, 23, 24] {
        let mut buf = [0 as c_char; 200];
        // SAFETY: a local buffer.
        let n = unsafe { rvf_boot_error_message(s, buf.as_mut_ptr(), buf.len()) };
        let t = text(&buf);
        assert_eq!(n, t.len(), "{s}");
        assert!(!t.starts_with("unknown"), "{s}: {t}");
        assert!(!t.contains('\n'));
    }
    let mut buf = [0 as c_char; 200];
    let n = unsafe { rvf_boot_error_message(10, buf.as_mut_ptr(), buf.len()) };
    assert_eq!(text(&buf), "unknown rvf-boot status 10");
    assert_eq!(n, 26);
}
