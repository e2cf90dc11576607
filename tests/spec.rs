//! The project's API description (`api-spec/`) and the generated code agree
//! with each other and with known facts of the Engine API's history.

use dockhand::operations::{self, BodyKind, Method, ParamLocation, ResponseKind, OPERATIONS};
use dockhand::ApiVersion;
use serde_json::Value;
use std::collections::BTreeSet;

fn spec() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/api-spec/spec.json");
    let text = std::fs::read_to_string(path).expect("api-spec/spec.json is readable");
    serde_json::from_str(&text).expect("api-spec/spec.json is JSON")
}

fn v(s: &str) -> ApiVersion {
    s.parse().expect("version")
}

fn op(id: &str) -> &'static operations::Operation {
    OPERATIONS
        .iter()
        .copied()
        .find(|o| o.id == id)
        .unwrap_or_else(|| panic!("operation {id} missing"))
}

#[test]
fn spec_has_108_operations_each_with_method_path_and_version() {
    let spec = spec();
    assert_eq!(spec["newest"], "1.56");
    assert_eq!(spec["oldest"], "1.25");
    let ops = spec["operations"].as_array().expect("operations");
    assert_eq!(ops.len(), 108);
    let mut ids = BTreeSet::new();
    for o in ops {
        let id = o["id"].as_str().expect("id");
        assert!(ids.insert(id), "duplicate operation {id}");
        assert!(
            ["GET", "POST", "PUT", "DELETE", "HEAD"].contains(&o["method"].as_str().unwrap_or("")),
            "{id} method"
        );
        assert!(
            o["path"].as_str().is_some_and(|p| p.starts_with('/')),
            "{id} path"
        );
        let since = v(o["since"].as_str().expect("since"));
        assert!(
            since >= ApiVersion::new(1, 25) && since <= ApiVersion::new(1, 56),
            "{id} since"
        );
    }
}

#[test]
fn generated_table_matches_the_spec() {
    let spec = spec();
    let ops = spec["operations"].as_array().expect("operations");
    assert_eq!(OPERATIONS.len(), ops.len());
    for (gen, o) in OPERATIONS.iter().zip(ops) {
        assert_eq!(gen.id, o["id"]);
        assert_eq!(gen.method.as_str(), o["method"]);
        assert_eq!(gen.path, o["path"]);
        assert_eq!(gen.since, v(o["since"].as_str().unwrap_or_default()));
        let params = o["params"].as_array().expect("params");
        assert_eq!(gen.params.len(), params.len(), "{} params", gen.id);
        for (gp, p) in gen.params.iter().zip(params) {
            assert_eq!(gp.name, p["name"], "{}", gen.id);
            assert_eq!(gp.since, v(p["since"].as_str().unwrap_or_default()));
        }
    }
    assert_eq!(operations::NEWEST_API_VERSION, ApiVersion::new(1, 56));
    assert_eq!(ApiVersion::NEWEST, ApiVersion::new(1, 56));
}

#[test]
fn every_definition_has_a_rust_type() {
    let spec = spec();
    let defs = spec["definitions"].as_object().expect("definitions");
    let top_level: Vec<&String> = defs
        .iter()
        .filter(|(_, d)| {
            !d["upstream"]
                .as_str()
                .unwrap_or("")
                .contains(['.', ' ', '[', '{'])
        })
        .map(|(n, _)| n)
        .collect();
    assert_eq!(top_level.len(), 160, "top-level definitions of v1.56");
    let registry: BTreeSet<&str> = dockhand::models::registry::MODELS
        .iter()
        .map(|(n, _, _)| *n)
        .collect();
    for name in defs.keys() {
        assert!(registry.contains(name.as_str()), "{name} has no Rust type");
        // The registry's match arm only compiles when the type exists; calling it
        // proves the name is bound to a type.
        assert!(
            dockhand::models::registry::roundtrip(name, Value::Null).is_some(),
            "{name} not dispatchable"
        );
    }
    assert_eq!(registry.len(), defs.len());
}

