//! `rvf-boot extract`: write the verified kernel image (and cmdline) atomically.

use crate::{read_file, usage_error};
use rvf_boot::extract::{DecompressorOxide, buffer_size, extract};
use rvf_boot::image_hash::{ImageHash, ImageHashCheck};
use rvf_boot::kernel::KernelSegment;
use rvf_boot::{Container, Policy};
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// A verified image, with what was checked. A gzip'd image lives in the
/// buffer it was inflated into; a raw one is borrowed from the file.
pub struct Extracted<'a> {
    /// The image bytes.
    pub image: Cow<'a, [u8]>,
    /// Hex SHA-256 of the image.
    pub sha256_hex: String,
    /// The algorithm that verified `image_hash` ("unset" if none).
    pub image_hash: &'static str,
    /// The algorithm that verified the segment's content hash.
    pub content_hash: &'static str,
}

/// Runs the library's verified extraction for `kernel`, without copying the
/// image again and without a second SHA-256 pass when the library already
/// verified the image's SHA-256.
pub fn extract_to_vec<'a>(
    kernel: &KernelSegment<'a>,
    policy: Policy,
) -> Result<Extracted<'a>, rvf_boot::Error> {
    let need = usize::try_from(buffer_size(kernel)).unwrap_or(usize::MAX);
    let mut out = Vec::new();
    out.try_reserve_exact(need)
        .map_err(|_| rvf_boot::Error::BufferTooSmall {
            needed: buffer_size(kernel),
            available: 0,
        })?;
    out.resize(need, 0);
    let mut state = Box::<DecompressorOxide>::default();
    let v = extract(kernel, policy, &mut out, &mut state)?;
    let (image_hash, content_hash) = (v.image_hash(), v.content_hash().name());
    let (len, inflated) = (v.bytes().len(), buffer_size(kernel) > 0);
    let image: Cow<'a, [u8]> = if inflated {
        out.truncate(len);
        Cow::Owned(out)
    } else {
        // A raw image is verified where it lies in the file.
        Cow::Borrowed(kernel.stored_unverified())
    };
    let sha256_hex = match image_hash {
        // image_hash verified as SHA-256: it is the image's SHA-256.
        ImageHashCheck::Verified(ImageHash::Sha256) => hex(kernel.image_hash()),
        _ => hex(&Sha256::digest(&image)),
    };
    Ok(Extracted {
        image,
        sha256_hex,
        image_hash: match image_hash {
            ImageHashCheck::Verified(h) => h.name(),
            ImageHashCheck::Unset => "unset",
        },
        content_hash,
    })
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Writes `data` to `path` atomically: a temporary file beside it, synced,
/// then renamed over it. On failure the temporary file is removed.
fn write_atomic(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.rvf-boot-{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

pub fn extract_cmd(args: &[String]) -> ExitCode {
    let mut policy = Policy::default();
    let (mut file, mut kernel_out, mut cmdline_out): (
        Option<PathBuf>,
        Option<PathBuf>,
        Option<PathBuf>,
    ) = (None, None, None);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--allow-unset-hash" => policy.allow_unset_hash = true,
            "--kernel" => match it.next() {
                Some(p) => kernel_out = Some(PathBuf::from(p)),
                None => return usage_error("--kernel needs a path"),
            },
            "--cmdline" => match it.next() {
                Some(p) => cmdline_out = Some(PathBuf::from(p)),
                None => return usage_error("--cmdline needs a path"),
            },
            s if s.starts_with("--") => return usage_error(&format!("unknown flag {s}")),
            s if file.is_none() => file = Some(PathBuf::from(s)),
            _ => return usage_error("more than one FILE"),
        }
    }
    let (Some(file), Some(kernel_out)) = (file, kernel_out) else {
        return usage_error("extract needs FILE and --kernel OUT");
    };
    match run(&file, &kernel_out, cmdline_out.as_deref(), policy) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rvf-boot: {}: {e}", file.display());
            ExitCode::FAILURE
        }
    }
}

fn run(
    file: &Path,
    kernel_out: &Path,
    cmdline_out: Option<&Path>,
    policy: Policy,
) -> Result<(), String> {
    let bytes = read_file(file)?;
    let c = Container::parse(&bytes, policy).map_err(|e| e.to_string())?;
    let k = c.selected_kernel().map_err(|e| e.to_string())?;
    let x = extract_to_vec(&k, policy).map_err(|e| e.to_string())?;
    // Everything verified: only now is anything written.
    write_atomic(kernel_out, &x.image).map_err(|e| format!("{}: {e}", kernel_out.display()))?;
    if let Some(p) = cmdline_out
        && let Err(e) = write_atomic(p, k.cmdline())
    {
        let _ = std::fs::remove_file(kernel_out);
        return Err(format!("{}: {e}", p.display()));
    }
    println!(
        "kernel: {} ({} bytes, from KERNEL_SEG at byte {})",
        kernel_out.display(),
        x.image.len(),
        k.segment_offset()
    );
    println!("image sha256: {}", x.sha256_hex);
    println!(
        "stored: {} bytes ({}), image: {} bytes",
        k.stored_size(),
        k.format().name(),
        k.image_size()
    );
    println!(
        "checked: content hash {}, image hash {}{}",
        x.content_hash,
        x.image_hash,
        match k.format() {
            rvf_boot::kernel::StoredFormat::Gzip => ", gzip CRC-32 and ISIZE",
            rvf_boot::kernel::StoredFormat::Raw => "",
        }
    );
    if cmdline_out.is_some() {
        println!("cmdline: {:?}", String::from_utf8_lossy(k.cmdline()));
    }
    Ok(())
}
