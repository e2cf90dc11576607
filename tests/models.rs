//! Generated models: lossless decode → encode, unknown values, redaction, and
//! every `example:` of the upstream v1.56 specification.

use dockhand::models::{
    AuthConfig, ChangeType, ContainerSummary, HostConfig, KnownFields, MountType, RestartPolicy,
    RestartPolicyName,
};
use serde_json::{json, Value};

#[test]
fn unknown_enum_values_decode_to_unknown_and_encode_back() {
    let p: RestartPolicy =
        serde_json::from_value(json!({"Name": "when-the-moon-is-full", "MaximumRetryCount": 3}))
            .expect("decodes");
    assert_eq!(
        p.name,
        Some(RestartPolicyName::Unknown("when-the-moon-is-full".into()))
    );
    assert_eq!(
        serde_json::to_value(&p).expect("encodes")["Name"],
        "when-the-moon-is-full"
    );
    // Known values map to their variants, including the empty string.
    assert_eq!(
        RestartPolicyName::from("on-failure"),
        RestartPolicyName::OnFailure
    );
    assert_eq!(RestartPolicyName::from(""), RestartPolicyName::Empty);
    assert_eq!(RestartPolicyName::UnlessStopped.as_str(), "unless-stopped");
    assert_eq!(MountType::from("bind"), MountType::Bind);
    // Integer enums too.
    let c: ChangeType = serde_json::from_value(json!(7)).expect("int enum");
    assert_eq!(c, ChangeType::Unknown(7));
    assert_eq!(
        serde_json::from_value::<ChangeType>(json!(1)).ok(),
        Some(ChangeType::Added)
    );
}

#[test]
fn unknown_fields_and_nulls_survive_a_round_trip() {
    let raw = json!({
        "Id": "abc",
        "Names": ["/x"],
        "Labels": null,
        "SomethingFromTheFuture": {"nested": [1, 2, {"deep": true}]},
        "Ports": [{"PrivatePort": 80, "Type": "tcp", "FutureField": "kept"}]
    });
    let c: ContainerSummary = serde_json::from_value(raw.clone()).expect("decodes");
    assert_eq!(c.id.as_deref(), Some("abc"));
    assert_eq!(c.labels, None);
    assert!(c.extra.contains_key("SomethingFromTheFuture"));
    // The null of a known field is remembered, not kept as a map entry.
    assert!(c.is_null("Labels"));
    assert!(!c.is_null("Names"));
    assert_eq!(c.null_fields().collect::<Vec<_>>(), ["Labels"]);
    assert_eq!(c.extra.len(), 1, "{:?}", c.extra);
    assert_eq!(serde_json::to_value(&c).expect("encodes"), raw);

    // From bytes (borrowed keys) as well as from a Value (owned keys).
    let from_bytes: ContainerSummary =
        serde_json::from_slice(raw.to_string().as_bytes()).expect("decodes bytes");
    assert_eq!(from_bytes, c);

    // Setting a field that arrived as null writes the value, not the null.
    let mut c2 = c.clone();
    c2.labels = Some([("a".to_owned(), "b".to_owned())].into_iter().collect());
    let out = serde_json::to_value(&c2).expect("encodes");
    assert_eq!(out["Labels"], json!({"a": "b"}));
}

/// The text encoding gives back: known fields in declaration order (a `null`
/// where its field stands), then unknown ones in arrival order.
#[test]
fn nulls_and_unknown_fields_are_written_back_in_a_stable_order() {
    let text = r#"{"Zebra":1,"Labels":null,"Id":"a","Alpha":[2],"Names":null}"#;
    let c: ContainerSummary = serde_json::from_str(text).expect("decodes");
    assert_eq!(
        serde_json::to_string(&c).expect("encodes"),
        r#"{"Id":"a","Names":null,"Labels":null,"Zebra":1,"Alpha":[2]}"#
    );
    let nothing: ContainerSummary = serde_json::from_str("{}").expect("decodes");
    assert!(nothing.extra.is_empty());
    assert!(nothing.extra.unknown().is_none(), "no map allocated");
}

