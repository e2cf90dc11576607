//! Every operation of the generated table is bound by exactly one public
//! method of the API group handles, proved by behaviour.
//!
//! [`table`] calls every public method of every handle (`docker.containers()`,
//! `.images()`, …) against a recording fake daemon: it answers the
//! negotiation ping (`/_ping`, unversioned) with the newest API version, and
//! everything else with a harmless 200. A method may then fail to decode the
//! answer or to upgrade the connection; what counts is what it sent. Each
//! request is matched to the operation whose method and path template it
//! fits, and then:
//!
//! - every method sends at least one request, and every request is an operation;
//! - every operation of the table is reached;
//! - each operation is reached by exactly one method, except the verbs listed
//!   in [`VERBS`] (several CLI verbs over one operation: `pull` and `import`);
//! - a method reaches exactly one operation, with one request, except the
//!   helpers listed in [`HELPERS`] (built on other methods' operations:
//!   `copy_in`, `build_dir`), which reach exactly the operations listed.
//!
//! And so that a new public method cannot be left out of the table, a cheap
//! scan of `src/` lists the public methods of every handle type (the types
//! the `impl Docker` accessors of `src/api/` return) and checks that they are
//! exactly the table's.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use dockhand::api::SessionOptions;
use dockhand::models::{
    AuthConfig, ConfigCreateBody, ConfigSpec, ContainerConfig, ContainerCreateBody,
    ContainerExecBody, ContainerUpdateBody, ExecStartBody, NetworkConnectRequest,
    NetworkCreateBody, NetworkDisconnectRequest, NodeSpec, SecretCreateBody, SecretSpec,
    ServiceCreateBody, ServiceUpdateBody, SwarmInitBody, SwarmJoinBody, SwarmSpec, SwarmUnlockBody,
    VolumeCreateRequest, VolumeUpdateBody,
};
use dockhand::operations::{Operation, OPERATIONS};
use dockhand::{ApiVersion, Body, Docker};
use wiremock::matchers::{any, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

mod common;
use common::TempDir;

/// Operations that several public methods reach on purpose: the CLI's verbs
/// over one endpoint. Each listed method must reach it; no other may.
const VERBS: &[(&str, &[&str])] = &[
    ("ImageCreate", &["images.pull", "images.import"]),
    ("ImagePush", &["images.push", "images.push_all_tags"]),
    ("ExecStart", &["exec.start", "exec.start_detached"]),
    (
        "ContainerStats",
        &["containers.stats", "containers.stats_once"],
    ),
];

/// Methods built on operations other methods bind, with exactly the
/// operations each reaches.
const HELPERS: &[(&str, &[&str])] = &[
    // `docker cp` into a container: what is at the destination, then the archive.
    (
        "containers.copy_in",
        &["ContainerArchiveInfo", "PutContainerArchive"],
    ),
    // `docker cp` out of a container.
    ("containers.copy_out", &["ContainerArchive"]),
    // `docker build DIR`: the directory tarred and sent as `images().build`.
    ("images.build_dir", &["ImageBuild"]),
    // `DOCKER_BUILDKIT=1 docker build DIR`: a session and a `version=2`
    // build, sent together.
    #[cfg(feature = "buildkit")]
    ("images.build_kit", &["Session", "ImageBuild"]),
];

/// What the calls need from the host.
struct Ctx {
    /// A build context with a Dockerfile.
    context: PathBuf,
    /// A file to copy into a container.
    file: PathBuf,
    /// Where to copy out of a container.
    dest: PathBuf,
}

/// A call's outcome: its error's text, if it failed (it may: the fake daemon's
/// answers are not what the method expects).
type Outcome = Option<String>;
type Call = Box<dyn Fn(Docker, Arc<Ctx>) -> Pin<Box<dyn Future<Output = Outcome>>>>;

/// One public method and a call of it.
struct Entry {
    handle: &'static str,
    method: &'static str,
    call: Call,
}

impl Entry {
    fn name(&self) -> String {
        format!("{}.{}", self.handle, self.method)
    }
}

/// `bind!(cx => containers.list(args…))`: the entry for
/// `docker.containers().list(args…)`, named by the very tokens it calls, so a
/// name in the table is always the method the closure calls.
macro_rules! bind {
    ($cx:ident => $handle:ident . $method:ident ( $($arg:expr),* $(,)? )) => {
        Entry {
            handle: stringify!($handle),
            method: stringify!($method),
            call: Box::new(|docker: Docker, $cx: Arc<Ctx>| {
                Box::pin(async move {
                    let _ = &$cx;
                    docker.$handle().$method($($arg),*).await.err().map(|e| e.to_string())
                })
            }),
        }
    };
}

/// Image references: with a loopback registry and slashes (a reference is
/// several path segments); everything else: one segment without slashes.
const IMAGE: &str = "127.0.0.1:5000/team/app:1";
const REPO: &str = "127.0.0.1:5000/team/app";
const PLUGIN: &str = "127.0.0.1:5000/team/plugin:1";

/// Options left at their defaults.
fn def<T: Default>() -> T {
    T::default()
}

/// Every public method of every handle, called once.
fn table() -> Vec<Entry> {
    vec![
        // containers
        bind!(cx => containers.list(&def())),
        bind!(cx => containers.create(&ContainerCreateBody::default(), &def())),
        bind!(cx => containers.inspect("c1", &def())),
        bind!(cx => containers.top("c1", &def())),
        bind!(cx => containers.logs("c1", &def())),
        bind!(cx => containers.changes("c1")),
        bind!(cx => containers.export("c1")),
        bind!(cx => containers.stats("c1", &def())),
        bind!(cx => containers.stats_once("c1", &def())),
        bind!(cx => containers.resize("c1", 24, 80)),
        bind!(cx => containers.start("c1", &def())),
        bind!(cx => containers.stop("c1", &def())),
        bind!(cx => containers.restart("c1", &def())),
        bind!(cx => containers.kill("c1", &def())),
        bind!(cx => containers.update("c1", &ContainerUpdateBody::default())),
        bind!(cx => containers.rename("c1", "c2")),
        bind!(cx => containers.pause("c1")),
        bind!(cx => containers.unpause("c1")),
        bind!(cx => containers.attach("c1", &def())),
        bind!(cx => containers.attach_websocket("c1", &def())),
        bind!(cx => containers.wait("c1", &def())),
        bind!(cx => containers.remove("c1", &def())),
        bind!(cx => containers.archive_info("c1", "/etc")),
        bind!(cx => containers.get_archive("c1", "/etc")),
        bind!(cx => containers.put_archive("c1", "/dst", Body::empty(), &def())),
        bind!(cx => containers.prune(&def())),
        bind!(cx => containers.copy_in("c1", &cx.file, "/dst")),
        bind!(cx => containers.copy_out("c1", "/dst", &cx.dest)),
        // images
        bind!(cx => images.list(&def())),
        bind!(cx => images.build(Body::empty(), &def())),
        bind!(cx => images.build_prune(&def())),
        bind!(cx => images.pull(IMAGE, &def())),
        bind!(cx => images.import(Body::empty(), &def())),
        bind!(cx => images.inspect(IMAGE, &def())),
        bind!(cx => images.attestations(IMAGE, &def())),
        bind!(cx => images.history(IMAGE, &def())),
        bind!(cx => images.push(IMAGE, &def())),
        bind!(cx => images.push_all_tags(REPO, &def())),
        bind!(cx => images.tag(IMAGE, &def())),
        bind!(cx => images.remove(IMAGE, &def())),
        bind!(cx => images.search("app", &def())),
        bind!(cx => images.prune(&def())),
        bind!(cx => images.commit(&ContainerConfig::default(), &def())),
        bind!(cx => images.save(IMAGE, &def())),
        bind!(cx => images.save_all(&def())),
        bind!(cx => images.load(Body::empty(), &def())),
        bind!(cx => images.build_dir(&cx.context, &def())),
        #[cfg(feature = "buildkit")]
        bind!(cx => images.build_kit(&cx.context, &def())),
        // exec
        bind!(cx => exec.create("c1", &ContainerExecBody::default())),
        bind!(cx => exec.start("e1", &ExecStartBody::default())),
        bind!(cx => exec.start_detached("e1", &ExecStartBody::default())),
        bind!(cx => exec.resize("e1", 24, 80)),
        bind!(cx => exec.inspect("e1")),
        // networks
        bind!(cx => networks.list(&def())),
        bind!(cx => networks.inspect("n1", &def())),
        bind!(cx => networks.remove("n1")),
        bind!(cx => networks.create(&NetworkCreateBody::default())),
        bind!(cx => networks.connect("n1", &NetworkConnectRequest::default())),
        bind!(cx => networks.disconnect("n1", &NetworkDisconnectRequest::default())),
        bind!(cx => networks.prune(&def())),
        // volumes
        bind!(cx => volumes.list(&def())),
        bind!(cx => volumes.create(&VolumeCreateRequest::default())),
        bind!(cx => volumes.inspect("v1")),
        bind!(cx => volumes.update("v1", 1, &VolumeUpdateBody::default())),
        bind!(cx => volumes.remove("v1", &def())),
        bind!(cx => volumes.prune(&def())),
        // system
        bind!(cx => system.auth(&AuthConfig::default())),
        bind!(cx => system.info()),
        bind!(cx => system.version()),
        bind!(cx => system.ping()),
        bind!(cx => system.ping_head()),
        bind!(cx => system.events(&def())),
        bind!(cx => system.df(&def())),
        // swarm
        bind!(cx => swarm.inspect()),
        bind!(cx => swarm.init(&SwarmInitBody::default())),
        bind!(cx => swarm.join(&SwarmJoinBody::default())),
        bind!(cx => swarm.leave(&def())),
        bind!(cx => swarm.update(1, &SwarmSpec::default(), &def())),
        bind!(cx => swarm.unlock_key()),
        bind!(cx => swarm.unlock(&SwarmUnlockBody::default())),
        // nodes
        bind!(cx => nodes.list(&def())),
        bind!(cx => nodes.inspect("nd1")),
        bind!(cx => nodes.update("nd1", 1, &NodeSpec::default())),
        bind!(cx => nodes.remove("nd1", &def())),
        // services
        bind!(cx => services.list(&def())),
        bind!(cx => services.create(&ServiceCreateBody::default(), &def())),
        bind!(cx => services.inspect("s1", &def())),
        bind!(cx => services.update("s1", 1, &ServiceUpdateBody::default(), &def())),
        bind!(cx => services.remove("s1")),
        bind!(cx => services.logs("s1", &def())),
        // tasks
        bind!(cx => tasks.list(&def())),
        bind!(cx => tasks.inspect("t1")),
        bind!(cx => tasks.logs("t1", &def())),
        // secrets
        bind!(cx => secrets.list(&def())),
        bind!(cx => secrets.create(&SecretCreateBody::default())),
        bind!(cx => secrets.inspect("sc1")),
        bind!(cx => secrets.update("sc1", 1, &SecretSpec::default())),
        bind!(cx => secrets.remove("sc1")),
        // configs
        bind!(cx => configs.list(&def())),
        bind!(cx => configs.create(&ConfigCreateBody::default())),
        bind!(cx => configs.inspect("cf1")),
        bind!(cx => configs.update("cf1", 1, &ConfigSpec::default())),
        bind!(cx => configs.remove("cf1")),
        // plugins
        bind!(cx => plugins.list(&def())),
        bind!(cx => plugins.privileges(PLUGIN)),
        bind!(cx => plugins.pull(PLUGIN, &[], &def())),
        bind!(cx => plugins.inspect(PLUGIN)),
        bind!(cx => plugins.remove(PLUGIN, &def())),
        bind!(cx => plugins.enable(PLUGIN, &def())),
        bind!(cx => plugins.disable(PLUGIN, &def())),
        bind!(cx => plugins.upgrade(PLUGIN, PLUGIN, &[], &def())),
        bind!(cx => plugins.create(PLUGIN, Body::empty())),
        bind!(cx => plugins.push(PLUGIN, &def())),
        bind!(cx => plugins.set(PLUGIN, &["DEBUG=1".to_owned()])),
        // distribution
        bind!(cx => distribution.inspect(IMAGE, &def())),
        // session
        bind!(cx => session.start(&SessionOptions::new("session-1"))),
    ]
}

/// The fake daemon: the negotiation ping answers with the newest API version;
/// every other request gets the same 200, which gives no binding a reason
/// for a second request: a Content-Type that says how process output is
/// framed (so `logs` needs no inspect to learn the TTY), a path-stat header
/// naming a directory (so `copy_in` goes on to send its archive), and `{}`.
async fn fake_daemon() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(path("/_ping"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("Api-Version", ApiVersion::NEWEST.to_string().as_str())
                .insert_header("Ostype", "linux")
                .set_body_string("OK"),
        )
        .mount(&server)
        .await;
    let stat = serde_json::json!({
        "name": "dst", "size": 0, "mode": 0x8000_01ed_u32,
        "mtime": "2024-01-01T00:00:00Z", "linkTarget": ""
    });
    let stat = base64::engine::general_purpose::STANDARD.encode(stat.to_string());
    Mock::given(any())
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("X-Docker-Container-Path-Stat", stat.as_str())
                .set_body_raw(b"{}".to_vec(), "application/vnd.docker.multiplexed-stream"),
        )
        .with_priority(u8::MAX)
        .mount(&server)
        .await;
    server
}

