//! `rvf-writer-03 SCENARIO OUT.rvf [INPUT]`: writes one RVF test file with the
//! real rvf-runtime 0.3.2 (legacy dialect). Scenarios: vectors, embed-kernel,
//! embed-kernel-binding, embed-wasm, two-kernels.

#[path = "../../common.rs"]
mod common;
#[path = "../../scenarios.rs"]
mod scenarios;

use common::die;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (scenario, out) = match (args.first(), args.get(1)) {
        (Some(s), Some(o)) => (s.as_str(), o.clone()),
        _ => die("usage: rvf-writer-03 SCENARIO OUT.rvf [INPUT]"),
    };
    if !scenarios::run(scenario, &out, args.get(2)) {
        die(&format!("unknown scenario {scenario}"));
    }
}
