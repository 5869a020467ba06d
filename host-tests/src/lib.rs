//! Shared helpers for the host tests: the fuzz targets' invariants (one
//! source for fuzzing and property tests), the golden files, the worst-case
//! files of the bounded-work test and bench ([`worst`]) and the stack and
//! allocation meters ([`measure`]).

#[path = "../../fuzz/src/elf_invariants.rs"]
pub mod elf_invariants;
pub mod forge;
#[path = "../../fuzz/src/invariants.rs"]
pub mod invariants;
pub mod measure;
pub mod worst;

use std::path::{Path, PathBuf};
use std::time::Duration;

/// A duration in milliseconds, for the benches' tables.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Where the benches cache their downloaded inputs (`target/bench-inputs/`).
pub fn bench_inputs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-inputs")
}

/// The Debian cloud kernel unpacked under `dir` (`x/boot/vmlinuz-*-cloud-amd64`,
/// as the extract bench leaves it), if there is one.
pub fn find_vmlinuz(dir: &Path) -> Option<PathBuf> {
    let boot = dir.join("x/boot");
    std::fs::read_dir(&boot)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("vmlinuz-") && n.ends_with("-cloud-amd64"))
        })
}

/// The median of the benches' samples (the upper one of an even count).
///
/// # Panics
/// On no samples.
pub fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// The folders under `golden/` whose `.rvf` files the writers' tests pin.
pub const GOLDEN_DIRS: [&str; 4] = ["ruvbot", "runtime-03", "runtime-05", "mixed"];

/// Every golden RVF file in [`GOLDEN_DIRS`] as `("dir/name.rvf", bytes)`,
/// sorted by name within each folder.
pub fn golden_files() -> Vec<(String, Vec<u8>)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("golden");
    let mut out = Vec::new();
    for dir in GOLDEN_DIRS {
        let mut names: Vec<_> = std::fs::read_dir(root.join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "rvf"))
            .collect();
        names.sort();
        for p in names {
            let name = format!("{dir}/{}", p.file_name().unwrap().to_string_lossy());
            out.push((name, std::fs::read(&p).unwrap()));
        }
    }
    out
}
