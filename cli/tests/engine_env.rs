//! `RVF_BOOT_ENGINE` changes how fast `rvf-boot` verifies, never what it
//! says: unset (two threads where there are two CPUs), `zlib-rs` (one
//! thread), `zlib-rs-2cpu` and `miniz` print the same, exit the same and
//! write the same bytes, for a good file and for damaged ones (content hash,
//! inflate and image hash failing).

use rvf_testkit::mutate::{Damage, mutate};
use std::path::{Path, PathBuf};
use std::process::Command;

fn golden(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../host-tests/golden")
        .join(rel)
}

/// `rvf-boot ARGS` with `RVF_BOOT_ENGINE` set to `engine` (or removed):
/// exit code, stdout, stderr and the kernel written to `kernel` (if any).
fn run(
    engine: Option<&str>,
    args: &[&str],
    kernel: &Path,
) -> (Option<i32>, String, String, Option<Vec<u8>>) {
    let _ = std::fs::remove_file(kernel);
    let mut c = Command::new(env!("CARGO_BIN_EXE_rvf-boot"));
    c.args(args);
    match engine {
        Some(e) => c.env("RVF_BOOT_ENGINE", e),
        None => c.env_remove("RVF_BOOT_ENGINE"),
    };
    let o = c.output().unwrap();
    (
        o.status.code(),
        String::from_utf8(o.stdout).unwrap(),
        String::from_utf8(o.stderr).unwrap(),
        std::fs::read(kernel).ok(),
    )
}

#[test]
fn every_engine_prints_and_writes_the_same() {
    let d = std::env::temp_dir().join(format!("rvf-boot-cli-engines-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    let good = std::fs::read(golden("ruvbot/small.rvf")).unwrap();
    let mut files = vec![("good", good.clone())];
    for (name, damage, rehash) in [
        ("stored flipped", Damage::FlipStored, false),
        ("stored flipped, rehashed", Damage::FlipStored, true),
        ("image hash flipped, rehashed", Damage::ImageHash, true),
    ] {
        let mut f = good.clone();
        mutate(&mut f, damage, rehash).unwrap();
        files.push((name, f));
    }
    let kernel = d.join("vmlinuz");
    let k = kernel.to_str().unwrap();
    let mut codes = Vec::new();
    for (name, bytes) in files {
        let rvf = d.join("in.rvf");
        std::fs::write(&rvf, &bytes).unwrap();
        let r = rvf.to_str().unwrap();
        for args in [
            &["extract", r, "--kernel", k][..],
            &["inspect", "--json", r][..],
            &["measure", "--json", r][..],
        ] {
            let reference = run(Some("miniz"), args, &kernel);
            for engine in [None, Some("zlib-rs"), Some("zlib-rs-2cpu")] {
                assert_eq!(
                    run(engine, args, &kernel),
                    reference,
                    "{name} {args:?} RVF_BOOT_ENGINE={engine:?}"
                );
            }
            codes.push((name, args[0].to_owned(), reference.0, reference.2));
        }
    }
    // The good file extracts; each damaged one fails with its own error.
    let extract: Vec<_> = codes.iter().filter(|c| c.1 == "extract").collect();
    assert_eq!(extract[0].2, Some(0), "{codes:?}");
    for (e, want) in extract[1..].iter().zip([
        "payload does not match content_hash",
        "gzip trailer CRC-32",
        "image_hash matches neither",
    ]) {
        assert_eq!(e.2, Some(1), "{codes:?}");
        assert!(e.3.contains(want), "{}: {}", e.0, e.3);
    }
    let _ = std::fs::remove_dir_all(&d);
}
