//! Conformance of `dockhand::testing::FakeDocker` to dockerd: one set of
//! scenarios runs against the real daemon of the test environment and
//! against the fake, and what the client observes must be the same, with
//! what naturally differs (ids, digests, times) masked.
//!
//! Without the test environment only the fake half runs (and must still
//! observe something in every scenario); with `CI` set, the missing
//! environment fails the test. Run with `cargo test --features testing --test conformance`.

mod common;

use dockhand::models::{
    ContainerCreateBody, ContainerExecBody, ExecStartBody, NetworkConnectRequest,
    NetworkCreateBody, NetworkDisconnectRequest,
};
use dockhand::operations::{
    ContainerAttachOptions, ContainerCreateOptions, ContainerDeleteOptions, ContainerKillOptions,
    ContainerListOptions, ContainerLogsOptions, ContainerStopOptions, Filters, ImageTagOptions,
};
use dockhand::stream::events::EventFilters;
use dockhand::stream::LogOutput;
use dockhand::testing::{ContainerScript, FakeDocker, PullScript};
use dockhand::{ApiVersion, Docker, Error};
use futures::{StreamExt, TryStreamExt};
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, SystemTime};
use tokio::io::AsyncWriteExt;

/// Where a scenario runs.
struct Target {
    docker: Docker,
    /// The local busybox image.
    image: String,
    /// `host:port` of the open registry.
    registry: String,
    /// A pushed, uniquely tagged image in that registry, not present locally.
    pull_ref: String,
    /// Names and labels of this run start with it.
    prefix: String,
}

/// What a scenario observed, masked.
#[derive(Debug, Default, PartialEq)]
struct Obs(Vec<String>);

impl Obs {
    fn see(&mut self, what: &str, value: impl std::fmt::Debug) {
        self.0.push(mask(&format!("{what}: {value:?}")));
    }
    /// One observation per item (readable differences).
    fn see_each(&mut self, what: &str, r: Result<Vec<String>, Error>) {
        match r {
            Ok(items) => {
                self.see(&format!("{what} count"), items.len());
                for (i, item) in items.iter().enumerate() {
                    self.0.push(mask(&format!("{what} [{i}]: {item}")));
                }
            }
            Err(e) => self.see(what, error_of(&e)),
        }
    }
    fn see_result<T: std::fmt::Debug>(&mut self, what: &str, r: &Result<T, Error>) {
        match r {
            Ok(v) => self.see(what, v),
            Err(e) => self.see(what, error_of(e)),
        }
    }
}

fn mask(s: &str) -> String {
    let rules = [
        (r"sha256:[0-9a-f]{64}", "<digest>"),
        (r"[0-9a-f]{64}", "<id>"),
        (r"\b[0-9a-f]{12}\b", "<short>"),
        (
            r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)",
            "<time>",
        ),
    ];
    let mut out = s.to_string();
    for (re, with) in rules {
        out = regex::Regex::new(re)
            .expect("mask regex")
            .replace_all(&out, with)
            .into_owned();
    }
    out
}

fn error_of(e: &Error) -> String {
    match e {
        Error::Api {
            status, message, ..
        } => format!("Api {status}: {message}"),
        other => format!("other error: {other}"),
    }
}

// ----- client calls, in one place (the public API is still moving) ------

fn body(t: &Target, cmd: &[&str], labels: &[(&str, &str)]) -> ContainerCreateBody {
    let mut l: HashMap<String, String> = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    l.insert("dhconf".into(), t.prefix.clone());
    ContainerCreateBody {
        image: Some(t.image.clone()),
        cmd: Some(cmd.iter().map(|s| s.to_string()).collect()),
        labels: Some(l),
        ..Default::default()
    }
}

async fn create(t: &Target, name: &str, body: &ContainerCreateBody) -> Result<String, Error> {
    let opts = ContainerCreateOptions::default().name(name);
    Ok(t.docker.containers().create(body, &opts).await?.id)
}

async fn start(t: &Target, name: &str) -> Result<(), Error> {
    t.docker.containers().start(name, &Default::default()).await
}

async fn wait(t: &Target, name: &str) -> Result<i64, Error> {
    Ok(t.docker
        .containers()
        .wait(name, &Default::default())
        .await?
        .status_code)
}

