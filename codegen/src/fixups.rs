//! Corrections to the upstream specification, each a named function that
//! says which real daemon behaviour shows the specification is wrong or
//! incomplete.
//!
//! A fixup first checks that the specification still says what the fixup
//! corrects; when it no longer does (upstream fixed it), the import fails with
//! that fixup's name, so stale fixups never linger.

use crate::ir::*;

/// A named correction.
pub struct Fixup {
    /// Its name, recorded in `api-spec/spec.json`.
    pub name: &'static str,
    /// Applies it, or says why it no longer applies.
    pub apply: fn(&mut Spec) -> Result<(), String>,
}

/// Every fixup, in the order they are applied to the newest specification.
pub const FIXUPS: &[Fixup] = &[
    Fixup {
        name: "progress_message_streams",
        apply: progress_message_streams,
    },
    Fixup {
        name: "container_stats_stream",
        apply: container_stats_stream,
    },
    Fixup {
        name: "exec_start_upgrades",
        apply: exec_start_upgrades,
    },
    Fixup {
        name: "json_encoded_query_params",
        apply: json_encoded_query_params,
    },
    Fixup {
        name: "json_encoded_platform_params",
        apply: json_encoded_platform_params,
    },
    Fixup {
        name: "auth_config_tokens",
        apply: auth_config_tokens,
    },
    Fixup {
        name: "swarm_object_create_responses",
        apply: swarm_object_create_responses,
    },
    Fixup {
        name: "push_progress_fields",
        apply: push_progress_fields,
    },
    Fixup {
        name: "unlisted_registry_auth_headers",
        apply: unlisted_registry_auth_headers,
    },
    Fixup {
        name: "push_registry_auth_filled_by_client",
        apply: push_registry_auth_filled_by_client,
    },
    Fixup {
        name: "container_top_on_windows",
        apply: container_top_on_windows,
    },
    Fixup {
        name: "isolation_default_on_every_platform",
        apply: isolation_default_on_every_platform,
    },
    Fixup {
        name: "args_escaped_ignored_on_linux",
        apply: args_escaped_ignored_on_linux,
    },
    Fixup {
        name: "resources_windows_refuses",
        apply: resources_windows_refuses,
    },
    Fixup {
        name: "build_session_params",
        apply: build_session_params,
    },
];

/// Applies every fixup; returns their names.
pub fn apply_all(spec: &mut Spec) -> Result<Vec<String>, String> {
    let mut names = Vec::new();
    for f in FIXUPS {
        (f.apply)(spec).map_err(|e| format!("fixup {} no longer applies: {e}", f.name))?;
        names.push(f.name.to_owned());
    }
    Ok(names)
}

fn op<'a>(spec: &'a mut Spec, id: &str) -> Result<&'a mut Operation, String> {
    spec.operations
        .iter_mut()
        .find(|o| o.id == id)
        .ok_or_else(|| format!("operation {id} is gone"))
}

fn reference(name: &str) -> Ty {
    Ty::Ref {
        name: name.to_owned(),
    }
}

/// The spec gives pull, push, build, load and plugin pull/upgrade/push no
/// response schema (or `application/json` with none), but dockerd answers
/// each with a stream of JSON progress messages, one value after another,
/// with an in-band `error`/`errorDetail` on failure (seen on dockerd 20.10:
/// `POST /images/create?fromImage=…` writes `{"status":"Pulling from …"}`,
/// `{"status":"Downloading","progressDetail":{…},"id":…}` …).
fn progress_message_streams(spec: &mut Spec) -> Result<(), String> {
    for (id, item) in [
        ("ImageCreate", "CreateImageInfo"),
        ("ImagePush", "PushImageInfo"),
        ("ImageBuild", "BuildInfo"),
        ("ImageLoad", "BuildInfo"),
        ("PluginPull", "CreateImageInfo"),
        ("PluginUpgrade", "CreateImageInfo"),
        ("PluginPush", "CreateImageInfo"),
    ] {
        let o = op(spec, id)?;
        if !matches!(o.response, Response::Empty { .. }) {
            return Err(format!("{id} now declares {:?}", o.response));
        }
        o.response = Response::JsonStream {
            ty: reference(item),
        };
    }
    Ok(())
}

