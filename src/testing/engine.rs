//! The stateful in-memory engine: containers, images, networks, volumes,
//! exec instances and events, answering as dockerd does.

use super::requests::decode_filters;
use super::script::{
    finish_output, frame, onlcr, ContainerScript, ExecHandler, ExecOutput, ExecProcess,
    FakeContainer, FakeImage, Fault, FaultKind, PullScript, ScriptChooser, Step,
};
use super::shell::{interpret, Op};
use crate::models::{
    ContainerCreateBody, ContainerExecBody, EventActor, EventMessage, EventMessageScope,
    EventMessageType, ExecStartBody, NetworkCreateBody, VolumeCreateRequest,
};
use crate::ApiVersion;
use bytes::Bytes;
use http::StatusCode;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::{broadcast, mpsc, watch};
use tokio_util::sync::CancellationToken;

/// How the fake presents itself.
#[derive(Debug, Clone)]
pub(crate) struct Identity {
    pub api_version: ApiVersion,
    pub min_api_version: ApiVersion,
    pub os: String,
    pub engine_version: String,
}

/// An answer of the engine, turned into an HTTP response by the server.
pub(crate) enum Reply {
    Full {
        status: StatusCode,
        headers: Vec<(&'static str, String)>,
        body: Bytes,
    },
    Stream {
        status: StatusCode,
        headers: Vec<(&'static str, String)>,
        rx: mpsc::Receiver<Bytes>,
    },
    /// `101 UPGRADED`; the task runs on the hijacked connection.
    Upgrade {
        headers: Vec<(&'static str, String)>,
        task: Box<
            dyn FnOnce(hyper::upgrade::Upgraded) -> futures::future::BoxFuture<'static, ()> + Send,
        >,
    },
}

pub(crate) fn error(status: StatusCode, message: impl Into<String>) -> Reply {
    let body = serde_json::to_vec(&json!({ "message": message.into() })).unwrap_or_default();
    Reply::Full {
        status,
        headers: vec![("content-type", "application/json".into())],
        body: Bytes::from(body),
    }
}

fn json_reply<T: serde::Serialize>(status: StatusCode, value: &T) -> Reply {
    match serde_json::to_vec(value) {
        Ok(mut body) => {
            body.push(b'\n');
            Reply::Full {
                status,
                headers: vec![("content-type", "application/json".into())],
                body: Bytes::from(body),
            }
        }
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("dockhand fake: encoding the answer: {e}"),
        ),
    }
}

fn empty(status: StatusCode) -> Reply {
    Reply::Full {
        status,
        headers: Vec::new(),
        body: Bytes::new(),
    }
}

/// A request, routed.
pub(crate) struct Req {
    pub op: &'static str,
    pub params: Vec<(&'static str, String)>,
    pub query: Vec<(String, String)>,
    pub body: Bytes,
    pub headers: http::HeaderMap,
    pub version: ApiVersion,
    /// Whether the connection can be upgraded (hijacked).
    pub upgrade: bool,
}

impl Req {
    fn param(&self, name: &str) -> &str {
        self.params
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }
    fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    fn flag(&self, name: &str) -> bool {
        matches!(
            self.query(name).map(str::to_ascii_lowercase).as_deref(),
            Some("1" | "true" | "yes" | "on")
        )
    }
    fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, Reply> {
        if self.body.is_empty() {
            return serde_json::from_str("{}")
                .map_err(|e| error(StatusCode::BAD_REQUEST, e.to_string()));
        }
        serde_json::from_slice(&self.body)
            .map_err(|e| error(StatusCode::BAD_REQUEST, format!("invalid JSON: {e}")))
    }
    fn filters(&self) -> Result<BTreeMap<String, Vec<String>>, Reply> {
        match self.query("filters") {
            None | Some("") => Ok(BTreeMap::new()),
            Some(raw) => decode_filters(raw).map_err(|e| error(StatusCode::BAD_REQUEST, e)),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Created,
    Running,
    Paused,
    Exited,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Exited => "exited",
        }
    }
}

struct LogLine {
    stream: u8,
    data: Bytes,
    time: OffsetDateTime,
}

struct Container {
    id: String,
    name: String,
    created: OffsetDateTime,
    body: ContainerCreateBody,
    image_id: String,
    status: Status,
    exit_code: i64,
    exits: u64,
    started_at: Option<OffsetDateTime>,
    finished_at: Option<OffsetDateTime>,
    logs: Vec<LogLine>,
    script: Option<ContainerScript>,
    running_script: Option<ContainerScript>,
    run: u64,
    pid: i64,
    restart_count: i64,
    exec_ids: Vec<String>,
    /// What clients attached with stdin wrote to the container.
    stdin: Vec<u8>,
    /// The ids of the networks it is connected to.
    networks: Vec<String>,
    /// Bumped on every change, with the exit code: a waiter for removal
    /// still reads the last code once the sender is gone.
    changed: watch::Sender<(u64, i64)>,
}

impl Container {
    fn tty(&self) -> bool {
        self.body.tty == Some(true)
    }
    fn image_ref(&self) -> String {
        self.body.image.clone().unwrap_or_default()
    }
    fn labels(&self) -> HashMap<String, String> {
        self.body.labels.clone().unwrap_or_default()
    }
    fn notify(&self) {
        let code = self.exit_code;
        self.changed.send_modify(|(n, c)| {
            *n += 1;
            *c = code;
        });
    }
    fn path_args(&self, images: &[Image]) -> (String, Vec<String>) {
        let image_cmd = images
            .iter()
            .find(|i| i.id == self.image_id)
            .map(|i| i.spec.cmd.clone())
            .unwrap_or_default();
        let mut all = self.body.entrypoint.clone().unwrap_or_default();
        match &self.body.cmd {
            Some(c) if !c.is_empty() => all.extend(c.iter().cloned()),
            _ if all.is_empty() => all = image_cmd,
            _ => {}
        }
        let mut it = all.into_iter();
        (it.next().unwrap_or_default(), it.collect())
    }
}

struct Image {
    id: String,
    tags: Vec<String>,
    digest: String,
    created: OffsetDateTime,
    spec: FakeImage,
}

struct NetworkRec {
    id: String,
    name: String,
    driver: String,
    labels: HashMap<String, String>,
    created: OffsetDateTime,
    internal: bool,
    attachable: bool,
    predefined: bool,
}

struct VolumeRec {
    name: String,
    /// Created without a name (what `prune` removes from API 1.42 on).
    anonymous: bool,
    driver: String,
    labels: HashMap<String, String>,
    created: OffsetDateTime,
}

struct ExecRec {
    id: String,
    container_id: String,
    body: ContainerExecBody,
    running: bool,
    started: bool,
    exit_code: Option<i64>,
    pid: i64,
}

#[derive(Default)]
pub(crate) struct State {
    containers: Vec<Container>,
    images: Vec<Image>,
    networks: Vec<NetworkRec>,
    volumes: Vec<VolumeRec>,
    execs: HashMap<String, ExecRec>,
    events: Vec<EventMessage>,
    pullable: HashMap<String, PullScript>,
    counter: u64,
}

/// Everything the fake's connections share.
pub(crate) struct Shared {
    pub identity: Identity,
    state: Mutex<State>,
    events: broadcast::Sender<EventMessage>,
    pub faults: Mutex<Vec<Fault>>,
    pub exec_handler: Mutex<Option<ExecHandler>>,
    pub scripts: Mutex<Vec<ScriptChooser>>,
    pub requests: Mutex<Vec<super::ReceivedRequest>>,
    /// Cancelled when the [`super::FakeDocker`] is dropped: every task the
    /// fake spawned (scripts, streams, connections) ends with it.
    pub shutdown: CancellationToken,
}

/// Spawns `f`, ending it when `token` is cancelled.
pub(crate) fn spawn_until<F>(token: CancellationToken, f: F)
where
    F: std::future::Future + Send + 'static,
{
    tokio::spawn(async move {
        tokio::select! {
            _ = token.cancelled() => {}
            _ = f => {}
        }
    });
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| ZERO_TIME.into())
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// `docker ps`'s durations (Go's `units.HumanDuration`).
fn human_duration(d: Duration) -> String {
    let s = d.as_secs();
    let m = s / 60;
    let h = m / 60;
    match () {
        _ if s < 1 => "Less than a second".into(),
        _ if s == 1 => "1 second".into(),
        _ if s < 60 => format!("{s} seconds"),
        _ if m == 1 => "About a minute".into(),
        _ if m < 60 => format!("{m} minutes"),
        _ if h == 1 => "About an hour".into(),
        _ if h < 48 => format!("{h} hours"),
        _ if h < 24 * 7 * 2 => format!("{} days", h / 24),
        _ if h < 24 * 30 * 2 => format!("{} weeks", h / 24 / 7),
        _ if h < 24 * 365 * 2 => format!("{} months", h / 24 / 30),
        _ => format!("{} years", h / 24 / 365),
    }
}

fn since(t: OffsetDateTime) -> Duration {
    let d = now() - t;
    Duration::try_from(d).unwrap_or(Duration::ZERO)
}

/// The CLI's quoting of a command for `docker ps`.
fn shell_join(path: &str, args: &[String]) -> String {
    let quote = |s: &str| {
        let plain = !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_@%+=:,./-".contains(&b));
        if plain {
            s.to_string()
        } else {
            format!("'{}'", s.replace('\'', "'\"'\"'"))
        }
    };
    std::iter::once(path)
        .chain(args.iter().map(String::as_str))
        .map(quote)
        .collect::<Vec<_>>()
        .join(" ")
}

/// `busybox` → `busybox:latest`, `docker.io/library/x` → `x`.
pub(crate) fn normalize_ref(r: &str) -> String {
    let r = r
        .strip_prefix("docker.io/library/")
        .or_else(|| r.strip_prefix("index.docker.io/library/"))
        .or_else(|| r.strip_prefix("docker.io/"))
        .unwrap_or(r);
    if r.contains('@') {
        return r.to_string();
    }
    let last = r.rsplit('/').next().unwrap_or(r);
    if last.contains(':') {
        r.to_string()
    } else {
        format!("{r}:latest")
    }
}

fn signal_number(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Ok(n) = s.parse::<i64>() {
        return Some(n);
    }
    let name = s.strip_prefix("SIG").unwrap_or(s).to_ascii_uppercase();
    Some(match name.as_str() {
        "HUP" => 1,
        "INT" => 2,
        "QUIT" => 3,
        "KILL" => 9,
        "USR1" => 10,
        "USR2" => 12,
        "TERM" => 15,
        "STOP" => 19,
        _ => return None,
    })
}

const ADJECTIVES: &[&str] = &[
    "admiring",
    "brave",
    "clever",
    "dreamy",
    "eager",
    "focused",
    "gallant",
    "happy",
    "jolly",
    "keen",
    "lucid",
    "modest",
    "nifty",
    "optimistic",
    "quirky",
    "serene",
    "tender",
    "vibrant",
];
const NAMES: &[&str] = &[
    "albattani",
    "babbage",
    "curie",
    "darwin",
    "euclid",
    "faraday",
    "galileo",
    "hopper",
    "kepler",
    "lovelace",
    "mayer",
    "noether",
    "pasteur",
    "ritchie",
    "shannon",
    "turing",
];

impl State {
    fn next_id(&mut self) -> String {
        self.counter += 1;
        let mut h = Sha256::new();
        h.update(format!(
            "{:?}/{}/{}",
            std::time::SystemTime::now(),
            self.counter,
            std::process::id()
        ));
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }

    fn find_container(&self, key: &str) -> Option<usize> {
        let key = key.strip_prefix('/').unwrap_or(key);
        if key.is_empty() {
            return None;
        }
        if let Some(i) = self
            .containers
            .iter()
            .position(|c| c.id == key || c.name == key)
        {
            return Some(i);
        }
        let hits: Vec<usize> = self
            .containers
            .iter()
            .enumerate()
            .filter(|(_, c)| c.id.starts_with(key))
            .map(|(i, _)| i)
            .collect();
        (hits.len() == 1).then(|| hits[0])
    }

    fn find_image(&self, key: &str) -> Option<usize> {
        if key.is_empty() {
            return None;
        }
        let norm = normalize_ref(key);
        if let Some(i) = self.images.iter().position(|img| {
            img.id == key
                || img.tags.contains(&norm)
                || format!("{}@{}", repo_of(&img.spec.reference), img.digest) == key
        }) {
            return Some(i);
        }
        let bare = key.strip_prefix("sha256:").unwrap_or(key);
        if bare.len() >= 4 && bare.bytes().all(|b| b.is_ascii_hexdigit()) {
            let hits: Vec<usize> = self
                .images
                .iter()
                .enumerate()
                .filter(|(_, i)| i.id.trim_start_matches("sha256:").starts_with(bare))
                .map(|(i, _)| i)
                .collect();
            if hits.len() == 1 {
                return Some(hits[0]);
            }
        }
        None
    }

    fn find_network(&self, key: &str) -> Option<usize> {
        if let Some(i) = self.networks.iter().position(|n| n.id == key) {
            return Some(i);
        }
        if let Some(i) = self.networks.iter().position(|n| n.name == key) {
            return Some(i);
        }
        let hits: Vec<usize> = self
            .networks
            .iter()
            .enumerate()
            .filter(|(_, n)| !key.is_empty() && n.id.starts_with(key))
            .map(|(i, _)| i)
            .collect();
        (hits.len() == 1).then(|| hits[0])
    }

    fn random_name(&mut self) -> String {
        loop {
            self.counter += 1;
            let n = self.counter as usize;
            let name = format!(
                "{}_{}",
                ADJECTIVES[n % ADJECTIVES.len()],
                NAMES[(n / ADJECTIVES.len()) % NAMES.len()]
            );
            if !self.containers.iter().any(|c| c.name == name) {
                return name;
            }
        }
    }

    fn add_image(&mut self, spec: FakeImage) -> String {
        let tag = normalize_ref(&spec.reference);
        // A tag moves to the newest image that has it, as `docker tag` does.
        for img in &mut self.images {
            img.tags.retain(|t| *t != tag);
        }
        let id = format!("sha256:{}", self.next_id());
        let digest = format!("sha256:{}", self.next_id());
        self.images.push(Image {
            id: id.clone(),
            tags: vec![tag],
            digest,
            created: now(),
            spec,
        });
        id
    }
}

fn repo_of(reference: &str) -> String {
    let r = normalize_ref(reference);
    if let Some((repo, _)) = r.split_once('@') {
        return repo.to_string();
    }
    match r.rfind(':') {
        Some(i) if !r[i..].contains('/') => r[..i].to_string(),
        _ => r,
    }
}

impl Shared {
    pub(crate) fn new(identity: Identity) -> Arc<Shared> {
        let (events, _) = broadcast::channel(4096);
        let shared = Shared {
            identity,
            state: Mutex::new(State::default()),
            events,
            faults: Mutex::new(Vec::new()),
            exec_handler: Mutex::new(None),
            scripts: Mutex::new(Vec::new()),
            requests: Mutex::new(Vec::new()),
            shutdown: CancellationToken::new(),
        };
        {
            let mut st = lock(&shared.state);
            for (name, driver) in [("bridge", "bridge"), ("host", "host"), ("none", "null")] {
                let id = st.next_id();
                st.networks.push(NetworkRec {
                    id,
                    name: name.into(),
                    driver: driver.into(),
                    labels: HashMap::new(),
                    created: now(),
                    internal: false,
                    attachable: false,
                    predefined: true,
                });
            }
        }
        Arc::new(shared)
    }

    fn windows(&self) -> bool {
        self.identity.os == "windows"
    }

    // ----- seeding -------------------------------------------------------

    pub(crate) fn seed_image(&self, spec: FakeImage) -> String {
        lock(&self.state).add_image(spec)
    }

    pub(crate) fn seed_pullable(&self, reference: &str, script: PullScript) {
        lock(&self.state)
            .pullable
            .insert(normalize_ref(reference), script);
    }

    pub(crate) fn seed_container(self: &Arc<Self>, spec: FakeContainer) -> String {
        let body = ContainerCreateBody {
            image: Some(spec.image.clone()),
            cmd: spec.cmd.clone(),
            labels: Some(spec.labels.clone()),
            tty: Some(spec.tty),
            ..Default::default()
        };
        let id = {
            let mut st = lock(&self.state);
            if st.find_image(&spec.image).is_none() {
                st.add_image(FakeImage::new(spec.image.clone()));
            }
            match self.create_locked(&mut st, body, Some(spec.name.clone())) {
                Ok(id) => id,
                Err(_) => {
                    // The name is taken: seeding replaces nothing, it reports the existing one.
                    let i = st.find_container(&spec.name).unwrap_or(0);
                    return st
                        .containers
                        .get(i)
                        .map(|c| c.id.clone())
                        .unwrap_or_default();
                }
            }
        };
        if let Some(script) = spec.script {
            self.set_script(&id, script);
        }
        if spec.running {
            let _ = self.start_container(&id);
        }
        id
    }

    pub(crate) fn set_script(&self, key: &str, script: ContainerScript) -> bool {
        let mut st = lock(&self.state);
        match st.find_container(key) {
            Some(i) => {
                st.containers[i].script = Some(script);
                true
            }
            None => false,
        }
    }

    pub(crate) fn take_fault(&self, op: &str, path: &str) -> Option<FaultKind> {
        let mut faults = lock(&self.faults);
        let i = faults.iter().position(|f| {
            f.operation == op
                && f.path_contains.as_deref().is_none_or(|p| path.contains(p))
                && f.remaining != Some(0)
        })?;
        let kind = faults[i].kind.clone();
        if let Some(n) = &mut faults[i].remaining {
            *n -= 1;
            if *n == 0 {
                faults.remove(i);
            }
        }
        Some(kind)
    }

    // ----- events --------------------------------------------------------

    fn emit(
        &self,
        st: &mut State,
        kind: EventMessageType,
        action: &str,
        actor: &str,
        attributes: HashMap<String, String>,
    ) {
        let t = now();
        let nanos = t.unix_timestamp_nanos() as i64;
        let msg = EventMessage {
            type_: Some(kind),
            action: Some(action.to_string()),
            actor: Some(EventActor {
                id: Some(actor.to_string()),
                attributes: Some(attributes),
                ..Default::default()
            }),
            scope: Some(EventMessageScope::Local),
            time: Some(t.unix_timestamp()),
            time_nano: Some(nanos),
            ..Default::default()
        };
        st.events.push(msg.clone());
        let _ = self.events.send(msg);
    }

    fn container_event(&self, st: &mut State, i: usize, action: &str, extra: &[(&str, String)]) {
        let c = &st.containers[i];
        let mut attrs = c.labels();
        attrs.insert("image".into(), c.image_ref());
        attrs.insert("name".into(), c.name.clone());
        for (k, v) in extra {
            attrs.insert((*k).into(), v.clone());
        }
        let id = c.id.clone();
        self.emit(st, EventMessageType::Container, action, &id, attrs);
    }

    /// A network event for each network the container is on (not `host`
    /// or `none`, which dockerd does not report).
    fn network_event(&self, st: &mut State, i: usize, action: &str) {
        let cid = st.containers[i].id.clone();
        for nid in st.containers[i].networks.clone() {
            self.network_event_for(st, &cid, &nid, action);
        }
    }

    fn network_event_for(&self, st: &mut State, cid: &str, nid: &str, action: &str) {
        let Some(n) = st.networks.iter().find(|n| n.id == nid) else {
            return;
        };
        if n.driver == "host" || n.driver == "null" {
            return;
        }
        let attrs = HashMap::from([
            ("container".to_string(), cid.to_string()),
            ("name".to_string(), n.name.clone()),
            ("type".to_string(), n.driver.clone()),
        ]);
        let nid = n.id.clone();
        self.emit(st, EventMessageType::Network, action, &nid, attrs);
    }

    /// `NetworkSettings.Networks` of a container: one entry per network.
    fn networks_json(st: &State, c: &Container) -> Value {
        let map: serde_json::Map<String, Value> = c
            .networks
            .iter()
            .filter_map(|nid| st.networks.iter().find(|n| n.id == *nid))
            .map(|n| {
                (
                    n.name.clone(),
                    json!({"NetworkID": n.id, "EndpointID": "", "Gateway": "", "IPAddress": "", "IPPrefixLen": 0, "MacAddress": ""}),
                )
            })
            .collect();
        Value::Object(map)
    }

    // ----- container lifecycle ------------------------------------------

    fn create_locked(
        &self,
        st: &mut State,
        body: ContainerCreateBody,
        name: Option<String>,
    ) -> Result<String, Reply> {
        let image = body.image.clone().unwrap_or_default();
        if image.is_empty() {
            return Err(error(StatusCode::BAD_REQUEST, "No image was specified"));
        }
        let Some(img) = st.find_image(&image) else {
            return Err(error(
                StatusCode::NOT_FOUND,
                format!("No such image: {}", normalize_ref(&image)),
            ));
        };
        let name = match name.filter(|n| !n.is_empty()) {
            Some(n) => {
                let n = n.strip_prefix('/').unwrap_or(&n).to_string();
                let valid = regex::Regex::new(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]+$")
                    .map(|r| r.is_match(&n))
                    .unwrap_or(false);
                if !valid {
                    return Err(error(
                        StatusCode::BAD_REQUEST,
                        format!("Invalid container name ({n}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"),
                    ));
                }
                if let Some(other) = st.containers.iter().find(|c| c.name == n) {
                    return Err(error(
                        StatusCode::CONFLICT,
                        format!(
                            "Conflict. The container name \"/{n}\" is already in use by container \"{}\". You have to remove (or rename) that container to be able to reuse that name.",
                            other.id
                        ),
                    ));
                }
                n
            }
            None => st.random_name(),
        };
        let image_id = st.images[img].id.clone();
        let has_cmd = body.cmd.as_ref().is_some_and(|c| !c.is_empty())
            || body.entrypoint.as_ref().is_some_and(|c| !c.is_empty())
            || !st.images[img].spec.cmd.is_empty();
        if !has_cmd {
            return Err(error(StatusCode::BAD_REQUEST, "No command specified"));
        }
        let mode = body
            .host_config
            .as_ref()
            .and_then(|h| h.network_mode.clone())
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| "default".into());
        let first = if mode == "default" {
            "bridge".to_string()
        } else {
            mode
        };
        let mut wanted = vec![first];
        if let Some(endpoints) = body
            .networking_config
            .as_ref()
            .and_then(|n| n.endpoints_config.as_ref())
        {
            let mut more: Vec<String> = endpoints.keys().cloned().collect();
            more.sort();
            wanted.extend(more);
        }
        let mut networks = Vec::new();
        for w in wanted {
            if w.starts_with("container:") {
                continue;
            }
            match st.find_network(&w) {
                Some(n) => {
                    if !networks.contains(&st.networks[n].id) {
                        networks.push(st.networks[n].id.clone());
                    }
                }
                None => {
                    return Err(error(
                        StatusCode::NOT_FOUND,
                        format!("network {w} not found"),
                    ))
                }
            }
        }
        let id = st.next_id();
        let (changed, _) = watch::channel((0, 0));
        st.containers.push(Container {
            id: id.clone(),
            name,
            created: now(),
            body,
            image_id,
            status: Status::Created,
            exit_code: 0,
            exits: 0,
            started_at: None,
            finished_at: None,
            logs: Vec::new(),
            script: None,
            running_script: None,
            run: 0,
            pid: 0,
            restart_count: 0,
            exec_ids: Vec::new(),
            stdin: Vec::new(),
            networks,
            changed,
        });
        let i = st.containers.len() - 1;
        self.container_event(st, i, "create", &[]);
        Ok(id)
    }

    fn choose_script(&self, st: &State, i: usize) -> ContainerScript {
        let c = &st.containers[i];
        if let Some(s) = &c.script {
            return s.clone();
        }
        let choosers = lock(&self.scripts).clone();
        for chooser in choosers.iter().rev() {
            if let Some(s) = chooser(&c.body, &c.name) {
                return s;
            }
        }
        let (path, args) = c.path_args(&st.images);
        builtin_script(&path, &args, c.tty())
    }

    /// Starts a container; `Ok(false)` when it was already running.
    fn start_container(self: &Arc<Self>, key: &str) -> Result<bool, Reply> {
        let (id, run, script) = {
            let mut st = lock(&self.state);
            let Some(i) = st.find_container(key) else {
                return Err(no_such_container(key));
            };
            match st.containers[i].status {
                Status::Running => return Ok(false),
                Status::Paused => {
                    return Err(error(
                        StatusCode::CONFLICT,
                        "cannot start a paused container, try unpause instead",
                    ))
                }
                _ => {}
            }
            let script = self.choose_script(&st, i);
            st.counter += 1;
            let pid = 1000 + st.counter as i64;
            let c = &mut st.containers[i];
            c.run += 1;
            c.status = Status::Running;
            c.started_at = Some(now());
            c.pid = pid;
            c.exit_code = 0;
            c.running_script = Some(script.clone());
            let (id, run) = (c.id.clone(), c.run);
            self.network_event(&mut st, i, "connect");
            self.container_event(&mut st, i, "start", &[]);
            st.containers[i].notify();
            (id, run, script)
        };
        let shared = self.clone();
        spawn_until(self.shutdown.clone(), async move {
            shared.run_script(id, run, script).await
        });
        Ok(true)
    }

    async fn run_script(self: Arc<Self>, id: String, run: u64, script: ContainerScript) {
        for step in script.steps {
            match step {
                Step::Sleep(d) => tokio::time::sleep(d).await,
                Step::Output(stream, data) => {
                    let mut st = lock(&self.state);
                    let Some(c) = st.containers.iter_mut().find(|c| c.id == id) else {
                        return;
                    };
                    if c.run != run || c.status != Status::Running {
                        return;
                    }
                    let data = if c.tty() { onlcr(&data) } else { data };
                    c.logs.push(LogLine {
                        stream,
                        data,
                        time: now(),
                    });
                    c.notify();
                }
            }
        }
        if let Some(code) = script.exit {
            let mut st = lock(&self.state);
            if let Some(i) = st.containers.iter().position(|c| c.id == id) {
                if st.containers[i].run == run && st.containers[i].status == Status::Running {
                    self.exit_locked(&mut st, i, code);
                    self.auto_remove(&mut st, &id);
                }
            }
        }
    }

    fn exit_locked(&self, st: &mut State, i: usize, code: i64) {
        let c = &mut st.containers[i];
        c.status = Status::Exited;
        c.exit_code = code;
        c.exits += 1;
        c.finished_at = Some(now());
        c.pid = 0;
        c.run += 1;
        let exec_ids = c.exec_ids.clone();
        for e in exec_ids {
            if let Some(x) = st.execs.get_mut(&e) {
                if x.running {
                    x.running = false;
                    x.exit_code = Some(137);
                }
            }
        }
        self.container_event(st, i, "die", &[("exitCode", code.to_string())]);
        self.network_event(st, i, "disconnect");
        st.containers[i].notify();
    }

    /// Removes a container that exited and asked for it (`AutoRemove`,
    /// `docker run --rm`), as dockerd does after `die`.
    fn auto_remove(&self, st: &mut State, id: &str) {
        if let Some(i) = st.containers.iter().position(|c| c.id == id) {
            let c = &st.containers[i];
            let wanted = c.body.host_config.as_ref().and_then(|h| h.auto_remove) == Some(true);
            if wanted && c.status == Status::Exited {
                self.remove_locked(st, i);
            }
        }
    }

    fn kill_locked(&self, st: &mut State, i: usize, signal: i64) {
        self.container_event(st, i, "kill", &[("signal", signal.to_string())]);
        let code = if signal == 9 {
            137
        } else {
            st.containers[i]
                .running_script
                .as_ref()
                .map(|s| s.stop_exit_code)
                .unwrap_or(128 + signal)
        };
        self.exit_locked(st, i, code);
    }

    fn stop_locked(&self, st: &mut State, i: usize) {
        let code = st.containers[i]
            .running_script
            .as_ref()
            .map(|s| s.stop_exit_code)
            .unwrap_or(137);
        self.container_event(st, i, "kill", &[("signal", "15".into())]);
        if code == 137 {
            self.container_event(st, i, "kill", &[("signal", "9".into())]);
        }
        self.exit_locked(st, i, code);
        self.container_event(st, i, "stop", &[]);
    }

    fn remove_locked(&self, st: &mut State, i: usize) {
        self.container_event(st, i, "destroy", &[]);
        let c = st.containers.remove(i);
        for e in &c.exec_ids {
            st.execs.remove(e);
        }
        c.notify();
        // Dropping `c` drops its watch sender: waiters for removal wake up.
    }

    // ----- dispatch ------------------------------------------------------

    pub(crate) async fn handle(self: &Arc<Self>, req: Req) -> Reply {
        match req.op {
            "SystemPing" | "SystemPingHead" => Reply::Full {
                status: StatusCode::OK,
                headers: vec![
                    ("content-type", "text/plain; charset=utf-8".into()),
                    ("cache-control", "no-cache, no-store, must-revalidate".into()),
                    ("pragma", "no-cache".into()),
                ],
                body: if req.op == "SystemPing" {
                    Bytes::from_static(b"OK")
                } else {
                    Bytes::new()
                },
            },
            "SystemVersion" => self.version_reply(),
            "SystemInfo" => self.info_reply(),
            "SystemEvents" => self.events_reply(&req),
            "ContainerList" => self.container_list(&req),
            "ContainerCreate" => self.container_create(&req),
            "ContainerInspect" => self.container_inspect(&req),
            "ContainerStart" => match self.start_container(req.param("id")) {
                Ok(true) => empty(StatusCode::NO_CONTENT),
                Ok(false) => empty(StatusCode::NOT_MODIFIED),
                Err(r) => r,
            },
            "ContainerStop" => self.container_stop(&req),
            "ContainerRestart" => self.container_restart(&req),
            "ContainerKill" => self.container_kill(&req),
            "ContainerWait" => self.container_wait(&req),
            "ContainerDelete" => self.container_delete(&req),
            "ContainerLogs" => self.container_logs(&req),
            "ContainerRename" => self.container_rename(&req),
            "ContainerAttach" => self.container_attach(&req),
            "ContainerPause" | "ContainerUnpause" => self.container_pause(&req),
            "ContainerExec" => self.exec_create(&req),
            "ExecStart" => self.exec_start(req),
            "ExecInspect" => self.exec_inspect(&req),
            "ExecResize" | "ContainerResize" => empty(StatusCode::OK),
            "ImageCreate" => self.image_create(&req),
            "ImageList" => self.image_list(&req),
            "ImageInspect" => self.image_inspect(&req),
            "ImageDelete" => self.image_delete(&req),
            "ImageTag" => self.image_tag(&req),
            "NetworkCreate" => self.network_create(&req),
            "NetworkList" => self.network_list(&req),
            "NetworkInspect" => self.network_inspect(&req),
            "NetworkDelete" => self.network_delete(&req),
            "NetworkConnect" => self.network_connect(&req),
            "ContainerPrune" => self.container_prune(&req),
            "NetworkPrune" => self.network_prune(&req),
            "VolumePrune" => self.volume_prune(&req),
            "ContainerTop" => self.container_top(&req),
            "NetworkDisconnect" => self.network_disconnect(&req),
            "VolumeCreate" => self.volume_create(&req),
            "VolumeList" => self.volume_list(&req),
            "VolumeInspect" => self.volume_inspect(&req),
            "VolumeDelete" => self.volume_delete(&req),
            other => error(
                StatusCode::NOT_IMPLEMENTED,
                format!(
                    "dockhand fake: {other} is not implemented by the fake daemon; mount a mock for it on FakeDocker::mock_server()"
                ),
            ),
        }
    }

    // ----- system --------------------------------------------------------

    fn version_reply(&self) -> Reply {
        let id = &self.identity;
        json_reply(
            StatusCode::OK,
            &json!({
                "Platform": {"Name": "dockhand fake"},
                "Components": [{"Name": "Engine", "Version": id.engine_version, "Details": {
                    "ApiVersion": id.api_version.to_string(),
                    "MinAPIVersion": id.min_api_version.to_string(),
                    "Os": id.os, "Arch": "amd64"}}],
                "Version": id.engine_version,
                "ApiVersion": id.api_version.to_string(),
                "MinAPIVersion": id.min_api_version.to_string(),
                "GitCommit": "dockhand",
                "GoVersion": "none",
                "Os": id.os,
                "Arch": "amd64",
                "KernelVersion": if self.windows() { "10.0 20348 (20348.1.amd64fre.fe_release.210507-1500)" } else { "6.1.0-fake" },
                "BuildTime": "2025-01-01T00:00:00.000000000+00:00"
            }),
        )
    }

    fn info_reply(&self) -> Reply {
        let st = lock(&self.state);
        let count = |s: Status| st.containers.iter().filter(|c| c.status == s).count();
        let running = count(Status::Running);
        let paused = count(Status::Paused);
        json_reply(
            StatusCode::OK,
            &json!({
                "ID": "DOCK:HAND:FAKE",
                "Containers": st.containers.len(),
                "ContainersRunning": running,
                "ContainersPaused": paused,
                "ContainersStopped": st.containers.len() - running - paused,
                "Images": st.images.len(),
                "Driver": if self.windows() { "windowsfilter" } else { "overlay2" },
                "OSType": self.identity.os,
                "OperatingSystem": "dockhand fake daemon",
                "Architecture": "x86_64",
                "NCPU": 2,
                "MemTotal": 2_147_483_648_i64,
                "Name": "dockhand-fake",
                "ServerVersion": self.identity.engine_version,
                "DockerRootDir": "/var/lib/docker",
                "Labels": [],
                "ExperimentalBuild": false,
            }),
        )
    }

    fn events_reply(self: &Arc<Self>, req: &Req) -> Reply {
        let filters = match req.filters() {
            Ok(f) => f,
            Err(r) => return r,
        };
        let parse_time = |name: &str| -> Result<Option<i128>, Reply> {
            match req.query(name) {
                None | Some("") => Ok(None),
                Some(v) => parse_event_time(v).map(Some).ok_or_else(|| {
                    error(
                        StatusCode::BAD_REQUEST,
                        format!("invalid value for {name}: {v:?}"),
                    )
                }),
            }
        };
        let since = match parse_time("since") {
            Ok(v) => v,
            Err(r) => return r,
        };
        let until = match parse_time("until") {
            Ok(v) => v,
            Err(r) => return r,
        };
        let legacy = req.version < ApiVersion::new(1, 52);
        let (past, mut live) = {
            let st = lock(&self.state);
            let past: Vec<EventMessage> = match since {
                Some(s) => st
                    .events
                    .iter()
                    .filter(|e| e.time_nano.unwrap_or(0) as i128 >= s)
                    .cloned()
                    .collect(),
                None => Vec::new(),
            };
            (past, self.events.subscribe())
        };
        let (tx, rx) = mpsc::channel(64);
        spawn_until(self.shutdown.clone(), async move {
            let within =
                |e: &EventMessage| until.is_none_or(|u| (e.time_nano.unwrap_or(0) as i128) <= u);
            for e in past {
                if !within(&e) {
                    return;
                }
                if event_matches(&e, &filters) && tx.send(event_bytes(&e, legacy)).await.is_err() {
                    return;
                }
            }
            let deadline = until.map(|u| {
                let now_ns = now().unix_timestamp_nanos();
                tokio::time::Instant::now()
                    + Duration::from_nanos(u.saturating_sub(now_ns).max(0) as u64)
            });
            loop {
                let next = match deadline {
                    Some(d) => match tokio::time::timeout_at(d, live.recv()).await {
                        Ok(r) => r,
                        Err(_) => return,
                    },
                    None => tokio::select! {
                        r = live.recv() => r,
                        _ = tx.closed() => return,
                    },
                };
                match next {
                    Ok(e) => {
                        if !within(&e) {
                            return;
                        }
                        if event_matches(&e, &filters)
                            && tx.send(event_bytes(&e, legacy)).await.is_err()
                        {
                            return;
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return,
                }
            }
        });
        Reply::Stream {
            status: StatusCode::OK,
            headers: vec![("content-type", "application/json".into())],
            rx,
        }
    }

    // ----- containers ----------------------------------------------------

    fn container_create(self: &Arc<Self>, req: &Req) -> Reply {
        let body: ContainerCreateBody = match req.json() {
            Ok(b) => b,
            Err(r) => return r,
        };
        let mut st = lock(&self.state);
        match self.create_locked(&mut st, body, req.query("name").map(str::to_owned)) {
            Ok(id) => json_reply(StatusCode::CREATED, &json!({"Id": id, "Warnings": []})),
            Err(r) => r,
        }
    }

    fn container_json(&self, st: &State, c: &Container) -> Value {
        let (path, args) = c.path_args(&st.images);
        let mut config = serde_json::to_value(&c.body).unwrap_or_else(|_| json!({}));
        let mut host_config = json!({"NetworkMode": "default"});
        if let Some(obj) = config.as_object_mut() {
            if let Some(h) = obj.remove("HostConfig") {
                host_config = h;
            }
            obj.remove("NetworkingConfig");
            obj.entry("Hostname").or_insert_with(|| json!(c.id[..12]));
            obj.entry("Tty").or_insert(json!(false));
            obj.entry("Labels").or_insert(json!({}));
            obj.entry("Env").or_insert_with(|| {
                let env = st
                    .images
                    .iter()
                    .find(|i| i.id == c.image_id)
                    .map(|i| i.spec.env.clone())
                    .unwrap_or_default();
                json!(env)
            });
            if !obj.contains_key("Cmd") && !obj.contains_key("Entrypoint") {
                let mut all = vec![path.clone()];
                all.extend(args.iter().cloned());
                obj.insert("Cmd".into(), json!(all));
            }
        }
        if let Some(h) = host_config.as_object_mut() {
            h.entry("NetworkMode").or_insert(json!("default"));
        }
        let time_or_zero =
            |t: Option<OffsetDateTime>| t.map(rfc3339).unwrap_or_else(|| ZERO_TIME.into());
        json!({
            "Id": c.id,
            "Created": rfc3339(c.created),
            "Path": path,
            "Args": args,
            "State": {
                "Status": c.status.as_str(),
                "Running": c.status == Status::Running || c.status == Status::Paused,
                "Paused": c.status == Status::Paused,
                "Restarting": false,
                "OOMKilled": false,
                "Dead": false,
                "Pid": c.pid,
                "ExitCode": c.exit_code,
                "Error": "",
                "StartedAt": time_or_zero(c.started_at),
                "FinishedAt": time_or_zero(c.finished_at),
            },
            "Image": c.image_id,
            "Name": format!("/{}", c.name),
            "RestartCount": c.restart_count,
            "Driver": if self.windows() { "windowsfilter" } else { "overlay2" },
            "Platform": self.identity.os,
            "MountLabel": "",
            "ProcessLabel": "",
            "AppArmorProfile": "",
            "ExecIDs": if c.exec_ids.is_empty() { Value::Null } else { json!(c.exec_ids) },
            "HostConfig": host_config,
            "Mounts": [],
            "Config": config,
            "NetworkSettings": {
                "Ports": {},
                "Networks": Self::networks_json(st, c),
            },
        })
    }

    fn container_inspect(&self, req: &Req) -> Reply {
        let st = lock(&self.state);
        let key = req.param("id");
        let Some(i) = st.find_container(key) else {
            return no_such_container(key);
        };
        let v = self.container_json(&st, &st.containers[i]);
        typed_reply::<crate::models::ContainerInspectResponse>(v)
    }

    fn container_list(&self, req: &Req) -> Reply {
        let filters = match req.filters() {
            Ok(f) => f,
            Err(r) => return r,
        };
        for (k, values) in &filters {
            match k.as_str() {
                "label" | "name" | "status" | "id" | "ancestor" | "exited" | "network"
                | "before" | "since" | "volume" | "health" | "is-task" | "isolation"
                | "publish" | "expose" => {}
                _ => return error(StatusCode::BAD_REQUEST, format!("Invalid filter '{k}'")),
            }
            if k == "status" {
                for v in values {
                    if !matches!(
                        v.as_str(),
                        "created"
                            | "restarting"
                            | "running"
                            | "removing"
                            | "paused"
                            | "exited"
                            | "dead"
                    ) {
                        return error(
                            StatusCode::BAD_REQUEST,
                            format!("Invalid filter 'status={v}'"),
                        );
                    }
                }
            }
        }
        let name_res: Vec<regex::Regex> = match filters
            .get("name")
            .map(|v| {
                v.iter()
                    .map(|p| regex::Regex::new(p))
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()
        {
            Ok(v) => v.unwrap_or_default(),
            Err(e) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    format!("invalid filter 'name': {e}"),
                )
            }
        };
        let all =
            req.flag("all") || filters.contains_key("status") || filters.contains_key("exited");
        let limit = req
            .query("limit")
            .and_then(|l| l.parse::<i64>().ok())
            .filter(|l| *l > 0);
        if let Some(bad) = filters.get("health").and_then(|v| {
            v.iter()
                .find(|h| !matches!(h.as_str(), "starting" | "healthy" | "unhealthy" | "none"))
        }) {
            return error(
                StatusCode::BAD_REQUEST,
                format!("Unrecognised filter value for health: {bad}"),
            );
        }
        let st = lock(&self.state);
        let position = |key: &str| -> Result<Option<usize>, Reply> {
            match filters.get(key).and_then(|v| v.first()) {
                None => Ok(None),
                Some(k) => st
                    .find_container(k)
                    .map(Some)
                    .ok_or_else(|| no_such_container(k)),
            }
        };
        let (since_pos, before_pos) = match (position("since"), position("before")) {
            (Ok(s), Ok(b)) => (s, b),
            (Err(r), _) | (_, Err(r)) => return r,
        };
        let mut out = Vec::new();
        for (pos, c) in st.containers.iter().enumerate().rev() {
            if !all && c.status != Status::Running && c.status != Status::Paused {
                continue;
            }
            if since_pos.is_some_and(|s| pos <= s) || before_pos.is_some_and(|b| pos >= b) {
                continue;
            }
            if let Some(vals) = filters.get("network") {
                let on = |v: &String| {
                    c.networks.iter().any(|nid| {
                        *nid == *v || st.networks.iter().any(|n| n.id == *nid && n.name == *v)
                    })
                };
                if !vals.iter().any(on) {
                    continue;
                }
            }
            // No healthchecks run, nothing is a swarm task, and ports,
            // volumes and isolation are not modelled: those filters match
            // what the fake's containers are (`health=none`, `is-task=false`).
            if filters
                .get("health")
                .is_some_and(|v| !v.iter().any(|h| h == "none"))
                || filters
                    .get("is-task")
                    .is_some_and(|v| !v.iter().any(|t| t == "false" || t == "0"))
                || ["volume", "publish", "expose", "isolation"]
                    .iter()
                    .any(|k| filters.contains_key(*k))
            {
                continue;
            }
            if let Some(vals) = filters.get("status") {
                if !vals.iter().any(|v| v == c.status.as_str()) {
                    continue;
                }
            }
            if let Some(vals) = filters.get("exited") {
                if c.status != Status::Exited || !vals.iter().any(|v| *v == c.exit_code.to_string())
                {
                    continue;
                }
            }
            if let Some(vals) = filters.get("id") {
                if !vals.iter().any(|v| c.id.starts_with(v.as_str())) {
                    continue;
                }
            }
            if !name_res.is_empty() {
                let slashed = format!("/{}", c.name);
                if !name_res
                    .iter()
                    .any(|r| r.is_match(&c.name) || r.is_match(&slashed))
                {
                    continue;
                }
            }
            if let Some(vals) = filters.get("label") {
                if !labels_match(&c.labels(), vals) {
                    continue;
                }
            }
            if let Some(vals) = filters.get("ancestor") {
                let ok = vals.iter().any(|a| {
                    st.find_image(a)
                        .is_some_and(|i| st.images[i].id == c.image_id)
                        || normalize_ref(a) == normalize_ref(&c.image_ref())
                });
                if !ok {
                    continue;
                }
            }
            out.push(self.summary_json(&st, c));
            if limit.is_some_and(|l| out.len() as i64 >= l) {
                break;
            }
        }
        typed_reply::<crate::operations::ContainerListResponse>(Value::Array(out))
    }

    fn summary_json(&self, st: &State, c: &Container) -> Value {
        let (path, args) = c.path_args(&st.images);
        let status = match c.status {
            Status::Created => "Created".to_string(),
            Status::Running => format!(
                "Up {}",
                human_duration(since(c.started_at.unwrap_or(c.created)))
            ),
            Status::Paused => format!(
                "Up {} (Paused)",
                human_duration(since(c.started_at.unwrap_or(c.created)))
            ),
            Status::Exited => format!(
                "Exited ({}) {} ago",
                c.exit_code,
                human_duration(since(c.finished_at.unwrap_or(c.created)))
            ),
        };
        let mode = c
            .body
            .host_config
            .as_ref()
            .and_then(|h| h.network_mode.clone())
            .unwrap_or_else(|| "default".into());
        json!({
            "Id": c.id,
            "Names": [format!("/{}", c.name)],
            "Image": c.image_ref(),
            "ImageID": c.image_id,
            "Command": shell_join(&path, &args),
            "Created": c.created.unix_timestamp(),
            "Ports": [],
            "Labels": c.labels(),
            "State": c.status.as_str(),
            "Status": status,
            "HostConfig": {"NetworkMode": mode},
            "NetworkSettings": {"Networks": Self::networks_json(st, c)},
            "Mounts": [],
        })
    }

    fn container_stop(&self, req: &Req) -> Reply {
        let mut st = lock(&self.state);
        let key = req.param("id");
        let Some(i) = st.find_container(key) else {
            return no_such_container(key);
        };
        if !matches!(st.containers[i].status, Status::Running | Status::Paused) {
            return empty(StatusCode::NOT_MODIFIED);
        }
        let id = st.containers[i].id.clone();
        self.stop_locked(&mut st, i);
        self.auto_remove(&mut st, &id);
        empty(StatusCode::NO_CONTENT)
    }

    fn container_restart(self: &Arc<Self>, req: &Req) -> Reply {
        let key = req.param("id").to_string();
        {
            let mut st = lock(&self.state);
            let Some(i) = st.find_container(&key) else {
                return no_such_container(&key);
            };
            if matches!(st.containers[i].status, Status::Running | Status::Paused) {
                self.stop_locked(&mut st, i);
            }
        }
        if let Err(r) = self.start_container(&key) {
            return r;
        }
        let mut st = lock(&self.state);
        if let Some(i) = st.find_container(&key) {
            self.container_event(&mut st, i, "restart", &[]);
        }
        empty(StatusCode::NO_CONTENT)
    }

    fn container_kill(&self, req: &Req) -> Reply {
        let mut st = lock(&self.state);
        let key = req.param("id");
        let Some(i) = st.find_container(key) else {
            return no_such_container(key);
        };
        let signal = match req.query("signal") {
            None | Some("") => 9,
            Some(s) => match signal_number(s).filter(|n| (1..=64).contains(n)) {
                Some(n) => n,
                None => {
                    return error(StatusCode::BAD_REQUEST, format!("Invalid signal: {s}"));
                }
            },
        };
        if !matches!(st.containers[i].status, Status::Running | Status::Paused) {
            let id = st.containers[i].id.clone();
            return error(
                StatusCode::CONFLICT,
                format!("Cannot kill container: {key}: Container {id} is not running"),
            );
        }
        let id = st.containers[i].id.clone();
        self.kill_locked(&mut st, i, signal);
        self.auto_remove(&mut st, &id);
        empty(StatusCode::NO_CONTENT)
    }

    fn container_pause(&self, req: &Req) -> Reply {
        let mut st = lock(&self.state);
        let key = req.param("id");
        let Some(i) = st.find_container(key) else {
            return no_such_container(key);
        };
        let id = st.containers[i].id.clone();
        let pause = req.op == "ContainerPause";
        match (pause, st.containers[i].status) {
            (true, Status::Running) => {
                st.containers[i].status = Status::Paused;
                self.container_event(&mut st, i, "pause", &[]);
            }
            (false, Status::Paused) => {
                st.containers[i].status = Status::Running;
                self.container_event(&mut st, i, "unpause", &[]);
            }
            (true, Status::Paused) => {
                return error(
                    StatusCode::CONFLICT,
                    format!("Container {id} is already paused"),
                )
            }
            (false, _) => {
                return error(
                    StatusCode::CONFLICT,
                    format!("Container {id} is not paused"),
                )
            }
            (true, _) => {
                return error(
                    StatusCode::CONFLICT,
                    format!("Container {id} is not running"),
                )
            }
        }
        st.containers[i].notify();
        empty(StatusCode::NO_CONTENT)
    }

    fn container_rename(&self, req: &Req) -> Reply {
        let mut st = lock(&self.state);
        let key = req.param("id");
        let Some(i) = st.find_container(key) else {
            return no_such_container(key);
        };
        let new = req
            .query("name")
            .unwrap_or("")
            .trim_start_matches('/')
            .to_string();
        if new.is_empty() {
            return error(
                StatusCode::BAD_REQUEST,
                "Neither old nor new names may be empty",
            );
        }
        if let Some(other) = st.containers.iter().find(|c| c.name == new) {
            return error(
                StatusCode::CONFLICT,
                format!(
                    "Conflict. The container name \"/{new}\" is already in use by container \"{}\". You have to remove (or rename) that container to be able to reuse that name.",
                    other.id
                ),
            );
        }
        let old = std::mem::replace(&mut st.containers[i].name, new);
        self.container_event(&mut st, i, "rename", &[("oldName", format!("/{old}"))]);
        empty(StatusCode::NO_CONTENT)
    }

    fn container_delete(&self, req: &Req) -> Reply {
        let mut st = lock(&self.state);
        let key = req.param("id");
        let Some(i) = st.find_container(key) else {
            return no_such_container(key);
        };
        if matches!(st.containers[i].status, Status::Running | Status::Paused) {
            if !req.flag("force") {
                let c = &st.containers[i];
                let message = if req.version <= ApiVersion::new(1, 41) {
                    format!("You cannot remove a running container {}. Stop the container before attempting removal or force remove", c.id)
                } else {
                    format!("cannot remove container \"/{}\": container is running: stop the container before removing or force remove", c.name)
                };
                return error(StatusCode::CONFLICT, message);
            }
            self.kill_locked(&mut st, i, 9);
        }
        self.remove_locked(&mut st, i);
        empty(StatusCode::NO_CONTENT)
    }

    fn container_wait(self: &Arc<Self>, req: &Req) -> Reply {
        let key = req.param("id").to_string();
        let condition = req.query("condition").unwrap_or("not-running").to_string();
        if !matches!(
            condition.as_str(),
            "" | "not-running" | "next-exit" | "removed"
        ) {
            return error(
                StatusCode::BAD_REQUEST,
                format!("invalid condition: \"{condition}\""),
            );
        }
        let (mut rx, start_exits) = {
            let st = lock(&self.state);
            let Some(i) = st.find_container(&key) else {
                return no_such_container(&key);
            };
            (st.containers[i].changed.subscribe(), st.containers[i].exits)
        };
        let id = {
            let st = lock(&self.state);
            st.find_container(&key)
                .map(|i| st.containers[i].id.clone())
                .unwrap_or_default()
        };
        let shared = self.clone();
        let (tx, out) = mpsc::channel(1);
        spawn_until(self.shutdown.clone(), async move {
            let last_code = loop {
                {
                    let st = lock(&shared.state);
                    match st.containers.iter().find(|c| c.id == id) {
                        None => break rx.borrow().1,
                        Some(c) => {
                            let running = matches!(c.status, Status::Running | Status::Paused);
                            let done = match condition.as_str() {
                                "next-exit" => c.exits > start_exits,
                                "removed" => false,
                                _ => !running,
                            };
                            if done {
                                break c.exit_code;
                            }
                        }
                    }
                }
                tokio::select! {
                    r = rx.changed() => if r.is_err() {
                        break rx.borrow().1;
                    },
                    _ = tx.closed() => return,
                }
            };
            let body = format!("{{\"Error\":null,\"StatusCode\":{last_code}}}\n");
            let _ = tx.send(Bytes::from(body)).await;
        });
        Reply::Stream {
            status: StatusCode::OK,
            headers: vec![("content-type", "application/json".into())],
            rx: out,
        }
    }

    fn container_logs(self: &Arc<Self>, req: &Req) -> Reply {
        let key = req.param("id").to_string();
        let want_out = req.flag("stdout");
        let want_err = req.flag("stderr");
        if !want_out && !want_err {
            return error(
                StatusCode::BAD_REQUEST,
                "Bad parameters: you must choose at least one stream",
            );
        }
        let follow = req.flag("follow");
        let timestamps = req.flag("timestamps");
        let tail: Option<usize> = match req.query("tail") {
            None | Some("") | Some("all") => None,
            Some(n) => n.parse::<i64>().ok().map(|n| n.max(0) as usize),
        };
        let since = req
            .query("since")
            .and_then(parse_event_time)
            .filter(|t| *t > 0);
        let until = req
            .query("until")
            .and_then(parse_event_time)
            .filter(|t| *t > 0);
        let (id, tty, mut rx) = {
            let st = lock(&self.state);
            let Some(i) = st.find_container(&key) else {
                return no_such_container(&key);
            };
            let c = &st.containers[i];
            (c.id.clone(), c.tty(), c.changed.subscribe())
        };
        let mut headers = Vec::new();
        if req.version >= ApiVersion::new(1, 42) {
            let ct = if tty {
                "application/vnd.docker.raw-stream"
            } else {
                "application/vnd.docker.multiplexed-stream"
            };
            headers.push(("content-type", ct.to_string()));
        }
        let shared = self.clone();
        let (tx, out) = mpsc::channel(64);
        spawn_until(self.shutdown.clone(), async move {
            let mut next = 0usize;
            let mut first = true;
            loop {
                let (chunks, running) = {
                    let st = lock(&shared.state);
                    let Some(c) = st.containers.iter().find(|c| c.id == id) else {
                        return;
                    };
                    let mut lines: Vec<&LogLine> = c.logs[next.min(c.logs.len())..]
                        .iter()
                        .filter(|l| (l.stream == 1 && want_out) || (l.stream == 2 && want_err))
                        .filter(|l| {
                            let t = l.time.unix_timestamp_nanos();
                            since.is_none_or(|s| t >= s) && until.is_none_or(|u| t <= u)
                        })
                        .collect();
                    if first {
                        if let Some(n) = tail {
                            let skip = lines.len().saturating_sub(n);
                            lines.drain(..skip);
                        }
                        first = false;
                    }
                    let chunks: Vec<Bytes> = lines
                        .iter()
                        .map(|l| {
                            let data = if timestamps {
                                let mut v = rfc3339(l.time).into_bytes();
                                v.push(b' ');
                                v.extend_from_slice(&l.data);
                                Bytes::from(v)
                            } else {
                                l.data.clone()
                            };
                            if tty {
                                data
                            } else {
                                frame(l.stream, &data)
                            }
                        })
                        .collect();
                    next = c.logs.len();
                    (chunks, matches!(c.status, Status::Running | Status::Paused))
                };
                for ch in chunks {
                    if tx.send(ch).await.is_err() {
                        return;
                    }
                }
                if !follow || !running {
                    return;
                }
                tokio::select! {
                    r = rx.changed() => if r.is_err() { return },
                    _ = tx.closed() => return,
                }
            }
        });
        Reply::Stream {
            status: StatusCode::OK,
            headers,
            rx: out,
        }
    }

    /// `docker attach`: the container's output from now on (with `logs`,
    /// from its start), following until it exits; stdin is kept for
    /// [`Shared::container_stdin`]. A created or exited container is waited
    /// for (its next run is streamed), as dockerd does.
    fn container_attach(self: &Arc<Self>, req: &Req) -> Reply {
        let key = req.param("id").to_string();
        let (want_in, want_out, want_err) =
            (req.flag("stdin"), req.flag("stdout"), req.flag("stderr"));
        if !want_in && !want_out && !want_err {
            return error(
                StatusCode::BAD_REQUEST,
                "Bad parameters: you must choose at least one stream",
            );
        }
        let (stream, with_logs) = (req.flag("stream"), req.flag("logs"));
        let (id, tty, mut rx, start_at, exits_at) = {
            let st = lock(&self.state);
            let Some(i) = st.find_container(&key) else {
                return no_such_container(&key);
            };
            let c = &st.containers[i];
            let start_at = if with_logs { 0 } else { c.logs.len() };
            (
                c.id.clone(),
                c.tty(),
                c.changed.subscribe(),
                start_at,
                c.exits,
            )
        };
        let ct = if tty || req.version < ApiVersion::new(1, 42) {
            "application/vnd.docker.raw-stream"
        } else {
            "application/vnd.docker.multiplexed-stream"
        };
        let shared = self.clone();
        let pump = move |mut out: ExecOutput| async move {
            let mut next = start_at;
            loop {
                let (chunks, ended) = {
                    let st = lock(&shared.state);
                    let Some(c) = st.containers.iter().find(|c| c.id == id) else {
                        break;
                    };
                    let chunks: Vec<Bytes> = c.logs[next.min(c.logs.len())..]
                        .iter()
                        .filter(|l| (l.stream == 1 && want_out) || (l.stream == 2 && want_err))
                        .map(|l| {
                            if tty {
                                l.data.clone()
                            } else {
                                frame(l.stream, &l.data)
                            }
                        })
                        .collect();
                    next = c.logs.len();
                    (chunks, c.exits > exits_at || !stream)
                };
                for ch in chunks {
                    if !out.send(ch).await {
                        return;
                    }
                }
                if ended {
                    break;
                }
                if rx.changed().await.is_err() {
                    break;
                }
            }
            out.close().await;
        };
        let wants_upgrade = req
            .headers
            .get(http::header::UPGRADE)
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"tcp"));
        if wants_upgrade && req.upgrade {
            let shared = self.clone();
            let key2 = key.clone();
            return Reply::Upgrade {
                headers: vec![
                    ("content-type", ct.to_string()),
                    ("connection", "Upgrade".into()),
                    ("upgrade", "tcp".into()),
                ],
                task: Box::new(move |upgraded| {
                    Box::pin(async move {
                        let io = hyper_util::rt::TokioIo::new(upgraded);
                        let (mut r, w) = tokio::io::split(io);
                        if want_in {
                            spawn_until(shared.shutdown.clone(), async move {
                                let mut buf = vec![0u8; 16 * 1024];
                                loop {
                                    let n = tokio::io::AsyncReadExt::read(&mut r, &mut buf)
                                        .await
                                        .unwrap_or(0);
                                    if n == 0 {
                                        break;
                                    }
                                    let mut st = lock(&shared.state);
                                    match st.find_container(&key2) {
                                        Some(i) => {
                                            st.containers[i].stdin.extend_from_slice(&buf[..n])
                                        }
                                        None => break,
                                    }
                                }
                            });
                        }
                        pump(ExecOutput::Conn(Box::new(w))).await;
                    })
                }),
            };
        }
        let (tx, rx_body) = mpsc::channel(64);
        spawn_until(self.shutdown.clone(), pump(ExecOutput::Channel(tx)));
        Reply::Stream {
            status: StatusCode::OK,
            headers: vec![("content-type", ct.to_string())],
            rx: rx_body,
        }
    }

    /// What attached clients wrote to a container's stdin.
    pub(crate) fn container_stdin(&self, key: &str) -> Option<Bytes> {
        let st = lock(&self.state);
        st.find_container(key)
            .map(|i| Bytes::copy_from_slice(&st.containers[i].stdin))
    }

    // ----- exec ----------------------------------------------------------

    fn exec_create(&self, req: &Req) -> Reply {
        let body: ContainerExecBody = match req.json() {
            Ok(b) => b,
            Err(r) => return r,
        };
        if body.cmd.as_ref().is_none_or(|c| c.is_empty()) {
            return error(StatusCode::BAD_REQUEST, "No exec command specified");
        }
        let mut st = lock(&self.state);
        let key = req.param("id");
        let Some(i) = st.find_container(key) else {
            return no_such_container(key);
        };
        let cid = st.containers[i].id.clone();
        match st.containers[i].status {
            Status::Running => {}
            Status::Paused => {
                return error(
                    StatusCode::CONFLICT,
                    format!("Container {cid} is paused, unpause the container before exec"),
                )
            }
            _ => {
                return error(
                    StatusCode::CONFLICT,
                    format!("Container {cid} is not running"),
                )
            }
        }
        let id = st.next_id();
        st.containers[i].exec_ids.push(id.clone());
        let cmd = exec_action(body.cmd.as_deref().unwrap_or_default());
        st.execs.insert(
            id.clone(),
            ExecRec {
                id: id.clone(),
                container_id: cid,
                body,
                running: false,
                started: false,
                exit_code: None,
                pid: 0,
            },
        );
        self.container_event(
            &mut st,
            i,
            &format!("exec_create: {cmd}"),
            &[("execID", id.clone())],
        );
        json_reply(StatusCode::CREATED, &json!({"Id": id}))
    }

    fn exec_inspect(&self, req: &Req) -> Reply {
        let st = lock(&self.state);
        let key = req.param("id");
        let Some(e) = st.execs.get(key) else {
            return error(
                StatusCode::NOT_FOUND,
                format!("No such exec instance: {key}"),
            );
        };
        let cmd = e.body.cmd.clone().unwrap_or_default();
        let v = json!({
            "ID": e.id,
            "Running": e.running,
            "ExitCode": e.exit_code,
            "ProcessConfig": {
                "tty": e.body.tty.unwrap_or(false),
                "entrypoint": cmd.first().cloned().unwrap_or_default(),
                "arguments": cmd.iter().skip(1).collect::<Vec<_>>(),
                "privileged": e.body.privileged.unwrap_or(false),
            },
            "OpenStdin": e.body.attach_stdin.unwrap_or(false),
            "OpenStderr": e.body.attach_stderr.unwrap_or(false),
            "OpenStdout": e.body.attach_stdout.unwrap_or(false),
            "CanRemove": false,
            "ContainerID": e.container_id,
            "DetachKeys": "",
            "Pid": e.pid,
        });
        typed_reply::<crate::models::ExecInspectResponse>(v)
    }

    fn exec_start(self: &Arc<Self>, req: Req) -> Reply {
        let start: ExecStartBody = match req.json() {
            Ok(b) => b,
            Err(r) => return r,
        };
        let key = req.param("id").to_string();
        let (body, container_id, cmd) = {
            let mut st = lock(&self.state);
            let Some(e) = st.execs.get(&key) else {
                return error(
                    StatusCode::NOT_FOUND,
                    format!("No such exec instance: {key}"),
                );
            };
            if e.started {
                return error(
                    StatusCode::CONFLICT,
                    format!("Error: Exec command {key} has already run"),
                );
            }
            let cid = e.container_id.clone();
            let Some(ci) = st.containers.iter().position(|c| c.id == cid) else {
                return no_such_container(&cid);
            };
            if st.containers[ci].status != Status::Running {
                return error(
                    StatusCode::CONFLICT,
                    format!("Container {cid} is not running"),
                );
            }
            st.counter += 1;
            let pid = 2000 + st.counter as i64;
            let Some(e) = st.execs.get_mut(&key) else {
                return error(
                    StatusCode::NOT_FOUND,
                    format!("No such exec instance: {key}"),
                );
            };
            e.started = true;
            e.running = true;
            e.pid = pid;
            let body = e.body.clone();
            let cmd = body.cmd.clone().unwrap_or_default();
            self.container_event(
                &mut st,
                ci,
                &format!("exec_start: {}", exec_action(&cmd)),
                &[("execID", key.clone())],
            );
            (body, cid, cmd)
        };
        let tty = body.tty.unwrap_or(false);
        // dockerd frames the output unless the *start* body asks for a TTY.
        let framed = start.tty != Some(true);
        let handler = lock(&self.exec_handler).clone();
        let process = move |stdin, output: ExecOutput| {
            let output = Arc::new(tokio::sync::Mutex::new(output));
            let p = ExecProcess {
                container_id: container_id.clone(),
                cmd: cmd.clone(),
                env: body.env.clone().unwrap_or_default(),
                tty,
                framed,
                stdin,
                output: output.clone(),
            };
            (p, output)
        };
        let shared = self.clone();
        let finish = move |code: i64| {
            let mut st = lock(&shared.state);
            if let Some(e) = st.execs.get_mut(&key) {
                e.running = false;
                e.exit_code = Some(code);
                let cid = e.container_id.clone();
                let execid = e.id.clone();
                if let Some(ci) = st.containers.iter().position(|c| c.id == cid) {
                    shared.container_event(
                        &mut st,
                        ci,
                        "exec_die",
                        &[("execID", execid), ("exitCode", code.to_string())],
                    );
                }
            }
        };
        let run = move |p: ExecProcess| -> futures::future::BoxFuture<'static, i64> {
            match handler {
                Some(h) => h(p),
                None => Box::pin(builtin_exec(p)),
            }
        };
        if start.detach == Some(true) {
            let (p, _) = process(None, ExecOutput::Discard);
            spawn_until(self.shutdown.clone(), async move {
                let code = run(p).await;
                finish(code);
            });
            return empty(StatusCode::OK);
        }
        let ct = if !framed || req.version < ApiVersion::new(1, 42) {
            "application/vnd.docker.raw-stream"
        } else {
            "application/vnd.docker.multiplexed-stream"
        };
        let wants_upgrade = req
            .headers
            .get(http::header::UPGRADE)
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"tcp"));
        if wants_upgrade && req.upgrade {
            let attach_stdin = body.attach_stdin == Some(true);
            return Reply::Upgrade {
                headers: vec![
                    ("content-type", ct.to_string()),
                    ("connection", "Upgrade".into()),
                    ("upgrade", "tcp".into()),
                ],
                task: Box::new(move |upgraded| {
                    Box::pin(async move {
                        let io = hyper_util::rt::TokioIo::new(upgraded);
                        let (r, w) = tokio::io::split(io);
                        let stdin: Option<Box<dyn tokio::io::AsyncRead + Send + Unpin>> =
                            if attach_stdin {
                                Some(Box::new(r))
                            } else {
                                None
                            };
                        let (p, output) = process(stdin, ExecOutput::Conn(Box::new(w)));
                        let code = run(p).await;
                        finish(code);
                        finish_output(output).await;
                    })
                }),
            };
        }
        let (tx, rx) = mpsc::channel(64);
        let (p, output) = process(None, ExecOutput::Channel(tx));
        spawn_until(self.shutdown.clone(), async move {
            let code = run(p).await;
            finish(code);
            finish_output(output).await;
        });
        Reply::Stream {
            status: StatusCode::OK,
            headers: vec![("content-type", ct.to_string())],
            rx,
        }
    }

    // ----- images --------------------------------------------------------

    fn image_create(self: &Arc<Self>, req: &Req) -> Reply {
        let Some(from) = req.query("fromImage").filter(|s| !s.is_empty()) else {
            return error(
                StatusCode::NOT_IMPLEMENTED,
                "dockhand fake: image import (fromSrc) is not implemented; mount a mock on FakeDocker::mock_server()",
            );
        };
        let tag = req.query("tag").unwrap_or("");
        let reference = if tag.is_empty() {
            normalize_ref(from)
        } else if tag.starts_with("sha256:") {
            format!("{}@{tag}", repo_of(from))
        } else {
            format!("{}:{tag}", repo_of(from))
        };
        let reference = normalize_ref(&reference);
        let (script, present) = {
            let st = lock(&self.state);
            let script = st.pullable.get(&reference).cloned();
            let present = st.find_image(&reference).is_some();
            (script, present)
        };
        let script = match (script, present) {
            (Some(s), _) => s,
            (None, true) => PullScript::new().layers(0),
            (None, false) => {
                let repo = repo_of(&reference);
                let first = repo.split('/').next().unwrap_or("");
                let registry = repo.contains('/')
                    && (first.contains('.') || first.contains(':') || first == "localhost");
                let message = if registry {
                    format!(
                        "manifest for {reference} not found: manifest unknown: manifest unknown"
                    )
                } else {
                    format!("pull access denied for {repo}, repository does not exist or may require 'docker login': denied: requested access to the resource is denied")
                };
                return error(StatusCode::NOT_FOUND, message);
            }
        };
        let shared = self.clone();
        let (tx, rx) = mpsc::channel(64);
        spawn_until(self.shutdown.clone(), async move {
            let line = |v: Value| {
                let mut b = serde_json::to_vec(&v).unwrap_or_default();
                b.extend_from_slice(b"\r\n");
                Bytes::from(b)
            };
            let send = |v: Value| {
                let tx = tx.clone();
                let delay = script.delay;
                async move {
                    if !delay.is_zero() {
                        tokio::time::sleep(delay).await;
                    }
                    tx.send(line(v)).await.is_ok()
                }
            };
            if let Some(messages) = &script.messages {
                let mut failed = false;
                for m in messages {
                    failed |= m.error.is_some() || m.error_detail.is_some();
                    let v = serde_json::to_value(m).unwrap_or(Value::Null);
                    if !send(v).await {
                        return;
                    }
                }
                if !failed {
                    shared.store_pulled(&reference, &script);
                }
                return;
            }
            let repo = repo_of(&reference);
            let path = repo
                .split_once('/')
                .filter(|(h, _)| h.contains('.') || h.contains(':') || *h == "localhost")
                .map(|(_, p)| p.to_string())
                .unwrap_or_else(|| repo.clone());
            let shown_tag = reference
                .rsplit_once(':')
                .map(|(_, t)| t.to_string())
                .unwrap_or_else(|| "latest".into());
            if !send(json!({"status": format!("Pulling from {path}"), "id": shown_tag})).await {
                return;
            }
            let layers: Vec<String> = {
                let mut st = lock(&shared.state);
                (0..script.layers)
                    .map(|_| st.next_id()[..12].to_string())
                    .collect()
            };
            for l in &layers {
                if !send(json!({"status": "Pulling fs layer", "progressDetail": {}, "id": l})).await
                {
                    return;
                }
            }
            if let Some(message) = &script.error {
                let _ = send(json!({"errorDetail": {"message": message}, "error": message})).await;
                return;
            }
            for l in &layers {
                let total = 1_048_576;
                for (status, cur) in [("Downloading", total / 2), ("Downloading", total)] {
                    let bar = format!(
                        "[{}>{}] {}kB/{}kB",
                        "=".repeat(cur * 50 / total - 1),
                        " ".repeat(50 - cur * 50 / total),
                        cur / 1024,
                        total / 1024
                    );
                    if !send(json!({"status": status, "progressDetail": {"current": cur, "total": total}, "progress": bar, "id": l})).await {
                        return;
                    }
                }
                for status in ["Verifying Checksum", "Download complete"] {
                    if !send(json!({"status": status, "progressDetail": {}, "id": l})).await {
                        return;
                    }
                }
                if !send(json!({"status": "Extracting", "progressDetail": {"current": total, "total": total}, "id": l})).await {
                    return;
                }
                if !send(json!({"status": "Pull complete", "progressDetail": {}, "id": l})).await {
                    return;
                }
            }
            let (digest, fresh) = shared.store_pulled(&reference, &script);
            if !send(json!({"status": format!("Digest: {digest}")})).await {
                return;
            }
            let status = if fresh {
                format!("Status: Downloaded newer image for {reference}")
            } else {
                format!("Status: Image is up to date for {reference}")
            };
            let _ = send(json!({"status": status})).await;
        });
        Reply::Stream {
            status: StatusCode::OK,
            headers: vec![("content-type", "application/json".into())],
            rx,
        }
    }

    /// Stores a pulled image; its digest and whether it was new.
    fn store_pulled(&self, reference: &str, script: &PullScript) -> (String, bool) {
        let mut st = lock(&self.state);
        let (digest, fresh) = match st.find_image(reference) {
            Some(i) => (st.images[i].digest.clone(), false),
            None => {
                let mut spec = script
                    .image
                    .clone()
                    .unwrap_or_else(|| FakeImage::new(reference));
                spec.reference = reference.to_string();
                st.add_image(spec);
                let i = st.images.len() - 1;
                (st.images[i].digest.clone(), true)
            }
        };
        let repo = repo_of(reference);
        self.emit(
            &mut st,
            EventMessageType::Image,
            "pull",
            reference,
            HashMap::from([("name".to_string(), repo)]),
        );
        (digest, fresh)
    }

    fn image_json(&self, img: &Image) -> Value {
        let layer = format!("sha256:{}", &img.digest[7..]);
        json!({
            "Id": img.id,
            "RepoTags": img.tags,
            "RepoDigests": img.tags.iter().map(|t| format!("{}@{}", repo_of(t), img.digest)).collect::<Vec<_>>(),
            "Parent": "",
            "Comment": "",
            "Created": rfc3339(img.created),
            "DockerVersion": "",
            "Author": "",
            "Config": {"Cmd": img.spec.cmd, "Env": img.spec.env, "Labels": img.spec.labels, "Image": ""},
            "Architecture": "amd64",
            "Os": self.identity.os,
            "Size": img.spec.size,
            "GraphDriver": {"Name": "overlay2", "Data": {}},
            "RootFS": {"Type": "layers", "Layers": [layer]},
            "Metadata": {"LastTagTime": "0001-01-01T00:00:00Z"},
        })
    }

    fn image_inspect(&self, req: &Req) -> Reply {
        let st = lock(&self.state);
        let key = req.param("name");
        let Some(i) = st.find_image(key) else {
            return no_such_image(key, req.version);
        };
        typed_reply::<crate::models::ImageInspect>(self.image_json(&st.images[i]))
    }

    fn image_list(&self, req: &Req) -> Reply {
        let filters = match req.filters() {
            Ok(f) => f,
            Err(r) => return r,
        };
        let st = lock(&self.state);
        let mut out = Vec::new();
        for img in st.images.iter().rev() {
            if let Some(vals) = filters.get("label") {
                if !labels_match(&img.spec.labels, vals) {
                    continue;
                }
            }
            if let Some(vals) = filters.get("reference") {
                let ok = vals.iter().any(|pat| {
                    img.tags
                        .iter()
                        .any(|t| glob_match(pat, t) || glob_match(pat, &repo_of(t)))
                });
                if !ok {
                    continue;
                }
            }
            if let Some(vals) = filters.get("dangling") {
                let dangling = img.tags.is_empty();
                if !vals.iter().any(|v| (v == "true" || v == "1") == dangling) {
                    continue;
                }
            }
            out.push(json!({
                "Id": img.id,
                "ParentId": "",
                "RepoTags": img.tags,
                "RepoDigests": img.tags.iter().map(|t| format!("{}@{}", repo_of(t), img.digest)).collect::<Vec<_>>(),
                "Created": img.created.unix_timestamp(),
                "Size": img.spec.size,
                "SharedSize": -1,
                "Labels": img.spec.labels,
                "Containers": -1,
            }));
        }
        typed_reply::<crate::operations::ImageListResponse>(Value::Array(out))
    }

    fn image_delete(&self, req: &Req) -> Reply {
        let mut st = lock(&self.state);
        let key = req.param("name");
        let Some(i) = st.find_image(key) else {
            return no_such_image(key, req.version);
        };
        let img_id = st.images[i].id.clone();
        let by_tag = st.images[i].tags.iter().any(|t| *t == normalize_ref(key));
        if let Some(c) = st.containers.iter().find(|c| c.image_id == img_id) {
            if !req.flag("force") || matches!(c.status, Status::Running | Status::Paused) {
                let short = &img_id[7..19];
                let what = if by_tag {
                    normalize_ref(key)
                } else {
                    short.to_string()
                };
                return error(
                    StatusCode::CONFLICT,
                    format!(
                        "conflict: unable to remove repository reference \"{what}\" (must force) - container {} is using its referenced image {short}",
                        &c.id[..12]
                    ),
                );
            }
        }
        let mut out = Vec::new();
        if by_tag && st.images[i].tags.len() > 1 {
            let tag = normalize_ref(key);
            st.images[i].tags.retain(|t| *t != tag);
            out.push(json!({"Untagged": tag}));
            self.emit(
                &mut st,
                EventMessageType::Image,
                "untag",
                &img_id,
                HashMap::from([("name".into(), tag)]),
            );
        } else {
            let img = st.images.remove(i);
            for t in &img.tags {
                out.push(json!({"Untagged": t}));
                out.push(json!({"Untagged": format!("{}@{}", repo_of(t), img.digest)}));
                self.emit(
                    &mut st,
                    EventMessageType::Image,
                    "untag",
                    &img.id,
                    HashMap::from([("name".into(), t.clone())]),
                );
            }
            out.push(json!({"Deleted": img.id}));
            self.emit(
                &mut st,
                EventMessageType::Image,
                "delete",
                &img.id,
                HashMap::from([("name".into(), img.id.clone())]),
            );
        }
        typed_reply::<Vec<crate::models::ImageDeleteResponseItem>>(Value::Array(out))
    }

    fn image_tag(&self, req: &Req) -> Reply {
        let mut st = lock(&self.state);
        let key = req.param("name");
        let Some(i) = st.find_image(key) else {
            return no_such_image(key, req.version);
        };
        let Some(repo) = req.query("repo").filter(|r| !r.is_empty()) else {
            return error(
                StatusCode::BAD_REQUEST,
                "repository name must have at least one component",
            );
        };
        let tag = req
            .query("tag")
            .filter(|t| !t.is_empty())
            .unwrap_or("latest");
        let new = normalize_ref(&format!("{repo}:{tag}"));
        for img in &mut st.images {
            img.tags.retain(|t| *t != new);
        }
        st.images[i].tags.push(new.clone());
        let id = st.images[i].id.clone();
        self.emit(
            &mut st,
            EventMessageType::Image,
            "tag",
            &id,
            HashMap::from([("name".into(), new)]),
        );
        empty(StatusCode::CREATED)
    }

    // ----- networks ------------------------------------------------------

    fn network_json(&self, st: &State, n: &NetworkRec) -> Value {
        let containers: serde_json::Map<String, Value> = st
            .containers
            .iter()
            .filter(|c| {
                matches!(c.status, Status::Running | Status::Paused) && c.networks.contains(&n.id)
            })
            .map(|c| (c.id.clone(), json!({"Name": c.name, "EndpointID": "", "MacAddress": "", "IPv4Address": "", "IPv6Address": ""})))
            .collect();
        json!({
            "Name": n.name,
            "Id": n.id,
            "Created": rfc3339(n.created),
            "Scope": "local",
            "Driver": n.driver,
            "EnableIPv6": false,
            "IPAM": {"Driver": "default", "Options": null, "Config": []},
            "Internal": n.internal,
            "Attachable": n.attachable,
            "Ingress": false,
            "ConfigFrom": {"Network": ""},
            "ConfigOnly": false,
            "Containers": containers,
            "Options": {},
            "Labels": n.labels,
        })
    }

    fn network_create(&self, req: &Req) -> Reply {
        let body: NetworkCreateBody = match req.json() {
            Ok(b) => b,
            Err(r) => return r,
        };
        let mut st = lock(&self.state);
        if st.networks.iter().any(|n| n.name == body.name) {
            return error(
                StatusCode::CONFLICT,
                format!("network with name {} already exists", body.name),
            );
        }
        let id = st.next_id();
        st.networks.push(NetworkRec {
            id: id.clone(),
            name: body.name.clone(),
            driver: body.driver.clone().unwrap_or_else(|| "bridge".into()),
            labels: body.labels.clone().unwrap_or_default(),
            created: now(),
            internal: body.internal.unwrap_or(false),
            attachable: body.attachable.unwrap_or(false),
            predefined: false,
        });
        let attrs = HashMap::from([
            ("name".to_string(), body.name.clone()),
            (
                "type".to_string(),
                body.driver.clone().unwrap_or_else(|| "bridge".into()),
            ),
        ]);
        self.emit(&mut st, EventMessageType::Network, "create", &id, attrs);
        json_reply(StatusCode::CREATED, &json!({"Id": id, "Warning": ""}))
    }

    fn network_inspect(&self, req: &Req) -> Reply {
        let st = lock(&self.state);
        let key = req.param("id");
        let Some(i) = st.find_network(key) else {
            return error(StatusCode::NOT_FOUND, format!("network {key} not found"));
        };
        typed_reply::<crate::models::NetworkInspect>(self.network_json(&st, &st.networks[i]))
    }

    fn network_list(&self, req: &Req) -> Reply {
        let filters = match req.filters() {
            Ok(f) => f,
            Err(r) => return r,
        };
        let st = lock(&self.state);
        let out: Vec<Value> = st
            .networks
            .iter()
            .filter(|n| {
                filters
                    .get("name")
                    .is_none_or(|v| v.iter().any(|x| n.name.contains(x.as_str())))
            })
            .filter(|n| {
                filters
                    .get("id")
                    .is_none_or(|v| v.iter().any(|x| n.id.starts_with(x.as_str())))
            })
            .filter(|n| filters.get("driver").is_none_or(|v| v.contains(&n.driver)))
            .filter(|n| {
                filters
                    .get("label")
                    .is_none_or(|v| labels_match(&n.labels, v))
            })
            .filter(|n| {
                filters
                    .get("type")
                    .is_none_or(|v| v.iter().any(|x| (x == "builtin") == n.predefined))
            })
            .map(|n| self.network_json(&st, n))
            .collect();
        typed_reply::<crate::operations::NetworkListResponse>(Value::Array(out))
    }

    fn network_delete(&self, req: &Req) -> Reply {
        let mut st = lock(&self.state);
        let key = req.param("id");
        let Some(i) = st.find_network(key) else {
            return error(StatusCode::NOT_FOUND, format!("network {key} not found"));
        };
        if st.networks[i].predefined {
            return error(
                StatusCode::FORBIDDEN,
                format!(
                    "{} is a pre-defined network and cannot be removed",
                    st.networks[i].name
                ),
            );
        }
        let nid = st.networks[i].id.clone();
        if st.containers.iter().any(|c| {
            matches!(c.status, Status::Running | Status::Paused) && c.networks.contains(&nid)
        }) {
            return error(
                StatusCode::FORBIDDEN,
                format!(
                    "error while removing network: network {} id {nid} has active endpoints",
                    st.networks[i].name
                ),
            );
        }
        let n = st.networks.remove(i);
        let attrs = HashMap::from([
            ("name".to_string(), n.name.clone()),
            ("type".to_string(), n.driver.clone()),
        ]);
        self.emit(&mut st, EventMessageType::Network, "destroy", &n.id, attrs);
        empty(StatusCode::NO_CONTENT)
    }

    fn network_connect(&self, req: &Req) -> Reply {
        let body: crate::models::NetworkConnectRequest = match req.json() {
            Ok(b) => b,
            Err(r) => return r,
        };
        let mut st = lock(&self.state);
        let Some(ci) = st.find_container(&body.container) else {
            return no_such_container(&body.container);
        };
        let key = req.param("id");
        let Some(ni) = st.find_network(key) else {
            return error(StatusCode::NOT_FOUND, format!("network {key} not found"));
        };
        let (nid, nname) = (st.networks[ni].id.clone(), st.networks[ni].name.clone());
        if st.containers[ci].networks.contains(&nid) {
            return error(
                StatusCode::FORBIDDEN,
                format!(
                    "endpoint with name {} already exists in network {nname}",
                    st.containers[ci].name
                ),
            );
        }
        st.containers[ci].networks.push(nid.clone());
        if matches!(st.containers[ci].status, Status::Running | Status::Paused) {
            let cid = st.containers[ci].id.clone();
            self.network_event_for(&mut st, &cid, &nid, "connect");
        }
        empty(StatusCode::OK)
    }

    fn network_disconnect(&self, req: &Req) -> Reply {
        let body: crate::models::NetworkDisconnectRequest = match req.json() {
            Ok(b) => b,
            Err(r) => return r,
        };
        let mut st = lock(&self.state);
        let Some(ci) = st.find_container(&body.container) else {
            return no_such_container(&body.container);
        };
        let key = req.param("id");
        let Some(ni) = st.find_network(key) else {
            return error(StatusCode::NOT_FOUND, format!("network {key} not found"));
        };
        let (nid, nname) = (st.networks[ni].id.clone(), st.networks[ni].name.clone());
        let cid = st.containers[ci].id.clone();
        let Some(pos) = st.containers[ci].networks.iter().position(|n| *n == nid) else {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("container {cid} is not connected to network {nname}"),
            );
        };
        st.containers[ci].networks.remove(pos);
        if matches!(st.containers[ci].status, Status::Running | Status::Paused) {
            self.network_event_for(&mut st, &cid, &nid, "disconnect");
            // dockerd 20.10 reports a running container's disconnect twice.
            if req.version <= ApiVersion::new(1, 41) {
                self.network_event_for(&mut st, &cid, &nid, "disconnect");
            }
        }
        empty(StatusCode::OK)
    }

    // ----- prune and top -------------------------------------------------

    fn container_prune(&self, req: &Req) -> Reply {
        let filters = match req.filters() {
            Ok(f) => f,
            Err(r) => return r,
        };
        let mut st = lock(&self.state);
        let mut deleted = Vec::new();
        while let Some(i) = st.containers.iter().position(|c| {
            matches!(c.status, Status::Created | Status::Exited)
                && prune_labels_match(&c.labels(), &filters)
        }) {
            deleted.push(st.containers[i].id.clone());
            self.remove_locked(&mut st, i);
        }
        let attrs = HashMap::from([("reclaimed".to_string(), "0".to_string())]);
        self.emit(&mut st, EventMessageType::Container, "prune", "", attrs);
        let deleted = if deleted.is_empty() {
            Value::Null
        } else {
            json!(deleted)
        };
        typed_reply::<crate::models::ContainerPruneResponse>(
            json!({"ContainersDeleted": deleted, "SpaceReclaimed": 0}),
        )
    }

    fn network_prune(&self, req: &Req) -> Reply {
        let filters = match req.filters() {
            Ok(f) => f,
            Err(r) => return r,
        };
        let mut st = lock(&self.state);
        let mut deleted = Vec::new();
        while let Some(i) = st.networks.iter().position(|n| {
            !n.predefined
                && prune_labels_match(&n.labels, &filters)
                && !st.containers.iter().any(|c| {
                    matches!(c.status, Status::Running | Status::Paused)
                        && c.networks.contains(&n.id)
                })
        }) {
            let n = st.networks.remove(i);
            let attrs = HashMap::from([
                ("name".to_string(), n.name.clone()),
                ("type".to_string(), n.driver.clone()),
            ]);
            self.emit(&mut st, EventMessageType::Network, "destroy", &n.id, attrs);
            deleted.push(n.name);
        }
        let attrs = HashMap::from([("reclaimed".to_string(), "0".to_string())]);
        self.emit(&mut st, EventMessageType::Network, "prune", "", attrs);
        let deleted = if deleted.is_empty() {
            Value::Null
        } else {
            json!(deleted)
        };
        typed_reply::<crate::models::NetworkPruneResponse>(json!({"NetworksDeleted": deleted}))
    }

    fn volume_prune(&self, req: &Req) -> Reply {
        let mut filters = match req.filters() {
            Ok(f) => f,
            Err(r) => return r,
        };
        // From API 1.42 only anonymous volumes, unless `all=true`.
        let all = req.version < ApiVersion::new(1, 42)
            || filters
                .remove("all")
                .is_some_and(|v| v.iter().any(|x| x == "true" || x == "1"));
        let mut st = lock(&self.state);
        let mut deleted = Vec::new();
        while let Some(i) = st
            .volumes
            .iter()
            .position(|v| (all || v.anonymous) && prune_labels_match(&v.labels, &filters))
        {
            let v = st.volumes.remove(i);
            let attrs = HashMap::from([("driver".to_string(), v.driver.clone())]);
            self.emit(&mut st, EventMessageType::Volume, "destroy", &v.name, attrs);
            deleted.push(v.name);
        }
        let attrs = HashMap::from([("reclaimed".to_string(), "0".to_string())]);
        self.emit(&mut st, EventMessageType::Volume, "prune", "", attrs);
        typed_reply::<crate::models::VolumePruneResponse>(
            json!({"VolumesDeleted": deleted, "SpaceReclaimed": 0}),
        )
    }

    fn container_top(&self, req: &Req) -> Reply {
        let st = lock(&self.state);
        let key = req.param("id");
        let Some(i) = st.find_container(key) else {
            return no_such_container(key);
        };
        let c = &st.containers[i];
        if !matches!(c.status, Status::Running | Status::Paused) {
            return error(
                StatusCode::CONFLICT,
                format!("Container {} is not running", c.id),
            );
        }
        let (path, args) = c.path_args(&st.images);
        let started = c.started_at.unwrap_or(c.created);
        let stime = format!("{:02}:{:02}", started.hour(), started.minute());
        let mut cmd = vec![path];
        cmd.extend(args);
        typed_reply::<crate::models::ContainerTopResponse>(json!({
            "Titles": ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"],
            "Processes": [["root", c.pid.to_string(), (c.pid - 1).to_string(), "0", stime, "?", "00:00:00", cmd.join(" ")]],
        }))
    }

    // ----- volumes -------------------------------------------------------

    fn volume_json(&self, v: &VolumeRec) -> Value {
        json!({
            "CreatedAt": rfc3339(v.created),
            "Driver": v.driver,
            "Labels": v.labels,
            "Mountpoint": format!("/var/lib/docker/volumes/{}/_data", v.name),
            "Name": v.name,
            "Options": {},
            "Scope": "local",
        })
    }

    fn volume_create(&self, req: &Req) -> Reply {
        let body: VolumeCreateRequest = match req.json() {
            Ok(b) => b,
            Err(r) => return r,
        };
        let mut st = lock(&self.state);
        let name = body
            .name
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| st.next_id());
        if let Some(v) = st.volumes.iter().find(|v| v.name == name) {
            return typed_reply::<crate::models::Volume>(self.volume_json(v))
                .with_status(StatusCode::CREATED);
        }
        let anonymous = body.name.as_deref().is_none_or(str::is_empty);
        st.volumes.push(VolumeRec {
            anonymous,
            name: name.clone(),
            driver: body.driver.clone().unwrap_or_else(|| "local".into()),
            labels: body.labels.clone().unwrap_or_default(),
            created: now(),
        });
        self.emit(
            &mut st,
            EventMessageType::Volume,
            "create",
            &name,
            HashMap::from([("driver".into(), "local".into())]),
        );
        let v = self.volume_json(st.volumes.last().expect("just pushed"));
        typed_reply::<crate::models::Volume>(v).with_status(StatusCode::CREATED)
    }

    fn volume_inspect(&self, req: &Req) -> Reply {
        let st = lock(&self.state);
        let key = req.param("name");
        match st.volumes.iter().find(|v| v.name == key) {
            Some(v) => typed_reply::<crate::models::Volume>(self.volume_json(v)),
            None => error(StatusCode::NOT_FOUND, format!("get {key}: no such volume")),
        }
    }

    fn volume_list(&self, req: &Req) -> Reply {
        let filters = match req.filters() {
            Ok(f) => f,
            Err(r) => return r,
        };
        let st = lock(&self.state);
        let vols: Vec<Value> = st
            .volumes
            .iter()
            .filter(|v| {
                filters
                    .get("name")
                    .is_none_or(|x| x.iter().any(|n| v.name.contains(n.as_str())))
            })
            .filter(|v| {
                filters
                    .get("label")
                    .is_none_or(|x| labels_match(&v.labels, x))
            })
            .filter(|v| filters.get("driver").is_none_or(|x| x.contains(&v.driver)))
            .map(|v| self.volume_json(v))
            .collect();
        typed_reply::<crate::models::VolumeListResponse>(json!({"Volumes": vols, "Warnings": null}))
    }

    fn volume_delete(&self, req: &Req) -> Reply {
        let mut st = lock(&self.state);
        let key = req.param("name");
        let Some(i) = st.volumes.iter().position(|v| v.name == key) else {
            return error(StatusCode::NOT_FOUND, format!("get {key}: no such volume"));
        };
        let v = st.volumes.remove(i);
        self.emit(
            &mut st,
            EventMessageType::Volume,
            "destroy",
            &v.name,
            HashMap::from([("driver".into(), v.driver.clone())]),
        );
        empty(StatusCode::NO_CONTENT)
    }
}

