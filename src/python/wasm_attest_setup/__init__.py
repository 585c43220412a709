"""wasm_attest_setup: what a repository needs besides the plugin, built from pinned inputs.

The wasm32-wasip2 Rust toolchain archive (toolchain.py), bubblewrap (bubblewrap.py) and a
cargo directory source of Debian's crate packages (registry.py), each from the exact
Debian package versions pinned in pins/. It ships inside the wasm-attest distribution, so
`pants wasm-setup` in any repository that enables the plugin runs the same code as this
repository's ./pants launcher and build-support/ scripts. Standard library only: the
launcher runs it before any third-party package is installed.
"""