/// Whether a concrete path (after the version prefix) fits `op`'s template:
/// segment by segment, a `{x}` matching one segment, or one or more where
/// the operation takes an image, plugin or distribution reference.
fn fits(op: &Operation, concrete: &[&str]) -> bool {
    let multi = matches!(op.group, "Image" | "Plugin" | "Distribution");
    let template: Vec<&str> = op.path.split('/').collect();
    fn go(t: &[&str], c: &[&str], multi: bool) -> bool {
        match (t.split_first(), c) {
            (None, []) => true,
            (None, _) | (Some(_), []) => false,
            (Some((seg, t_rest)), _) if seg.starts_with('{') && seg.ends_with('}') => {
                let most = if multi { c.len() } else { 1 };
                (1..=most).any(|n| go(t_rest, &c[n..], multi))
            }
            (Some((seg, t_rest)), [first, c_rest @ ..]) => {
                seg == first && go(t_rest, c_rest, multi)
            }
        }
    }
    go(&template, concrete, multi)
}

/// The operation a request is, or why it is none.
fn operation_of(method: &str, path: &str) -> Result<&'static Operation, String> {
    let prefix = format!("/v{}", ApiVersion::NEWEST);
    let rest = path
        .strip_prefix(&prefix)
        .filter(|r| r.starts_with('/'))
        .ok_or_else(|| format!("{method} {path}: not under {prefix}"))?;
    let segments: Vec<&str> = rest.split('/').collect();
    let found: Vec<&'static Operation> = OPERATIONS
        .iter()
        .copied()
        .filter(|op| op.method.as_http().as_str() == method && fits(op, &segments))
        .collect();
    match found[..] {
        [op] => Ok(op),
        [] => Err(format!(
            "{method} {path}: no operation has this method and path"
        )),
        _ => Err(format!(
            "{method} {path}: fits several operations: {:?} (choose other test arguments)",
            found.iter().map(|o| o.id).collect::<Vec<_>>()
        )),
    }
}

