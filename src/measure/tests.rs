//! The measured-boot unit tests (events, the firmware log, the TPM codec, ACPI).

use super::acpi::TPM2_TABLE_LEN;
use super::*;
use crate::container::Container;
use sha2::{Digest as _, Sha256};
use std::string::ToString as _;
use std::vec::Vec;

fn unhex(s: &str) -> Digest {
    let v: Vec<u8> = (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect();
    v.try_into().unwrap()
}

/// SHA-256 over an explicitly written concatenation, with sha2's own
/// one-shot API (not through this module).
fn h(parts: &[&[u8]]) -> Digest {
    let all: Vec<u8> = parts.concat();
    Sha256::digest(&all).into()
}

fn inputs(initrd: bool, cmdline: &[u8]) -> BootInputs<'_> {
    BootInputs {
        manifest: h(&[b"manifest"]),
        kernel_image: h(&[b"kernel"]),
        initrd: initrd.then(|| h(&[b"initrd"])),
        cmdline,
    }
}

#[test]
fn extend_known_answers() {
    // Computed with Python's hashlib: sha256(bytes(32) + sha256(b"abc")).
    assert_eq!(
        extend(&[0; 32], &sha256(b"abc")),
        unhex("589f9ffed4c477966bfb8d41f37895b08c69047df8f911d6f3b57fbe08faee8d")
    );
    let d = h(&[b"x"]);
    let p = [7u8; 32];
    assert_eq!(extend(&p, &d), h(&[&p, &d]));
}

#[test]
fn boot_pcrs_known_answers() {
    // Python hashlib: fold of sha256(b"manifest"), sha256(b"kernel"),
    // sha256(b"initrd") into PCR 9; sha256(b"console=ttyS0") into PCR 8.
    let log = boot_events(&inputs(true, b"console=ttyS0")).unwrap();
    assert_eq!(
        log.pcr(9),
        unhex("f3898bb37c734b1feddd85343adba94c667099608f2101a44fec68e650d52fa8")
    );
    assert_eq!(
        log.pcr(8),
        unhex("bbe217b39b278e40dedc042037694bc2a513d9648088146a50b7c2d9c7c6c491")
    );
    let log = boot_events(&inputs(false, b"console=ttyS0")).unwrap();
    assert_eq!(
        log.pcr(9),
        unhex("5ae5a2ccce81b31e10c3f4abb89d1e1ba611e517f4d8d4e31f03f4001e1efaca")
    );
    // Untouched PCRs stay zero.
    assert_eq!(log.pcr(0), [0; 32]);
}

#[test]
fn boot_pcrs_equal_an_independent_fold() {
    let cmd = b"console=ttyS0 quiet root=/dev/vda";
    let inp = inputs(true, cmd);
    let log = boot_events(&inp).unwrap();
    let z = [0u8; 32];
    let p9 = h(&[&z, &inp.manifest]);
    let p9 = h(&[&p9, &inp.kernel_image]);
    let p9 = h(&[&p9, &inp.initrd.unwrap()]);
    assert_eq!(log.pcr(9), p9);
    assert_eq!(log.pcr(8), h(&[&z, &h(&[cmd])]));
    // A different command line: PCR 8 changes, PCR 9 does not.
    let other = boot_events(&inputs(true, b"console=ttyS0 quiet root=/dev/vdb")).unwrap();
    assert_ne!(other.pcr(8), log.pcr(8));
    assert_eq!(other.pcr(9), log.pcr(9));
}

#[test]
fn boot_event_order_types_and_data() {
    let log = boot_events(&inputs(true, b"a b")).unwrap();
    let got: Vec<(u32, u32, Vec<u8>)> = log
        .events()
        .iter()
        .map(|e| (e.pcr(), e.event_type(), e.data_parts().concat()))
        .collect();
    assert_eq!(
        got,
        [
            (9, 0xD, b"rvf-boot: RVF manifest\0".to_vec()),
            (9, 0xD, b"rvf-boot: kernel image\0".to_vec()),
            (9, 0xD, b"rvf-boot: initrd\0".to_vec()),
            (8, 0xD, b"kernel_cmdline: a b\0".to_vec()),
        ]
    );
    assert_eq!(log.events()[3].digest(), &h(&[b"a b"]));
    assert_eq!(boot_events(&inputs(false, b"")).unwrap().events().len(), 3);
}

