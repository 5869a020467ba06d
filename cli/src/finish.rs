//! The one result path of every subcommand: one failure type ([`Failure`])
//! and one function ([`finish`]) that prints the outcome, the table or one
//! JSON object, the error line on stderr, and returns the exit code.
//!
//! Exit codes: 0 success, 1 the file, the policy or an output failed, 2 usage
//! error. A JSON object that reports a failure carries `error` (the message),
//! `error_class` (what kind of failure: the library's error class, or
//! `usage`, `input`, `output`) and `exit_code`.

use serde_json::{Value, json};
use std::fmt::Display;
use std::io::Write as _;
use std::process::ExitCode;

/// Exit code of a usage error.
pub const USAGE: u8 = 2;
/// Exit code of a failed file, policy or output.
pub const FAILED: u8 = 1;

/// Why a subcommand failed.
#[derive(Debug)]
pub struct Failure {
    /// The exit code ([`USAGE`] or [`FAILED`]).
    pub code: u8,
    /// The error class (`usage`, `input`, `output`, or a library class).
    pub class: &'static str,
    /// The message (the JSON `error`).
    pub message: String,
    /// What the stderr line puts before the message (the file), when the
    /// message does not name it already.
    pub context: Option<String>,
}

impl Failure {
    /// The arguments cannot work (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(USAGE, "usage", message.into())
    }

    /// An input could not be read (exit 1).
    pub fn input(message: impl Into<String>) -> Self {
        Self::new(FAILED, "input", message.into())
    }

    /// An output could not be written (exit 1).
    pub fn output(message: impl Into<String>) -> Self {
        Self::new(FAILED, "output", message.into())
    }

    /// The measured-boot log of `what` could not be made (exit 1).
    pub fn measured_boot(what: &dyn Display, e: &dyn Display) -> Self {
        Self::new(FAILED, "measured_boot", format!("{what}: {e}"))
    }

    /// The library refused `what` (exit 1): the message names it.
    pub fn lib(what: &dyn Display, e: &rvf_boot::Error) -> Self {
        Self::new(FAILED, e.class().key(), format!("{what}: {e}"))
    }

    /// The library refused the file (exit 1), in a report whose message does
    /// not name the file: stderr gets `context: message`.
    pub fn in_report(context: String, e: &rvf_boot::Error) -> Self {
        let mut f = Self::new(FAILED, e.class().key(), e.to_string());
        f.context = Some(context);
        f
    }

    const fn new(code: u8, class: &'static str, message: String) -> Self {
        Self {
            code,
            class,
            message,
            context: None,
        }
    }
}

/// A subcommand's JSON object.
pub enum Json {
    /// An object (keys in serde_json's order).
    Object(Value),
    /// An object already rendered, keys in a documented order (`measure`).
    Rendered(String),
}

/// What a subcommand produced: its table and its JSON object (either may be
/// a partial report when it failed), and the failure, if any.
pub struct Outcome {
    /// The table (stdout without `--json`).
    pub text: String,
    /// The JSON object (stdout with `--json`).
    pub json: Json,
    /// Why it failed.
    pub failure: Option<Failure>,
}

impl Outcome {
    /// A success.
    pub const fn ok(text: String, json: Json) -> Self {
        Self {
            text,
            json,
            failure: None,
        }
    }

    /// A failure with nothing else to show; `extra` keys go into its JSON
    /// object (e.g. `written: false`).
    pub fn failed(failure: Failure, extra: Value) -> Self {
        Self {
            text: String::new(),
            json: Json::Object(extra),
            failure: Some(failure),
        }
    }
}

/// Prints to stdout; a closed pipe is not worth a panic.
pub fn emit(s: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(s.as_bytes()).and_then(|()| out.flush());
}

/// Prints `o` (the JSON object with `json`, else the table), the failure's
/// line on stderr, and returns the exit code. A failure's JSON object gets
/// `error`, `error_class` and `exit_code`; so does a success's object when it
/// has an `error` key (`null`).
pub fn finish(json: bool, o: Outcome) -> ExitCode {
    let code = o.failure.as_ref().map_or(0, |f| f.code);
    if json {
        let line = match o.json {
            Json::Object(mut v) => {
                if !v.is_object() {
                    v = json!({});
                }
                if let Value::Object(m) = &mut v
                    && (o.failure.is_some() || m.contains_key("error"))
                {
                    let f = o.failure.as_ref();
                    m.insert("error".into(), json!(f.map(|f| &f.message)));
                    m.insert("error_class".into(), json!(f.map(|f| f.class)));
                    m.insert("exit_code".into(), json!(code));
                }
                v.to_string()
            }
            Json::Rendered(s) => s,
        };
        emit(&format!("{line}\n"));
    } else {
        emit(&o.text);
    }
    match o.failure {
        None => ExitCode::SUCCESS,
        Some(f) => {
            match &f.context {
                Some(c) => eprintln!("rvf-boot: {c}: {}", f.message),
                None => eprintln!("rvf-boot: {}", f.message),
            }
            ExitCode::from(f.code)
        }
    }
}
