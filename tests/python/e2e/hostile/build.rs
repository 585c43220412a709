//! The attacks a compromised dependency's build script can make, each tried and reported.
//!
//! `attacks.txt` (written by the test) lists one attack per line, `KIND ARGUMENT`:
//! `connect ADDR` opens a TCP connection, `list DIR` lists a folder, `read FILE` reads a
//! file, `write FILE` creates one, `environ NAME` looks for a variable NAME in every
//! process's /proc/PID/environ. The outcome of each is compiled into the component, one
//! `HOSTILE-ATTACK` line each, as a compromised build would ship its loot.
use std::fs;
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::Duration;

fn attempt(kind: &str, argument: &str) -> String {
    match kind {
        "connect" => match argument.parse::<SocketAddr>() {
            Ok(address) => match TcpStream::connect_timeout(&address, Duration::from_secs(3)) {
                Ok(_) => "REACHED".to_string(),
                Err(error) => format!("blocked ({error})"),
            },
            Err(error) => format!("unusable address ({error})"),
        },
        "list" => match fs::read_dir(argument) {
            Ok(entries) => format!("REACHED ({} entries)", entries.count()),
            Err(error) => format!("blocked ({error})"),
        },
        "read" => match fs::read(argument) {
            Ok(bytes) => format!("REACHED ({} bytes)", bytes.len()),
            Err(error) => format!("blocked ({error})"),
        },
        "write" => match fs::write(argument, b"written by a hostile build script\n") {
            Ok(()) => "REACHED".to_string(),
            Err(error) => format!("blocked ({error})"),
        },
        "environ" => scan_environments(argument),
        _ => "unknown attack".to_string(),
    }
}

fn scan_environments(name: &str) -> String {
    let prefix = format!("{name}=");
    let Ok(entries) = fs::read_dir("/proc") else {
        return "blocked (no /proc)".to_string();
    };
    let (mut scanned, mut found) = (0, 0);
    for entry in entries.flatten() {
        let pid = entry.file_name();
        if !pid.to_string_lossy().chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        scanned += 1;
        if let Ok(environ) = fs::read(entry.path().join("environ")) {
            if environ.split(|byte| *byte == 0).any(|variable| variable.starts_with(prefix.as_bytes())) {
                found += 1;
            }
        }
    }
    if found > 0 {
        format!("REACHED (in {found} of {scanned} processes)")
    } else {
        format!("blocked (in none of {scanned} processes)")
    }
}

fn main() {
    println!("cargo:rerun-if-changed=attacks.txt");
    let attacks = fs::read_to_string("attacks.txt").unwrap_or_default();
    let mut report = String::new();
    for line in attacks.lines() {
        if let Some((kind, argument)) = line.split_once(' ') {
            report.push_str(&format!("HOSTILE-ATTACK {kind} {argument}: {}\n", attempt(kind, argument)));
        }
    }
    let out_dir = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    fs::write(Path::new(&out_dir).join("report.txt"), report).expect("OUT_DIR is writable");
}
