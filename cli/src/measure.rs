//! `rvf-boot measure`: the TCG events and the PCR 8 and PCR 9 values the
//! stub produces when it boots FILE with `-append ARGS` and an initrd,
//! predicted offline through the library's `measure::boot_events`.
//!
//! The inputs are exactly the stub's, through the same function: the
//! library's boot core ([`image::boot_report`], `rvf_boot::boot::prepare`
//! on a report machine) verifies the file, parses the kernel (bzImage or ELF
//! vmlinux), builds the command line from the RVF's cmdline and ARGS against
//! the kernel's limit, checks the policy's pins and gives the events; the
//! initrd is hashed as it streams (an empty initrd is none, as in the stub).
//! A kernel the stub would refuse is refused here too: the stub measures
//! nothing for it.

use crate::finish::Failure;
use crate::image;
use crate::report::{AuthFacts, auth_json, auth_table};
use crate::{input, output, verify};
use rvf_boot::Policy;
use rvf_boot::cmdline;
use rvf_boot::measure::{self, EV_IPL, EventLog};
use std::fmt::Write as _;
use std::path::Path;

/// The inputs besides FILE.
pub struct Request<'a> {
    /// `--append`: the extra kernel arguments, as bytes.
    pub append: &'a [u8],
    /// `--initrd`.
    pub initrd: Option<&'a Path>,
    /// `--event-log`.
    pub event_log: Option<&'a Path>,
    /// The policy flags (verify's).
    pub flags: &'a verify::Request,
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
    /// The kernel's format (`bzimage`, `elf`).
    pub kernel_format: &'static str,
    /// The policy asked for (its JSON and its one-line description) and
    /// what it authenticated, when anything beyond hashes was asked.
    pub policy: Option<(serde_json::Value, String, AuthFacts)>,
}

/// The TCG name of an event type.
fn type_name(t: u32) -> String {
    if t == EV_IPL {
        "EV_IPL".to_owned()
    } else {
        format!("{t:#x}")
    }
}

/// The usage checks: the event log names a file, and no input.
fn check_output(file: &Path, req: &Request<'_>) -> Result<(), Failure> {
    let Some(p) = req.event_log else {
        return Ok(());
    };
    if output::place(p).is_none() {
        return Err(Failure::usage(format!(
            "{}: an output must name a file",
            p.display()
        )));
    }
    let inputs: Vec<&Path> = [Some(file), req.initrd].into_iter().flatten().collect();
    input::refuse_output_on_input("--event-log", p, &inputs, false)
}

/// Measures `file` for `req` under the policy flags (verify's: the
/// signature at parse, the kernel pin on the verified image, the cmdline pin
/// on the final command line the stub would boot), writes the event log if
/// asked, after every check.
///
/// # Errors
/// The first failure; nothing was written.
pub fn run(file: &Path, req: &Request<'_>) -> Result<Measured, Failure> {
    check_output(file, req)?;
    // The stub copies -append first and refuses a long one before anything else.
    if req.append.len() > cmdline::APPEND_MAX {
        return Err(Failure::input(format!(
            "--append: {} bytes, longer than the stub's {}-byte limit",
            req.append.len(),
            cmdline::APPEND_MAX
        )));
    }
    let shown = file.display();
    // The stub boots under the default policy: unset hashes are refused.
    let policy = req.flags.policy_from(Policy::default());
    let bytes = input::read_whole(file)?;
    // The stub's own boot sequence: the library's boot core.
    let mut line = vec![0u8; cmdline::BUFFER_SIZE];
    let mut out = Vec::new();
    let p = image::boot_report(&bytes, policy, req.append, req.initrd, &mut line, &mut out)
        .map_err(|stop| match stop {
            image::Stop::Lib(e) => Failure::lib(&shown, &e),
            image::Stop::Measure(e) => Failure::measured_boot(&shown, &e),
            image::Stop::Cli(f) => f,
        })?;
    let log = p.events().map_err(|e| Failure::measured_boot(&shown, &e))?;
    let written = match req.event_log {
        None => None,
        Some(p) => Some(write_log(&log, p).map_err(|e| Failure::output(format!("{shown}: {e}")))?),
    };
    let policy = req.flags.asked().then(|| {
        let a = p.authenticated();
        let auth = AuthFacts {
            signed: a.signed,
            kernel_sha256: a.kernel_sha256,
            cmdline_sha256: a.cmdline_sha256,
            bundle_sha256: None,
        };
        (req.flags.to_json(), req.flags.describe(), auth)
    });
    Ok(Measured {
        events: log.events().iter().map(event_row).collect(),
        pcr8: image::hex(&log.pcr(measure::PCR_STRINGS)),
        pcr9: image::hex(&log.pcr(measure::PCR_CONTENT)),
        written,
        kernel_format: p.boot_image().format().name(),
        policy,
    })
}

fn event_row(e: &measure::Event<'_>) -> EventRow {
    let data = e.data_parts();
    EventRow {
        pcr: e.pcr(),
        event_type: e.event_type(),
        digest: image::hex(e.digest()),
        data: String::from_utf8_lossy(&[data[0], data[1]].concat()).into_owned(),
    }
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
        // Under a policy beyond hashes, verify's two keys follow.
        let policy = self.policy.as_ref().map_or_else(String::new, |(p, _, a)| {
            format!(",\"policy\":{p},\"authenticated\":{}", auth_json(Some(a)))
        });
        format!(
            "{{\"pcrs\":{{\"8\":{},\"9\":{}}},\"events\":[{}],\"kernel_format\":{}{policy}}}",
            js(&self.pcr8),
            js(&self.pcr9),
            events.join(","),
            js(self.kernel_format)
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
        let _ = writeln!(s, "kernel format: {}", self.kernel_format);
        if let Some((p, n)) = &self.written {
            let _ = writeln!(
                s,
                "event log: {p} ({n} bytes, {} events)",
                self.events.len()
            );
        }
        if let Some((_, describe, a)) = &self.policy {
            let _ = writeln!(s, "{describe}");
            s.push_str(&auth_table(a));
        }
        s
    }
}