#[test]
fn serialised_bytes_are_exact() {
    let digest: Digest = core::array::from_fn(|i| i as u8);
    let mut log = EventLog::new();
    log.push(Event::new(8, EV_IPL, digest, b"ab: ", b"c"))
        .unwrap();
    let mut expected: Vec<u8> = Vec::new();
    expected.extend_from_slice(&[8, 0, 0, 0]); // PCR index
    expected.extend_from_slice(&[0x0D, 0, 0, 0]); // EV_IPL
    expected.extend_from_slice(&[1, 0, 0, 0]); // one digest
    expected.extend_from_slice(&[0x0B, 0x00]); // TPM_ALG_SHA256
    expected.extend_from_slice(&digest);
    expected.extend_from_slice(&[6, 0, 0, 0]); // "ab: c" + NUL
    expected.extend_from_slice(b"ab: c\0");
    assert_eq!(log.encoded_len(), Ok(56));
    let mut buf = [0xAAu8; 60];
    assert_eq!(log.write(&mut buf), Ok(56));
    assert_eq!(&buf[..56], &expected[..]);
    assert_eq!(&buf[56..], &[0xAA; 4], "nothing past the entry");
}

#[test]
fn whole_boot_log_bytes_parse_back() {
    let log = boot_events(&inputs(true, b"console=ttyS0")).unwrap();
    let len = log.encoded_len().unwrap();
    assert_eq!(
        len,
        4 * 50 + 23 + 23 + 17 + (16 + 13 + 1),
        "header + data of each event"
    );
    let mut buf = std::vec![0u8; len];
    assert_eq!(log.write(&mut buf), Ok(len));
    // An independent parser.
    let mut at = 0;
    let u32_at = |b: &[u8], o: usize| u32::from_le_bytes(b[o..o + 4].try_into().unwrap());
    for e in log.events() {
        assert_eq!(u32_at(&buf, at), e.pcr());
        assert_eq!(u32_at(&buf, at + 4), 0xD);
        assert_eq!(u32_at(&buf, at + 8), 1);
        assert_eq!(&buf[at + 12..at + 14], &[0x0B, 0x00]);
        assert_eq!(&buf[at + 14..at + 46], e.digest());
        let size = u32_at(&buf, at + 46) as usize;
        assert_eq!(&buf[at + 50..at + 50 + size], &e.data_parts().concat()[..]);
        at += 50 + size;
    }
    assert_eq!(at, len);
}

#[test]
fn too_small_buffer_is_refused_untouched() {
    let log = boot_events(&inputs(false, b"x")).unwrap();
    let len = log.encoded_len().unwrap();
    let mut buf = std::vec![0x55u8; len - 1];
    assert_eq!(
        log.write(&mut buf),
        Err(MeasureError::BufferTooSmall {
            needed: len as u64,
            available: len as u64 - 1
        })
    );
    assert!(buf.iter().all(|&b| b == 0x55));
    assert_eq!(
        EventLog::new().write(&mut []),
        Ok(0),
        "an empty log needs no room"
    );
}

#[test]
fn full_log_and_nul_are_refused() {
    let mut log = boot_events(&inputs(true, b"x")).unwrap();
    assert_eq!(
        log.push(Event::new(8, EV_IPL, [0; 32], b"", b"")),
        Err(MeasureError::LogFull { capacity: 4 })
    );
    assert_eq!(log.events().len(), 4);
    assert_eq!(
        boot_events(&inputs(true, b"ab\0c")),
        Err(MeasureError::CmdlineNul { at: 2 })
    );
    assert_eq!(
        MeasureError::CmdlineNul { at: 2 }.to_string(),
        "measured boot: the kernel command line has a NUL byte at offset 2"
    );
}

