#!/bin/sh
# Captures the cargo output the crate inventory and SBOM tests read: for each
# testproject, `cargo metadata`, the build's JSON messages, Cargo.lock, and the
# `cargo tree` ground truth. Host paths are replaced by /build (the folder the
# testprojects were copied to) and /registry (the crate registry), keeping each
# crate folder's own name, because cargo leaves a package's name out of a path
# package id when it equals the folder name.
#
# Usage (from the repository root, after ./pants has set up the toolchain and registry):
#   tar xzf ~/.cache/wasm-attest/toolchain/wasm32-wasip2-rust-1.96.0.tar.gz -C /tmp/tc
#   tests/python/wasm_attest_tests/testdata/cargo/capture.sh /tmp/tc
set -eu

toolchain=$1
repo=$(pwd)
registry=$repo/build-support/registry/crates
out=$repo/tests/python/wasm_attest/testdata/cargo
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/home" "$work/cargo-home" "$work/build"

cargo() {
  env -i PATH=/usr/bin HOME="$work/home" CARGO_HOME="$work/cargo-home" RUSTC="$toolchain/bin/rustc" \
    "$toolchain/bin/cargo" \
    --config 'source.crates-io.replace-with="local"' \
    --config "source.local.directory=\"$registry\"" \
    "$@"
}

# capture FIXTURE PROJECT [PACKAGE]: PROJECT is a folder of testprojects/.
capture() {
  fixture=$out/$1
  project=$work/build/$2
  package=${3:+-p $3}
  cp -r "$repo/testprojects/$2" "$project"
  mkdir -p "$fixture"
  cp "$project/Cargo.lock" "$fixture/Cargo.lock"
  cd "$project"
  cargo metadata --format-version 1 --locked --offline --filter-platform wasm32-wasip2 >"$fixture/metadata.json"
  cargo build --release --locked --offline --target wasm32-wasip2 --message-format=json-render-diagnostics $package \
    >"$fixture/build-messages.jsonl"
  tree "$fixture/tree-linked.txt" -e normal,no-proc-macro --target wasm32-wasip2 --prefix none $package
  tree "$fixture/tree-compiled.txt" -e normal,build --target wasm32-wasip2 --prefix none $package
  cd "$repo"
  sed -i -e "s#$work/build#/build#g" -e "s#$registry#/registry#g" "$fixture"/*
}

# tree FILE ARGS...: writes `cargo tree ARGS` to FILE, headed by the command that made it.
tree() {
  file=$1
  shift
  echo "# cargo tree --locked --offline $*" >"$file"
  cargo tree --locked --offline "$@" >>"$file"
}

capture exclusions exclusions
capture serde-json serde-json
capture workspace-app-one workspace app-one