impl Reply {
    fn with_status(self, s: StatusCode) -> Reply {
        match self {
            Reply::Full {
                headers,
                body,
                status,
            } if status.is_success() => Reply::Full {
                status: s,
                headers,
                body,
            },
            other => other,
        }
    }
}

/// Checks an answer against the generated model before sending it: what
/// the fake sends, dockhand can decode.
fn typed_reply<T: serde::de::DeserializeOwned + serde::Serialize>(v: Value) -> Reply {
    match serde_json::from_value::<T>(v) {
        Ok(t) => json_reply(StatusCode::OK, &t),
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("dockhand fake: its answer does not fit the generated model: {e}"),
        ),
    }
}

/// The command as exec events show it: dockerd writes the entrypoint, a
/// space, and the arguments (so `cat` alone ends in a space).
fn exec_action(cmd: &[String]) -> String {
    match cmd.split_first() {
        Some((first, rest)) => format!("{first} {}", rest.join(" ")),
        None => String::new(),
    }
}

fn no_such_container(key: &str) -> Reply {
    error(StatusCode::NOT_FOUND, format!("No such container: {key}"))
}

fn no_such_image(key: &str, version: ApiVersion) -> Reply {
    let norm = normalize_ref(key);
    if version <= ApiVersion::new(1, 41) {
        error(
            StatusCode::NOT_FOUND,
            format!("no such image: {key}: No such image: {norm}"),
        )
    } else {
        error(StatusCode::NOT_FOUND, format!("No such image: {norm}"))
    }
}