async fn state(t: &Target, name: &str) -> Result<String, Error> {
    let c = t
        .docker
        .containers()
        .inspect(name, &Default::default())
        .await?;
    let s = c.state.unwrap_or_default();
    let zero = |t: &Option<String>| t.as_deref().is_none_or(|t| t.starts_with("0001-"));
    Ok(format!(
        "status={:?} running={:?} exit={:?} pid_set={} started={} finished={}",
        s.status.map(|s| s.as_str().to_string()),
        s.running,
        s.exit_code,
        s.pid.unwrap_or(0) != 0,
        !zero(&s.started_at),
        !zero(&s.finished_at),
    ))
}

async fn stop(t: &Target, name: &str) -> Result<(), Error> {
    t.docker
        .containers()
        .stop(name, &ContainerStopOptions::default().t(0))
        .await
}

/// `docker top`: the titles and each process's command.
async fn top(t: &Target, name: &str) -> Result<(Vec<String>, Vec<String>), Error> {
    let top = t.docker.containers().top(name, &Default::default()).await?;
    let cmds = top
        .processes
        .unwrap_or_default()
        .into_iter()
        .filter_map(|p| p.last().cloned())
        .collect();
    Ok((top.titles.unwrap_or_default(), cmds))
}

async fn kill(t: &Target, name: &str) -> Result<(), Error> {
    t.docker
        .containers()
        .kill(name, &ContainerKillOptions::default())
        .await
}

async fn remove(t: &Target, name: &str, force: bool) -> Result<(), Error> {
    t.docker
        .containers()
        .remove(name, &ContainerDeleteOptions::default().force(force))
        .await
}

/// A container's logs: the text per stream (stdout, stderr, console).
async fn logs(t: &Target, name: &str, out: bool, err: bool, follow: bool) -> Result<String, Error> {
    let opts = ContainerLogsOptions::default()
        .stdout(out)
        .stderr(err)
        .follow(follow);
    let pieces: Vec<LogOutput> = t
        .docker
        .containers()
        .logs(name, &opts)
        .await?
        .try_collect()
        .await?;
    Ok(by_stream(&pieces))
}

fn by_stream(pieces: &[LogOutput]) -> String {
    let mut m: BTreeMap<&str, String> = BTreeMap::new();
    for p in pieces {
        let k = match p {
            LogOutput::StdOut(_) => "stdout",
            LogOutput::StdErr(_) => "stderr",
            LogOutput::StdIn(_) => "stdin",
            LogOutput::Console(_) => "console",
        };
        m.entry(k)
            .or_default()
            .push_str(&String::from_utf8_lossy(p.bytes()));
    }
    format!("{m:?}")
}

/// Runs an exec to its end, with `stdin` written and closed when given;
/// its output per stream and its exit code.
async fn exec(
    t: &Target,
    container: &str,
    cmd: &[&str],
    tty: bool,
    start_tty: Option<bool>,
    stdin: Option<&[u8]>,
) -> Result<(String, Option<i64>, Option<bool>), Error> {
    let body = ContainerExecBody {
        cmd: Some(cmd.iter().map(|s| s.to_string()).collect()),
        attach_stdin: Some(stdin.is_some()),
        attach_stdout: Some(true),
        attach_stderr: Some(true),
        tty: Some(tty),
        ..Default::default()
    };
    let id = t.docker.exec().create(container, &body).await?.id;
    let attached = t
        .docker
        .exec()
        .start(
            &id,
            &ExecStartBody {
                tty: start_tty,
                ..Default::default()
            },
        )
        .await?;
    let mut input = attached.input;
    if let Some(data) = stdin {
        input.write_all(data).await.expect("stdin write");
        input.shutdown().await.expect("stdin shutdown");
    }
    let pieces: Vec<LogOutput> = attached.output.try_collect().await?;
    let mut inspect = t.docker.exec().inspect(&id).await?;
    for _ in 0..50 {
        if inspect.running != Some(true) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        inspect = t.docker.exec().inspect(&id).await?;
    }
    Ok((by_stream(&pieces), inspect.exit_code, inspect.running))
}

