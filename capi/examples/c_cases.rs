//! Writes the C ABI's test cases for the C test (`capi/test.sh`):
//!
//!     cargo run -p rvf-boot-capi --example c_cases -- DIR
//!
//! `DIR/NNNN.rvf` (each case's bytes), `DIR/cases.txt` (one line per case:
//! `NAME FILE POLICY`, POLICY `-` for the default functions or
//! `flags:min_epoch:keys:kernel_sha256:cmdline_sha256` in hex, `-` for
//! none) and `DIR/expected.txt`: what the Rust API says of each case, in the
//! line format `tests/c/golden.c` prints.

#[path = "../tests/support/cases.rs"]
mod cases;

use std::fmt::Write as _;
use std::path::PathBuf;

fn main() {
    let dir = PathBuf::from(std::env::args_os().nth(1).expect("usage: c_cases DIR"));
    std::fs::create_dir_all(&dir).unwrap();
    let mut list = String::new();
    let mut expected = String::new();
    for (i, case) in cases::cases().iter().enumerate() {
        let file = format!("{i:04}.rvf");
        std::fs::write(dir.join(&file), &case.bytes).unwrap();
        let policy = case
            .policy
            .as_ref()
            .map_or_else(|| "-".to_string(), |p| p.encode(false));
        writeln!(list, "{} {file} {policy}", case.name).unwrap();
        writeln!(expected, "{}", cases::reference(case).line(&case.name)).unwrap();
    }
    std::fs::write(dir.join("cases.txt"), list).unwrap();
    std::fs::write(dir.join("expected.txt"), expected).unwrap();
}