/// The spec declares one JSON document, but with `stream=true` (the
/// default) dockerd sends one stats object per second until the client
/// disconnects; `stream=false` is a stream of one.
fn container_stats_stream(spec: &mut Spec) -> Result<(), String> {
    let o = op(spec, "ContainerStats")?;
    match &o.response {
        Response::Json { ty } => {
            o.response = Response::JsonStream { ty: ty.clone() };
            Ok(())
        }
        other => Err(format!("ContainerStats now declares {other:?}")),
    }
}

/// The spec lists only a 200 for `POST /exec/{id}/start`, but like attach
/// dockerd answers `101 UPGRADED` and hijacks the connection when the
/// request carries `Connection: Upgrade` / `Upgrade: tcp`, which is the only
/// way to send stdin.
fn exec_start_upgrades(spec: &mut Spec) -> Result<(), String> {
    let o = op(spec, "ExecStart")?;
    match o.response {
        Response::Multiplexed => {
            o.response = Response::Hijack;
            Ok(())
        }
        ref other => Err(format!("ExecStart now declares {other:?}")),
    }
}

/// `filters`, and the build's `buildargs`, `labels` and `cachefrom`, are
/// typed `string` upstream, but dockerd `json.Unmarshal`s them (a filters
/// value that is not a JSON `map[string][]string` is answered with
/// `400 invalid filter`), so they are typed here by their JSON shape.
fn json_encoded_query_params(spec: &mut Spec) -> Result<(), String> {
    let string_list = Ty::Array {
        items: Box::new(Ty::String { format: None }),
    };
    let string_map = Ty::Map {
        values: Box::new(Ty::String { format: None }),
    };
    let filters = Ty::Map {
        values: Box::new(string_list.clone()),
    };
    let mut seen_filters = 0;
    for o in spec.operations.iter_mut() {
        for p in o.params.iter_mut() {
            if p.location != ParamIn::Query {
                continue;
            }
            let new_ty = match (o.id.as_str(), p.name.as_str()) {
                (_, "filters") => {
                    seen_filters += 1;
                    filters.clone()
                }
                ("ImageBuild", "buildargs" | "labels") => string_map.clone(),
                ("ImageBuild", "cachefrom") => string_list.clone(),
                _ => continue,
            };
            if !matches!(p.ty, Ty::String { .. }) {
                return Err(format!("{} {} is now typed {:?}", o.id, p.name, p.ty));
            }
            p.ty = new_ty;
            p.encoding = Encoding::Json;
        }
    }
    if seen_filters == 0 {
        return Err("no `filters` parameter left".into());
    }
    Ok(())
}

/// `platform` parameters are typed `string` (or arrays of strings) upstream,
/// but dockerd decodes each value as a JSON OCI platform object
/// (`{"os":"linux","architecture":"amd64"}`); a plain `linux/amd64` is
/// rejected with 400.
fn json_encoded_platform_params(spec: &mut Spec) -> Result<(), String> {
    let mut changed = 0;
    for o in spec.operations.iter_mut() {
        for p in o.params.iter_mut() {
            let targets = matches!(
                (o.id.as_str(), p.name.as_str()),
                (
                    "ImageInspect"
                        | "ImageHistory"
                        | "ImagePush"
                        | "ImageAttestations"
                        | "ImageGet"
                        | "ImageGetAll"
                        | "ImageLoad",
                    "platform"
                ) | ("ImageDelete", "platforms")
            );
            if !targets || p.location != ParamIn::Query {
                continue;
            }
            match &p.ty {
                Ty::String { .. } => {
                    p.ty = reference("OCIPlatform");
                    p.encoding = Encoding::Json;
                }
                Ty::Array { items } if matches!(**items, Ty::String { .. }) => {
                    p.ty = Ty::Array {
                        items: Box::new(reference("OCIPlatform")),
                    };
                    p.encoding = Encoding::RepeatedJson;
                }
                other => return Err(format!("{} {} is now typed {other:?}", o.id, p.name)),
            }
            changed += 1;
        }
    }
    if changed != 8 {
        return Err(format!("expected 8 platform parameters, found {changed}"));
    }
    Ok(())
}

