//! Platform facts: what the upstream prose says about Windows and Linux,
//! reduced to facts (`platforms`, `not_on`, `ignored_on`), and the review of
//! every place the newest specification mentions either platform.
//!
//! Extraction is by fixed phrases (see [`facts`]); nothing of the prose is
//! kept. Every mention of "Windows" or "Linux" (as a word, in any string of
//! the document) must either give a fact or be listed in [`NO_FACT`] with the
//! reason it gives none; the import fails otherwise, and a listed place that
//! no longer mentions a platform fails it too. The outcome is written to
//! `api-spec/platforms.json`, so a specification refresh that adds, moves or
//! drops a mention changes that file and `codegen --check` fails until the
//! change is reviewed and committed.

use crate::ir::Platforms;
use serde_json::Value;
use std::collections::BTreeMap;

/// The facts a description states, by fixed phrases.
///
/// | phrase (case and line breaks ignored) | fact |
/// |---|---|
/// | `(windows only)`, `windows-specific` | `platforms: [windows]` |
/// | `linux-specific`, `only available when using linux containers`, `only populated on linux`, `only used on linux` | `platforms: [linux]` |
/// | `not supported on windows` / `on linux` | `not_on` |
/// | `not used on windows`, `not used by windows`, `ignored on windows` (and `linux`) | `ignored_on` |
pub fn facts(description: &str) -> Platforms {
    let text = normalize(description);
    let mut p = Platforms::default();
    let has = |phrases: &[&str]| phrases.iter().any(|ph| text.contains(ph));
    if has(&["(windows only)", "windows-specific"]) {
        p.platforms.push("windows".into());
    }
    if has(&[
        "linux-specific",
        "only available when using linux containers",
        "only populated on linux",
        "only used on linux",
    ]) {
        p.platforms.push("linux".into());
    }
    for os in ["linux", "windows"] {
        if text.contains(&format!("not supported on {os}")) {
            p.not_on.push(os.into());
        }
        if has(&[
            &format!("not used on {os}"),
            &format!("not used by {os}"),
            &format!("ignored on {os}"),
        ]) {
            p.ignored_on.push(os.into());
        }
    }
    p
}

fn normalize(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Does this text mention Windows or Linux as a word ("SELinux" does not)?
pub fn mentions(text: &str) -> bool {
    let lower = text.to_lowercase();
    ["windows", "linux"].iter().any(|w| {
        lower.match_indices(w).any(|(i, _)| {
            let before = lower[..i].chars().next_back();
            let after = lower[i + w.len()..].chars().next();
            !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
        })
    })
}

/// Why a mention gives no fact (the reasons' names, used in the review file).
#[derive(Debug, Clone, Copy)]
pub enum NoFact {
    /// An example value or example text (`"os": "linux"`, a search result).
    Example,
    /// Names the OS values a field holds (`linux` or `windows`).
    OsValues,
    /// A default or a location that differs by platform; the field exists on both.
    PlatformDefault,
    /// The meaning or unit differs by platform; the field exists on both.
    MeaningDiffers,
    /// Applies on both platforms (says so).
    BothPlatforms,
    /// Describes a Windows (or Linux) concept inside something already
    /// limited by a fact on its parent.
    InsideFact,
    /// A link to, or a comparison with, Linux documentation or tools.
    Reference,
    /// The platform of a filter key or constraint value, not of the parameter.
    FilterValue,
    /// A field that is not about a platform at all (`RestartPolicy.Window`).
    NotAPlatform,
    /// Differs only under Hyper-V isolation, not by daemon OS.
    HyperV,
}

impl NoFact {
    fn name(self) -> &'static str {
        match self {
            NoFact::Example => "example value",
            NoFact::OsValues => "names the OS values",
            NoFact::PlatformDefault => "default differs by platform",
            NoFact::MeaningDiffers => "meaning or unit differs by platform",
            NoFact::BothPlatforms => "both platforms",
            NoFact::InsideFact => "inside a field limited by its own fact",
            NoFact::Reference => "reference to Linux documentation or tools",
            NoFact::FilterValue => "platform of a filter key or constraint value",
            NoFact::NotAPlatform => "not about a platform",
            NoFact::HyperV => "differs under Hyper-V isolation only",
        }
    }
}