/// `label` and `label!` filters of the prune operations.
fn prune_labels_match(
    labels: &HashMap<String, String>,
    filters: &BTreeMap<String, Vec<String>>,
) -> bool {
    filters.get("label").is_none_or(|w| labels_match(labels, w))
        && filters.get("label!").is_none_or(|w| {
            !w.iter()
                .any(|x| labels_match(labels, std::slice::from_ref(x)))
        })
}

fn labels_match(labels: &HashMap<String, String>, wanted: &[String]) -> bool {
    wanted.iter().all(|w| match w.split_once('=') {
        Some((k, v)) => labels.get(k).is_some_and(|x| x == v),
        None => labels.contains_key(w.as_str()),
    })
}

/// `*` and `?` globbing, as image reference filters use (path.Match).
fn glob_match(pattern: &str, text: &str) -> bool {
    let re = format!(
        "^{}$",
        regex::escape(pattern)
            .replace(r"\*", "[^/]*")
            .replace(r"\?", "[^/]")
    );
    regex::Regex::new(&re)
        .map(|r| r.is_match(text))
        .unwrap_or(false)
}

/// Event and log times: unix seconds with optional fraction, or RFC 3339;
/// in nanoseconds.
fn parse_event_time(v: &str) -> Option<i128> {
    let v = v.trim();
    if let Some((s, frac)) = v.split_once('.') {
        let secs: i128 = s.parse().ok()?;
        if !frac.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let mut f = frac.to_string();
        f.truncate(9);
        while f.len() < 9 {
            f.push('0');
        }
        let nanos: i128 = f.parse().ok()?;
        return secs.checked_mul(1_000_000_000)?.checked_add(nanos);
    }
    if let Ok(secs) = v.parse::<i128>() {
        return secs.checked_mul(1_000_000_000);
    }
    OffsetDateTime::parse(v, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp_nanos())
}

