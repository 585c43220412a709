#!/usr/bin/env bash
# Runs cargo inside a Pants sandbox, hermetically.
#
# Usage: cargo_in_sandbox.sh CRATE_DIR JOBS CARGO_ARGS...
# JOBS is the number of parallel jobs cargo may run (what Pants granted the
# process), or "default" for cargo's own default.
# Reads: WASM_ATTEST_TOOLCHAIN (toolchain folder, absolute or relative to the
# sandbox) and, optionally, WASM_ATTEST_SOURCE_DIR (a cargo directory source,
# relative to the sandbox, that replaces crates.io). Expects the host linker
# wrapper `__host_linker` at the sandbox root.
#
# It exists because cargo's configuration needs absolute paths and Process
# arguments cannot know the sandbox's location: this script resolves them from
# $PWD, gives cargo a fresh CARGO_HOME inside the sandbox (never ~/.cargo), and
# remaps the sandbox paths in everything rustc emits so that output bytes do
# not depend on where the build ran.
set -euo pipefail

sandbox="$PWD"
crate_dir="$1"
jobs="$2"
shift 2

case "$WASM_ATTEST_TOOLCHAIN" in
  /*) toolchain="$WASM_ATTEST_TOOLCHAIN" ;;
  *) toolchain="$sandbox/$WASM_ATTEST_TOOLCHAIN" ;;
esac

export CARGO_HOME="$sandbox/.cargo-home"
export RUSTC="$toolchain/bin/rustc"
export RUSTDOC="$toolchain/bin/rustdoc"
export CARGO_TARGET_DIR="$sandbox/target"
export CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER="$sandbox/__host_linker"
if [[ "$jobs" != default ]]; then
  export CARGO_BUILD_JOBS="$jobs"
fi
sep=$'\x1f'
export CARGO_ENCODED_RUSTFLAGS="--remap-path-prefix=$sandbox=/build${sep}--remap-path-prefix=$sandbox/vendor=/vendor"

source_config=()
if [[ -n "${WASM_ATTEST_SOURCE_DIR:-}" ]]; then
  source_config=(
    --config 'source.crates-io.replace-with="wasm-attest-crates"'
    --config "source.wasm-attest-crates.directory=\"$sandbox/$WASM_ATTEST_SOURCE_DIR\""
  )
fi

cd "$sandbox/$crate_dir"
exec "$toolchain/bin/cargo" "${source_config[@]}" "$@"