/// Every place of v1.56 that mentions Windows or Linux without stating a
/// fact, with the reason. Places are named as in `api-spec/platforms.json`.
pub const NO_FACT: &[(&str, NoFact)] = &[
    ("MountPoint.Mode", NoFact::PlatformDefault),
    ("HostConfig.PublishAllPorts", NoFact::Reference),
    ("ImageInspect.Os (example)", NoFact::Example),
    ("ImageInspect.OsVersion", NoFact::MeaningDiffers),
    ("Plugin.Config (required)", NoFact::NotAPlatform),
    ("Platform.OS", NoFact::OsValues),
    ("Platform.OS (example)", NoFact::Example),
    (
        "TaskSpec.ContainerSpec.Privileges.CredentialSpec.File",
        NoFact::InsideFact,
    ),
    (
        "TaskSpec.ContainerSpec.Privileges.CredentialSpec.Registry",
        NoFact::InsideFact,
    ),
    ("TaskSpec.ContainerSpec.Hosts", NoFact::Reference),
    ("TaskSpec.RestartPolicy.Window", NoFact::NotAPlatform),
    ("TaskSpec.Placement.Constraints", NoFact::FilterValue),
    ("TaskSpec.Placement.Constraints (example)", NoFact::Example),
    ("ContainerInspectResponse.Platform", NoFact::OsValues),
    (
        "ContainerInspectResponse.Platform (example)",
        NoFact::Example,
    ),
    ("ContainerState.Running", NoFact::MeaningDiffers),
    ("ContainerStatsResponse.os_type", NoFact::OsValues),
    ("ContainerStatsResponse.os_type (example)", NoFact::Example),
    ("ContainerCPUUsage.total_usage", NoFact::MeaningDiffers),
    ("ContainerCPUUsage.usage_in_kernelmode", NoFact::HyperV),
    ("ContainerCPUUsage.usage_in_usermode", NoFact::HyperV),
    ("ContainerMemoryStats", NoFact::MeaningDiffers),
    ("ContainerNetworkStats.rx_bytes", NoFact::BothPlatforms),
    ("ContainerNetworkStats.rx_packets", NoFact::BothPlatforms),
    ("ContainerNetworkStats.rx_dropped", NoFact::BothPlatforms),
    ("ContainerNetworkStats.tx_bytes", NoFact::BothPlatforms),
    ("ContainerNetworkStats.tx_packets", NoFact::BothPlatforms),
    ("ContainerNetworkStats.tx_dropped", NoFact::BothPlatforms),
    ("SystemVersion.Os", NoFact::OsValues),
    ("SystemVersion.Os (example)", NoFact::Example),
    ("SystemInfo.DockerRootDir", NoFact::PlatformDefault),
    ("SystemInfo.KernelVersion", NoFact::MeaningDiffers),
    ("SystemInfo.OperatingSystem", NoFact::Example),
    ("SystemInfo.OSType", NoFact::OsValues),
    ("SystemInfo.OSType (example)", NoFact::Example),
    ("SystemInfo.Architecture", NoFact::Reference),
    ("SystemInfo.Runtimes", NoFact::Reference),
    ("SystemInfo.Isolation", NoFact::PlatformDefault),
    ("Runtime", NoFact::Reference),
    ("OCIPlatform.os", NoFact::OsValues),
    ("OCIPlatform.os (example)", NoFact::Example),
    ("OCIPlatform.os.version", NoFact::Example),
    ("OCIPlatform.os.features", NoFact::Example),
    ("ContainerList param filters", NoFact::FilterValue),
    ("ContainerCreate param platform", NoFact::Example),
    ("ImageInspect param platform", NoFact::Example),
    ("ImageAttestations param platform", NoFact::Example),
    ("ImageHistory param platform", NoFact::Example),
    ("ImagePush param platform", NoFact::Example),
    ("ImageSearch response 200 (example)", NoFact::Example),
    (
        "SystemPing response 200 header Builder-Version",
        NoFact::PlatformDefault,
    ),
    ("ImageGet param platform", NoFact::Example),
    ("ImageGetAll param platform", NoFact::Example),
    ("ImageLoad param platform", NoFact::Example),
];

/// One mention: where it is and the text's role there.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Mention {
    /// `Definition.field`, `Operation param name`, `Operation`, with
    /// ` (example)` / ` (required)` when the text is not a description.
    pub at: String,
    /// The text is a description (facts are only read from descriptions).
    pub description: bool,
    /// The description text (not written anywhere).
    pub text: String,
}

/// Every string of the document that mentions Windows or Linux, by place.
pub fn scan(doc: &Value) -> Vec<Mention> {
    let mut out = Vec::new();
    walk(doc, doc, &mut Vec::new(), &mut out);
    out.sort();
    out.dedup_by(|a, b| a.at == b.at);
    out
}

