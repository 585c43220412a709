#!/usr/bin/env bash
# Runs cargo inside a Pants sandbox, isolated from the host by bubblewrap.
#
# Usage: cargo_in_sandbox.sh CRATE_DIR JOBS CARGO_ARGS...
# JOBS is the number of parallel jobs cargo may run (what Pants granted the
# process), or "default" for cargo's own default.
# Reads: WASM_ATTEST_TOOLCHAIN (toolchain folder, absolute or relative to the
# sandbox), WASM_ATTEST_BWRAP (the bwrap binary, relative to the sandbox; empty
# only when isolation was turned off for development) and, optionally,
# WASM_ATTEST_SOURCE_DIR (a cargo directory source, relative to the sandbox,
# that replaces crates.io). Expects the host linker wrapper `__host_linker` at
# the sandbox root.
#
# cargo runs crate code nobody in the repository wrote (build scripts,
# proc-macros), so it runs in new user, PID, network, IPC, UTS and cgroup
# namespaces, seeing only:
#   /build       the Pants sandbox, writable (the fixed path also makes every
#                flag and output independent of where the sandbox is)
#   /toolchain   the toolchain, read-only
#   /usr, /lib, /lib64, /bin   read-only: the host C compiler and linker that
#                link build scripts and proc-macros, and the libraries they need
#   /proc        its own processes only;  /dev  a minimal one;  /tmp  empty
# No network interface but a loopback of its own, no /etc, no home folder, no
# key file, no other process, no file of the repository outside the sandbox.
# cargo gets a fresh CARGO_HOME inside the sandbox (never ~/.cargo).
set -euo pipefail

sandbox="$PWD"
crate_dir="$1"
jobs="$2"
shift 2

case "$WASM_ATTEST_TOOLCHAIN" in
  /*) host_toolchain="$WASM_ATTEST_TOOLCHAIN" ;;
  *) host_toolchain="$sandbox/$WASM_ATTEST_TOOLCHAIN" ;;
esac

if [[ -n "${WASM_ATTEST_BWRAP:-}" ]]; then
  root=/build
  toolchain=/toolchain
else
  # Development opt-out ([wasm-sandbox].isolation = "none"): the same build, unisolated.
  root="$sandbox"
  toolchain="$host_toolchain"
fi

export CARGO_HOME="$root/.cargo-home"
export RUSTC="$toolchain/bin/rustc"
export RUSTDOC="$toolchain/bin/rustdoc"
export CARGO_TARGET_DIR="$root/target"
export CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER="$root/__host_linker"
if [[ "$jobs" != default ]]; then
  export CARGO_BUILD_JOBS="$jobs"
fi
sep=$'\x1f'
export CARGO_ENCODED_RUSTFLAGS="--remap-path-prefix=$root=/build${sep}--remap-path-prefix=$root/vendor=/vendor"

# A build that starts from the workspace's shared compiled crates (util_rules/shared_crates.py):
# Pants writes every input file with the time it wrote it, in no particular order, but cargo
# judges freshness by comparing times (a dependency's output newer than its dependent's, a build
# script's rerun-if-changed file newer than its output). One fixed old time for those outputs and
# for the vendored crates restores the order cargo saw when it wrote them; the repository's
# sources keep Pants' newer times, so cargo never takes one of them for compiled. Only times
# change: cargo's fingerprints still compare every flag, feature and dependency.
if [[ -d "$sandbox/target" ]]; then
  PATH=/usr/bin:/bin find "$sandbox/target" ${WASM_ATTEST_SOURCE_DIR:+"$sandbox/$WASM_ATTEST_SOURCE_DIR"} \
      -exec touch -h -d @946684800 {} +
fi

cargo=("$toolchain/bin/cargo")
if [[ -n "${WASM_ATTEST_SOURCE_DIR:-}" ]]; then
  cargo+=(
    --config 'source.crates-io.replace-with="wasm-attest-crates"'
    --config "source.wasm-attest-crates.directory=\"$root/$WASM_ATTEST_SOURCE_DIR\""
  )
fi

if [[ -z "${WASM_ATTEST_BWRAP:-}" ]]; then
  cd "$sandbox/$crate_dir"
  exec "${cargo[@]}" "$@"
fi

# The host folders the C compiler needs, as this host lays them out: on a merged-/usr
# system /lib, /lib64 and /bin are symlinks into /usr, and stay symlinks.
host_view=(--ro-bind /usr /usr)
for folder in /lib /lib64 /bin; do
  if [[ -L "$folder" ]]; then
    host_view+=(--symlink "$(cd -P "$folder" && pwd)" "$folder")
  elif [[ -d "$folder" ]]; then
    host_view+=(--ro-bind "$folder" "$folder")
  fi
done

exec "$sandbox/$WASM_ATTEST_BWRAP" \
  --unshare-all --die-with-parent --new-session --hostname wasm-attest-build \
  "${host_view[@]}" \
  --ro-bind "$(cd "$host_toolchain" && pwd -P)" /toolchain \
  --bind "$sandbox" /build \
  --proc /proc --dev /dev --tmpfs /tmp \
  --chdir "/build/$crate_dir" \
  "${cargo[@]}" "$@"
