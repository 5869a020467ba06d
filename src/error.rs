//! The one error type of the library.
//!
//! Every variant names *what* failed and *where*: the segment's index in file
//! order, the absolute file offset of its header, the field. `Display` renders
//! each as one sentence a user can act on. The type is `Copy` and carries only
//! integers, `&'static str` and small field enums (each with `Display`, defined
//! beside the code that reports it), so returning it costs nothing and needs no
//! heap, and callers match on types, not strings.

use crate::boot::EfiStubProblem;
use crate::bundle::{BytecodeHash, EntryField, PathProblem};
use crate::bzimage::BzCheck;
use crate::checksum::ContentHash;
use crate::cmdline::CmdlineProblem;
use crate::container::{DirectoryField, StoppedBy};
use crate::elf::{ElfField, LoadTarget, NoteProblem, PlacementProblem, SegmentProblem};
use crate::gzip::{HeaderField as GzipField, InflateFailure, MemberPart};
use crate::kernel::{HeaderField as KernelHeaderField, ImageSizeLimit};
use crate::manifest::ManifestField;
use crate::plan::BootItem;
use crate::policy::AuthProblem;
use crate::root_page::{PageField, SignatureProblem};
use crate::segment::SegmentField;
use crate::zero_page::AddressProblem;

mod display;

/// The on-disk structure an error is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Structure {
    /// A 64-byte segment header (§2.1).
    SegmentHeader,
    /// The 4096-byte RVM0 root page at the end of a signed store (§3.4).
    RootPage,
    /// A MANIFEST_SEG payload (§3.3).
    Manifest,
    /// The 128-byte kernel header at the start of a KERNEL_SEG payload (§4.1).
    KernelHeader,
    /// The 128-byte KernelBinding (§4.6).
    KernelBinding,
    /// The 64-byte WASM_SEG header (§5).
    WasmHeader,
    /// The RuvBot Node.js file bundle inside a WASM_SEG (§5).
    Bundle,
    /// A gzip member (RFC 1952).
    Gzip,
    /// A bzImage's real-mode header (Linux boot protocol).
    BzImage,
    /// An ELF vmlinux's file header or program-header table.
    ElfHeader,
}

impl Structure {
    /// A short human name, as used in messages.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::SegmentHeader => "segment header",
            Self::RootPage => "RVM0 root page",
            Self::Manifest => "manifest",
            Self::KernelHeader => "kernel header",
            Self::KernelBinding => "kernel binding",
            Self::WasmHeader => "WASM header",
            Self::Bundle => "runtime bundle",
            Self::Gzip => "gzip member",
            Self::BzImage => "bzImage header",
            Self::ElfHeader => "ELF header",
        }
    }
}

display_by_name!(Structure);

