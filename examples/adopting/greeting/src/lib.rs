//! What both components share: the names given on the command line, and how to greet one.

/// The arguments after the program name, or "world" when there are none.
pub fn names_from_args() -> Vec<String> {
    let names: Vec<String> = std::env::args().skip(1).collect();
    if names.is_empty() {
        vec!["world".to_string()]
    } else {
        names
    }
}

pub fn greet(name: &str) -> String {
    format!("Hello, {name}!")
}
