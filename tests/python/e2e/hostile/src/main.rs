//! Prints what its build script could reach (see build.rs).

const REPORT: &str = include_str!(concat!(env!("OUT_DIR"), "/report.txt"));

#[cfg(feature = "include-host-file")]
const HOST_FILE: &str = include_str!("/etc/hostname");
#[cfg(not(feature = "include-host-file"))]
const HOST_FILE: &str = "";

fn main() {
    print!("{REPORT}");
    if !HOST_FILE.is_empty() {
        println!("host file: {} bytes", HOST_FILE.len());
    }
}