/// Every way reading, verifying, extracting or booting an RVF file can fail.
///
/// Offsets are absolute file offsets unless the variant says otherwise;
/// `index` is a segment's position in file order, counting from 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    // ---- bytes and segment walk (segment.rs) ----
    /// A structure extends past the end of the bytes it must lie in.
    Truncated {
        /// What was being read.
        structure: Structure,
        /// Where it starts.
        offset: u64,
        /// How many bytes it needs.
        needed: u64,
        /// How many bytes there are from `offset` on.
        available: u64,
    },
    /// A magic number is not the expected one.
    BadMagic {
        /// What was being read.
        structure: Structure,
        /// Where it starts.
        offset: u64,
        /// The four bytes found, as a little-endian u32.
        found: u32,
    },
    /// A version field holds a value this reader does not know.
    UnsupportedVersion {
        /// What was being read.
        structure: Structure,
        /// Where it starts.
        offset: u64,
        /// The version found.
        version: u16,
    },
    /// A segment's payload runs past the end of the segment area.
    SegmentOverrun {
        /// The segment's index.
        index: u32,
        /// Its header offset.
        offset: u64,
        /// Its `payload_length` field.
        payload_length: u64,
        /// Where the segment area ends (file size minus an RVM0 page).
        body_end: u64,
    },
    /// The walk met more segments than [`crate::segment::MAX_SEGMENTS`].
    TooManySegments {
        /// The offset of the first segment over the limit.
        offset: u64,
        /// The limit.
        limit: u32,
    },
    /// The file does not start with a segment header.
    NotRvf {
        /// The first four bytes as a little-endian u32; a file shorter than
        /// four bytes gives its bytes with zeros above them (messages show
        /// only the `file_size` bytes there are).
        found: u32,
        /// The file size.
        file_size: u64,
    },

    // ---- manifest (manifest.rs, container.rs) ----
    /// No complete MANIFEST_SEG was found: the file is torn or not a store.
    NoCompleteManifest {
        /// Where the walk stopped finding complete segments.
        walk_end: u64,
        /// The file size.
        file_size: u64,
        /// What the walk met there.
        stopped_by: StoppedBy,
    },
    /// A field of a MANIFEST_SEG payload is malformed.
    ManifestMalformed {
        /// Header offset of the MANIFEST_SEG.
        offset: u64,
        /// The field.
        field: ManifestField,
        /// Byte offset of the field within the payload.
        at: u64,
    },
    /// The directory has more entries than `crate::manifest::MAX_DIRECTORY_ENTRIES`.
    TooManyDirectoryEntries {
        /// Header offset of the MANIFEST_SEG.
        offset: u64,
        /// The `seg_count` field.
        count: u32,
        /// The limit.
        limit: u32,
    },
    /// A directory entry points at an offset where the walk found no segment.
    DirectoryEntryNotASegment {
        /// The entry's index in the directory.
        entry: u32,
        /// The offset it names.
        offset: u64,
    },
    /// Two directory entries name the same segment (no writer does that).
    DirectoryDuplicate {
        /// The later entry's index in the directory.
        entry: u32,
        /// The earlier entry naming the same segment.
        first: u32,
        /// The offset both name.
        offset: u64,
    },
    /// A directory entry names a segment before the one the previous entry
    /// names: every writer lists segments in file order, and the reader checks
    /// the directory in one pass over the file that relies on it.
    DirectoryOrder {
        /// The entry's index in the directory.
        entry: u32,
        /// The offset it names.
        offset: u64,
        /// The offset the previous entry names.
        previous: u64,
    },
    /// A directory entry disagrees with the segment header at its offset.
    DirectoryMismatch {
        /// The entry's index in the directory.
        entry: u32,
        /// The offset it names.
        offset: u64,
        /// The field that differs.
        field: DirectoryField,
        /// The directory's value.
        directory: u64,
        /// The header's value.
        header: u64,
    },

    // ---- content hashes (checksum.rs) ----
    /// `checksum_algo` names an algorithm this reader does not implement.
    UnknownChecksumAlgo {
        /// The segment's index.
        index: u32,
        /// Its header offset.
        offset: u64,
        /// The `checksum_algo` byte.
        algo: u8,
    },
    /// The payload does not match the header's `content_hash`.
    ContentHashMismatch {
        /// The segment's index.
        index: u32,
        /// Its header offset.
        offset: u64,
        /// The `checksum_algo` byte.
        algo: u8,
    },
    /// The `content_hash` is all zeros and the policy refuses unset hashes.
    ContentHashUnset {
        /// The segment's index.
        index: u32,
        /// Its header offset.
        offset: u64,
    },
    /// A segment-header field that must be zero (or a known value) is not.
    UnsupportedSegmentField {
        /// The segment's index.
        index: u32,
        /// Its header offset.
        offset: u64,
        /// The field.
        field: SegmentField,
        /// The value found.
        value: u64,
    },
    /// An algorithm-0 segment carries another writer's hash than the file's
    /// other algorithm-0 segments (one writer per file, §2.4).
    ContentHashOtherWriter {
        /// The segment's index.
        index: u32,
        /// Its header offset.
        offset: u64,
        /// The algorithm-0 hash of the file's writer (decided by the winning manifest).
        expected: ContentHash,
        /// The hash the segment carries.
        found: ContentHash,
    },

    // ---- root page (root_page.rs) ----
    /// The RVM0 root page's CRC32C does not match its bytes.
    RootPageCrc {
        /// Offset of the page.
        offset: u64,
        /// The stored CRC.
        stored: u32,
        /// The CRC of the page.
        computed: u32,
    },
    /// An RVM0 root-page field is unknown or disagrees with the manifest.
    RootPageField {
        /// Offset of the page.
        offset: u64,
        /// The field.
        field: PageField,
        /// The page's value.
        value: u64,
    },
    /// The RVM0 root page's signature does not verify against the trusted keys.
    RootPageSignature {
        /// Offset of the page.
        offset: u64,
        /// What failed.
        problem: SignatureProblem,
    },

    // ---- authentication (policy.rs) ----
    /// The file or the boot does not satisfy the policy's signature or pins.
    Auth(AuthProblem),

    // ---- kernel segment (kernel.rs) ----
    /// The winning manifest's directory lists no KERNEL_SEG.
    NoKernel,
    /// No kernel listed in the winning manifest has its header at this offset.
    NoKernelAt {
        /// The offset asked for.
        offset: u64,
    },
    /// The kernel header's lengths do not add up to its payload in any known layout (§4.3).
    KernelLayout {
        /// Header offset of the KERNEL_SEG.
        offset: u64,
        /// The segment's `payload_length`.
        payload_length: u64,
        /// The stored image length the header implies.
        stored_size: u64,
        /// The cmdline length the header gives.
        cmdline_length: u64,
    },
    /// A kernel-header field holds a value that contradicts the detected layout.
    KernelField {
        /// Header offset of the KERNEL_SEG.
        offset: u64,
        /// The field.
        field: KernelHeaderField,
        /// The value found.
        value: u64,
    },
    /// The kernel header's `image_size` is more than the stored image can
    /// inflate to, or more than the reader accepts. Checked when the header
    /// is parsed, before anyone sizes a buffer from it.
    ImageSize {
        /// Header offset of the KERNEL_SEG.
        offset: u64,
        /// The declared `image_size`.
        image_size: u64,
        /// The limit it exceeds.
        limit: ImageSizeLimit,
    },
    /// The stored kernel is compressed with a format this reader does not inflate.
    UnsupportedCompression {
        /// Header offset of the KERNEL_SEG.
        offset: u64,
        /// The kernel header's `compression` byte.
        code: u8,
        /// The first four stored bytes as a little-endian u32.
        magic: u32,
    },

    // ---- extraction (gzip.rs, image.rs) ----
    /// The caller's output buffer cannot hold the image.
    BufferTooSmall {
        /// Bytes needed.
        needed: u64,
        /// Bytes supplied.
        available: u64,
    },
    /// The caller could not obtain an output buffer for the image at all (a
    /// host allocation failed). The library never returns this itself; it
    /// lets a caller report the failure as a memory error.
    BufferUnavailable {
        /// Bytes needed.
        needed: u64,
    },
    /// A gzip member header field is invalid.
    GzipHeader {
        /// The field.
        field: GzipField,
        /// Byte offset within the stored (compressed) kernel.
        at: u64,
    },
    /// A fixed-size part of a gzip member (header, optional field, trailer)
    /// runs past the end of the stored kernel, or a NUL-terminated field has
    /// no NUL.
    GzipTruncated {
        /// The part.
        part: MemberPart,
        /// Byte offset within the stored (compressed) kernel where it starts.
        at: u64,
        /// Bytes it needs (for an unterminated field: at least this many).
        needed: u64,
        /// Bytes there are from `at` on.
        available: u64,
    },
    /// The deflate stream is corrupt or ends early.
    Inflate {
        /// What the decompressor reported.
        reason: InflateFailure,
        /// Compressed bytes consumed from the start of the gzip member.
        input_offset: u64,
        /// Uncompressed bytes produced so far.
        output_offset: u64,
    },
    /// The stream inflates to more bytes than `image_size` (a decompression bomb or a lie).
    ImageOverflow {
        /// The declared `image_size`.
        image_size: u64,
    },
    /// The stream inflates to fewer bytes than `image_size`.
    ImageShort {
        /// The declared `image_size`.
        image_size: u64,
        /// Bytes produced.
        produced: u64,
    },
    /// The gzip trailer's CRC-32 does not match the inflated bytes.
    GzipCrc {
        /// The trailer's CRC-32.
        stored: u32,
        /// The CRC-32 of the output.
        computed: u32,
    },
    /// The gzip trailer's ISIZE does not match the inflated length mod 2^32.
    GzipSize {
        /// The trailer's ISIZE.
        stored: u32,
        /// The output length mod 2^32.
        computed: u32,
    },
    /// Bytes follow the gzip member inside the stored kernel.
    GzipTrailingBytes {
        /// Byte offset within the stored kernel where they start.
        at: u64,
        /// How many.
        count: u64,
    },
    /// The kernel header's `image_hash` matches none of the known algorithms.
    ImageHashMismatch {
        /// Header offset of the KERNEL_SEG.
        offset: u64,
    },
    /// The kernel header's `image_hash` is all zeros and the policy refuses that.
    ImageHashUnset {
        /// Header offset of the KERNEL_SEG.
        offset: u64,
    },

    // ---- WASM segment and runtime bundle (bundle.rs) ----
    /// The WASM header's `bytecode_size` is not the length of the body after it.
    WasmBodySize {
        /// Header offset of the WASM_SEG.
        offset: u64,
        /// The header's `bytecode_size`.
        declared: u64,
        /// The body's length (payload length minus the 64-byte WASM header).
        actual: u64,
    },
    /// A RuvBot bundle is shorter than its 4-byte `file_count`.
    BundleTruncated {
        /// The bundle's length.
        length: u64,
    },
    /// A RuvBot bundle lists more files than `bundle::MAX_BUNDLE_FILES`.
    TooManyBundleFiles {
        /// The `file_count` field.
        count: u32,
        /// The limit.
        limit: u32,
    },
    /// A RuvBot bundle file-table entry runs past the end of the bundle, or
    /// its data range does.
    BundleEntry {
        /// The entry's index in the file table.
        entry: u32,
        /// The field.
        field: EntryField,
        /// Byte offset of the entry within the bundle.
        at: u64,
    },
    /// A bundle path that could escape the extraction directory or cannot be
    /// a file name (`bundle::check_path`).
    BundlePath {
        /// The entry's index in the file table.
        entry: u32,
        /// Byte offset of the entry within the bundle.
        at: u64,
        /// What is wrong with it.
        problem: PathProblem,
    },
    /// A file's data starts before the previous file's data (or the file
    /// table) ends: files overlap, or are not stored in table order.
    BundleOverlap {
        /// The entry's index in the file table.
        entry: u32,
        /// Its `data_offset`.
        data_offset: u64,
        /// Where the previous file's data (or the table) ends.
        previous_end: u64,
    },
    /// Two entries name the same path.
    BundleDuplicatePath {
        /// The later entry.
        entry: u32,
        /// The earlier entry.
        first: u32,
    },
    /// An entry's path runs through another entry's path, which is a file
    /// (`a` and `a/b`).
    BundlePathConflict {
        /// The entry whose path goes through the file.
        entry: u32,
        /// The entry that is the file.
        file: u32,
    },
    /// The file table is not made of at most
    /// `bundle::MAX_BUNDLE_RUNS` runs sorted by path.
    BundleUnsorted {
        /// The entry that starts one run too many.
        entry: u32,
        /// The limit.
        limit: usize,
    },
    /// The WASM header's `bytecode_hash` does not match the body.
    BytecodeHashMismatch {
        /// Header offset of the WASM_SEG.
        offset: u64,
        /// The algorithm the body's layout calls for.
        algo: BytecodeHash,
    },
    /// The WASM header's `bytecode_hash` is all zeros and the policy refuses that.
    BytecodeHashUnset {
        /// Header offset of the WASM_SEG.
        offset: u64,
    },
    /// The winning manifest lists no WASM_SEG: there is no runtime to extract.
    NoRuntime,

    // ---- x86 boot (bzimage.rs, cmdline.rs, plan.rs, zero_page.rs) ----
    /// The bzImage real-mode header fails a boot-protocol check.
    BzImage {
        /// The check that failed (its field and requirement).
        check: BzCheck,
        /// The value found.
        value: u64,
    },
    /// The kernel command line cannot be handed to this kernel.
    Cmdline(CmdlineProblem),
    /// The caller's memory map has more entries than the zero page can hold.
    MemoryMapTooLarge {
        /// Entries supplied.
        count: u64,
        /// The limit (128 for e820).
        limit: u64,
    },
    /// No RAM region in the memory map can hold a required window.
    NoRoom {
        /// What needed room.
        what: BootItem,
        /// Bytes needed.
        size: u64,
        /// Required alignment.
        align: u64,
    },
    /// A placing loader's reservation table
    /// ([`crate::boot::Reservations`]) is full.
    TooManyReservations {
        /// The table's capacity ([`crate::boot::MAX_RESERVATIONS`]).
        capacity: u64,
    },
    /// The kernel has no EFI stub, and the loader starts Linux only through
    /// it (`rvf-boot.efi`).
    NoEfiStub {
        /// What is missing.
        problem: EfiStubProblem,
    },
    /// An address handed to the kernel breaks one of its placement limits.
    BootAddress {
        /// What is placed ([`BootItem::Initrd`], [`BootItem::Cmdline`]).
        what: BootItem,
        /// Its address.
        address: u64,
        /// The limit or conflict.
        problem: AddressProblem,
    },

    // ---- ELF vmlinux kernels (elf/) ----
    /// An ELF vmlinux's file header fails a check.
    ElfHeader {
        /// The field (its requirement is [`ElfField::requirement`]).
        field: ElfField,
        /// The value found.
        value: u64,
    },
    /// An ELF program header fails a check.
    ElfSegment {
        /// Its index in the program-header table.
        index: u16,
        /// Its file offset.
        offset: u64,
        /// What is wrong.
        problem: SegmentProblem,
    },
    /// A note in an ELF `PT_NOTE` segment is malformed.
    ElfNote {
        /// The note's file offset.
        offset: u64,
        /// What is wrong.
        problem: NoteProblem,
    },
    /// An ELF kernel's `PT_LOAD` (or its span) cannot go to its physical
    /// address in the caller's memory map.
    ElfPlacement {
        /// The segment, or the span.
        target: LoadTarget,
        /// The target's first byte.
        base: u64,
        /// Its size.
        size: u64,
        /// Why not.
        problem: PlacementProblem,
    },
}

