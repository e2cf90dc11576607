//! The PowerShell module's P/Invoke declarations (`native/powershell/
//! Dockhand.psm1`) against the generated header: the same functions, the
//! same number of arguments, and C# types that marshal as the C types do.
//! PowerShell cannot run here, so this is what keeps the two from drifting.

use std::collections::BTreeMap;
use std::path::Path;

/// name → (return type, argument types), from C declarations.
fn header_functions(text: &str) -> BTreeMap<String, (String, Vec<String>)> {
    // Block comments out first (the header's preamble names functions too).
    let mut text = text.to_owned();
    while let Some(start) = text.find("/*") {
        let end = text[start..]
            .find("*/")
            .map_or(text.len(), |e| start + e + 2);
        text.replace_range(start..end, " ");
    }
    let code: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("//") && !l.trim_start().starts_with('#'))
        .collect::<Vec<_>>()
        .join(" ");
    let mut out = BTreeMap::new();
    for decl in code.split(';') {
        let Some((head, args)) = decl.split_once('(') else {
            continue;
        };
        let head = head.split_whitespace().collect::<Vec<_>>();
        let Some((name, ret)) = head.split_last() else {
            continue;
        };
        if !name.starts_with("dh_") {
            continue;
        }
        let ret = ret
            .iter()
            .filter(|w| !w.starts_with('{') && **w != "extern" && **w != "\"C\"")
            .copied()
            .collect::<Vec<_>>();
        let ret = ret.last().copied().unwrap_or("").to_owned();
        let args = args.trim_end().trim_end_matches(')');
        let types = args
            .split(',')
            .map(|a| {
                // Drop the parameter name; keep the type with its stars.
                let a = a.trim();
                let cut = a.rfind(['*', ' ']).expect("typed argument");
                a[..=cut]
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
                    .replace(" *", "*")
            })
            .collect();
        out.insert((*name).to_owned(), (ret, types));
    }
    out
}

/// name → (return type, argument types) from `[DllImport] … extern` lines.
fn module_functions(text: &str) -> BTreeMap<String, (String, Vec<String>)> {
    let mut out = BTreeMap::new();
    for line in text.lines().filter(|l| l.contains("[DllImport(")) {
        let decl = line.split_once("extern ").expect("extern").1;
        let (head, args) = decl.split_once('(').expect("(");
        let (ret, name) = head.trim().split_once(' ').expect("return type and name");
        let args = args.trim_end().trim_end_matches(';').trim_end_matches(')');
        let types = args
            .split(',')
            .map(|a| {
                let words: Vec<_> = a.split_whitespace().collect();
                words[..words.len() - 1].join(" ")
            })
            .collect();
        out.insert(name.trim().to_owned(), (ret.to_owned(), types));
    }
    out
}

/// Whether a C# parameter type marshals as the C type.
fn compatible(c: &str, cs: &str) -> bool {
    match c {
        "int32_t" => cs == "int",
        "uint32_t" => cs == "uint",
        "int64_t" => cs == "long",
        "void" => cs == "void",
        "size_t" => cs == "UIntPtr",
        "size_t*" => matches!(cs, "out UIntPtr" | "ref UIntPtr"),
        "int32_t*" => matches!(cs, "out int" | "ref int"),
        "const uint8_t*" => matches!(cs, "byte[]" | "IntPtr"),
        "uint8_t*" => cs == "IntPtr",
        "uint8_t**" | "struct dh_client**" | "struct dh_stream**" => {
            matches!(cs, "out IntPtr" | "ref IntPtr")
        }
        "const struct dh_client*"
        | "struct dh_client*"
        | "const struct dh_stream*"
        | "struct dh_stream*" => cs == "IntPtr",
        _ => false,
    }
}

#[test]
fn the_powershell_module_declares_the_header_exactly() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let header =
        header_functions(&std::fs::read_to_string(dir.join("include/dockhand.h")).unwrap());
    let module =
        module_functions(&std::fs::read_to_string(dir.join("powershell/Dockhand.psm1")).unwrap());
    assert!(header.len() >= 12, "parsed only {header:?}");
    assert_eq!(
        header.keys().collect::<Vec<_>>(),
        module.keys().collect::<Vec<_>>(),
        "the module declares other functions than the header has"
    );
    for (name, (ret, args)) in &header {
        let (cs_ret, cs_args) = &module[name];
        assert!(
            compatible(ret, cs_ret),
            "{name}: returns {ret}, declared {cs_ret}"
        );
        assert_eq!(args.len(), cs_args.len(), "{name}: {args:?} vs {cs_args:?}");
        for (i, (c, cs)) in args.iter().zip(cs_args).enumerate() {
            assert!(
                compatible(c, cs),
                "{name} argument {i}: C {c:?}, declared {cs:?}"
            );
        }
    }
}

#[test]
fn the_checker_notices_drift() {
    let h =
        "int32_t dh_x(const uint8_t *a, size_t n, uint8_t **out);\nvoid dh_y(struct dh_stream *s);";
    let parsed = header_functions(h);
    assert_eq!(
        parsed["dh_x"],
        (
            "int32_t".to_owned(),
            vec![
                "const uint8_t*".to_owned(),
                "size_t".into(),
                "uint8_t**".into()
            ]
        )
    );
    let good =
        r#"[DllImport("d")] public static extern int dh_x(byte[] a, UIntPtr n, out IntPtr o);"#;
    let bad = r#"[DllImport("d")] public static extern int dh_x(byte[] a, int n, out IntPtr o);"#;
    let m = module_functions(good);
    assert!(m["dh_x"]
        .1
        .iter()
        .zip(&parsed["dh_x"].1)
        .all(|(cs, c)| compatible(c, cs)));
    let m = module_functions(bad);
    assert!(!m["dh_x"]
        .1
        .iter()
        .zip(&parsed["dh_x"].1)
        .all(|(cs, c)| compatible(c, cs)));
}
