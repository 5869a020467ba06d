//! `rvf-boot measure`: the TCG events and the PCR 8 and PCR 9 values the
//! stub produces when it boots FILE with `-append ARGS` and an initrd,
//! predicted offline through the library's `measure::boot_events`.
//!
//! The inputs are exactly the stub's: the file verified by the library
//! (the same path as `extract`, [`image::verify`]), the command line built by
//! `cmdline::write` from the RVF's cmdline and ARGS against the
//! bzImage's `cmdline_size`, the initrd's bytes (an empty initrd is none,
//! as in the stub). A kernel the stub would refuse is refused here too: the
//! stub measures nothing for it.

use crate::image;
use crate::output;
use rvf_boot::bzimage::BzImage;
use rvf_boot::cmdline;
use rvf_boot::measure::{self, BootInputs, EV_IPL, EventLog};
use rvf_boot::{Container, Policy};
use std::fmt::Write as _;
use std::path::Path;

/// Why nothing was measured.
pub enum Failure {
    /// The arguments cannot work (exit 2).
    Usage(String),
    /// The file, the kernel, the initrd or the output failed (exit 1).
    Failed(String),
}

/// The inputs besides FILE.
pub struct Request<'a> {
    /// `--append`: the extra kernel arguments, as bytes.
    pub append: &'a [u8],
    /// `--initrd`.
    pub initrd: Option<&'a Path>,
    /// `--event-log`.
    pub event_log: Option<&'a Path>,
}

/// One event as printed.
pub struct EventRow {
    pub pcr: u32,
    pub event_type: u32,
    pub digest: String,
    /// The event data without its trailing NUL (lossy for non-UTF-8 bytes,
    /// which only a command line can hold; `--event-log` has the bytes).
    pub data: String,
}

/// What `measure` found.
pub struct Measured {
    pub events: Vec<EventRow>,
    pub pcr8: String,
    pub pcr9: String,
    /// The binary log and where it was written.
    pub written: Option<(String, usize)>,
}

/// The TCG name of an event type.
fn type_name(t: u32) -> String {
    if t == EV_IPL {
        "EV_IPL".to_owned()
    } else {
        format!("{t:#x}")
    }
}

/// Measures `file` for `req`, writes the event log if asked.
pub fn run(file: &Path, req: &Request<'_>) -> Result<Measured, Failure> {
    if let Some(p) = req.event_log
        && output::place(p).is_none()
    {
        return Err(Failure::Usage(format!(
            "{}: an output must name a file",
            p.display()
        )));
    }
    // The stub copies -append first and refuses a long one before anything else.
    if req.append.len() > cmdline::APPEND_MAX {
        return Err(Failure::Failed(format!(
            "--append: {} bytes, longer than the stub's {}-byte limit",
            req.append.len(),
            cmdline::APPEND_MAX
        )));
    }
    let failed = |e: &dyn std::fmt::Display| Failure::Failed(format!("{}: {e}", file.display()));
    // The stub boots under the default policy: unset hashes are refused.
    let policy = Policy::default();
    let bytes = std::fs::read(file).map_err(|e| failed(&e))?;
    let c = Container::parse(&bytes, policy).map_err(|e| failed(&e))?;
    // The content hash is checked by `image::verify` (beside the inflate).
    let k = c.selected_kernel_deferred().map_err(|e| failed(&e))?;
    let x = image::verify(&k).map_err(|e| failed(&e))?;
    let bz = BzImage::parse(&x.image).map_err(|e| failed(&e))?;
    let mut buf = vec![0u8; cmdline::BUFFER_SIZE];
    let len = cmdline::write(&mut buf, k.cmdline(), req.append, bz.cmdline_size())
        .map_err(|e| failed(&e))?;
    let cmdline = buf.get(..len).unwrap_or_default();
    let initrd = match req.initrd {
        None => None,
        Some(p) => {
            let data =
                std::fs::read(p).map_err(|e| Failure::Failed(format!("{}: {e}", p.display())))?;
            // The stub loads no initrd for an empty fw_cfg file.
            (!data.is_empty()).then(|| measure::sha256(&data))
        }
    };
    let inputs = BootInputs {
        manifest: measure::manifest_digest(&c).map_err(|e| failed(&e))?,
        kernel_image: x.sha256,
        initrd,
        cmdline,
    };
    let log = measure::boot_events(&inputs).map_err(|e| failed(&e))?;
    let written = match req.event_log {
        None => None,
        Some(p) => Some(write_log(&log, p).map_err(|e| failed(&e))?),
    };
    Ok(Measured {
        events: log
            .events()
            .iter()
            .map(|e| {
                let data = e.data_parts();
                EventRow {
                    pcr: e.pcr(),
                    event_type: e.event_type(),
                    digest: image::hex(e.digest()),
                    data: String::from_utf8_lossy(&[data[0], data[1]].concat()).into_owned(),
                }
            })
            .collect(),
        pcr8: image::hex(&log.pcr(measure::PCR_STRINGS)),
        pcr9: image::hex(&log.pcr(measure::PCR_CONTENT)),
        written,
    })
}

/// Serialises `log` and replaces `p` with it (staged, then renamed).
fn write_log(log: &EventLog<'_>, p: &Path) -> Result<(String, usize), String> {
    let n = log.encoded_len().map_err(|e| e.to_string())?;
    let mut bytes = vec![0u8; n];
    log.write(&mut bytes).map_err(|e| e.to_string())?;
    let where_ = |e: &dyn std::fmt::Display| format!("{}: {e}", p.display());
    let staged = output::stage(p, &bytes).map_err(|e| where_(&e))?;
    output::commit(vec![staged]).map_err(|e| where_(&e.error))?;
    Ok((p.display().to_string(), n))
}

/// `s` as a JSON string literal (quoted and escaped by serde_json).
fn js(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

impl Measured {
    /// The `--json` object, keys in the documented order (`pcrs`, then
    /// `events`; each event `pcr`, `type`, `digest`, `data`), on one line.
    pub fn to_json(&self) -> String {
        let events: Vec<String> = self
            .events
            .iter()
            .map(|e| {
                format!(
                    "{{\"pcr\":{},\"type\":{},\"digest\":{},\"data\":{}}}",
                    e.pcr,
                    js(&type_name(e.event_type)),
                    js(&e.digest),
                    js(&e.data)
                )
            })
            .collect();
        format!(
            "{{\"pcrs\":{{\"8\":{},\"9\":{}}},\"events\":[{}]}}",
            js(&self.pcr8),
            js(&self.pcr9),
            events.join(",")
        )
    }

    /// The table.
    pub fn to_table(&self) -> String {
        let mut s = String::new();
        for (i, e) in self.events.iter().enumerate() {
            let _ = writeln!(
                s,
                "event {}: PCR {} {} sha256 {} {:?}",
                i + 1,
                e.pcr,
                type_name(e.event_type),
                e.digest,
                e.data
            );
        }
        let _ = writeln!(s, "PCR 8: {}", self.pcr8);
        let _ = writeln!(s, "PCR 9: {}", self.pcr9);
        if let Some((p, n)) = &self.written {
            let _ = writeln!(
                s,
                "event log: {p} ({n} bytes, {} events)",
                self.events.len()
            );
        }
        s
    }
}