/// The class of an [`Error`]: what a loader reports and what a caller may
/// act on. Five classes belong to the loader shells alone (no library
/// [`Error`] has them): [`ErrorClass::Handover`], [`ErrorClass::Loader`],
/// [`ErrorClass::FirmwareRefused`], [`ErrorClass::MeasuredBoot`],
/// [`ErrorClass::SecureBootRefused`]; every
/// loader maps its failures onto this one list, so [`ErrorClass::exit_code`]
/// is the only exit-code table in the project.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorClass {
    /// The file's structure: not an RVF, truncated, malformed, inconsistent.
    Structure,
    /// A content hash, root-page CRC or signature does not verify.
    Integrity,
    /// The kernel segment: missing, lengths that fit no layout, unsupported fields.
    KernelSegment,
    /// The gzip member or deflate stream.
    Decompression,
    /// The kernel header's `image_hash`.
    ImageHash,
    /// The kernel image's boot header: a bzImage's boot-protocol header, an
    /// ELF vmlinux's file and program headers, the EFI stub a firmware
    /// hand-over needs.
    BzImage,
    /// The kernel command line.
    Cmdline,
    /// Memory: buffers, the memory map, room for the kernel, addresses.
    Memory,
    /// The policy's signature or pinned digests are not satisfied.
    Authentication,
    /// A loader shell: what the firmware handed over (the PVH start info,
    /// fw_cfg, the files on the EFI volume) cannot be used.
    Handover,
    /// A loader shell: a condition its own logic rules out (a bug if ever seen).
    Loader,
    /// A loader shell: the firmware refused to load or start the verified
    /// kernel (`LoadImage` under Secure Boot, `StartImage` returned).
    FirmwareRefused,
    /// A loader shell: measured boot failed (the TPM, or its event log).
    MeasuredBoot,
    /// A loader shell: UEFI Secure Boot refused the verified kernel (the
    /// firmware's `LoadImage` or shim's `Verify`), or the loader itself.
    SecureBootRefused,
}