/// Names of the containers a list returns, sorted.
async fn list(t: &Target, all: bool, filters: &[(&str, &str)]) -> Result<Vec<String>, Error> {
    let mut f: Filters = Filters::new();
    f.entry("label".into())
        .or_default()
        .push(format!("dhconf={}", t.prefix));
    for (k, v) in filters {
        f.entry(k.to_string()).or_default().push(v.to_string());
    }
    let opts = ContainerListOptions::default().all(all).filters(f);
    let mut names: Vec<String> = t
        .docker
        .containers()
        .list(&opts)
        .await?
        .into_iter()
        .flat_map(|c| c.names.unwrap_or_default())
        .collect();
    names.sort();
    Ok(names)
}

/// Pull messages as the client sees them, layer messages left out (how
/// many layers a registry sends differs between images and caches).
async fn pull(t: &Target, reference: &str) -> Result<Vec<String>, Error> {
    let mut stream = t
        .docker
        .images()
        .pull(reference, &Default::default())
        .await?;
    let mut out = Vec::new();
    let tag = reference.rsplit(':').next().unwrap_or("latest").to_string();
    while let Some(m) = stream.try_next().await? {
        match &m.id {
            Some(id) if *id != tag => continue,
            _ => out.push(format!("{:?} id={:?}", m.status, m.id)),
        }
    }
    Ok(out)
}

async fn events(t: &Target, filters: EventFilters) -> Result<Vec<String>, Error> {
    let msgs: Vec<_> = t
        .docker
        .system()
        .events(&filters.into_options())
        .await?
        .try_collect()
        .await?;
    Ok(msgs
        .into_iter()
        .map(|e| {
            let actor = e.actor.unwrap_or_default();
            let attrs: BTreeMap<_, _> = actor.attributes.unwrap_or_default().into_iter().collect();
            format!(
                "{:?} {:?} actor={:?} {:?}",
                e.type_.map(|t| t.as_str().to_string()),
                e.action,
                actor.id,
                attrs
            )
        })
        .collect())
}

// ----- scenarios ---------------------------------------------------------

async fn lifecycle(t: &Target) -> Obs {
    let mut o = Obs::default();
    let name = format!("{}-life", t.prefix);
    let b = body(t, &["sh", "-c", "echo out; echo err >&2; exit 3"], &[]);
    let id = create(t, &name, &b).await;
    o.see(
        "create id length",
        id.as_ref().map(|i| i.len()).map_err(error_of),
    );
    o.see_result("inspect created", &state(t, &name).await);
    let c = t
        .docker
        .containers()
        .inspect(&name, &Default::default())
        .await
        .expect("inspect");
    let cfg = c.config.clone().unwrap_or_default();
    o.see("name/path/args", (&c.name, &c.path, &c.args));
    o.see(
        "config image/cmd/labels/tty",
        (&cfg.image, &cfg.cmd, &cfg.labels, &cfg.tty),
    );
    o.see_result("start", &start(t, &name).await);
    o.see_result("wait", &wait(t, &name).await);
    o.see_result("inspect exited", &state(t, &name).await);
    o.see_result("logs stdout", &logs(t, &name, true, false, false).await);
    o.see_result("logs stderr", &logs(t, &name, false, true, false).await);
    o.see_result("logs both", &logs(t, &name, true, true, false).await);
    o.see_result("remove", &remove(t, &name, false).await);
    o.see_result("inspect removed", &state(t, &name).await);
    o.see_result("remove again", &remove(t, &name, false).await);
    o
}

async fn follow_stop_kill(t: &Target) -> Obs {
    let mut o = Obs::default();
    let name = format!("{}-follow", t.prefix);
    let b = body(t, &["sh", "-c", "echo one; sleep 1; echo two"], &[]);
    o.see_result("create", &create(t, &name, &b).await.map(|_| ()));
    o.see_result("start", &start(t, &name).await);
    o.see_result("logs follow", &logs(t, &name, true, true, true).await);
    o.see_result("wait", &wait(t, &name).await);

    let name = format!("{}-sleep", t.prefix);
    let b = body(t, &["sleep", "100"], &[]);
    o.see_result("create sleeper", &create(t, &name, &b).await.map(|_| ()));
    o.see_result("start", &start(t, &name).await);
    o.see_result("start again (304)", &start(t, &name).await);
    o.see_result("inspect running", &state(t, &name).await);
    o.see_result("top", &top(t, &name).await);
    o.see_result("stop", &stop(t, &name).await);
    o.see_result("wait after stop", &wait(t, &name).await);
    o.see_result("inspect stopped", &state(t, &name).await);
    o.see_result("stop again (304)", &stop(t, &name).await);
    o.see_result("top of a stopped container", &top(t, &name).await);
    o.see_result("start after stop", &start(t, &name).await);
    o.see_result("kill", &kill(t, &name).await);
    o.see_result("wait after kill", &wait(t, &name).await);
    o.see_result("kill again", &kill(t, &name).await);
    o.see_result("remove", &remove(t, &name, false).await);
    o
}

