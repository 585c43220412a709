//! Second workspace member: says goodbye through the shared `greeting` library.

fn main() {
    let app = env!("CARGO_PKG_NAME");
    for name in greeting::names_from_args() {
        println!("{}", greeting::greet(app, "Goodbye", &name));
    }
}
