//! Turning upstream names into idiomatic Rust names.

/// Splits an identifier into words: on `_`, `-`, `.`, `/`, spaces, on a
/// lower→upper change, and before the last capital of an acronym that starts a
/// new word (`IPAMConfig` → `IPAM`, `Config`). A plural `s` stays with its
/// acronym (`NanoCPUs` → `Nano`, `CPUs`); `IPv4`/`IPv6` and `IOps` are words.
pub fn words(s: &str) -> Vec<String> {
    let s = s.replace("IPv", "Ipv").replace("IOps", "Iops");
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut cur = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_ascii_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            continue;
        }
        let prev = if i > 0 {
            chars.get(i - 1).copied()
        } else {
            None
        };
        let next = chars.get(i + 1).copied();
        let boundary = match prev {
            Some(p) if c.is_ascii_uppercase() => {
                p.is_ascii_lowercase()
                    || p.is_ascii_digit() && cur.len() > 1
                    || (p.is_ascii_uppercase()
                        && next.is_some_and(|n| n.is_ascii_lowercase())
                        && !plural_acronym(&chars, i))
            }
            _ => false,
        };
        if boundary && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        cur.push(c);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// At `chars[i]` (upper, after an upper, before a lower): is the lower run a lone `s`?
fn plural_acronym(chars: &[char], i: usize) -> bool {
    chars.get(i + 1) == Some(&'s') && chars.get(i + 2).is_none_or(|c| !c.is_ascii_lowercase())
}

/// `PascalCase` type or variant name. Existing PascalCase is kept as is
/// (`IPAMConfig` stays), other forms are converted (`not-running` → `NotRunning`).
pub fn pascal(s: &str) -> String {
    let mut out = String::new();
    for w in s.split(|c: char| !c.is_ascii_alphanumeric()) {
        let mut cs = w.chars();
        if let Some(f) = cs.next() {
            out.push(f.to_ascii_uppercase());
            out.extend(cs);
        }
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'V');
    }
    out
}

/// `snake_case` field name, escaped when it is a Rust keyword.
pub fn snake(s: &str) -> String {
    let mut out = words(s)
        .iter()
        .map(|w| w.to_ascii_lowercase())
        .collect::<Vec<_>>()
        .join("_");
    if out.is_empty() {
        out.push_str("field");
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'n');
    }
    if is_keyword(&out) {
        out.push('_');
    }
    out
}

/// An enum variant for a wire value: `on-failure` → `OnFailure`, `""` → `Empty`.
pub fn variant(value: &str) -> String {
    if value.is_empty() {
        return "Empty".into();
    }
    let mut out: String = words(value)
        .iter()
        .map(|w| {
            let lower = w.to_ascii_lowercase();
            let mut cs = lower.chars();
            match cs.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + cs.as_str(),
                None => String::new(),
            }
        })
        .collect();
    if out.is_empty() {
        out = "Symbol".into();
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'V');
    }
    if out == "Unknown" {
        // `Unknown(String)` is the fallback for values this crate does not know.
        out = "LiteralUnknown".into();
    }
    out
}

/// `SCREAMING_SNAKE` constant name.
pub fn screaming(s: &str) -> String {
    snake(s).trim_end_matches('_').to_ascii_uppercase()
}

fn is_keyword(s: &str) -> bool {
    matches!(
        s,
        "as" | "break"
            | "const"
            | "continue"
            | "crate"
            | "else"
            | "enum"
            | "extern"
            | "false"
            | "fn"
            | "for"
            | "if"
            | "impl"
            | "in"
            | "let"
            | "loop"
            | "match"
            | "mod"
            | "move"
            | "mut"
            | "pub"
            | "ref"
            | "return"
            | "self"
            | "static"
            | "struct"
            | "super"
            | "trait"
            | "true"
            | "type"
            | "unsafe"
            | "use"
            | "where"
            | "while"
            | "async"
            | "await"
            | "dyn"
            | "abstract"
            | "become"
            | "box"
            | "do"
            | "final"
            | "macro"
            | "override"
            | "priv"
            | "typeof"
            | "unsized"
            | "virtual"
            | "yield"
            | "try"
            | "gen"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_cases() {
        for (i, o) in [
            ("IPAMConfig", "ipam_config"),
            ("IPv4Address", "ipv4_address"),
            ("NanoCPUs", "nano_cpus"),
            ("CpuShares", "cpu_shares"),
            ("OSType", "os_type"),
            ("ID", "id"),
            ("Id", "id"),
            ("Type", "type_"),
            ("IOMaximumIOps", "io_maximum_iops"),
            ("KernelMemoryTCP", "kernel_memory_tcp"),
            ("com.docker.x", "com_docker_x"),
            ("GlobalIPv6PrefixLen", "global_ipv6_prefix_len"),
            ("Cpu2Foo", "cpu2_foo"),
        ] {
            assert_eq!(snake(i), o, "{i}");
        }
    }

    #[test]
    fn variants() {
        assert_eq!(variant("on-failure"), "OnFailure");
        assert_eq!(variant(""), "Empty");
        assert_eq!(variant("unknown"), "LiteralUnknown");
        assert_eq!(variant("npipe"), "Npipe");
        assert_eq!(variant("VIP"), "Vip");
        assert_eq!(pascal("not-running"), "NotRunning");
        assert_eq!(pascal("IPAMConfig"), "IPAMConfig");
    }
}