async fn attach_then_start(t: &Target) -> Obs {
    let mut o = Obs::default();
    let name = format!("{}-attach", t.prefix);
    let b = body(t, &["sh", "-c", "echo out; echo err >&2; exit 3"], &[]);
    o.see_result("create", &create(t, &name, &b).await.map(|_| ()));
    let opts = ContainerAttachOptions::default()
        .stream(true)
        .stdout(true)
        .stderr(true);
    let attached = t.docker.containers().attach(&name, &opts).await;
    o.see("attach", attached.as_ref().map(|_| ()).map_err(error_of));
    o.see_result("start", &start(t, &name).await);
    if let Ok(a) = attached {
        let pieces: Result<Vec<LogOutput>, Error> = a.output.try_collect().await;
        o.see_result("output until exit", &pieces.map(|p| by_stream(&p)));
    }
    o.see_result("wait", &wait(t, &name).await);
    let again = t.docker.containers().attach(&name, &opts).await.map(|_| ());
    o.see_result("attach to an exited container", &again);
    o.see_result("remove", &remove(t, &name, false).await);
    o
}

async fn exec_with_stdin(t: &Target) -> Obs {
    let mut o = Obs::default();
    let name = format!("{}-exec", t.prefix);
    let t0 = SystemTime::now() - Duration::from_secs(1);
    let b = body(t, &["sleep", "100"], &[]);
    o.see_result("create", &create(t, &name, &b).await.map(|_| ()));
    o.see_result("start", &start(t, &name).await);
    o.see_result(
        "cat with stdin",
        &exec(t, &name, &["cat"], false, None, Some(b"hello\nworld\n")).await,
    );
    o.see_result(
        "stderr and exit code",
        &exec(
            t,
            &name,
            &["sh", "-c", "echo oops >&2; exit 5"],
            false,
            None,
            None,
        )
        .await,
    );
    // As the docker CLI starts a TTY exec: `Tty` in the start body too.
    o.see_result(
        "tty echo, tty start",
        &exec(t, &name, &["echo", "hi"], true, Some(true), None).await,
    );
    // Without it dockerd frames the output although the exec has a TTY
    // (the client, asking the exec's inspect, then reads frames as console
    // bytes); the fake does the same.
    o.see_result(
        "tty echo, plain start",
        &exec(t, &name, &["echo", "hi"], true, None, None).await,
    );
    o.see_result("stop", &stop(t, &name).await);
    o.see_result(
        "exec in a stopped container",
        &exec(t, &name, &["true"], false, None, None).await,
    );
    o.see_result(
        "exec inspect of nothing",
        &t.docker
            .exec()
            .inspect("dhconf-no-such-exec")
            .await
            .map(|_| ()),
    );
    o.see_result("remove", &remove(t, &name, true).await);
    let window = EventFilters::new()
        .kind(dockhand::models::EventMessageType::Container)
        .container(name.clone())
        .since(t0)
        .until(SystemTime::now() + Duration::from_secs(1));
    o.see_each("events", events(t, window).await);
    o
}

async fn pull_progress(t: &Target) -> Obs {
    let mut o = Obs::default();
    let t0 = SystemTime::now() - Duration::from_secs(1);
    o.see_result("pull", &pull(t, &t.pull_ref).await);
    o.see_result("pull again", &pull(t, &t.pull_ref).await);
    let img = t
        .docker
        .images()
        .inspect(&t.pull_ref, &Default::default())
        .await;
    o.see_result(
        "inspect has the tag",
        &img.map(|i| i.repo_tags.unwrap_or_default().contains(&t.pull_ref)),
    );
    let missing = format!("{}/dockhand-test/busybox:dhconf-no-such-tag", t.registry);
    o.see_result("pull of a missing tag", &pull(t, &missing).await);
    o.see_result(
        "remove pulled",
        &t.docker
            .images()
            .remove(&t.pull_ref, &Default::default())
            .await
            .map(|r| {
                r.iter()
                    .any(|i| i.untagged.as_deref() == Some(t.pull_ref.as_str()))
            }),
    );
    let window = EventFilters::new()
        .kind(dockhand::models::EventMessageType::Image)
        .image(t.pull_ref.clone())
        .event("pull")
        .since(t0)
        .until(SystemTime::now() + Duration::from_secs(1));
    o.see_each("pull events", events(t, window).await);
    o
}

