//! Prints a report whose fields come from each linked kind of dependency.

use serde_derive::Serialize;

/// What the component reports; serialised with a derive from the proc-macro dependency.
#[derive(Serialize)]
struct Report {
    platform: String,
    build_probe_i128: bool,
    args: Vec<String>,
}

cfg_if::cfg_if! {
    if #[cfg(unix)] {
        /// Only unix targets link libc; wasm32-wasip2 takes the other branch.
        fn platform() -> String {
            format!("unix (libc EXIT_SUCCESS={})", libc::EXIT_SUCCESS)
        }
    } else {
        fn platform() -> String {
            "not unix".to_owned()
        }
    }
}

cfg_if::cfg_if! {
    if #[cfg(feature = "hex-args")] {
        /// Shows an argument hex-encoded: only with the optional `hex-args` feature.
        fn show(arg: String) -> String {
            hex::encode(arg)
        }
    } else {
        fn show(arg: String) -> String {
            arg
        }
    }
}

fn main() -> Result<(), serde_json::Error> {
    let report = Report {
        platform: platform(),
        build_probe_i128: env!("EXCLUSIONS_HAS_I128") == "true",
        args: std::env::args().skip(1).map(show).collect(),
    };
    println!("{}", serde_json::to_string(&report)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    static_assertions::assert_impl_all!(super::Report: serde::Serialize);
}
