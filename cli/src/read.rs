//! Reading the inputs with memory bounded by what is used (the binary's
//! `input` module and `extract --bundle` use these; the memory tests measure
//! them): FILE read whole with its length reserved once, or up to
//! [`NON_REGULAR_MAX`] when it has no length; the initrd hashed while it
//! streams; an RVF on a device read as far as its extent, holding only the
//! pages of what is read ([`load_for`]).

use rvf_boot::segment::{
    After, MAX_SEGMENTS, ROOT_PAGE_MAGIC, ROOT_PAGE_SIZE, SEGMENT_HEADER_SIZE, after_segment,
    after_window, read_header, seg_type,
};
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::FileTypeExt as _;
use std::path::Path;

/// The most bytes read from a FILE that is neither a regular file nor a
/// block device (1 GiB).
pub const NON_REGULAR_MAX: u64 = 1 << 30;
/// The most bytes hashed from an initrd that is not a regular file or a
/// block device (4 GiB - 1: the largest `ramdisk_size`).
pub const INITRD_NON_REGULAR_MAX: u64 = u32::MAX as u64;
/// The initrd is hashed in reads of this size (1 MiB).
pub const CHUNK: usize = 1 << 20;

/// Whether an open file has a length (a regular file or a block device).
fn sized(f: &File) -> io::Result<bool> {
    let t = f.metadata()?.file_type();
    Ok(t.is_file() || t.is_block_device())
}

/// Reads all of `path` (see the module doc for the bounds).
///
/// # Errors
/// One line naming `path`.
pub fn read_whole(path: &Path) -> Result<Vec<u8>, String> {
    read_whole_limited(path, NON_REGULAR_MAX)
}

/// [`read_whole`] with `max` for an input without a length.
///
/// # Errors
/// One line naming `path`.
pub fn read_whole_limited(path: &Path, max: u64) -> Result<Vec<u8>, String> {
    let shown = path.display();
    let fail = |e: &dyn std::fmt::Display| format!("{shown}: {e}");
    let mut f = File::open(path).map_err(|e| fail(&e))?;
    if sized(&f).map_err(|e| fail(&e))? {
        let len = f.seek(SeekFrom::End(0)).map_err(|e| fail(&e))?;
        f.seek(SeekFrom::Start(0)).map_err(|e| fail(&e))?;
        let mut v = Vec::new();
        usize::try_from(len)
            .ok()
            .and_then(|n| v.try_reserve_exact(n).ok())
            .ok_or_else(|| fail(&format_args!("cannot reserve {len} bytes to read it")))?;
        f.read_to_end(&mut v).map_err(|e| fail(&e))?;
        return Ok(v);
    }
    let mut v = Vec::new();
    f.take(max.saturating_add(1))
        .read_to_end(&mut v)
        .map_err(|e| fail(&e))?;
    if v.len() as u64 > max {
        return Err(fail(&format_args!(
            "not a regular file or block device, and longer than the {max}-byte maximum for such an input"
        )));
    }
    Ok(v)
}

/// The SHA-256 of the initrd at `path`, hashed while it streams; `None` when
/// it is empty (the stub loads no initrd for an empty file).
///
/// # Errors
/// One line naming `path`.
pub fn hash_initrd(path: &Path) -> Result<Option<[u8; 32]>, String> {
    hash_initrd_limited(path, INITRD_NON_REGULAR_MAX)
}

/// [`hash_initrd`] with `max` for an initrd without a length.
///
/// # Errors
/// One line naming `path`.
pub fn hash_initrd_limited(path: &Path, max: u64) -> Result<Option<[u8; 32]>, String> {
    let shown = path.display();
    let fail = |e: &dyn std::fmt::Display| format!("{shown}: {e}");
    let mut f = File::open(path).map_err(|e| fail(&e))?;
    let limit = if sized(&f).map_err(|e| fail(&e))? {
        u64::MAX
    } else {
        max
    };
    let mut h = Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    let mut total = 0u64;
    loop {
        let n = match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(fail(&e)),
        };
        total = total.saturating_add(n as u64);
        if total > limit {
            return Err(fail(&format_args!(
                "not a regular file or block device, and longer than the {limit}-byte maximum for such an initrd"
            )));
        }
        h.update(&buf[..n]);
    }
    Ok((total > 0).then(|| h.finalize().into()))
}

/// A reader that counts the bytes it returned (the bound the tests check).
pub struct Counting<R> {
    inner: R,
    /// Bytes read so far.
    pub read: u64,
}

impl<R: Read + Seek> Counting<R> {
    /// Wraps `inner`.
    pub const fn new(inner: R) -> Self {
        Self { inner, read: 0 }
    }

