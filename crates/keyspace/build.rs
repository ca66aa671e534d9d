//! Compiles the one C file of the keyspace: INCRBYFLOAT's `long double` arithmetic, which
//! must match Redis byte for byte and has no Rust equivalent (see `c/longdouble.c`).

fn main() {
    println!("cargo:rerun-if-changed=c/longdouble.c");
    cc::Build::new()
        .file("c/longdouble.c")
        .warnings(true)
        .extra_warnings(true)
        .compile("shrike_longdouble");
}