fn walk(doc: &Value, v: &Value, path: &mut Vec<String>, out: &mut Vec<Mention>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                path.push(k.clone());
                walk(doc, x, path, out);
                path.pop();
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                path.push(i.to_string());
                walk(doc, x, path, out);
                path.pop();
            }
        }
        Value::String(s) if mentions(s) => {
            let (at, description) = place(doc, path);
            out.push(Mention {
                at,
                description,
                text: s.clone(),
            });
        }
        _ => {}
    }
}

fn pointer(path: &[String]) -> String {
    path.iter()
        .map(|p| format!("/{}", p.replace('~', "~0").replace('/', "~1")))
        .collect()
}

/// The readable place of a JSON path, and whether it is a description:
/// `Definition.field.sub`, `Operation`, `Operation param name`,
/// `Operation response 200 header Name`, with ` (example)`, ` (required)`,
/// ` (value)` when the string is not a description.
pub fn place(doc: &Value, path: &[String]) -> (String, bool) {
    let mut parts: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut role: Option<String> = None;
    let mut k = match path.first().map(String::as_str) {
        Some("definitions") if path.len() > 1 => {
            parts.push(path[1].clone());
            2
        }
        Some("paths") if path.len() > 2 => {
            let op = doc
                .pointer(&format!("{}/operationId", pointer(&path[..3])))
                .and_then(Value::as_str)
                .unwrap_or(&path[2]);
            parts.push(op.to_owned());
            3
        }
        _ => 0,
    };
    while k < path.len() {
        let seg = path[k].as_str();
        let last = k + 1 == path.len();
        match seg {
            "properties" if !last => {
                if !field.is_empty() {
                    field.push('.');
                }
                field.push_str(&path[k + 1]);
                k += 2;
                continue;
            }
            "parameters" if !last => {
                let name = doc
                    .pointer(&format!("{}/name", pointer(&path[..k + 2])))
                    .and_then(Value::as_str)
                    .unwrap_or("?");
                parts.push(format!("param {name}"));
                k += 2;
                continue;
            }
            "responses" if !last => {
                parts.push(format!("response {}", path[k + 1]));
                k += 2;
                continue;
            }
            "headers" if !last => {
                parts.push(format!("header {}", path[k + 1]));
                k += 2;
                continue;
            }
            "example" | "examples" | "x-example" => {
                role = Some("example".into());
                break;
            }
            "description" if last => {}
            "allOf" | "schema" | "items" | "additionalProperties" => {}
            s if s.parse::<usize>().is_ok() => {}
            other => {
                role = Some(if other == "enum" {
                    "value".into()
                } else {
                    other.into()
                });
            }
        }
        k += 1;
    }
    let mut at = parts.join(" ");
    if !field.is_empty() {
        at.push('.');
        at.push_str(&field);
    }
    match role {
        None => (at, true),
        Some(r) => (format!("{at} ({r})"), false),
    }
}

