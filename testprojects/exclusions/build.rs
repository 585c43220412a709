//! Uses a build-dependency, which runs on the host and is never linked.

fn main() {
    let has_i128 = autocfg::new().probe_type("i128");
    println!("cargo:rustc-env=EXCLUSIONS_HAS_I128={has_i128}");
}
