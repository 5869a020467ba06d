//! Shared by both writer binaries (included with `#[path]`): the built-in
//! deterministic kernel image and the scenario argument handling.

/// Deterministic "bzImage-shaped" test image of `len` bytes: an xorshift32
/// stream seeded with `seed`, then the boot-sector signature 0xAA55 at 0x1FE,
/// "HdrS" at 0x202 and boot protocol 0x020F at 0x206 (when `len` allows).
/// Same algorithm as `host-tests/golden/gen-kernel.py`.
pub fn synthetic_image(len: usize, seed: u32) -> Vec<u8> {
    let mut state = seed;
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        for b in state.to_le_bytes() {
            if out.len() < len {
                out.push(b);
            }
        }
    }
    if len >= 0x208 {
        out[0x1FE] = 0x55;
        out[0x1FF] = 0xAA;
        out[0x202..0x206].copy_from_slice(b"HdrS");
        out[0x206] = 0x0F;
        out[0x207] = 0x02;
    }
    out
}

/// Built-in image: 4096 bytes, seed 0x5256_4B4E ("RVKN").
pub const DEFAULT_SEED: u32 = 0x5256_4B4E;
/// Second built-in image (for `two-kernels`): 2048 bytes, seed 0x0000_0002.
pub const SECOND_SEED: u32 = 2;
/// Command line given to `embed_kernel*`.
pub const CMDLINE: &str = "console=ttyS0 rvf.test=1";
/// Command line of the second kernel in `two-kernels` / `append-kernel`.
pub const CMDLINE2: &str = "console=ttyS0 rvf.test=2";
/// x86_64 in rvf-types.
pub const ARCH_X86_64: u8 = 0;
/// KernelType::MicroLinux.
pub const KERNEL_TYPE_MICROLINUX: u8 = 1;
/// Flags given: HAS_NETWORKING | RELOCATABLE.
pub const KERNEL_FLAGS: u32 = (1 << 3) | (1 << 11);
/// API port given to `embed_kernel*` (stored big-endian by rvf-types).
pub const API_PORT: u16 = 8080;
/// A minimal valid WASM module: magic + version 1, no sections.
pub const WASM_MODULE: &[u8] = &[0x00, 0x61, 0x73, 0x6D, 0x01, 0x00, 0x00, 0x00];
/// Vector dimension of every store.
pub const DIM: u16 = 4;

/// The vectors of the `vectors` scenario: ids 1..=3.
pub fn vectors() -> Vec<(u64, [f32; 4])> {
    vec![
        (1, [1.0, 0.0, 0.0, 0.0]),
        (2, [0.0, 1.0, 0.0, 0.0]),
        (3, [0.5, 0.5, 0.25, -1.0]),
    ]
}

/// The kernel image: the file at `input` if given, else the built-in one.
pub fn image_from(input: Option<&String>) -> Vec<u8> {
    match input {
        Some(p) => std::fs::read(p).unwrap_or_else(|e| die(&format!("read {p}: {e}"))),
        None => synthetic_image(4096, DEFAULT_SEED),
    }
}

/// Print `msg` and exit with status 2.
pub fn die(msg: &str) -> ! {
    eprintln!("error: {msg}");
    std::process::exit(2)
}

/// Refuse to overwrite: the runtime's `create` needs a fresh path anyway.
pub fn fresh(out: &std::path::Path) {
    if out.exists() {
        std::fs::remove_file(out)
            .unwrap_or_else(|e| die(&format!("remove {}: {e}", out.display())));
    }
}
