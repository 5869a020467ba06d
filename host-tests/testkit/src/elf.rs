//! A small ELF64 writer for the vmlinux tests: an x86-64 `ET_EXEC` with the
//! program headers it is given, laid out from the System V gABI (not from
//! the library under test). The file header is at 0, the program-header
//! table right after it (at [`PHOFF`]), then each segment's bytes at the
//! next file offset congruent to its `p_vaddr` modulo its `p_align`.

/// Where the program-header table starts (right after the 64-byte header).
pub const PHOFF: usize = 64;
/// Size of one program header.
pub const PHENTSIZE: usize = 56;
/// `__START_KERNEL_map`: a vmlinux's virtual addresses are its physical
/// ones plus this.
pub const KERNEL_MAP: u64 = 0xFFFF_FFFF_8000_0000;

/// `p_type` values.
pub const PT_NULL: u32 = 0;
/// Loadable segment.
pub const PT_LOAD: u32 = 1;
/// Dynamic linking information (not for a kernel).
pub const PT_DYNAMIC: u32 = 2;
/// Notes.
pub const PT_NOTE: u32 = 4;
/// Thread-local storage template (not for a kernel).
pub const PT_TLS: u32 = 7;
/// GNU stack flags.
pub const PT_GNU_STACK: u32 = 0x6474_E551;

/// Field offsets inside a program header.
pub mod ph {
    /// `p_type` (u32).
    pub const TYPE: usize = 0x00;
    /// `p_flags` (u32).
    pub const FLAGS: usize = 0x04;
    /// `p_offset` (u64).
    pub const OFFSET: usize = 0x08;
    /// `p_vaddr` (u64).
    pub const VADDR: usize = 0x10;
    /// `p_paddr` (u64).
    pub const PADDR: usize = 0x18;
    /// `p_filesz` (u64).
    pub const FILESZ: usize = 0x20;
    /// `p_memsz` (u64).
    pub const MEMSZ: usize = 0x28;
    /// `p_align` (u64).
    pub const ALIGN: usize = 0x30;
}

/// One program header and the bytes it covers in the file.
#[derive(Clone, Debug)]
pub struct Segment {
    /// `p_type`.
    pub p_type: u32,
    /// `p_flags`.
    pub p_flags: u32,
    /// `p_vaddr`.
    pub p_vaddr: u64,
    /// `p_paddr`.
    pub p_paddr: u64,
    /// The file bytes (`p_filesz` is their length).
    pub data: Vec<u8>,
    /// `p_memsz`.
    pub p_memsz: u64,
    /// `p_align` (also used to place the bytes in the file; 0 counts as 1).
    pub p_align: u64,
}

/// An ELF64 x86-64 executable under construction.
#[derive(Clone, Debug)]
pub struct ElfBuilder {
    /// `e_entry`.
    pub e_entry: u64,
    /// The program headers, in table order.
    pub segments: Vec<Segment>,
}

/// One note: `n_namesz`, `n_descsz`, `n_type`, the name (with its NUL, as
/// given) and the descriptor, each padded to `align`.
pub fn note(name: &[u8], n_type: u32, desc: &[u8], align: usize) -> Vec<u8> {
    let mut n = Vec::new();
    n.extend_from_slice(&(name.len() as u32).to_le_bytes());
    n.extend_from_slice(&(desc.len() as u32).to_le_bytes());
    n.extend_from_slice(&n_type.to_le_bytes());
    n.extend_from_slice(name);
    n.resize(n.len().next_multiple_of(align), 0);
    n.extend_from_slice(desc);
    n.resize(n.len().next_multiple_of(align), 0);
    n
}

/// The PVH entry note: `"Xen"`, type 18 (`XEN_ELFNOTE_PHYS32_ENTRY`), an
/// 8-byte descriptor as Linux writes it (`_ASM_PTR`), 4-byte aligned.
pub fn pvh_note(entry: u64) -> Vec<u8> {
    note(b"Xen\0", 18, &entry.to_le_bytes(), 4)
}

impl ElfBuilder {
    /// An executable entered at `e_entry`, with no program headers yet.
    pub fn new(e_entry: u64) -> Self {
        Self {
            e_entry,
            segments: Vec::new(),
        }
    }

    /// Add a `PT_LOAD` (flags R+X, 4 KiB aligned) of `data` at physical
    /// `paddr` (virtual `paddr + KERNEL_MAP`), `memsz` bytes in memory.
    pub fn load(self, paddr: u64, data: &[u8], memsz: u64) -> Self {
        self.load_at(paddr, paddr.wrapping_add(KERNEL_MAP), data, memsz)
    }

    /// Add a `PT_LOAD` with an explicit `p_vaddr` (a percpu segment has 0).
    pub fn load_at(mut self, paddr: u64, vaddr: u64, data: &[u8], memsz: u64) -> Self {
        self.segments.push(Segment {
            p_type: PT_LOAD,
            p_flags: 5,
            p_vaddr: vaddr,
            p_paddr: paddr,
            data: data.to_vec(),
            p_memsz: memsz,
            p_align: 0x1000,
        });
        self
    }

