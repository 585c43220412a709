//! Greets each name given on the command line.

fn main() {
    for name in greeting::names_from_args() {
        println!("{}", greeting::greet(&name));
    }
}