fn event_matches(e: &EventMessage, filters: &BTreeMap<String, Vec<String>>) -> bool {
    let kind = e
        .type_
        .as_ref()
        .map(|t| t.as_str().to_string())
        .unwrap_or_default();
    let action = e.action.clone().unwrap_or_default();
    let actor = e.actor.clone().unwrap_or_default();
    let id = actor.id.clone().unwrap_or_default();
    let attrs = actor.attributes.clone().unwrap_or_default();
    let name = attrs.get("name").cloned().unwrap_or_default();
    for (k, vals) in filters {
        let ok = match k.as_str() {
            "type" => vals.contains(&kind),
            "event" => vals
                .iter()
                .any(|v| *v == action || action.split_once(':').is_some_and(|(a, _)| a == v)),
            "container" => {
                kind == "container"
                    && vals
                        .iter()
                        .any(|v| *v == id || *v == name || id.starts_with(v.as_str()))
            }
            "image" => vals.iter().any(|v| {
                let img = attrs.get("image").cloned().unwrap_or_default();
                (kind == "image" && (*v == id || normalize_ref(v) == normalize_ref(&id)))
                    || normalize_ref(&img) == normalize_ref(v)
            }),
            "network" => kind == "network" && vals.iter().any(|v| *v == id || *v == name),
            "volume" => kind == "volume" && vals.contains(&id),
            "label" => labels_match(&attrs, vals),
            "scope" => vals.iter().any(|v| v == "local"),
            _ => true,
        };
        if !ok {
            return false;
        }
    }
    true
}