#[test]
fn manifest_and_kernel_digests_of_a_golden_file() {
    use crate::Policy;
    use crate::gzip::InflateState;
    use crate::image::extract;
    let file: &[u8] = include_bytes!("../../host-tests/golden/ruvbot/small.rvf");
    let c = Container::parse(file, Policy::default()).unwrap();
    // The winning MANIFEST_SEG is the file's last 215 bytes (header at
    // 18684, 151-byte payload); digest from Python's hashlib.
    assert_eq!(file.len(), 18_899);
    let want = unhex("157261a66ef9df1d7329149e85017dd2fb50e374130c98f7533dc3a395a96928");
    assert_eq!(h(&[&file[18_684..]]), want);
    assert_eq!(manifest_digest(&c), Ok(want));
    let k = c.selected_kernel().unwrap();
    let mut out = std::vec![0u8; 16_384];
    let mut state = InflateState::new();
    let v = extract(&k, &mut out, &mut state).unwrap();
    let sha = kernel_sha256(&v);
    assert_eq!(
        sha,
        unhex("9a654047f2421af741410746e8ffffa420791946c575e0089c2bfd840b309302")
    );
    assert_eq!(sha, h(&[v.bytes()]));
}

#[test]
fn kernel_digest_of_every_golden_layout_is_its_sha256() {
    use crate::Policy;
    use crate::gzip::InflateState;
    use crate::image::extract;
    use crate::image_hash::{ImageHash, ImageHashCheck};
    let files: [&[u8]; 3] = [
        include_bytes!("../../host-tests/golden/runtime-05/embed-kernel.rvf"),
        include_bytes!("../../host-tests/golden/runtime-05/embed-kernel-binding.rvf"),
        include_bytes!("../../host-tests/golden/real-bzimage/testkernel.rvf"),
    ];
    for file in files {
        let c = Container::parse(file, Policy::default()).unwrap();
        let k = c.selected_kernel().unwrap();
        let mut out = std::vec![0u8; crate::image::buffer_size(&k) as usize];
        let mut state = std::boxed::Box::new(InflateState::new());
        let v = extract(&k, &mut out, &mut state).unwrap();
        assert_eq!(kernel_sha256(&v), h(&[v.bytes()]));
        // The measurement never turns into an image_hash verdict.
        if v.image_hash() == ImageHashCheck::Verified(ImageHash::Sha256) {
            assert_eq!(k.layout(), crate::kernel::KernelLayout::RuvBot);
        }
    }
}

#[test]
fn same_inputs_same_log() {
    let a = boot_events(&inputs(true, b"q")).unwrap();
    let b = boot_events(&inputs(true, b"q")).unwrap();
    assert_eq!(a, b);
    let (mut x, mut y) = ([0u8; 400], [1u8; 400]);
    let n = a.write(&mut x).unwrap();
    assert_eq!(b.write(&mut y), Ok(n));
    assert_eq!(x[..n], y[..n]);
}

// ------------------------------------------------ firmware log, TPM, ACPI

/// A SeaBIOS-style log: the Spec ID event declaring `algs` (id, digest
/// size), then `n` TCG_PCR_EVENT2 entries carrying a digest for each;
/// returns the bytes and where each entry starts.
fn firmware_log_with(n: usize, algs: &[(u16, u16)]) -> (Vec<u8>, Vec<usize>) {
    let mut spec = Vec::new();
    spec.extend_from_slice(b"Spec ID Event03\0");
    spec.extend_from_slice(&0u32.to_le_bytes()); // platformClass
    spec.extend_from_slice(&[0, 2, 0, 2]); // minor, major, errata, uintnSize
    spec.extend_from_slice(&(algs.len() as u32).to_le_bytes());
    for &(id, len) in algs {
        spec.extend_from_slice(&id.to_le_bytes());
        spec.extend_from_slice(&len.to_le_bytes());
    }
    spec.push(0); // vendorInfoSize
    let mut log = Vec::new();
    log.extend_from_slice(&0u32.to_le_bytes());
    log.extend_from_slice(&3u32.to_le_bytes()); // EV_NO_ACTION
    log.extend_from_slice(&[0; 20]);
    log.extend_from_slice(&(spec.len() as u32).to_le_bytes());
    log.extend_from_slice(&spec);
    let mut starts = Vec::new();
    for i in 0..n {
        starts.push(log.len());
        log.extend_from_slice(&(i as u32).to_le_bytes()); // PCR
        log.extend_from_slice(&8u32.to_le_bytes()); // EV_S_CRTM_VERSION
        log.extend_from_slice(&(algs.len() as u32).to_le_bytes());
        for &(id, len) in algs {
            log.extend_from_slice(&id.to_le_bytes());
            log.extend(core::iter::repeat_n(0x11, usize::from(len)));
        }
        let data = std::format!("event {i}");
        log.extend_from_slice(&(data.len() as u32).to_le_bytes());
        log.extend_from_slice(data.as_bytes());
    }
    (log, starts)
}

