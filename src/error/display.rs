//! `Display` for [`Error`]: one sentence per variant, naming what failed
//! and where.

use super::Error;
use core::fmt;

impl fmt::Display for Error {
    #[allow(clippy::too_many_lines)]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Truncated {
                structure,
                offset,
                needed,
                available,
            } => write!(
                f,
                "truncated {structure} at byte {offset}: needs {needed} bytes, only {available} remain"
            ),
            Self::BadMagic {
                structure,
                offset,
                found,
            } => write!(
                f,
                "bad magic for {structure} at byte {offset}: found {:02x?}",
                found.to_le_bytes()
            ),
            Self::UnsupportedVersion {
                structure,
                offset,
                version,
            } => {
                write!(
                    f,
                    "unsupported {structure} version {version} at byte {offset}"
                )
            }
            Self::SegmentOverrun {
                index,
                offset,
                payload_length,
                body_end,
            } => write!(
                f,
                "segment #{index} at byte {offset}: payload_length {payload_length} runs past the end of the segment area at byte {body_end}"
            ),
            Self::TooManySegments { offset, limit } => write!(
                f,
                "more than {limit} segments (the reader's limit): segment at byte {offset} not read"
            ),
            Self::NotRvf { found, file_size } => write!(
                f,
                "not an RVF file: it does not start with a segment header (first bytes {:02x?}, file size {file_size})",
                found
                    .to_le_bytes()
                    .get(..crate::bytes::usize_from(file_size.min(4)).unwrap_or(4))
                    .unwrap_or(&[])
            ),
            Self::NoCompleteManifest {
                walk_end,
                file_size,
                stopped_by,
            } => write!(
                f,
                "no complete MANIFEST_SEG: complete segments end at byte {walk_end} of {file_size}, where the walk met {stopped_by} (torn, truncated or not a store)"
            ),
            Self::ManifestMalformed { offset, field, at } => write!(
                f,
                "MANIFEST_SEG at byte {offset}: malformed {field} at payload byte {at}"
            ),
            Self::TooManyDirectoryEntries {
                offset,
                count,
                limit,
            } => write!(
                f,
                "MANIFEST_SEG at byte {offset}: {count} directory entries exceed the reader's limit of {limit}"
            ),
            Self::DirectoryEntryNotASegment { entry, offset } => write!(
                f,
                "directory entry {entry} names byte {offset}, where no segment starts"
            ),
            Self::DirectoryDuplicate {
                entry,
                first,
                offset,
            } => write!(
                f,
                "directory entry {entry} names the segment at byte {offset} again (entry {first} already does); no writer lists a segment twice"
            ),
            Self::DirectoryOrder {
                entry,
                offset,
                previous,
            } => write!(
                f,
                "directory entry {entry} names byte {offset}, before byte {previous} named by the entry before it; directories list segments in file order"
            ),
            Self::DirectoryMismatch {
                entry,
                offset,
                field,
                directory,
                header,
            } => write!(
                f,
                "directory entry {entry} (segment at byte {offset}): {field} is {directory} in the directory but {header} in the header"
            ),
            Self::UnknownChecksumAlgo {
                index,
                offset,
                algo,
            } => write!(
                f,
                "segment #{index} at byte {offset}: unknown checksum_algo {algo}"
            ),
            Self::ContentHashMismatch {
                index,
                offset,
                algo,
            } => write!(
                f,
                "segment #{index} at byte {offset}: payload does not match content_hash (checksum_algo {algo})"
            ),
            Self::ContentHashUnset { index, offset } => write!(
                f,
                "segment #{index} at byte {offset}: content_hash is all zeros (unset) and the policy requires a hash"
            ),
            Self::UnsupportedSegmentField {
                index,
                offset,
                field,
                value,
            } => write!(
                f,
                "segment #{index} at byte {offset}: header field {field} is {value:#x}; writers leave it 0 and this reader cannot honour it"
            ),
            Self::ContentHashOtherWriter {
                index,
                offset,
                expected,
                found,
            } => write!(
                f,
                "segment #{index} at byte {offset}: content_hash is {}, but this file's checksum_algo 0 segments carry {} (one writer's hash per file)",
                found.name(),
                expected.name()
            ),
            Self::RootPageCrc {
                offset,
                stored,
                computed,
            } => write!(
                f,
                "RVM0 root page at byte {offset}: CRC32C {stored:#010x} stored, {computed:#010x} computed"
            ),
            Self::RootPageField {
                offset,
                field,
                value,
            } => write!(
                f,
                "RVM0 root page at byte {offset}: {field} is {value:#x}, which is unknown or does not match the winning manifest"
            ),
            Self::RootPageSignature { offset, problem } => write!(
                f,
                "RVM0 root page at byte {offset}: signature rejected: {problem}"
            ),
            Self::Auth(problem) => write!(f, "not authenticated: {problem}"),
            Self::NoKernel => f.write_str("the manifest lists no KERNEL_SEG"),
            Self::NoKernelAt { offset } => write!(
                f,
                "the manifest lists no KERNEL_SEG with its header at byte {offset}"
            ),
            Self::KernelLayout {
                offset,
                payload_length,
                stored_size,
                cmdline_length,
            } => write!(
                f,
                "KERNEL_SEG at byte {offset}: payload_length {payload_length} fits no layout for a {stored_size}-byte stored image and a {cmdline_length}-byte cmdline"
            ),
            Self::KernelField {
                offset,
                field,
                value,
            } => write!(
                f,
                "KERNEL_SEG at byte {offset}: kernel header field {field} has invalid value {value:#x}"
            ),
            Self::ImageSize {
                offset,
                image_size,
                limit,
            } => write!(
                f,
                "KERNEL_SEG at byte {offset}: image_size {image_size} exceeds {limit}"
            ),
            Self::UnsupportedCompression {
                offset,
                code,
                magic,
            } => write!(
                f,
                "KERNEL_SEG at byte {offset}: stored image is compressed in an unsupported format (compression {code}, magic {:02x?})",
                magic.to_le_bytes()
            ),
            Self::BufferTooSmall { needed, available } => write!(
                f,
                "output buffer too small: the image needs {needed} bytes, the buffer has {available}"
            ),
            Self::BufferUnavailable { needed } => write!(
                f,
                "cannot obtain a {needed}-byte output buffer for the image (out of memory)"
            ),
            Self::GzipHeader { field, at } => {
                write!(f, "gzip header: invalid {field} at stored byte {at}")
            }
            Self::GzipTruncated {
                part,
                at,
                needed,
                available,
            } => write!(
                f,
                "gzip member truncated: its {part} at stored byte {at} needs {needed} bytes, only {available} remain"
            ),
            Self::Inflate {
                reason,
                input_offset,
                output_offset,
            } => write!(
                f,
                "deflate stream corrupt ({reason}) at compressed byte {input_offset}, after {output_offset} output bytes"
            ),
            Self::ImageOverflow { image_size } => write!(
                f,
                "kernel inflates to more than its declared image_size of {image_size} bytes"
            ),
            Self::ImageShort {
                image_size,
                produced,
            } => write!(
                f,
                "kernel inflates to {produced} bytes, not its declared image_size of {image_size}"
            ),
            Self::GzipCrc { stored, computed } => write!(
                f,
                "gzip trailer CRC-32 {stored:#010x} does not match the inflated image ({computed:#010x})"
            ),
            Self::GzipSize { stored, computed } => write!(
                f,
                "gzip trailer ISIZE {stored} does not match the inflated length ({computed})"
            ),
            Self::GzipTrailingBytes { at, count } => write!(
                f,
                "{count} bytes follow the gzip member at stored byte {at}"
            ),
            Self::ImageHashMismatch { offset } => write!(
                f,
                "KERNEL_SEG at byte {offset}: image_hash matches neither SHA-256, SHA3-256 nor the rvf-runtime checksum of the image"
            ),
            Self::ImageHashUnset { offset } => write!(
                f,
                "KERNEL_SEG at byte {offset}: image_hash is all zeros (unset) and the policy requires a hash"
            ),
            Self::WasmBodySize {
                offset,
                declared,
                actual,
            } => write!(
                f,
                "WASM_SEG at byte {offset}: bytecode_size {declared} is not the {actual}-byte body after the WASM header"
            ),
            Self::BundleTruncated { length } => write!(
                f,
                "runtime bundle of {length} bytes is too short for its 4-byte file_count"
            ),
            Self::TooManyBundleFiles { count, limit } => write!(
                f,
                "runtime bundle lists {count} files, more than the reader's limit of {limit}"
            ),
            Self::BundleEntry { entry, field, at } => write!(
                f,
                "runtime bundle entry {entry}: invalid {field} at bundle byte {at}"
            ),
            Self::BundlePath { entry, at, problem } => write!(
                f,
                "runtime bundle entry {entry} (bundle byte {at}): path {problem}"
            ),
            Self::BundleOverlap {
                entry,
                data_offset,
                previous_end,
            } => write!(
                f,
                "runtime bundle entry {entry}: data starts at bundle byte {data_offset}, before byte {previous_end} where the previous file (or the file table) ends: files overlap or are out of table order"
            ),
            Self::BundleDuplicatePath { entry, first } => write!(
                f,
                "runtime bundle entry {entry}: same path as entry {first}"
            ),
            Self::BundlePathConflict { entry, file } => write!(
                f,
                "runtime bundle entry {entry}: its path goes through entry {file}'s path, which is a file"
            ),
            Self::BundleUnsorted { entry, limit } => write!(
                f,
                "runtime bundle entry {entry} starts a sorted run of paths beyond the reader's limit of {limit} runs"
            ),
            Self::BytecodeHashMismatch { offset, algo } => write!(
                f,
                "WASM_SEG at byte {offset}: bytecode_hash does not match the body ({algo})"
            ),
            Self::BytecodeHashUnset { offset } => write!(
                f,
                "WASM_SEG at byte {offset}: bytecode_hash is unset (all zeros) and the policy refuses unset hashes"
            ),
            Self::NoRuntime => write!(f, "the manifest lists no WASM_SEG: no runtime to extract"),
            Self::BzImage { check, value } => write!(
                f,
                "bzImage header: {} is {value:#x}, must be {}",
                check.field(),
                check.requirement()
            ),
            Self::Cmdline(problem) => write!(f, "kernel command line: {problem}"),
            Self::MemoryMapTooLarge { count, limit } => write!(
                f,
                "memory map has {count} entries, the zero page holds at most {limit}"
            ),
            Self::TooManyReservations { capacity } => write!(
                f,
                "too many reservations: the loader's table holds {capacity} ranges"
            ),
            Self::NoEfiStub { problem } => write!(
                f,
                "the kernel has no EFI stub ({problem}): rvf-boot.efi starts Linux only through its EFI stub"
            ),
            Self::NoRoom { what, size, align } => write!(
                f,
                "not enough RAM: no free region holds the {what} ({size} bytes, {align}-byte aligned)"
            ),
            Self::BootAddress {
                what,
                address,
                problem,
            } => {
                write!(f, "boot handoff: the {what} at {address:#x} {problem}")
            }
            Self::ElfHeader { field, value } => write!(
                f,
                "ELF header: {field} is {value:#x}, must be {}",
                field.requirement()
            ),
            Self::ElfSegment {
                index,
                offset,
                problem,
            } => write!(f, "ELF program header #{index} at byte {offset}: {problem}"),
            Self::ElfNote { offset, problem } => {
                write!(f, "ELF note at byte {offset}: {problem}")
            }
            Self::ElfPlacement {
                target,
                base,
                size,
                problem,
            } => write!(
                f,
                "ELF kernel: the {target} at {base:#x}..{:#x} {problem}",
                base.saturating_add(size)
            ),
        }
    }
}