async fn events_window_and_follow(t: &Target) -> Obs {
    let mut o = Obs::default();
    let name = format!("{}-ev", t.prefix);
    let t0 = SystemTime::now() - Duration::from_secs(1);
    // Following: the stream is open before anything happens.
    let live = t
        .docker
        .system()
        .events(
            &EventFilters::new()
                .kind(dockhand::models::EventMessageType::Container)
                .container(name.clone())
                .into_options(),
        )
        .await
        .expect("events");
    let b = body(t, &["sh", "-c", "exit 0"], &[("tier", "ev")]);
    o.see_result("create", &create(t, &name, &b).await.map(|_| ()));
    o.see_result("start", &start(t, &name).await);
    o.see_result("wait", &wait(t, &name).await);
    o.see_result("remove", &remove(t, &name, false).await);
    let first: Vec<_> = live.take(4).try_collect().await.expect("live events");
    o.see(
        "live actions",
        first.iter().map(|e| e.action.clone()).collect::<Vec<_>>(),
    );
    let t1 = SystemTime::now() + Duration::from_secs(1);
    let window = EventFilters::new()
        .kind(dockhand::models::EventMessageType::Container)
        .container(name.clone())
        .since(t0)
        .until(t1);
    o.see_each("window", events(t, window).await);
    let by_label = EventFilters::new()
        .kind(dockhand::models::EventMessageType::Container)
        .label("tier", Some("ev"))
        .event("die")
        .since(t0)
        .until(SystemTime::now() + Duration::from_secs(1));
    o.see_each("die events by label", events(t, by_label).await);
    o
}

async fn network_connect(t: &Target) -> Obs {
    let mut o = Obs::default();
    let net = format!("{}-net", t.prefix);
    let nets = t.docker.networks();
    let body = NetworkCreateBody {
        name: net.clone(),
        labels: Some(HashMap::from([("dhconf".to_string(), t.prefix.clone())])),
        // What the docker CLI sends; without it a 20.10 daemon creates a
        // second network of the same name (the fake refuses, as API 1.44+ does).
        check_duplicate: Some(true),
        ..Default::default()
    };
    let t0 = SystemTime::now() - Duration::from_secs(1);
    o.see_result(
        "create network",
        &nets.create(&body).await.map(|r| r.id.len()),
    );
    o.see_result("create it again", &nets.create(&body).await.map(|_| ()));
    let name = format!("{}-member", t.prefix);
    let b = body_with(t, &["sleep", "100"]);
    o.see_result("create container", &create(t, &name, &b).await.map(|_| ()));
    let connect = |c: &str| NetworkConnectRequest {
        container: c.to_string(),
        ..Default::default()
    };
    let disconnect = |c: &str| NetworkDisconnectRequest {
        container: c.to_string(),
        ..Default::default()
    };
    o.see_result(
        "connect created",
        &nets.connect(&net, &connect(&name)).await,
    );
    o.see_result("container networks", &networks_of(t, &name).await);
    o.see_result("start", &start(t, &name).await);
    o.see_result("network members", &members(t, &net).await);
    o.see_result("connect again", &nets.connect(&net, &connect(&name)).await);
    // (A created container connects to a missing network on 20.10: only
    // its configuration changes. The fake refuses; a running one is the
    // daemon's 404.)
    o.see_result(
        "connect to a missing network",
        &nets
            .connect("dhconf-no-such-network", &connect(&name))
            .await,
    );
    o.see_result("remove network in use", &nets.remove(&net).await);
    o.see_result(
        "disconnect",
        &nets.disconnect(&net, &disconnect(&name)).await,
    );
    o.see_result("container networks after", &networks_of(t, &name).await);
    o.see_result("network members after", &members(t, &net).await);
    o.see_result(
        "disconnect again",
        &nets.disconnect(&net, &disconnect(&name)).await,
    );
    o.see_result(
        "connect a missing container",
        &nets
            .connect(&net, &connect("dhconf-no-such-container"))
            .await,
    );
    o.see_result("remove container", &remove(t, &name, true).await);
    o.see_result("remove network", &nets.remove(&net).await);
    o.see_result("remove it again", &nets.remove(&net).await);
    let window = EventFilters::new()
        .kind(dockhand::models::EventMessageType::Network)
        .network(net.clone())
        .since(t0)
        .until(SystemTime::now() + Duration::from_secs(1));
    o.see_each("network events", events(t, window).await);
    o
}

