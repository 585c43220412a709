//! Registry dependencies whose Debian packages carry real crates.io checksums.
//!
//! `Serialize` is implemented by hand so that `serde_derive` (and `syn`, whose
//! Debian package has no checksum) stays out of the dependency graph.

use serde::ser::{Serialize, SerializeStruct, Serializer};

/// What the component reports about its invocation.
struct Invocation {
    program: &'static str,
    args: Vec<String>,
}

impl Serialize for Invocation {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut state = serializer.serialize_struct("Invocation", 3)?;
        state.serialize_field("program", self.program)?;
        state.serialize_field("arg_count", &self.args.len())?;
        state.serialize_field("args", &self.args)?;
        state.end()
    }
}

fn main() -> Result<(), serde_json::Error> {
    let invocation = Invocation {
        program: env!("CARGO_PKG_NAME"),
        args: std::env::args().skip(1).collect(),
    };
    println!("{}", serde_json::to_string(&invocation)?);
    Ok(())
}
