//! The committed C header is what cbindgen makes of the library today: it is
//! regenerated in memory and compared, as the generated Rust code is by
//! `codegen --check`. `DOCKHAND_BLESS=1` rewrites it instead.

use std::path::Path;

#[test]
fn header_is_up_to_date() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(dir.join("cbindgen.toml")).expect("cbindgen.toml");
    let bindings = cbindgen::Builder::new()
        .with_crate(dir)
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header");
    let mut fresh = Vec::new();
    bindings.write(&mut fresh);
    let path = dir.join("include/dockhand.h");
    if std::env::var_os("DOCKHAND_BLESS").is_some() {
        std::fs::write(&path, &fresh).expect("write include/dockhand.h");
        return;
    }
    let committed = std::fs::read(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "native/include/dockhand.h is stale: regenerate with \
         DOCKHAND_BLESS=1 cargo test -p dockhand-native --test header"
    );
}