    /// Fills `buf` from `offset`, or as much of it as there is before the end.
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.seek(SeekFrom::Start(offset))?;
        let mut got = 0;
        while got < buf.len() {
            match self.inner.read(&mut buf[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        self.read += got as u64;
        Ok(got)
    }
}

/// The RVF's bytes as far as the extraction needs them.
pub struct Loaded {
    /// The extent (unread payloads are zero, their pages never touched).
    pub bytes: Vec<u8>,
    /// Bytes read from the device.
    pub bytes_read: u64,
    /// The size of FILE (the device).
    pub device_size: u64,
}

/// Walks the headers of the RVF at the start of `r`, then reads its extent's
/// headers and the payloads the extraction uses (see the module doc).
///
/// # Errors
/// I/O errors, and an extent whose buffer cannot be reserved.
pub fn load<R: Read + Seek>(r: &mut Counting<R>) -> io::Result<Loaded> {
    load_for(r, false)
}

/// [`load`], also reading the KERNEL_SEG payloads when `kernels` is set (a
/// kernel pin needs the selected kernel).
///
/// # Errors
/// Those of [`load`].
pub fn load_for<R: Read + Seek>(r: &mut Counting<R>, kernels: bool) -> io::Result<Loaded> {
    let device_size = r.inner.seek(SeekFrom::End(0))?;
    let mut w = walk(r, kernels, device_size)?;
    w.wanted.extend(w.manifests.last().map(|m| m.1));
    // A root page right after the segments (signed stores), and the
    // manifest it names when that is not the newest (a signed prefix).
    let mut extent = w.end;
    let mut page = [0u8; 16];
    if w.end.saturating_add(ROOT_PAGE_SIZE) <= device_size
        && r.read_at(w.end, &mut page)? == 16
        && page.get(..4) == Some(&ROOT_PAGE_MAGIC.to_le_bytes()[..])
    {
        w.wanted.push((w.end, ROOT_PAGE_SIZE));
        extent = w.end + ROOT_PAGE_SIZE;
        let named = u64::from_le_bytes(page[8..16].try_into().unwrap_or_default());
        if let Some(m) = w.manifests.iter().rev().skip(1).find(|m| m.0 == named) {
            w.wanted.push(m.1);
        }
    }
    let len = usize::try_from(extent).map_err(|_| io::Error::other("the RVF is too large"))?;
    let mut bytes = zeroed(len).map_err(|()| {
        io::Error::other(format!(
            "cannot reserve {extent} bytes of address space for the RVF's extent"
        ))
    })?;
    for (off, data) in w.pieces {
        let o = off as usize;
        let n = data.len().min(len.saturating_sub(o));
        bytes[o..o + n].copy_from_slice(&data[..n]);
    }
    for (off, size) in w.wanted {
        let (o, s) = (off as usize, size as usize);
        r.read_at(off, &mut bytes[o..o + s])?;
    }
    Ok(Loaded {
        bytes,
        bytes_read: r.read,
        device_size,
    })
}

/// What the header walk found.
struct Walked {
    /// (offset, bytes) already read: headers and the windows after payloads.
    pieces: Vec<(u64, Vec<u8>)>,
    /// (offset, length) of the payloads to read.
    wanted: Vec<(u64, u64)>,
    /// (header offset, payload) of every MANIFEST_SEG, in file order.
    manifests: Vec<(u64, (u64, u64))>,
    /// Where the segments end.
    end: u64,
}

/// Walks the headers from offset 0 (the library's `read_header` and
/// `after_segment` rule), noting the payloads the extraction uses.
fn walk<R: Read + Seek>(
    r: &mut Counting<R>,
    kernels: bool,
    device_size: u64,
) -> io::Result<Walked> {
    let mut w = Walked {
        pieces: Vec::new(),
        wanted: Vec::new(),
        manifests: Vec::new(),
        end: 0,
    };
    let mut at = 0u64;
    let mut segments = 0u32;
    // The next header, when the window after the previous payload held it.
    let mut known: Option<[u8; 64]> = None;
    w.end = loop {
        let mut h = [0u8; 64];
        let n = match known.take() {
            Some(k) => {
                h = k;
                64
            }
            None => {
                let n = r.read_at(at, &mut h)?;
                w.pieces.push((at, h[..n].to_vec()));
                n
            }
        };
        // One segment past the limit, so the library reports it.
        if segments >= MAX_SEGMENTS {
            break at.saturating_add(n as u64);
        }
        let Ok(header) = read_header(&h[..n], at) else {
            // Not a segment: the library reports it (at offset 0: not an RVF).
            break if at == 0 { n as u64 } else { at };
        };
        let len = header.payload_length.get();
        let Some(u) = at
            .checked_add(SEGMENT_HEADER_SIZE)
            .and_then(|p| p.checked_add(len))
            .filter(|&u| u <= device_size)
        else {
            break at; // a torn segment: the RVF ends before it
        };
        segments += 1;
        let payload = (at + SEGMENT_HEADER_SIZE, len);
        match header.seg_type {
            seg_type::MANIFEST => w.manifests.push((at, payload)),
            seg_type::WASM | seg_type::META | seg_type::PROFILE | seg_type::WITNESS => {
                w.wanted.push(payload);
            }
            seg_type::KERNEL if kernels => w.wanted.push(payload),
            _ => {}
        }
        let mut win = vec![0u8; after_window(u).min(device_size - u) as usize];
        let n = r.read_at(u, &mut win)?;
        win.truncate(n);
        let next = after_segment(&win, u);
        w.pieces.push((u, win));
        match next {
            After::Next { offset, .. } => {
                let k = usize::try_from(offset - u).unwrap_or(usize::MAX);
                known = w
                    .pieces
                    .last()
                    .and_then(|(_, win)| win.get(k..)?.get(..64)?.try_into().ok());
                at = offset;
            }
            After::End { end } => break end,
        }
    };
    Ok(w)
}

/// `len` zero bytes whose pages are not touched until written: `vec![0; n]`
/// allocates with `calloc`, which takes fresh (zero) pages from the kernel
/// for a large block, where `resize` would write every page. A fallible
/// reservation of the same size first says the address space can be had.
fn zeroed(len: usize) -> Result<Vec<u8>, ()> {
    let mut probe = Vec::<u8>::new();
    probe.try_reserve_exact(len).map_err(drop)?;
    drop(probe);
    Ok(vec![0u8; len])
}