/// The spec's `AuthConfig` lists only username, password and server address,
/// but the daemon's auth configuration (the body of `POST /auth` and the JSON
/// inside `X-Registry-Auth`) also carries `identitytoken` (an OAuth refresh
/// token that `POST /auth` hands out) and `registrytoken` (a bearer token sent
/// to the registry as is); the daemon uses them when present.
fn auth_config_tokens(spec: &mut Spec) -> Result<(), String> {
    let def = spec
        .definitions
        .get_mut("AuthConfig")
        .ok_or("AuthConfig is gone")?;
    let since = def.since.clone();
    let DefBody::Struct { fields, .. } = &mut def.body else {
        return Err("AuthConfig is no longer a struct".into());
    };
    for name in ["identitytoken", "registrytoken"] {
        if fields.iter().any(|f| f.name == name) {
            return Err(format!("AuthConfig now has {name}"));
        }
        fields.push(Field {
            name: name.to_owned(),
            ty: Ty::String { format: None },
            required: false,
            nullable: false,
            since: since.clone(),
            platform: Platforms::default(),
        });
    }
    Ok(())
}

/// `POST /secrets/create` and `POST /configs/create` are declared to answer
/// an `IDResponse` (`{"Id": …}`), but dockerd answers `{"ID": …}` (seen on
/// dockerd 20.10 in a single-node swarm: `{"ID":"9swathw0vnceg53txozuyx2e0"}`),
/// which the declared type, whose `Id` is required, cannot decode. They get a
/// type of their own with the field the daemon sends.
fn swarm_object_create_responses(spec: &mut Spec) -> Result<(), String> {
    const NAME: &str = "SwarmObjectCreateResponse";
    if spec.definitions.contains_key(NAME) {
        return Err(format!("{NAME} already exists"));
    }
    let mut since: Option<String> = None;
    for id in ["SecretCreate", "ConfigCreate"] {
        let o = op(spec, id)?;
        match &o.response {
            Response::Json {
                ty: Ty::Ref { name },
            } if name == "IDResponse" => {}
            other => return Err(format!("{id} now declares {other:?}")),
        }
        o.response = Response::Json {
            ty: reference(NAME),
        };
        // The older of the two (secrets came first).
        if since.is_none() {
            since = Some(o.since.clone());
        }
    }
    let since = since.unwrap_or_default();
    spec.definitions.insert(
        NAME.to_owned(),
        Definition {
            upstream: "SecretCreate and ConfigCreate responses (fixup)".to_owned(),
            since: since.clone(),
            platform: Platforms::default(),
            body: DefBody::Struct {
                fields: vec![Field {
                    name: "ID".to_owned(),
                    ty: Ty::String { format: None },
                    required: true,
                    nullable: false,
                    since,
                    platform: Platforms::default(),
                }],
                removed_fields: Vec::new(),
            },
        },
    );
    Ok(())
}

/// `PushImageInfo` declares only `status`, `progressDetail` and
/// `errorDetail`, but dockerd's push messages also carry the layer `id` and,
/// at the end, an `aux` object with the pushed `Tag`, `Digest` and `Size`
/// (seen on dockerd 20.10 pushing to a local registry:
/// `{"status":"Preparing","progressDetail":{},"id":"2ceff5a805b5"}` …
/// `{"progressDetail":{},"aux":{"Tag":"1","Digest":"sha256:e786…","Size":527}}`).
fn push_progress_fields(spec: &mut Spec) -> Result<(), String> {
    const AUX: &str = "PushImageInfoAux";
    if spec.definitions.contains_key(AUX) {
        return Err(format!("{AUX} already exists"));
    }
    let def = spec
        .definitions
        .get_mut("PushImageInfo")
        .ok_or("PushImageInfo is gone")?;
    let since = def.since.clone();
    let DefBody::Struct { fields, .. } = &mut def.body else {
        return Err("PushImageInfo is no longer a struct".into());
    };
    for name in ["id", "aux"] {
        if fields.iter().any(|f| f.name == name) {
            return Err(format!("PushImageInfo now has {name}"));
        }
    }
    let field = |name: &str, ty: Ty| Field {
        name: name.to_owned(),
        ty,
        required: false,
        nullable: false,
        since: since.clone(),
        platform: Platforms::default(),
    };
    fields.push(field("id", Ty::String { format: None }));
    fields.push(field("aux", reference(AUX)));
    let aux_fields = vec![
        field("Tag", Ty::String { format: None }),
        field("Digest", Ty::String { format: None }),
        field(
            "Size",
            Ty::Integer {
                width: IntWidth::I64,
            },
        ),
    ];
    spec.definitions.insert(
        AUX.to_owned(),
        Definition {
            upstream: "PushImageInfo.aux (fixup)".to_owned(),
            since: since.clone(),
            platform: Platforms::default(),
            body: DefBody::Struct {
                fields: aux_fields,
                removed_fields: Vec::new(),
            },
        },
    );
    Ok(())
}