/// A SeaBIOS log of a TPM with only the SHA-256 bank active.
fn firmware_log(n: usize) -> (Vec<u8>, Vec<usize>) {
    firmware_log_with(n, &[(0x000B, 32)])
}

#[test]
fn log_end_of_a_firmware_log() {
    let (mut log, starts) = firmware_log(3);
    // Spec ID event: 32-byte header + 16+4+4+4+4+1 = 33 bytes of data.
    assert_eq!(starts[0], 32 + 33);
    // Each entry: 12 + (2+32) + 4 + 7 = 57 bytes.
    assert_eq!(starts[1] - starts[0], 57);
    let end = log.len();
    assert_eq!(end, 65 + 3 * 57);
    // Exactly full, and with a zero-filled rest.
    assert_eq!(log_end(&log), Ok(end));
    log.resize(end + 1000, 0);
    assert_eq!(log_end(&log), Ok(end));
    // Our events go there, and parse with the log's own sizes.
    let ours = boot_events(&inputs(true, b"console=ttyS0")).unwrap();
    assert_eq!(log_append_offset(&log, &ours), Ok(end));
    let n = ours.write(&mut log[end..]).unwrap();
    assert_eq!(log_end(&log), Ok(end + n));
    // Fewer than an entry header's bytes left: the end.
    let (log, _) = firmware_log(1);
    let mut short = log.clone();
    short.extend_from_slice(&[0; 15]);
    assert_eq!(log_end(&short), Ok(log.len()));
}

#[test]
fn log_append_needs_room() {
    let (mut log, _) = firmware_log(2);
    let end = log.len();
    let ours = boot_events(&inputs(false, b"x")).unwrap();
    let need = ours.encoded_len().unwrap();
    log.resize(end + need - 1, 0);
    assert_eq!(
        log_append_offset(&log, &ours),
        Err(MeasureError::LogAreaFull {
            needed: need as u64,
            available: need as u64 - 1
        })
    );
    log.push(0);
    assert_eq!(log_append_offset(&log, &ours), Ok(end));
}

