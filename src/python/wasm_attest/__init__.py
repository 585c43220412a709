"""wasm-attest: attested WebAssembly components built from Rust crates.

This package is the core library: pure functions over Cargo manifests,
lockfiles and WebAssembly binaries. It never imports Pants and never runs
cargo, so release jobs can use it without a build system.
"""

__version__ = "0.2.0"