/// Two operations that talk to a registry list no parameter for its
/// credentials, but dockerd reads `X-Registry-Auth` for both and the docker
/// CLI sends it: `GET /distribution/{name}/json` (dockerd 20.10, asked for an
/// image on the htpasswd test registry, answers "no basic auth credentials"
/// without it and the descriptor with it) and `POST /plugins/{name}/push`.
/// An optional header, so each operation gets an options struct like pull.
fn unlisted_registry_auth_headers(spec: &mut Spec) -> Result<(), String> {
    for id in ["DistributionInspect", "PluginPush"] {
        let op = op(spec, id)?;
        if op.params.iter().any(|p| p.name == "X-Registry-Auth") {
            return Err(format!("{id} now lists X-Registry-Auth"));
        }
        let since = op.since.clone();
        op.params.push(Param {
            name: "X-Registry-Auth".to_owned(),
            location: ParamIn::Header,
            ty: Ty::String { format: None },
            encoding: Encoding::Plain,
            required: false,
            default: None,
            since,
            platform: Platforms::default(),
        });
    }
    Ok(())
}

/// `X-Registry-Auth` is required for image pushes (dockerd 20.10
/// answers a push without it with "Bad parameters and missing
/// X-Registry-Auth: EOF"), and dockhand always sends it: the credentials
/// the options carry, else those `config.json` gives for the registry, else
/// `{}` (anonymous), as for every other operation with credentials. So in
/// the options struct it is an optional field, like pull's, not a
/// positional argument.
fn push_registry_auth_filled_by_client(spec: &mut Spec) -> Result<(), String> {
    let p = op(spec, "ImagePush")?
        .params
        .iter_mut()
        .find(|p| p.name == "X-Registry-Auth")
        .ok_or("ImagePush no longer lists X-Registry-Auth")?;
    if !p.required {
        return Err("ImagePush: X-Registry-Auth is no longer required".into());
    }
    p.required = false;
    Ok(())
}

/// `POST /build` lists no `session` and no `buildid` parameter, but dockerd
/// reads both: `version=2&session=<id>` runs the build with BuildKit and
/// takes the context, the Dockerfile, secrets and credentials from the
/// client's `/session` connection of that id (dockerd 20.10 answers a
/// `remote=client-session` build without `session` with "session not
/// found"), and `buildid` names the build for `POST /build/cancel?id=…`. The
/// docker CLI sends both. `session` came with `/session` (API 1.31),
/// `buildid` with BuildKit builds (API 1.38).
fn build_session_params(spec: &mut Spec) -> Result<(), String> {
    let op = op(spec, "ImageBuild")?;
    for (name, since) in [("session", "1.31"), ("buildid", "1.38")] {
        if op.params.iter().any(|p| p.name == name) {
            return Err(format!("ImageBuild now lists {name}"));
        }
        op.params.push(Param {
            name: name.to_owned(),
            location: ParamIn::Query,
            ty: Ty::String { format: None },
            encoding: Encoding::Plain,
            required: false,
            default: None,
            since: since.to_owned(),
            platform: Platforms::default(),
        });
    }
    Ok(())
}

fn struct_field<'a>(spec: &'a mut Spec, def: &str, field: &str) -> Result<&'a mut Field, String> {
    match spec.definitions.get_mut(def).map(|d| &mut d.body) {
        Some(DefBody::Struct { fields, .. }) => fields
            .iter_mut()
            .find(|f| f.name == field)
            .ok_or_else(|| format!("{def}.{field} is gone")),
        _ => Err(format!("{def} is no longer a struct")),
    }
}

fn windows_only() -> Platforms {
    Platforms {
        platforms: vec!["windows".into()],
        ..Platforms::default()
    }
}