impl ErrorClass {
    /// A short name, as in reports.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Structure => "RVF structure",
            Self::Integrity => "integrity",
            Self::KernelSegment => "kernel segment",
            Self::Decompression => "decompression",
            Self::ImageHash => "image hash",
            Self::BzImage => "kernel boot header",
            Self::Cmdline => "command line",
            Self::Memory => "memory",
            Self::Authentication => "authentication",
            Self::Handover => "firmware hand-over",
            Self::Loader => "loader bug",
            Self::FirmwareRefused => "firmware refusal",
            Self::MeasuredBoot => "measured boot",
            Self::SecureBootRefused => "Secure Boot refusal",
        }
    }

    /// A stable identifier for machine-readable reports (the CLI's JSON
    /// `error_class`): lower-case words joined by `_`.
    #[must_use]
    pub const fn key(self) -> &'static str {
        match self {
            Self::Structure => "structure",
            Self::Integrity => "integrity",
            Self::KernelSegment => "kernel_segment",
            Self::Decompression => "decompression",
            Self::ImageHash => "image_hash",
            Self::BzImage => "kernel_boot_header",
            Self::Cmdline => "cmdline",
            Self::Memory => "memory",
            Self::Authentication => "authentication",
            Self::Handover => "firmware_handover",
            Self::Loader => "loader_bug",
            Self::FirmwareRefused => "firmware_refusal",
            Self::MeasuredBoot => "measured_boot",
            Self::SecureBootRefused => "secure_boot_refusal",
        }
    }

    /// The exit code every loader reports for this class: the PVH stub
    /// through isa-debug-exit (QEMU exits with `(code << 1) | 1`),
    /// `rvf-boot.efi` in tests, the C ABI's statuses. The one table: a code
    /// means the same whichever loader refused.
    #[must_use]
    pub const fn exit_code(self) -> u8 {
        match self {
            Self::Structure => 2,
            Self::Integrity => 3,
            Self::KernelSegment => 4,
            Self::Decompression => 5,
            Self::ImageHash => 6,
            Self::BzImage => 7,
            Self::Cmdline => 8,
            Self::Memory => 9,
            Self::Authentication => 14,
            Self::Handover => 1,
            Self::Loader => 11,
            Self::FirmwareRefused => 12,
            Self::MeasuredBoot => 13,
            Self::SecureBootRefused => 15,
        }
    }
}

