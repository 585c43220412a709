//! First workspace member: says hello through the shared `greeting` library.

fn main() {
    let app = env!("CARGO_PKG_NAME");
    for name in greeting::names_from_args() {
        println!("{}", greeting::greet(app, "Hello", &name));
    }
}