/// The prose says `GET /containers/{id}/top` is not supported on Windows,
/// but dockerd implements it there (moby's `daemon/top_windows.go` lists the
/// container's processes through the compute service, with Name, PID, CPU
/// and private working set columns), so it is not refused on Windows.
fn container_top_on_windows(spec: &mut Spec) -> Result<(), String> {
    let o = op(spec, "ContainerTop")?;
    if o.platform.not_on != ["windows"] {
        return Err(format!("ContainerTop now has {:?}", o.platform));
    }
    o.platform = Platforms::default();
    Ok(())
}

/// `HostConfig.Isolation` and a service's `ContainerSpec.Isolation` are
/// "(Windows only)" in the prose, but a Linux daemon takes the value
/// `default` (dockerd 20.10 on Linux creates a container with
/// `"Isolation": "default"` and refuses `"hyperv"` with "Invalid isolation:
/// \"hyperv\" - linux only supports 'default'"). So the field is valid
/// everywhere and its values `process` and `hyperv` are Windows only.
fn isolation_default_on_every_platform(spec: &mut Spec) -> Result<(), String> {
    for (def, field) in [
        ("HostConfig", "Isolation"),
        ("TaskSpecContainerSpec", "Isolation"),
    ] {
        let f = struct_field(spec, def, field)?;
        if f.platform != windows_only() {
            return Err(format!("{def}.{field} now has {:?}", f.platform));
        }
        f.platform = Platforms::default();
        let Ty::Ref { name } = f.ty.clone() else {
            return Err(format!("{def}.{field} is no longer an enum"));
        };
        let Some(DefBody::Enum { values }) = spec.definitions.get_mut(&name).map(|d| &mut d.body)
        else {
            return Err(format!("{name} is no longer an enum"));
        };
        for value in ["process", "hyperv"] {
            let v = values
                .iter_mut()
                .find(|v| v.value == value)
                .ok_or_else(|| format!("{name} no longer has {value:?}"))?;
            v.platform = windows_only();
        }
    }
    Ok(())
}

/// A container config's `ArgsEscaped` is "(Windows only)" in the prose, but
/// a Linux daemon accepts it and does nothing with it (dockerd 20.10 on Linux
/// creates a container from `{"ArgsEscaped": true, …}` without a warning),
/// and a `Config` taken from an inspect answer carries it. Ignored on Linux,
/// so a warning rather than a refusal.
fn args_escaped_ignored_on_linux(spec: &mut Spec) -> Result<(), String> {
    // The create body is `ContainerConfig` with more fields (an allOf).
    for def in ["ContainerConfig", "ContainerCreateBody"] {
        let f = struct_field(spec, def, "ArgsEscaped")?;
        if f.platform != windows_only() {
            return Err(format!("{def}.ArgsEscaped now has {:?}", f.platform));
        }
        f.platform = Platforms {
            ignored_on: vec!["linux".into()],
            ..Platforms::default()
        };
    }
    Ok(())
}

/// Resource settings a Windows daemon refuses that the prose does not mark:
/// moby's `daemon/daemon_windows.go` (`verifyContainerResources`) answers
/// "invalid option: Windows does not support …" for each of these when set.
/// They are `not_on: [windows]` wherever the resources are (`Resources`,
/// `HostConfig`, the update body).
fn resources_windows_refuses(spec: &mut Spec) -> Result<(), String> {
    const FIELDS: &[&str] = &[
        "BlkioWeight",
        "BlkioWeightDevice",
        "BlkioDeviceReadBps",
        "BlkioDeviceWriteBps",
        "BlkioDeviceReadIOps",
        "BlkioDeviceWriteIOps",
        "CgroupParent",
        "CpuPeriod",
        "CpusetCpus",
        "CpusetMems",
        "MemoryReservation",
        "MemorySwap",
        "MemorySwappiness",
        "OomKillDisable",
        "PidsLimit",
        "Ulimits",
    ];
    for def in ["Resources", "HostConfig", "ContainerUpdateBody"] {
        for name in FIELDS {
            let f = struct_field(spec, def, name)?;
            if !f.platform.is_empty() {
                return Err(format!("{def}.{name} now has {:?}", f.platform));
            }
            f.platform.not_on = vec!["windows".into()];
        }
    }
    Ok(())
}