/// The review of every mention: its fact, or the listed reason for none.
/// Fails on a mention that is neither, on a fact at a place the IR cannot
/// hold, and on a listed place that no longer mentions a platform.
pub fn review(doc: &Value) -> Result<Value, String> {
    let listed: BTreeMap<&str, NoFact> = NO_FACT.iter().copied().collect();
    let mut used = std::collections::BTreeSet::new();
    let mut facts_out = Vec::new();
    let mut none_out = Vec::new();
    let mut problems = Vec::new();
    for m in scan(doc) {
        let f = if m.description {
            facts(&m.text)
        } else {
            Platforms::default()
        };
        if !f.is_empty() {
            if m.at.contains(" response ") {
                problems.push(format!("{}: a fact where the IR keeps none", m.at));
            }
            let mut entry = serde_json::Map::new();
            entry.insert("at".into(), Value::String(m.at.clone()));
            for (k, v) in [
                ("platforms", &f.platforms),
                ("not_on", &f.not_on),
                ("ignored_on", &f.ignored_on),
            ] {
                if !v.is_empty() {
                    entry.insert(k.into(), serde_json::json!(v));
                }
            }
            facts_out.push(Value::Object(entry));
            if listed.contains_key(m.at.as_str()) {
                problems.push(format!("{}: gives a fact but is listed in NO_FACT", m.at));
            }
        } else if let Some(why) = listed.get(m.at.as_str()) {
            used.insert(m.at.clone());
            none_out.push(serde_json::json!({ "at": m.at, "why": why.name() }));
        } else {
            problems.push(format!(
                "{}: mentions a platform, gives no fact, and is not reviewed (add it to NO_FACT or a phrase to `facts`)",
                m.at
            ));
        }
    }
    for (at, _) in NO_FACT {
        if !used.contains(*at) {
            problems.push(format!(
                "{at}: listed in NO_FACT but no longer mentions a platform"
            ));
        }
    }
    if !problems.is_empty() {
        return Err(format!("platform review:\n  {}", problems.join("\n  ")));
    }
    Ok(serde_json::json!({
        "description": "Every place of the newest upstream specification that mentions Windows or Linux: the platform fact imported from it, or why it gives none (codegen/src/platforms.rs). Fixups listed in spec.json may correct facts afterwards.",
        "facts": facts_out,
        "no_fact": none_out,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use std::path::PathBuf;

    fn root() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .unwrap()
            .to_path_buf()
    }

    #[test]
    fn phrases_give_facts() {
        let only_w = facts("Something (Windows\n only).");
        assert_eq!(only_w.platforms, ["windows"]);
        assert_eq!(facts("This type is Linux-specific.").platforms, ["linux"]);
        assert_eq!(facts("It is not supported on Windows.").not_on, ["windows"]);
        assert_eq!(facts("Not used on Windows.").ignored_on, ["windows"]);
        assert_eq!(facts("Not used on Linux.").ignored_on, ["linux"]);
        assert!(facts("Defaults to a path on Windows.").is_empty());
        assert!(facts("(Windows daemon only)").is_empty());
    }

    #[test]
    fn mentions_are_words() {
        assert!(mentions("on Windows."));
        assert!(mentions("Linux-specific"));
        assert!(mentions("`linux` or"));
        assert!(!mentions("SELinux labels"));
        assert!(!mentions("windowsfilter"));
    }

    #[test]
    fn an_unreviewed_mention_fails_the_import() {
        let doc = serde_json::json!({
            "definitions": {
                "Thing": {"properties": {"Knob": {"description": "Only meaningful on Windows hosts."}}}
            }
        });
        let err = review(&doc).unwrap_err();
        assert!(err.contains("Thing.Knob: mentions a platform"), "{err}");
        // Every NO_FACT place is missing from this document too.
        assert!(
            err.contains("MountPoint.Mode: listed in NO_FACT but no longer mentions a platform"),
            "{err}"
        );
    }

    /// Every string of v1.56 that mentions Windows or Linux is in the
    /// committed review file, as a fact or as a reviewed non-fact, and the
    /// file lists nothing else.
    #[test]
    fn every_mention_in_v1_56_is_a_fact_or_listed() {
        let upstream = root().join("../shared/docker-engine-api/v1.56.yaml");
        let Ok(text) = std::fs::read_to_string(&upstream) else {
            assert!(
                std::env::var_os("CI").is_none(),
                "{} is missing",
                upstream.display()
            );
            eprintln!("skipped: {} not found", upstream.display());
            return;
        };
        let doc = crate::yaml::parse(&text).unwrap();
        // An independent count: every string value with the word.
        fn strings<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
            match v {
                Value::String(s) => out.push(s),
                Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
                Value::Object(m) => m.values().for_each(|x| strings(x, out)),
                _ => {}
            }
        }
        let mut all = Vec::new();
        strings(&doc, &mut all);
        let with_word = all.iter().filter(|s| mentions(s)).count();
        let mentions_found = scan(&doc);
        assert_eq!(
            mentions_found.len(),
            with_word,
            "one place per mentioning string"
        );

        let committed: Value = serde_json::from_str(
            &std::fs::read_to_string(root().join("api-spec/platforms.json")).unwrap(),
        )
        .unwrap();
        let listed: BTreeSet<&str> = ["facts", "no_fact"]
            .iter()
            .flat_map(|k| committed[*k].as_array().unwrap())
            .map(|e| e["at"].as_str().unwrap())
            .collect();
        let places: BTreeSet<&str> = mentions_found.iter().map(|m| m.at.as_str()).collect();
        assert_eq!(places, listed);
        // And each fact is what the phrases give for that place.
        for e in committed["facts"].as_array().unwrap() {
            let at = e["at"].as_str().unwrap();
            let m = mentions_found.iter().find(|m| m.at == at).unwrap();
            let f = facts(&m.text);
            let field = |k: &str| -> Vec<String> {
                e.get(k)
                    .map(|v| serde_json::from_value(v.clone()).unwrap())
                    .unwrap_or_default()
            };
            assert_eq!(f.platforms, field("platforms"), "{at}");
            assert_eq!(f.not_on, field("not_on"), "{at}");
            assert_eq!(f.ignored_on, field("ignored_on"), "{at}");
        }
    }
}
