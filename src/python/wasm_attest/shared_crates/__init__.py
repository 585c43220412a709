"""Compiled registry crates shared by the components of one Cargo workspace (see `target_files`)."""