async fn networks_of(t: &Target, name: &str) -> Result<Vec<String>, Error> {
    let c = t
        .docker
        .containers()
        .inspect(name, &Default::default())
        .await?;
    let mut n: Vec<String> = c
        .network_settings
        .and_then(|s| s.networks)
        .unwrap_or_default()
        .into_keys()
        .collect();
    n.sort();
    Ok(n)
}

async fn members(t: &Target, net: &str) -> Result<Vec<String>, Error> {
    let n = t
        .docker
        .networks()
        .inspect(net, &Default::default())
        .await?;
    let mut m: Vec<String> = n
        .containers
        .unwrap_or_default()
        .into_values()
        .filter_map(|e| e.name)
        .collect();
    m.sort();
    Ok(m)
}

fn body_with(t: &Target, cmd: &[&str]) -> ContainerCreateBody {
    body(t, cmd, &[])
}

async fn errors(t: &Target) -> Obs {
    let mut o = Obs::default();
    let missing = format!("{}-missing", t.prefix);
    o.see_result("inspect missing", &state(t, &missing).await);
    o.see_result("start missing", &start(t, &missing).await);
    o.see_result("wait missing", &wait(t, &missing).await);
    o.see_result("logs missing", &logs(t, &missing, true, true, false).await);
    let mut b = body(t, &["true"], &[]);
    b.image = Some("dhconf-no-such-image:1".into());
    o.see_result(
        "create from a missing image",
        &create(t, &missing, &b).await,
    );
    let dup = format!("{}-dup", t.prefix);
    let b = body(t, &["sleep", "100"], &[]);
    o.see_result("create", &create(t, &dup, &b).await.map(|_| ()));
    o.see_result("create again", &create(t, &dup, &b).await);
    o.see_result("kill a created container", &kill(t, &dup).await);
    o.see_result("start", &start(t, &dup).await);
    o.see_result("remove running", &remove(t, &dup, false).await);
    o.see_result("remove running, forced", &remove(t, &dup, true).await);
    o.see_result(
        "network inspect missing",
        &t.docker
            .networks()
            .inspect("dhconf-no-such-network", &Default::default())
            .await
            .map(|_| ()),
    );
    o.see_result(
        "volume inspect missing",
        &t.docker
            .volumes()
            .inspect("dhconf-no-such-volume")
            .await
            .map(|_| ()),
    );
    o.see_result(
        "image inspect missing",
        &t.docker
            .images()
            .inspect("dhconf-no-such-image", &Default::default())
            .await
            .map(|_| ()),
    );
    o
}

async fn list_filters(t: &Target) -> Obs {
    let mut o = Obs::default();
    let p = &t.prefix;
    let sleeper = ["sleep", "100"];
    for (n, labels) in [
        ("a", vec![("tier", "web")]),
        ("b", vec![("tier", "db")]),
        ("c", vec![]),
    ] {
        let b = body(t, &sleeper, &labels);
        o.see_result(
            "create",
            &create(t, &format!("{p}-{n}"), &b).await.map(|_| ()),
        );
    }
    o.see_result("start a", &start(t, &format!("{p}-a")).await);
    o.see_result("running only", &list(t, false, &[]).await);
    o.see_result("all", &list(t, true, &[]).await);
    o.see_result(
        "label key=value",
        &list(t, true, &[("label", "tier=web")]).await,
    );
    o.see_result("label key", &list(t, true, &[("label", "tier")]).await);
    o.see_result(
        "status running",
        &list(t, true, &[("status", "running")]).await,
    );
    o.see_result(
        "status created",
        &list(t, false, &[("status", "created")]).await,
    );
    o.see_result(
        "name substring",
        &list(t, true, &[("name", &format!("{p}-b"))]).await,
    );
    o.see_result(
        "name anchored",
        &list(t, true, &[("name", &format!("^/?{p}-[ac]$"))]).await,
    );
    o.see_result("bad status", &list(t, true, &[("status", "sleepy")]).await);
    o.see_result("bad filter", &list(t, true, &[("colour", "red")]).await);
    let mut f = Filters::new();
    f.insert("name".into(), vec![format!("{p}-a")]);
    let summary = t
        .docker
        .containers()
        .list(&ContainerListOptions::default().filters(f))
        .await
        .map(|v| {
            v.into_iter()
                .map(|c| {
                    format!(
                        "{:?} {:?} {:?} {:?} {:?} up={}",
                        c.names,
                        c.image,
                        c.command,
                        c.state.map(|s| s.as_str().to_string()),
                        c.labels.map(|l| l.into_iter().collect::<BTreeMap<_, _>>()),
                        c.status.unwrap_or_default().starts_with("Up "),
                    )
                })
                .collect::<Vec<_>>()
        });
    o.see_result("summary", &summary);
    for n in ["a", "b", "c"] {
        o.see_result("remove", &remove(t, &format!("{p}-{n}"), true).await);
    }
    o
}

