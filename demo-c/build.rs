//! Compiles the C hot loop with the `cc` crate: pgo-build reaches it through the
//! variables `cc` reads (`CC_<target>`, `CFLAGS_<target>`).
fn main() {
    println!("cargo:rerun-if-changed=csrc/hot.c");
    cc::Build::new().file("csrc/hot.c").opt_level(2).compile("hot");
}
