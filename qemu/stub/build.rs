//! Link the stub as a static, non-PIE ELF at the addresses of `link.ld`. (Its
//! boot policy comes from the shell crate, `qemu/shell/build.rs`.)

fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into());
    let script = format!("{dir}/link.ld");
    println!("cargo:rerun-if-changed={script}");
    for arg in [
        "-nostartfiles",
        "-nostdlib",
        "-static",
        "-no-pie",
        "-Wl,--build-id=none",
        "-Wl,--no-dynamic-linker",
        "-Wl,-z,noexecstack",
        // p_align of the PT_LOAD: 2 MiB (link.ld).
        "-Wl,-z,max-page-size=0x200000",
        &format!("-Wl,-T,{script}"),
    ] {
        println!("cargo:rustc-link-arg-bins={arg}");
    }
}