impl Error {
    /// The class of this error. The match is exhaustive inside the crate, so
    /// every new variant is classified when it is added.
    #[must_use]
    pub const fn class(&self) -> ErrorClass {
        match self {
            Self::Truncated { .. }
            | Self::BadMagic { .. }
            | Self::UnsupportedVersion { .. }
            | Self::SegmentOverrun { .. }
            | Self::TooManySegments { .. }
            | Self::NotRvf { .. }
            | Self::NoCompleteManifest { .. }
            | Self::ManifestMalformed { .. }
            | Self::TooManyDirectoryEntries { .. }
            | Self::DirectoryEntryNotASegment { .. }
            | Self::DirectoryMismatch { .. }
            | Self::DirectoryDuplicate { .. }
            | Self::DirectoryOrder { .. }
            | Self::UnsupportedSegmentField { .. }
            | Self::RootPageField { .. }
            | Self::WasmBodySize { .. }
            | Self::BundleTruncated { .. }
            | Self::TooManyBundleFiles { .. }
            | Self::BundleEntry { .. }
            | Self::BundlePath { .. }
            | Self::BundleOverlap { .. }
            | Self::BundleDuplicatePath { .. }
            | Self::BundlePathConflict { .. }
            | Self::BundleUnsorted { .. }
            | Self::NoRuntime => ErrorClass::Structure,
            Self::UnknownChecksumAlgo { .. }
            | Self::ContentHashMismatch { .. }
            | Self::ContentHashUnset { .. }
            | Self::ContentHashOtherWriter { .. }
            | Self::RootPageCrc { .. }
            | Self::RootPageSignature { .. }
            | Self::BytecodeHashMismatch { .. }
            | Self::BytecodeHashUnset { .. } => ErrorClass::Integrity,
            Self::NoKernel
            | Self::NoKernelAt { .. }
            | Self::KernelLayout { .. }
            | Self::KernelField { .. }
            | Self::ImageSize { .. }
            | Self::UnsupportedCompression { .. } => ErrorClass::KernelSegment,
            Self::GzipHeader { .. }
            | Self::GzipTruncated { .. }
            | Self::Inflate { .. }
            | Self::ImageOverflow { .. }
            | Self::ImageShort { .. }
            | Self::GzipCrc { .. }
            | Self::GzipSize { .. }
            | Self::GzipTrailingBytes { .. } => ErrorClass::Decompression,
            Self::ImageHashMismatch { .. } | Self::ImageHashUnset { .. } => ErrorClass::ImageHash,
            // An ELF vmlinux's headers are the kernel image's boot header,
            // as a bzImage's setup header is: the same class and exit code.
            Self::BzImage { .. }
            | Self::NoEfiStub { .. }
            | Self::ElfHeader { .. }
            | Self::ElfSegment { .. }
            | Self::ElfNote { .. } => ErrorClass::BzImage,
            Self::Cmdline(_) => ErrorClass::Cmdline,
            Self::NoRoom { .. }
            | Self::MemoryMapTooLarge { .. }
            | Self::BufferTooSmall { .. }
            | Self::BufferUnavailable { .. }
            | Self::TooManyReservations { .. }
            | Self::BootAddress { .. }
            | Self::ElfPlacement { .. } => ErrorClass::Memory,
            Self::Auth(_) => ErrorClass::Authentication,
        }
    }
}

