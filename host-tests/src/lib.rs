//! Shared helpers for the host tests.