/// A repeated key: the last one wins, as serde_json's own maps do, for
/// known fields (a null then a value, a value then a null) and unknown ones.
#[test]
fn the_last_of_repeated_keys_wins() {
    let c: ContainerSummary =
        serde_json::from_str(r#"{"Id":null,"Id":"b","Names":["/x"],"Names":null,"U":1,"U":2}"#)
            .expect("decodes");
    assert_eq!(c.id.as_deref(), Some("b"));
    assert!(!c.is_null("Id"));
    assert_eq!(c.names, None);
    assert!(c.is_null("Names"));
    assert_eq!(c.extra.get("U"), Some(&json!(2)));
    assert_eq!(
        serde_json::to_value(&c).expect("encodes"),
        json!({"Id": "b", "Names": null, "U": 2})
    );
}

/// HostConfig has more than 64 fields: the nulls of the last ones are kept
/// as map entries, and still read back through `is_null` and written once.
#[test]
fn nulls_past_the_64th_field_survive_too() {
    let raw =
        json!({"CpuShares": null, "Capabilities": null, "KernelMemoryTCP": 5, "Sysctls": null});
    assert!(HostConfig::FIELDS.len() > 64);
    let hc: HostConfig = serde_json::from_value(raw.clone()).expect("decodes");
    assert!(hc.is_null("CpuShares") && hc.is_null("Capabilities") && hc.is_null("Sysctls"));
    assert_eq!(
        hc.null_fields().collect::<Vec<_>>(),
        ["CpuShares", "Sysctls", "Capabilities"]
    );
    assert_eq!(serde_json::to_value(&hc).expect("encodes"), raw);
    let text = serde_json::to_string(&hc).expect("encodes");
    assert_eq!(text.matches("Capabilities").count(), 1, "{text}");
}

/// Keys with escapes, unknown keys that need copying, and keys of formats
/// other than JSON (read as strings: YAML cannot give them as bytes).
#[test]
fn keys_decode_from_escapes_and_other_formats() {
    let c: ContainerSummary =
        serde_json::from_str(r#"{"\u0049d":"a","N\u00e4me":1,"Ta\"b":null}"#).expect("decodes");
    assert_eq!(c.id.as_deref(), Some("a"));
    assert_eq!(c.extra.get("N\u{e4}me"), Some(&json!(1)));
    assert_eq!(c.extra.get("Ta\"b"), Some(&Value::Null));
    let y: ContainerSummary =
        serde_yaml_ng::from_str("Id: a\nLabels: ~\nFuture: [1]\n").expect("YAML decodes");
    assert_eq!(y.id.as_deref(), Some("a"));
    assert!(y.is_null("Labels"));
    assert_eq!(y.extra.get("Future"), Some(&json!([1])));
    // Invalid UTF-8 in an unknown key is an error, not a panic.
    let bad = b"{\"Id\":\"a\",\"\xff\":1}";
    assert!(serde_json::from_slice::<ContainerSummary>(bad).is_err());
}

/// `serde_json` over a `str` hands keys over as strings (cheaper there, and it
/// refuses a raw control character itself); over bytes the models ask for
/// the key's bytes (no UTF-8 check per key) and refuse such a key
/// themselves. The two messages tell which way a key was read, so this
/// fails if `model_support::bytes_keys` stops recognising serde_json's
/// readers (e.g. a compiler spelling type names differently).
#[test]
fn keys_are_read_as_the_parser_reads_them_best() {
    let e = serde_json::from_str::<ContainerSummary>("{\"Id\":\"a\",\"x\u{1}y\":1}")
        .expect_err("a raw control character is not JSON")
        .to_string();
    assert!(e.contains("found while parsing a string"), "{e}");
    let e = serde_json::from_slice::<ContainerSummary>(b"{\"Id\":\"a\",\"x\x01y\":1}")
        .expect_err("a raw control character is not JSON")
        .to_string();
    assert!(e.contains("a field name without control characters"), "{e}");
    // Through a `serde_json::Value` (neither reader) the key is a string.
    let c: ContainerSummary =
        serde_json::from_value(json!({"Id": "a", "x\u{1}y": 1})).expect("decodes");
    assert_eq!(c.extra.get("x\u{1}y"), Some(&json!(1)));
}

/// What README's "What lossless means" says of numbers in unknown fields.
#[test]
fn unknown_numbers_follow_serde_json() {
    let c: ContainerSummary =
        serde_json::from_str(r#"{"Big":18446744073709551615,"Neg":-9223372036854775808,"F":0.1}"#)
            .expect("decodes");
    assert_eq!(
        serde_json::to_string(&c).expect("encodes"),
        r#"{"Big":18446744073709551615,"Neg":-9223372036854775808,"F":0.1}"#
    );
    let c: ContainerSummary =
        serde_json::from_str(r#"{"Beyond":18446744073709551616}"#).expect("decodes");
    assert_eq!(
        serde_json::to_string(&c).expect("encodes"),
        r#"{"Beyond":1.8446744073709552e+19}"#
    );
    assert!(serde_json::from_str::<ContainerSummary>(r#"{"Huge":1e400}"#).is_err());
}

#[test]
fn wrong_types_are_errors_with_a_path() {
    let err = serde_json::from_str::<ContainerSummary>(r#"{"Ports":[{"PrivatePort":"eighty"}]}"#)
        .expect_err("a string is not a port");
    let msg = err.to_string();
    assert!(msg.contains("invalid type"), "{msg}");
    // Required fields are enforced where the spec requires them from the start.
    let err = serde_json::from_str::<dockhand::models::PortSummary>(r#"{"Type":"tcp"}"#)
        .expect_err("PrivatePort is required");
    assert!(err.to_string().contains("PrivatePort"), "{err}");
}

#[test]
fn credentials_are_redacted_in_debug() {
    let auth: AuthConfig = serde_json::from_value(json!({
        "username": "me",
        "password": "hunter2-password",
        "identitytoken": "tok-identity",
        "registrytoken": "tok-registry",
        "serveraddress": "localhost:5001",
        "some_future_secret": "tok-future"
    }))
    .expect("decodes");
    let dbg = format!("{auth:?}");
    for secret in [
        "hunter2-password",
        "tok-identity",
        "tok-registry",
        "tok-future",
    ] {
        assert!(!dbg.contains(secret), "{secret} leaked: {dbg}");
    }
    assert!(
        dbg.contains("me") && dbg.contains("localhost:5001"),
        "{dbg}"
    );
    // Encoding still sends them (that is what they are for).
    let out = serde_json::to_value(&auth).expect("encodes");
    assert_eq!(out["password"], "hunter2-password");
    assert_eq!(out["identitytoken"], "tok-identity");

    let join = dockhand::models::JoinTokens {
        worker: Some("SWMTKN-worker-secret".into()),
        manager: Some("SWMTKN-manager-secret".into()),
        ..Default::default()
    };
    let dbg = format!("{join:?}");
    assert!(!dbg.contains("SWMTKN"), "{dbg}");
}

// ---- every example of the upstream specification ----

fn ir() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/api-spec/spec.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("spec.json")).expect("json")
}

fn upstream_v156() -> Value {
    let dir = std::env::var("DOCKHAND_UPSTREAM_SPECS").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/docker-engine-api").to_owned()
    });
    let path = format!("{dir}/v1.56.yaml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!("the upstream specification is needed for this test: {path}: {e} (set DOCKHAND_UPSTREAM_SPECS)")
    });
    serde_yaml_ng::from_str(&text).expect("v1.56.yaml parses")
}

struct Walk<'a> {
    ir: &'a Value,
    checked: usize,
    failures: Vec<String>,
}

impl Walk<'_> {
    /// Round-trips `value` through the Rust type of IR type `ty`.
    fn value(&mut self, ty: &Value, value: &Value, at: &str) {
        match ty["kind"].as_str() {
            Some("ref") => {
                let name = ty["name"].as_str().unwrap_or_default();
                match dockhand::models::registry::roundtrip(name, value.clone()) {
                    Some(Ok(back)) if back == *value => self.checked += 1,
                    Some(Ok(back)) => self.failures.push(format!(
                        "{at}: {name} re-encodes differently: {back} vs {value}"
                    )),
                    Some(Err(e)) => self.failures.push(format!("{at}: {name}: {e}")),
                    None => self.failures.push(format!("{at}: no model {name}")),
                }
            }
            Some("array") => {
                if let Some(items) = value.as_array() {
                    for (i, item) in items.iter().enumerate() {
                        self.value(&ty["items"], item, &format!("{at}[{i}]"));
                    }
                }
            }
            Some("nullable") if !value.is_null() => self.value(&ty["inner"], value, at),
            Some("map") => {
                if let Some(m) = value.as_object() {
                    for (k, v) in m {
                        self.value(&ty["values"], v, &format!("{at}.{k}"));
                    }
                }
            }
            _ => {}
        }
    }

    /// Walks an upstream schema and the IR type standing for it side by side.
    fn schema(&mut self, schema: &Value, ty: &Value, at: &str) {
        if let Some(example) = schema.get("example") {
            self.value(ty, example, &format!("{at} example"));
        }
        if let Some(parts) = schema.get("allOf").and_then(Value::as_array) {
            for part in parts {
                if part.get("$ref").is_none() {
                    self.schema(part, ty, at);
                }
            }
        }
        let resolved = self.resolve(ty);
        if let Some(props) = schema.get("properties").and_then(Value::as_object) {
            for (name, prop) in props {
                let field_ty = resolved["fields"]
                    .as_array()
                    .and_then(|fs| fs.iter().find(|f| f["name"] == name.as_str()))
                    .map(|f| f["type"].clone());
                match field_ty {
                    Some(ft) => self.schema(prop, &ft, &format!("{at}.{name}")),
                    None => self.failures.push(format!("{at}.{name}: not in the IR")),
                }
            }
        }
        if let (Some(items), Some("array")) = (schema.get("items"), ty["kind"].as_str()) {
            self.schema(items, &ty["items"], &format!("{at}[]"));
        }
        if let (Some(addl @ Value::Object(_)), Some("map")) =
            (schema.get("additionalProperties"), ty["kind"].as_str())
        {
            self.schema(addl, &ty["values"], &format!("{at}{{}}"));
        }
    }

    fn resolve(&self, ty: &Value) -> Value {
        match ty["kind"].as_str() {
            Some("ref") => self.ir["definitions"][ty["name"].as_str().unwrap_or_default()].clone(),
            _ => Value::Null,
        }
    }
}

#[test]
fn every_upstream_example_round_trips_through_its_type() {
    let ir = ir();
    let up = upstream_v156();
    let mut w = Walk {
        ir: &ir,
        checked: 0,
        failures: Vec::new(),
    };
    for (name, schema) in up["definitions"].as_object().expect("definitions") {
        // Top-level names are kept as upstream spells them.
        let ty = json!({"kind": "ref", "name": name});
        w.schema(schema, &ty, name);
    }
    for (path, item) in up["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().into_iter().flatten() {
            let Some(id) = op["operationId"].as_str() else {
                continue;
            };
            let ir_op = ir["operations"]
                .as_array()
                .and_then(|o| o.iter().find(|o| o["id"] == id))
                .unwrap_or_else(|| panic!("{id} not in the IR"));
            for p in op["parameters"].as_array().into_iter().flatten() {
                if p["in"] == "body" && ir_op["body"]["kind"] == "json" {
                    w.schema(&p["schema"], &ir_op["body"]["type"], &format!("{id} body"));
                }
            }
            let resp_ty = &ir_op["response"]["type"];
            if resp_ty.is_null() {
                continue;
            }
            for (code, r) in op["responses"].as_object().into_iter().flatten() {
                if !code.starts_with('2') {
                    continue;
                }
                let at = format!("{} {path} {code}", method.to_uppercase());
                if let Some(ex) = r.get("examples").and_then(|e| e.get("application/json")) {
                    w.value(resp_ty, ex, &format!("{at} examples"));
                }
                if let Some(schema) = r.get("schema") {
                    w.schema(schema, resp_ty, &at);
                }
            }
        }
    }
    // The one upstream example that contradicts its own schema: the
    // ContainerCreate body example sets `Entrypoint: ""` where the schema says
    // `type: array`. The daemon accepts a string there too (its StrSlice decodes
    // both); dockhand, like the docker CLI, always sends an array.
    let known_upstream_mistakes = [
        "ContainerCreate body example: ContainerCreateBody: invalid type: string \"\", expected a sequence",
    ];
    w.failures
        .retain(|f| !known_upstream_mistakes.contains(&f.as_str()));
    assert!(w.checked > 100, "only {} examples checked", w.checked);
    assert!(
        w.failures.is_empty(),
        "{} of {} examples fail:\n{}",
        w.failures.len(),
        w.checked + w.failures.len(),
        w.failures.join("\n")
    );
    println!("{} upstream examples round-trip losslessly", w.checked);
}
