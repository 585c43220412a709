//! Counts the names given on the command line, formatting the number with the itoa crate.

fn main() {
    let names = greeting::names_from_args();
    let mut buffer = itoa::Buffer::new();
    println!("{} names: {}", buffer.format(names.len()), names.join(", "));
}