#[test]
fn version_history_spot_checks() {
    // Operations added after 1.41 (the test daemon's version).
    assert_eq!(op("ImageAttestations").since, v("1.55"));
    assert_eq!(op("VolumeUpdate").since, v("1.42"));
    assert_eq!(op("SystemPingHead").since, v("1.40"));
    assert_eq!(op("Session").since, v("1.31"));
    // Renamed upstream in 1.28 (ContainerGetArchive → ContainerArchive), same route:
    // still available since 1.25.
    assert_eq!(op("ContainerArchive").since, v("1.25"));
    assert_eq!(op("ContainerList").since, v("1.25"));
    // Parameters added later than their operation.
    let stop = op("ContainerStop");
    assert_eq!(
        stop.param("signal", ParamLocation::Query).map(|p| p.since),
        Some(v("1.42"))
    );
    assert_eq!(
        stop.param("t", ParamLocation::Query).map(|p| p.since),
        Some(v("1.25"))
    );
    let images = op("ImageList");
    assert_eq!(
        images
            .param("manifests", ParamLocation::Query)
            .map(|p| p.since),
        Some(v("1.47"))
    );

    // Fields, from the IR.
    let spec = spec();
    let field_since = |def: &str, field: &str| -> String {
        spec["definitions"][def]["fields"]
            .as_array()
            .and_then(|fs| fs.iter().find(|f| f["name"] == field))
            .and_then(|f| f["since"].as_str())
            .unwrap_or_else(|| panic!("{def}.{field} missing"))
            .to_owned()
    };
    assert_eq!(
        field_since("ContainerSummary", "ImageManifestDescriptor"),
        "1.48"
    );
    assert_eq!(field_since("ContainerSummary", "Health"), "1.52");
    assert_eq!(field_since("EndpointSettings", "DNSNames"), "1.44");
    assert_eq!(field_since("HostConfig", "Annotations"), "1.43");
    assert_eq!(field_since("ContainerSummary", "Id"), "1.25");

    // What v1.56 dropped is recorded as removed, with when.
    let removed = |def: &str, field: &str| -> String {
        spec["definitions"][def]["removed_fields"]
            .as_array()
            .and_then(|fs| fs.iter().find(|f| f["name"] == field))
            .and_then(|f| f["removed_in"].as_str())
            .unwrap_or_else(|| panic!("{def}.{field} not marked removed"))
            .to_owned()
    };
    assert_eq!(removed("ImageSummary", "VirtualSize"), "1.44");
    assert_eq!(removed("AuthConfig", "email"), "1.52");
    // A dropped field keeps its last type when the newest spec can still
    // express it (older daemons send it, so it is generated)…
    let removed_type = |def: &str, field: &str| -> Value {
        spec["definitions"][def]["removed_fields"]
            .as_array()
            .and_then(|fs| fs.iter().find(|f| f["name"] == field))
            .map(|f| f["type"].clone())
            .unwrap_or_else(|| panic!("{def}.{field} not marked removed"))
    };
    assert_eq!(
        removed_type("SystemDataUsageResponse", "Images"),
        serde_json::json!({"kind": "array", "items": {"kind": "ref", "name": "ImageSummary"}})
    );
    assert_eq!(
        removed_type("NetworkSettings", "IPAddress")["kind"],
        "string"
    );
    // … but not for `Config`, whose name upstream gave to another type in 1.30.
    assert!(removed_type("Config", "Cmd").is_null());
    let prune = spec["operations"]
        .as_array()
        .and_then(|o| o.iter().find(|o| o["id"] == "BuildPrune"))
        .expect("BuildPrune");
    assert!(prune["removed_params"].as_array().is_some_and(|r| r
        .iter()
        .any(|p| p["name"] == "query:keep-storage" && p["removed_in"] == "1.52")));
}

#[test]
fn response_and_body_kinds() {
    assert_eq!(op("ContainerLogs").response, ResponseKind::Multiplexed);
    assert_eq!(op("ContainerAttach").response, ResponseKind::Hijack);
    assert_eq!(op("ExecStart").response, ResponseKind::Hijack);
    assert_eq!(
        op("ContainerAttachWebsocket").response,
        ResponseKind::Websocket
    );
    assert!(matches!(
        op("ImageCreate").response,
        ResponseKind::JsonStream {
            rust_type: "CreateImageInfo"
        }
    ));
    assert!(matches!(
        op("SystemEvents").response,
        ResponseKind::JsonStream {
            rust_type: "EventMessage"
        }
    ));
    assert!(matches!(
        op("ContainerExport").response,
        ResponseKind::Binary { .. }
    ));
    assert!(matches!(
        op("ImageGet").response,
        ResponseKind::Binary {
            content_type: "application/x-tar"
        }
    ));
    assert_eq!(op("SystemPing").response, ResponseKind::Text);
    assert_eq!(op("ContainerStart").response, ResponseKind::Empty);
    assert!(matches!(
        op("ContainerList").response,
        ResponseKind::Json {
            rust_type: "Vec<ContainerSummary>"
        }
    ));
    assert!(matches!(
        op("ContainerCreate").body,
        BodyKind::Json {
            rust_type: "ContainerCreateBody",
            ..
        }
    ));
    assert!(matches!(
        op("PutContainerArchive").body,
        BodyKind::Bytes { .. }
    ));
    assert_eq!(op("ContainerDelete").method, Method::Delete);
    // Every JSON-encoded filters parameter is typed as the filters map.
    for o in OPERATIONS {
        if let Some(p) = o.param("filters", ParamLocation::Query) {
            assert_eq!(p.rust_type, "Filters", "{}", o.id);
            assert_eq!(p.encoding, operations::Encoding::Json, "{}", o.id);
        }
    }
}

/// The upstream directory the spec was imported from: where codegen looks.
fn upstream_dir() -> std::path::PathBuf {
    std::env::var_os("DOCKHAND_UPSTREAM_SPECS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/docker-engine-api")
        })
}

#[test]
fn every_input_file_is_pinned_by_sha256() {
    use sha2::{Digest, Sha256};
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/api-spec/upstream.json");
    let up: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("upstream.json")).expect("json");
    let inputs = up["inputs"].as_array().expect("inputs");
    assert_eq!(inputs.len(), 32, "v1.25 to v1.56");
    let dir = upstream_dir();
    assert!(
        dir.is_dir(),
        "the upstream specifications are not at {} (set DOCKHAND_UPSTREAM_SPECS to where they are)",
        dir.display()
    );
    for (n, i) in inputs.iter().enumerate() {
        let version = i["version"].as_str().expect("version");
        assert_eq!(version, format!("1.{}", 25 + n), "inputs in version order");
        let file = i["file"].as_str().expect("file");
        assert_eq!(file, format!("v{version}.yaml"));
        let pinned = i["sha256"].as_str().expect("sha256");
        let bytes = std::fs::read(dir.join(file))
            .unwrap_or_else(|e| panic!("{}: {e}", dir.join(file).display()));
        let actual: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            pinned,
            actual,
            "{file}: api-spec/upstream.json pins another file than the one in {}",
            dir.display()
        );
    }
}