// ----- the two targets ---------------------------------------------------

const IMAGE: &str = "dockhand-test/busybox:latest";
const REGISTRY: &str = "127.0.0.1:5000";

fn prefix(test: &str) -> String {
    format!("dhconf-{}-{test}", std::process::id())
}

/// The fake, scripted to do what the scenarios' commands do on dockerd.
async fn fake_target(
    version: ApiVersion,
    image: &str,
    registry: &str,
    test: &str,
) -> (FakeDocker, Target) {
    let fake = FakeDocker::builder()
        .api_version(version)
        .engine_version("20.10.24")
        .start()
        .await;
    fake.image(image);
    let pull_ref = format!("{registry}/dhconf-{}:{test}", std::process::id());
    fake.pullable(&pull_ref, PullScript::new().layers(2));
    fake.on_run_with(|body, _name| {
        let cmd = body.cmd.clone().unwrap_or_default();
        let cmd: Vec<&str> = cmd.iter().map(String::as_str).collect();
        match cmd.as_slice() {
            ["sh", "-c", "echo out; echo err >&2; exit 3"] => Some(
                ContainerScript::new()
                    .stdout("out\n")
                    .stderr("err\n")
                    .exit(3),
            ),
            ["sh", "-c", "echo one; sleep 1; echo two"] => Some(
                ContainerScript::new()
                    .stdout("one\n")
                    .sleep(Duration::from_secs(1))
                    .stdout("two\n")
                    .exit(0),
            ),
            _ => None,
        }
    });
    fake.on_exec(|mut p| async move {
        let cmd: Vec<&str> = p.cmd.iter().map(String::as_str).collect();
        match cmd.as_slice() {
            ["cat"] => {
                let input = p.read_stdin_to_end().await;
                p.stdout(input).await;
                0
            }
            ["sh", "-c", "echo oops >&2; exit 5"] => {
                p.stderr("oops\n").await;
                5
            }
            ["echo", rest @ ..] => {
                let line = format!("{}\n", rest.join(" "));
                p.stdout(line).await;
                0
            }
            ["true"] => 0,
            _ => 127,
        }
    });
    let docker = fake.docker();
    let t = Target {
        docker,
        image: image.into(),
        registry: registry.into(),
        pull_ref,
        prefix: prefix(test),
    };
    (fake, t)
}

/// Removes what a scenario left on the real daemon, even when it panicked.
struct Cleanup {
    prefix: String,
    pull_ref: String,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let prefix = self.prefix.clone();
        let pull_ref = self.pull_ref.clone();
        common::cleanup(move |docker| async move {
            let mut f = Filters::new();
            f.insert("label".into(), vec![format!("dhconf={prefix}")]);
            if let Ok(list) = docker
                .containers()
                .list(&ContainerListOptions::default().all(true).filters(f))
                .await
            {
                for c in list {
                    if let Some(id) = c.id {
                        let _ = docker
                            .containers()
                            .remove(&id, &ContainerDeleteOptions::default().force(true))
                            .await;
                    }
                }
            }
            let _ = docker.images().remove(&pull_ref, &Default::default()).await;
            let mut f = Filters::new();
            f.insert("label".into(), vec![format!("dhconf={prefix}")]);
            let opts = dockhand::operations::NetworkListOptions::default().filters(f);
            for n in docker.networks().list(&opts).await.unwrap_or_default() {
                if let Some(id) = n.id {
                    let _ = docker.networks().remove(&id).await;
                }
            }
        });
    }
}

