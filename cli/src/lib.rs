//! The CLI's std-only pieces that tests outside the binary use: the faster
//! inflate engine plugged into the library's own verification, and the
//! bounded readers of the inputs.

pub mod engine;
pub mod read;
