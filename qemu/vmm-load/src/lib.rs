//! Nothing: the test is in tests/load.rs.