#[tokio::test]
async fn every_operation_is_bound_by_exactly_one_public_method() {
    let tmp = TempDir::new("bindings");
    // Credential lookups (pull, push, build, plugins) read an empty config.
    let docker_config = tmp.0.join("docker-config");
    std::fs::create_dir_all(&docker_config).expect("config dir");
    std::env::set_var("DOCKER_CONFIG", &docker_config);
    let context = tmp.0.join("context");
    std::fs::create_dir_all(&context).expect("context dir");
    std::fs::write(context.join("Dockerfile"), "FROM scratch\n").expect("Dockerfile");
    let file = tmp.0.join("file.txt");
    std::fs::write(&file, "hello\n").expect("file");
    let dest = tmp.0.join("out");
    std::fs::create_dir_all(&dest).expect("dest dir");
    let cx = Arc::new(Ctx {
        context,
        file,
        dest,
    });

    let server = fake_daemon().await;
    let docker = Docker::connect_with_host(&server.uri()).expect("client");
    let entries = table();

    let mut problems: Vec<String> = Vec::new();
    // method name → (operation ids it reached, requests it sent).
    let mut reached: BTreeMap<String, (BTreeSet<&'static str>, usize)> = BTreeMap::new();
    let mut seen = 0;
    for entry in &entries {
        let name = entry.name();
        let outcome = tokio::time::timeout(
            Duration::from_secs(20),
            (entry.call)(docker.clone(), cx.clone()),
        )
        .await
        .unwrap_or_else(|_| panic!("{name}: no answer within 20 s"));
        let all = server.received_requests().await.expect("recording is on");
        let new: Vec<_> = all[seen..]
            .iter()
            .filter(|r| r.url.path() != "/_ping")
            .collect();
        seen = all.len();
        if new.is_empty() {
            problems.push(format!(
                "{name} sent nothing (it answered {})",
                outcome.as_deref().unwrap_or("Ok")
            ));
            continue;
        }
        let mut ops = BTreeSet::new();
        for r in &new {
            match operation_of(r.method.as_str(), r.url.path()) {
                Ok(op) => {
                    ops.insert(op.id);
                }
                Err(e) => problems.push(format!("{name}: {e}")),
            }
        }
        if reached.insert(name.clone(), (ops, new.len())).is_some() {
            problems.push(format!("{name} is in the table twice"));
        }
    }

    let helpers: BTreeMap<&str, BTreeSet<&str>> = HELPERS
        .iter()
        .map(|(m, ops)| (*m, ops.iter().copied().collect()))
        .collect();
    let verbs: BTreeMap<&str, BTreeSet<&str>> = VERBS
        .iter()
        .map(|(op, ms)| (*op, ms.iter().copied().collect()))
        .collect();

    // A method reaches one operation with one request; a helper exactly its list.
    let mut by_op: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (name, (ops, count)) in &reached {
        match helpers.get(name.as_str()) {
            Some(listed) if listed != ops => problems.push(format!(
                "helper {name} reaches {ops:?}, listed as built on {listed:?}"
            )),
            Some(_) => {}
            None if ops.len() != 1 || *count != 1 => problems.push(format!(
                "{name} reaches {ops:?} with {count} requests; a binding sends one request of one \
                 operation (or list it in HELPERS)"
            )),
            None => {
                for op in ops {
                    by_op.entry(op).or_default().insert(name.as_str());
                }
            }
        }
    }
    for name in helpers.keys() {
        if !entries.iter().any(|e| e.name() == *name) {
            problems.push(format!("HELPERS lists {name}, which is not in the table"));
        }
    }

    // Every operation reached, by exactly one method or exactly its listed verbs.
    let ids: BTreeSet<&str> = OPERATIONS.iter().map(|o| o.id).collect();
    assert_eq!(ids.len(), OPERATIONS.len(), "operation ids are unique");
    for id in &ids {
        let methods = by_op.remove(id).unwrap_or_default();
        match verbs.get(id) {
            Some(listed) if *listed != methods => problems.push(format!(
                "{id} is reached by {methods:?}, listed as the verbs {listed:?}"
            )),
            Some(_) => {}
            None if methods.is_empty() => {
                let by_helpers: Vec<&&str> = helpers
                    .iter()
                    .filter(|(_, ops)| ops.contains(id))
                    .map(|(m, _)| m)
                    .collect();
                problems.push(format!(
                    "{id} is bound by no public method (helpers reaching it: {by_helpers:?})"
                ));
            }
            None if methods.len() > 1 => problems.push(format!(
                "{id} is bound by {} methods: {methods:?} (list them in VERBS if meant)",
                methods.len()
            )),
            None => {}
        }
    }
    for (id, methods) in &by_op {
        problems.push(format!(
            "{id}, reached by {methods:?}, is not in OPERATIONS"
        ));
    }
    for id in verbs.keys() {
        if !ids.contains(id) {
            problems.push(format!("VERBS lists {id}, which is not an operation"));
        }
    }

    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
    // The table drove every method, and every operation was sent.
    assert_eq!(reached.len(), entries.len());
    assert_eq!(ids.len(), 108);
}

/// `src/` files, recursively.
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let p = entry.expect("dir entry").path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The name a `pub fn` / `pub async fn` line declares.
fn public_fn(line: &str) -> Option<&str> {
    let rest = line
        .strip_prefix("pub async fn ")
        .or_else(|| line.strip_prefix("pub fn "))?;
    rest.split(['(', '<']).next()
}

#[test]
fn every_public_handle_method_is_in_the_table() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&root, &mut files);
    files.sort();

    // Handles: accessor name → type, from the `impl Docker` blocks of src/api.
    let mut handles: BTreeMap<String, String> = BTreeMap::new();
    // Inherent public methods per type, anywhere in src/.
    let mut methods: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("read source");
        let in_api = file.starts_with(root.join("api"));
        let mut current: Option<String> = None;
        for line in text.lines() {
            if line.starts_with("#[cfg(test)]") {
                break;
            }
            if line.starts_with("impl") && line.trim_end().ends_with('{') {
                let head = line.trim_end().trim_end_matches('{').trim_end();
                // `impl<T> path::Type<T>`, not `impl Trait for Type`.
                let head = match head.strip_prefix("impl<") {
                    Some(rest) => rest.split_once("> ").map_or("", |(_, t)| t),
                    None => head.strip_prefix("impl ").unwrap_or(""),
                };
                current = (!head.contains(" for ") && !head.is_empty()).then(|| {
                    let ty = head.split('<').next().unwrap_or(head);
                    ty.rsplit("::").next().unwrap_or(ty).to_owned()
                });
                continue;
            }
            if line.starts_with('}') {
                current = None;
                continue;
            }
            let Some(ty) = &current else { continue };
            let Some(member) = line.strip_prefix("    ") else {
                continue;
            };
            let Some(name) = public_fn(member) else {
                continue;
            };
            if ty == "Docker" && in_api {
                // `pub fn containers(&self) -> Containers {`
                let handle = member
                    .strip_prefix(&format!("pub fn {name}(&self) -> "))
                    .and_then(|r| r.strip_suffix(" {"))
                    .unwrap_or_else(|| {
                        panic!(
                            "{}: Docker::{name} in src/api is not a handle accessor \
                             (`pub fn {name}(&self) -> Handle {{`)",
                            file.display()
                        )
                    });
                handles.insert(name.to_owned(), handle.to_owned());
            } else {
                methods
                    .entry(ty.clone())
                    .or_default()
                    .insert(name.to_owned());
            }
        }
    }
    let table_handles: BTreeSet<&str> = table().iter().map(|e| e.handle).collect();
    let source_handles: BTreeSet<&str> = handles.keys().map(String::as_str).collect();
    assert_eq!(
        source_handles, table_handles,
        "the handle accessors of src/api (left) and the handles of the table (right)"
    );

    let in_source: BTreeSet<String> = handles
        .iter()
        .flat_map(|(accessor, ty)| {
            let ms = methods
                .get(ty)
                .unwrap_or_else(|| panic!("no public methods found for {ty}"));
            ms.iter().map(move |m| format!("{accessor}.{m}"))
        })
        .collect();
    let in_table: BTreeSet<String> = table().iter().map(Entry::name).collect();
    let missing: Vec<&String> = in_source.difference(&in_table).collect();
    let extra: Vec<&String> = in_table.difference(&in_source).collect();
    assert!(
        missing.is_empty(),
        "public handle methods missing from the behaviour table in tests/bindings.rs: {missing:?}"
    );
    assert!(
        extra.is_empty(),
        "table entries the source scan does not find: {extra:?}"
    );
    assert_eq!(
        table().len(),
        in_table.len(),
        "a method is in the table twice"
    );
}
