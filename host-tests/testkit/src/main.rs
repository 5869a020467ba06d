//! `rvf-testkit`: the test kit's writer and mutations for scripts.
//!
//! ```text
//! rvf-testkit ruvbot --kernel K --output O [--cmdline S] [--now-ms MS] [--package DIR] [--raw-bundle FILE]
//! rvf-testkit mutate IN OUT flip-stored [--rehash]
//! rvf-testkit mutate IN OUT image-hash
//! ```
//!
//! `ruvbot` writes what `build-rvf.js` writes around K (the golden package,
//! the golden files' pinned clock unless `--now-ms`), with the gzip stream
//! compressed by flate2; `--package DIR` bundles a package directory
//! (`package.json`, `dist/`, `bin/`) as build-rvf.js does instead;
//! `--raw-bundle FILE` stores FILE's bytes as the bundle (hostile bundles for
//! the extractor's tests; the WASM header carries their SHA-256). `mutate` damages the first KERNEL_SEG (`flip-stored`:
//! one byte in the middle of the stored gzip image; `image-hash`: one byte of
//! the header's image_hash, content hash always recomputed); `--rehash`
//! recomputes the content hash so the damage reaches the layer behind it.

use rvf_testkit::mutate::{self, Damage};
use rvf_testkit::ruvbot::{self, Inputs, Package};
use std::process::ExitCode;

const USAGE: &str =
    "usage: rvf-testkit ruvbot --kernel K --output O [--cmdline S] [--now-ms MS] [--package DIR] [--raw-bundle FILE]
       rvf-testkit mutate IN OUT flip-stored|image-hash [--rehash]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let r = match args.first().map(String::as_str) {
        Some("ruvbot") => ruvbot_cmd(&args[1..]),
        Some("mutate") => mutate_cmd(&args[1..]),
        Some("-h" | "--help") => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => Err(USAGE.to_string()),
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rvf-testkit: {e}");
            ExitCode::from(2)
        }
    }
}

fn ruvbot_cmd(args: &[String]) -> Result<(), String> {
    let (mut kernel, mut output, mut cmdline, mut now, mut package) =
        (None, None, None, None, None);
    let mut raw_bundle = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut val = || {
            it.next()
                .cloned()
                .ok_or(format!("{a} wants a value\n{USAGE}"))
        };
        match a.as_str() {
            "--kernel" => kernel = Some(val()?),
            "--output" => output = Some(val()?),
            "--cmdline" => cmdline = Some(val()?),
            "--package" => package = Some(val()?),
            "--raw-bundle" => raw_bundle = Some(val()?),
            "--now-ms" => {
                now = Some(
                    val()?
                        .parse::<u64>()
                        .map_err(|e| format!("--now-ms: {e}"))?,
                )
            }
            _ => return Err(format!("unknown argument {a}\n{USAGE}")),
        }
    }
    let kernel = kernel.ok_or(format!("--kernel is required\n{USAGE}"))?;
    let output = output.ok_or(format!("--output is required\n{USAGE}"))?;
    let raw = std::fs::read(&kernel).map_err(|e| format!("{kernel}: {e}"))?;
    let pkg = match &package {
        Some(d) => Package::from_dir(std::path::Path::new(d)).map_err(|e| format!("{d}: {e}"))?,
        None => Package::golden(true),
    };
    let mut inp = Inputs::new(&raw, &pkg);
    if let Some(c) = &cmdline {
        inp.cmdline = c;
    }
    if let Some(n) = now {
        inp.now_ms = n;
    }
    let rvf = match &raw_bundle {
        Some(f) => {
            let b = std::fs::read(f).map_err(|e| format!("{f}: {e}"))?;
            ruvbot::write_with_bundle(&inp, &b)
        }
        None => ruvbot::write(&inp),
    };
    let tmp = format!("{output}.rvf-testkit.tmp");
    std::fs::write(&tmp, &rvf).map_err(|e| format!("{tmp}: {e}"))?;
    std::fs::rename(&tmp, &output).map_err(|e| format!("{output}: {e}"))?;
    println!("{output}: {} bytes, kernel {} bytes", rvf.len(), raw.len());
    Ok(())
}

fn mutate_cmd(args: &[String]) -> Result<(), String> {
    let (input, output, what) = match args {
        [i, o, w, ..] => (i, o, w.as_str()),
        _ => return Err(USAGE.to_string()),
    };
    let mut rehash = false;
    for a in &args[3..] {
        match a.as_str() {
            "--rehash" => rehash = true,
            _ => return Err(format!("unknown argument {a}\n{USAGE}")),
        }
    }
    let damage = match what {
        "flip-stored" => Damage::FlipStored,
        "image-hash" => {
            rehash = true;
            Damage::ImageHash
        }
        _ => return Err(USAGE.to_string()),
    };
    let mut buf = std::fs::read(input).map_err(|e| format!("{input}: {e}"))?;
    let at = mutate::mutate(&mut buf, damage, rehash)?;
    std::fs::write(output, &buf).map_err(|e| format!("{output}: {e}"))?;
    println!(
        "flipped byte at file offset {at}{}",
        if rehash {
            "; content_hash recomputed"
        } else {
            ""
        }
    );
    Ok(())
}