fn event_bytes(e: &EventMessage, legacy: bool) -> Bytes {
    let mut v = serde_json::to_value(e).unwrap_or(Value::Null);
    if legacy {
        let kind = e.type_.as_ref().map(|t| t.as_str().to_string());
        if matches!(kind.as_deref(), Some("container") | Some("image")) {
            if let Some(obj) = v.as_object_mut() {
                let actor = e.actor.clone().unwrap_or_default();
                obj.insert("status".into(), json!(e.action));
                obj.insert("id".into(), json!(actor.id));
                if let Some(img) = actor.attributes.as_ref().and_then(|a| a.get("image")) {
                    obj.insert("from".into(), json!(img));
                }
            }
        }
    }
    let mut b = serde_json::to_vec(&v).unwrap_or_default();
    b.push(b'\n');
    Bytes::from(b)
}

/// What a container does when nothing scripted it: the commands
/// [`super::shell`] understands do what they say; anything else runs until
/// stopped.
fn builtin_script(path: &str, args: &[String], tty: bool) -> ContainerScript {
    let Some(ops) = interpret(path, args, tty) else {
        return ContainerScript::new();
    };
    let mut script = ContainerScript::new();
    for op in ops {
        script = match op {
            Op::Out(1, text) => script.stdout(text),
            Op::Out(_, text) => script.stderr(text),
            Op::Sleep(d) => script.sleep(d),
            Op::Cat => script,
            Op::Exit(code) => script.exit(code),
        };
    }
    script
}