/// The real daemon, with a uniquely tagged image pushed to the registry
/// and not present locally under that name.
async fn real_target(env: &common::TestEnv, test: &str, push: bool) -> (Cleanup, Target) {
    let docker = Docker::connect_with_host("unix:///var/run/docker.sock").expect("client");
    let repo = format!("{}/dhconf-{}", env.registry, std::process::id());
    let pull_ref = format!("{repo}:{test}");
    let cleanup = Cleanup {
        prefix: prefix(test),
        pull_ref: pull_ref.clone(),
    };
    if push {
        push_for_pull(&docker, &env.image, &repo, test).await;
    }
    let t = Target {
        docker,
        image: env.image.clone(),
        registry: env.registry.clone(),
        pull_ref,
        prefix: prefix(test),
    };
    (cleanup, t)
}

/// Pushes `image` as `repo:tag` and removes that name locally, so that a
/// pull of it downloads.
async fn push_for_pull(docker: &Docker, image: &str, repo: &str, tag: &str) {
    let pull_ref = format!("{repo}:{tag}");
    docker
        .images()
        .tag(image, &ImageTagOptions::default().repo(repo).tag(tag))
        .await
        .expect("tag for the registry");
    let _: Vec<_> = docker
        .images()
        .push(&pull_ref, &Default::default())
        .await
        .expect("push")
        .try_collect()
        .await
        .expect("push stream");
    docker
        .images()
        .remove(&pull_ref, &Default::default())
        .await
        .expect("untag after push");
}

/// Runs a scenario on the fake, and with an environment on dockerd too,
/// comparing what the client observes on both.
macro_rules! run_scenario {
    ($test:expr, $env:expr, $scenario:ident) => {{
        let test: &str = $test;
        let env: Option<common::TestEnv> = $env;
        let real = match &env {
            Some(env) => Some(real_target(env, test, test.starts_with("pull")).await),
            None => None,
        };
        let version = match &real {
            Some((_, t)) => t.docker.api_version().await.expect("real daemon's version"),
            None => ApiVersion::new(1, 41),
        };
        let (image, registry) = match &env {
            Some(e) => (e.image.clone(), e.registry.clone()),
            None => (IMAGE.to_string(), REGISTRY.to_string()),
        };
        let (_fake, fake) = fake_target(version, &image, &registry, test).await;
        let seen_fake = $scenario(&fake).await;
        assert!(!seen_fake.0.is_empty(), "{test}: the fake observed nothing");
        match real {
            None => eprintln!("{test}: fake only:\n{}", seen_fake.0.join("\n")),
            Some((_cleanup, real)) => {
                let seen_real = $scenario(&real).await;
                eprintln!("{test}: dockerd observed:\n{}", seen_real.0.join("\n"));
                for (i, (r, f)) in seen_real.0.iter().zip(&seen_fake.0).enumerate() {
                    assert_eq!(
                        r, f,
                        "{test}: observation {i} differs (left: dockerd, right: fake)"
                    );
                }
                assert_eq!(
                    seen_real.0.len(),
                    seen_fake.0.len(),
                    "{test}: observation counts"
                );
            }
        }
    }};
}

/// Each scenario twice: on the fake alone (always), and on dockerd and the
/// fake, compared (needs the test environment).
macro_rules! conformance {
    ($($test:ident => $scenario:ident),* $(,)?) => {$(
        mod $test {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_the_fake() {
                run_scenario!(concat!(stringify!($test), "_fake"), None, $scenario);
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[ignore = "needs the test environment (scripts/test-env.sh)"]
            async fn against_dockerd() {
                let test = stringify!($test);
                run_scenario!(test, Some(common::test_env(test)), $scenario);
            }
        }
    )*};
}

conformance! {
    container_lifecycle_logs_and_wait => lifecycle,
    follow_logs_stop_and_kill => follow_stop_kill,
    attach_before_start => attach_then_start,
    exec_with_stdin_stderr_and_tty => exec_with_stdin,
    pull_progress_and_missing_manifest => pull_progress,
    events_window_filters_and_follow => events_window_and_follow,
    errors_404_409 => errors,
    network_connect_disconnect => network_connect,
    list_filters_label_name_status => list_filters,
}