/// The library's result type.
pub type Result<T> = core::result::Result<T, Error>;

impl core::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    #[test]
    fn classes_and_messages() {
        let e = Error::ContentHashMismatch {
            index: 2,
            offset: 17097,
            algo: 0,
        };
        assert_eq!(e.class(), ErrorClass::Integrity);
        assert_eq!(
            e.to_string(),
            "segment #2 at byte 17097: payload does not match content_hash (checksum_algo 0)"
        );
        assert_eq!(Error::NoKernel.class(), ErrorClass::KernelSegment);
        assert_eq!(
            Error::GzipCrc {
                stored: 1,
                computed: 2
            }
            .class(),
            ErrorClass::Decompression
        );
        assert_eq!(
            Error::NoRoom {
                what: BootItem::Kernel,
                size: 1,
                align: 2
            }
            .class()
            .name(),
            "memory"
        );
    }

    #[test]
    fn typed_fields_keep_their_messages() {
        let e = Error::BufferUnavailable { needed: 6 << 30 };
        assert_eq!(e.class(), ErrorClass::Memory);
        assert_eq!(
            e.to_string(),
            "cannot obtain a 6442450944-byte output buffer for the image (out of memory)"
        );
        let e = Error::ImageSize {
            offset: 64,
            image_size: (256 << 20) + 1,
            limit: ImageSizeLimit::Cap,
        };
        assert_eq!(e.class(), ErrorClass::KernelSegment);
        assert_eq!(
            e.to_string(),
            "KERNEL_SEG at byte 64: image_size 268435457 exceeds the reader's cap of 268435456 bytes"
        );
        assert_eq!(
            Error::GzipHeader {
                field: GzipField::Method,
                at: 2
            }
            .to_string(),
            "gzip header: invalid CM at stored byte 2"
        );
        assert_eq!(
            Error::Inflate {
                reason: InflateFailure::EndsEarly,
                input_offset: 11,
                output_offset: 0
            }
            .to_string(),
            "deflate stream corrupt (deflate stream ends early) at compressed byte 11, after 0 output bytes"
        );
        assert_eq!(
            Error::GzipTruncated {
                part: MemberPart::Trailer,
                at: 25,
                needed: 8,
                available: 7
            }
            .to_string(),
            "gzip member truncated: its trailer at stored byte 25 needs 8 bytes, only 7 remain"
        );
        assert_eq!(
            Error::KernelField {
                offset: 0,
                field: KernelHeaderField::CmdlineLengthHigh,
                value: 1
            }
            .to_string(),
            "KERNEL_SEG at byte 0: kernel header field cmdline_length high half (0x74, RuvBot layout) has invalid value 0x1"
        );
        assert_eq!(
            Error::BundleEntry {
                entry: 3,
                field: EntryField::Data,
                at: 58
            }
            .to_string(),
            "runtime bundle entry 3: invalid data_offset/data_size at bundle byte 58"
        );
        let e = Error::WasmBodySize {
            offset: 128,
            declared: 5,
            actual: 4,
        };
        assert_eq!(e.class(), ErrorClass::Structure);
        assert_eq!(
            e.to_string(),
            "WASM_SEG at byte 128: bytecode_size 5 is not the 4-byte body after the WASM header"
        );
    }
}
