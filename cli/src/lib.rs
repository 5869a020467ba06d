//! The CLI's std-only pieces that tests outside the binary use: the faster
//! inflate engine plugged into the library's own verification.

pub mod engine;
