//! A library shared by both workspace binaries, so each component links a path dependency.

/// Builds the line an app prints: `<app>: <salutation>, <who>!`.
#[must_use]
pub fn greet(app: &str, salutation: &str, who: &str) -> String {
    format!("{app}: {salutation}, {who}!")
}

/// The names to greet: the CLI arguments, or `world` when there are none.
#[must_use]
pub fn names_from_args() -> Vec<String> {
    let names: Vec<String> = std::env::args().skip(1).collect();
    if names.is_empty() {
        vec!["world".to_owned()]
    } else {
        names
    }
}

#[cfg(test)]
mod tests {
    use super::greet;

    #[test]
    fn formats_the_line() {
        assert_eq!(greet("app", "Hi", "you"), "app: Hi, you!");
    }
}