#[test]
fn malformed_logs_are_refused_at_the_exact_place() {
    let malformed = |at: u64, what: &str| {
        let problem = LOG_PROBLEMS
            .iter()
            .find(|p| p.name() == what)
            .copied()
            .unwrap_or_else(|| panic!("no LogProblem named {what:?}"));
        Err(MeasureError::LogMalformed { at, what: problem })
    };
    assert_eq!(log_end(&[]), malformed(0, "no Spec ID event"));
    assert_eq!(
        log_end(&[0; 4096]),
        malformed(0, "the first event is not a Spec ID event")
    );
    let (good, starts) = firmware_log(2);
    let mut l = good.clone();
    l[32] = b'X';
    assert_eq!(
        log_end(&l),
        malformed(32, "no \"Spec ID Event03\" signature")
    );
    // Spec ID event longer than the area.
    assert_eq!(
        log_end(&good[..60]),
        malformed(0, "the Spec ID event runs past the log area")
    );
    // No SHA-256 bank: declare SHA-384 instead.
    let mut l = good.clone();
    l[32 + 28] = 0x0C;
    assert_eq!(log_end(&l), Err(MeasureError::LogNoSha256));
    // Other banks besides SHA-256: our entries could not carry their
    // digests (Linux would stop reading the log there).
    let (two, _) = firmware_log_with(1, &[(0x0004, 20), (0x000B, 32)]);
    assert_eq!(log_end(&two), Err(MeasureError::LogOtherBanks { banks: 2 }));
    assert_eq!(
        MeasureError::LogOtherBanks { banks: 2 }.to_string(),
        "measured boot: the TPM has 2 PCR banks active; rvf-boot extends and logs the SHA-256 bank only (activate only SHA-256, e.g. swtpm_setup --pcr-banks sha256)"
    );
    // Too many algorithms declared.
    let mut l = good.clone();
    l[32 + 24] = 17;
    assert_eq!(
        log_end(&l),
        malformed(56, "the Spec ID event declares no or too many algorithms")
    );
    // An entry with an undeclared algorithm.
    let mut l = good.clone();
    l[starts[1] + 12] = 0x0C;
    assert_eq!(
        log_end(&l),
        malformed(
            starts[1] as u64,
            "digest of an algorithm the Spec ID event does not declare"
        )
    );
    // More digests than algorithms.
    let mut l = good.clone();
    l[starts[0] + 8] = 3;
    assert_eq!(
        log_end(&l),
        malformed(
            starts[0] as u64,
            "more digests than the Spec ID event declares"
        )
    );
    // The last entry cut short / its size past the area.
    assert_eq!(
        log_end(&good[..good.len() - 1]),
        malformed(starts[1] as u64, "entry past the log area")
    );
    let mut l = good.clone();
    let size_at = starts[1] + 12 + 34;
    l[size_at..size_at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    assert_eq!(
        log_end(&l),
        malformed(starts[1] as u64, "entry past the log area")
    );
    assert_eq!(
        MeasureError::LogMalformed {
            at: 7,
            what: LogProblem::TooManyDigests
        }
        .to_string(),
        "measured boot: the firmware's TCG event log is malformed at byte 7: more digests than the Spec ID event declares"
    );
}

#[test]
fn pcr_extend_command_bytes_are_exact() {
    let d: Digest = core::array::from_fn(|i| 0xA0 ^ i as u8);
    let mut want: Vec<u8> = std::vec![
        0x80, 0x02, // TPM_ST_SESSIONS
        0, 0, 0, 65, // size
        0, 0, 0x01, 0x82, // TPM_CC_PCR_Extend
        0, 0, 0, 9, // PCR 9
        0, 0, 0, 9, // authorizationSize
        0x40, 0, 0, 9, // TPM_RS_PW
        0, 0, // nonce
        0, // attributes
        0, 0, // hmac
        0, 0, 0, 1, // one digest
        0x00, 0x0B, // SHA-256
    ];
    want.extend_from_slice(&d);
    assert_eq!(want.len(), PCR_EXTEND_LEN);
    assert_eq!(pcr_extend_command(9, &d).to_vec(), want);
}

#[test]
fn tpm_responses_are_checked_like_file_input() {
    let ok = [
        0x80, 0x02, 0, 0, 0, 19, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ];
    let hdr = |b: &[u8]| -> [u8; 10] { b[..10].try_into().unwrap() };
    assert_eq!(response_size(&hdr(&ok)), Ok(19));
    assert_eq!(check_response(0x182, &ok), Ok(()));
    // An error answer: TPM_RC_VALUE | parameter 1 (0x1C4), no sessions.
    let err = [0x80, 0x01, 0, 0, 0, 10, 0, 0, 0x01, 0xC4];
    assert_eq!(response_size(&hdr(&err)), Ok(10));
    assert_eq!(
        check_response(0x182, &err),
        Err(MeasureError::TpmResponseCode {
            command: 0x182,
            code: 0x1C4
        })
    );
    assert_eq!(
        MeasureError::TpmResponseCode {
            command: 0x182,
            code: 0x1C4
        }
        .to_string(),
        "TPM: command 0x182 failed with response code 0x1c4"
    );
    // Unknown tag, size below the header, size above the buffer.
    let mut bad = ok;
    bad[0] = 0;
    assert_eq!(
        response_size(&hdr(&bad)),
        Err(MeasureError::TpmResponseHeader {
            tag: 0x0002,
            size: 19
        })
    );
    let mut bad = ok;
    bad[5] = 9;
    assert_eq!(
        response_size(&hdr(&bad)),
        Err(MeasureError::TpmResponseHeader {
            tag: 0x8002,
            size: 9
        })
    );
    let mut bad = ok;
    bad[2..6].copy_from_slice(&257u32.to_be_bytes());
    assert_eq!(
        response_size(&hdr(&bad)),
        Err(MeasureError::TpmResponseHeader {
            tag: 0x8002,
            size: 257
        })
    );
    assert_eq!(
        response_size(&hdr(&[0xFF; 10])),
        Err(MeasureError::TpmResponseHeader {
            tag: 0xFFFF,
            size: u32::MAX
        })
    );
    // Size field and bytes disagree; a success without the sessions tag.
    assert_eq!(
        check_response(0x182, &ok[..18]),
        Err(MeasureError::TpmResponseLength {
            declared: 19,
            got: 18
        })
    );
    assert_eq!(
        check_response(0x182, &ok[..4]),
        Err(MeasureError::TpmResponseLength {
            declared: 0,
            got: 4
        })
    );
    let mut nosess = ok;
    nosess[1] = 0x01;
    assert_eq!(
        check_response(0x182, &nosess),
        Err(MeasureError::TpmResponseHeader {
            tag: 0x8001,
            size: 19
        })
    );
}

/// Sets byte `at` so that `t` sums to zero.
fn fix_checksum(t: &mut [u8], at: usize) {
    t[at] = 0;
    let sum = t.iter().fold(0u8, |a, &b| a.wrapping_add(b));
    t[at] = sum.wrapping_neg();
}

fn table(sig: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut t = std::vec![0u8; 36];
    t[..4].copy_from_slice(sig);
    t.extend_from_slice(body);
    let len = t.len() as u32;
    t[4..8].copy_from_slice(&len.to_le_bytes());
    t[8] = 4;
    fix_checksum(&mut t, 9);
    t
}

#[test]
fn acpi_rsdp_root_tables_and_tpm2() {
    let mut rsdp = [0u8; 36];
    rsdp[..8].copy_from_slice(b"RSD PTR ");
    rsdp[16..20].copy_from_slice(&0x7FE1_234Cu32.to_le_bytes());
    fix_checksum(&mut rsdp[..20], 8);
    assert_eq!(rsdp_root(&rsdp), Ok((0x7FE1_234C, false)));
    let mut v2 = rsdp;
    v2[15] = 2;
    v2[24..32].copy_from_slice(&0x7FE1_3000u64.to_le_bytes());
    fix_checksum(&mut v2[..20], 8);
    fix_checksum(&mut v2, 32);
    assert_eq!(rsdp_root(&v2), Ok((0x7FE1_3000, true)));
    let mut bad = v2;
    bad[33] ^= 1;
    assert_eq!(
        rsdp_root(&bad),
        Err(MeasureError::AcpiTable {
            signature: *b"RSDP",
            what: AcpiProblem::ExtendedChecksum
        })
    );
    rsdp[0] = b'X';
    assert_eq!(
        rsdp_root(&rsdp),
        Err(MeasureError::AcpiTable {
            signature: *b"RSDP",
            what: AcpiProblem::NoRsdpSignature
        })
    );

    let rsdt = table(b"RSDT", &[0x10, 0, 0, 0, 0x20, 0, 0, 0]);
    let hdr: [u8; 36] = rsdt[..36].try_into().unwrap();
    assert_eq!(sdt_length(&hdr), Ok((*b"RSDT", 44)));
    let e: Vec<u64> = sdt_entries(&rsdt, false).unwrap().collect();
    assert_eq!(e, [0x10, 0x20]);
    assert!(sdt_entries(&rsdt, true).is_err(), "an RSDT is not an XSDT");
    let xsdt = table(b"XSDT", &0x1_2345_6789u64.to_le_bytes());
    let e: Vec<u64> = sdt_entries(&xsdt, true).unwrap().collect();
    assert_eq!(e, [0x1_2345_6789]);
    let mut bad = rsdt.clone();
    bad[40] ^= 1;
    assert_eq!(
        sdt_entries(&bad, false).err(),
        Some(MeasureError::AcpiTable {
            signature: *b"RSDT",
            what: AcpiProblem::Checksum
        })
    );
    let mut huge = hdr;
    huge[4..8].copy_from_slice(&4097u32.to_le_bytes());
    assert_eq!(
        sdt_length(&huge),
        Err(MeasureError::AcpiTable {
            signature: *b"RSDT",
            what: AcpiProblem::ImpossibleLength
        })
    );

    // TPM2, revision 4 layout: platform class, reserved, control area,
    // start method, 12 bytes of parameters, LAML, LASA.
    let mut body = std::vec![0u8; 28];
    body.extend_from_slice(&0x1_0000u32.to_le_bytes());
    body.extend_from_slice(&0x7FE0_0000u64.to_le_bytes());
    let tpm2 = table(b"TPM2", &body);
    assert_eq!(tpm2.len(), TPM2_TABLE_LEN);
    assert_eq!(tpm2_log_area(&tpm2), Ok((0x7FE0_0000, 0x1_0000)));
    let short = table(b"TPM2", &body[..28]);
    assert_eq!(
        tpm2_log_area(&short),
        Err(MeasureError::AcpiTable {
            signature: *b"TPM2",
            what: AcpiProblem::NoLogArea
        })
    );
    let mut bad = tpm2.clone();
    bad[70] ^= 1;
    assert_eq!(
        tpm2_log_area(&bad),
        Err(MeasureError::AcpiTable {
            signature: *b"TPM2",
            what: AcpiProblem::Checksum
        })
    );
    assert_eq!(
        MeasureError::AcpiTable {
            signature: *b"TP\x002",
            what: AcpiProblem::Checksum
        }
        .to_string(),
        "measured boot: ACPI table \"TP?2\" fails its checksum"
    );
}

/// Every [`LogProblem`], for the phrase table below.
const LOG_PROBLEMS: [LogProblem; 9] = [
    LogProblem::NoSpecIdEvent,
    LogProblem::FirstNotSpecId,
    LogProblem::SpecIdPastArea,
    LogProblem::NoSpecIdSignature,
    LogProblem::SpecIdTooShort,
    LogProblem::AlgorithmCount,
    LogProblem::EntryPastArea,
    LogProblem::TooManyDigests,
    LogProblem::UndeclaredAlgorithm,
];

#[test]
fn problems_keep_their_phrases() {
    // The messages the `&'static str` fields carried, word for word.
    let log: Vec<(LogProblem, &str)> = LOG_PROBLEMS.iter().map(|&p| (p, p.name())).collect();
    assert_eq!(
        log,
        [
            (LogProblem::NoSpecIdEvent, "no Spec ID event"),
            (
                LogProblem::FirstNotSpecId,
                "the first event is not a Spec ID event"
            ),
            (
                LogProblem::SpecIdPastArea,
                "the Spec ID event runs past the log area"
            ),
            (
                LogProblem::NoSpecIdSignature,
                "no \"Spec ID Event03\" signature"
            ),
            (LogProblem::SpecIdTooShort, "Spec ID event too short"),
            (
                LogProblem::AlgorithmCount,
                "the Spec ID event declares no or too many algorithms"
            ),
            (LogProblem::EntryPastArea, "entry past the log area"),
            (
                LogProblem::TooManyDigests,
                "more digests than the Spec ID event declares"
            ),
            (
                LogProblem::UndeclaredAlgorithm,
                "digest of an algorithm the Spec ID event does not declare"
            ),
        ]
    );
    let acpi = [
        (
            AcpiProblem::NoRsdpSignature,
            "has no \"RSD PTR \" signature",
        ),
        (AcpiProblem::Checksum, "fails its checksum"),
        (AcpiProblem::ExtendedChecksum, "fails its extended checksum"),
        (AcpiProblem::ImpossibleLength, "has an impossible length"),
        (
            AcpiProblem::NotRootTable,
            "is not the root table the RSDP names",
        ),
        (AcpiProblem::OtherSignature, "has another signature"),
        (
            AcpiProblem::NoLogArea,
            "has no event log area (shorter than 76 bytes)",
        ),
        (AcpiProblem::EmptyLogArea, "describes no event log area"),
    ];
    for (p, phrase) in acpi {
        assert_eq!(p.to_string(), phrase);
        assert_eq!(
            MeasureError::AcpiTable {
                signature: *b"TPM2",
                what: p
            }
            .to_string(),
            std::format!("measured boot: ACPI table \"TPM2\" {phrase}")
        );
    }
    for p in LOG_PROBLEMS {
        assert_eq!(p.to_string(), p.name());
    }
}