    /// Add a `PT_NOTE` holding `notes` (already laid out, e.g. by [`note`]),
    /// `p_align` 4.
    pub fn notes(mut self, notes: &[u8]) -> Self {
        self.segments.push(Segment {
            p_type: PT_NOTE,
            p_flags: 4,
            p_vaddr: 0,
            p_paddr: 0,
            data: notes.to_vec(),
            p_memsz: notes.len() as u64,
            p_align: 4,
        });
        self
    }

    /// Add any segment.
    pub fn segment(mut self, s: Segment) -> Self {
        self.segments.push(s);
        self
    }

    /// The file bytes.
    pub fn build(&self) -> Vec<u8> {
        let phnum = self.segments.len();
        let mut f = vec![0u8; PHOFF + PHENTSIZE * phnum];
        f[0..4].copy_from_slice(b"\x7fELF");
        f[4] = 2; // ELFCLASS64
        f[5] = 1; // ELFDATA2LSB
        f[6] = 1; // EV_CURRENT
        f[0x10..0x12].copy_from_slice(&2u16.to_le_bytes()); // ET_EXEC
        f[0x12..0x14].copy_from_slice(&62u16.to_le_bytes()); // EM_X86_64
        f[0x14..0x18].copy_from_slice(&1u32.to_le_bytes());
        f[0x18..0x20].copy_from_slice(&self.e_entry.to_le_bytes());
        f[0x20..0x28].copy_from_slice(&(PHOFF as u64).to_le_bytes());
        f[0x34..0x36].copy_from_slice(&64u16.to_le_bytes());
        f[0x36..0x38].copy_from_slice(&(PHENTSIZE as u16).to_le_bytes());
        f[0x38..0x3A].copy_from_slice(&(phnum as u16).to_le_bytes());
        f[0x3A..0x3C].copy_from_slice(&64u16.to_le_bytes()); // e_shentsize (no sections)
        for (i, s) in self.segments.iter().enumerate() {
            let align = s.p_align.max(1);
            // The next offset with offset ≡ p_vaddr (mod align).
            let mut off = f.len() as u64;
            let want = s.p_vaddr % align;
            off += (want + align - off % align) % align;
            f.resize(off as usize, 0);
            f.extend_from_slice(&s.data);
            let h = PHOFF + PHENTSIZE * i;
            let fields: [(usize, u64); 6] = [
                (ph::OFFSET, off),
                (ph::VADDR, s.p_vaddr),
                (ph::PADDR, s.p_paddr),
                (ph::FILESZ, s.data.len() as u64),
                (ph::MEMSZ, s.p_memsz),
                (ph::ALIGN, s.p_align),
            ];
            f[h..h + 4].copy_from_slice(&s.p_type.to_le_bytes());
            f[h + 4..h + 8].copy_from_slice(&s.p_flags.to_le_bytes());
            for (o, v) in fields {
                f[h + o..h + o + 8].copy_from_slice(&v.to_le_bytes());
            }
        }
        f
    }
}

/// The offset of program header `i`'s field `field` ([`ph`]) in a file
/// [`ElfBuilder::build`] wrote.
pub fn ph_field(i: usize, field: usize) -> usize {
    PHOFF + PHENTSIZE * i + field
}

/// A small vmlinux shaped like Linux's x86-64 one: entry 0x100_0000 (16 MiB);
/// text (R+X) at 0x100_0000, 0x1000 bytes; data at 0x120_0000, 0x800 file
/// bytes in 0x2000; a percpu-like segment at virtual 0, physical
/// 0x120_2000, 0x100 bytes; init at 0x130_0000, 0x400 bytes in 0x10_0000
/// (ending at 0x140_0000); a `PT_NOTE` with a `"GNU"` build-id note, the
/// PVH note (entry 0x100_0850) and a `"Linux"` note.
pub fn vmlinux() -> Vec<u8> {
    vmlinux_builder().build()
}

/// The builder [`vmlinux`] builds, for tests that change a part.
pub fn vmlinux_builder() -> ElfBuilder {
    let mut notes = note(b"GNU\0", 3, &[0xB1; 20], 4);
    notes.extend(pvh_note(0x100_0850));
    notes.extend(note(b"Linux\0", 6, b"6.1\0", 4));
    ElfBuilder::new(0x100_0000)
        .load(0x100_0000, &crate::build::noise(11, 0x1000), 0x1000)
        .load(0x120_0000, &crate::build::noise(12, 0x800), 0x2000)
        .load_at(0x120_2000, 0, &crate::build::noise(13, 0x100), 0x100)
        .load(0x130_0000, &crate::build::noise(14, 0x400), 0x10_0000)
        .notes(&notes)
}