/// An exec nothing scripted: the commands [`super::shell`] understands
/// (`cat` copies stdin to stdout); anything else fails as a missing
/// executable does.
async fn builtin_exec(mut p: ExecProcess) -> i64 {
    let Some(ops) = interpret(
        p.cmd.first().map(String::as_str).unwrap_or(""),
        p.cmd.get(1..).unwrap_or(&[]),
        p.tty,
    ) else {
        let name = p.cmd.first().cloned().unwrap_or_default();
        p.stdout(format!(
            "OCI runtime exec failed: exec failed: unable to start container process: exec: \"{name}\": executable file not found in $PATH: unknown\r\n"
        ))
        .await;
        return 126;
    };
    for op in ops {
        match op {
            Op::Out(1, text) => p.stdout(text).await,
            Op::Out(_, text) => p.stderr(text).await,
            Op::Sleep(d) => tokio::time::sleep(d).await,
            Op::Cat => {
                let mut buf = vec![0u8; 16 * 1024];
                loop {
                    let n = match p.stdin() {
                        Some(s) => tokio::io::AsyncReadExt::read(s, &mut buf)
                            .await
                            .unwrap_or(0),
                        None => 0,
                    };
                    if n == 0 {
                        break;
                    }
                    let chunk = buf[..n].to_vec();
                    p.stdout(chunk).await;
                }
            }
            Op::Exit(code) => return code,
        }
    }
    0
}
