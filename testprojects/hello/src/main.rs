//! The smallest component: no dependencies, output that is easy to check.

fn main() {
    println!("Hello from wasm-attest!");
    for arg in std::env::args().skip(1) {
        println!("arg: {arg}");
    }
}
