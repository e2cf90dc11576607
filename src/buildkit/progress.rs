//! Typed build progress: the `moby.buildkit.trace` messages (base64 of a
//! protobuf `StatusResponse`) as [`BuildKitEvent`]s, the final
//! [`BuildKitOutcome`], and [`PlainProgress`], which prints them the way
//! `docker build --progress=plain` does.

use super::proto;
use crate::{Error, Result};
use base64::Engine;
use futures::{Stream, StreamExt};
use std::collections::HashMap;
use std::time::{Duration, SystemTime};

/// One step of the build graph (a "vertex"), as the latest trace reports it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Vertex {
    /// Its digest: the id statuses and logs refer to.
    pub digest: String,
    /// The digests of the steps it depends on.
    pub inputs: Vec<String>,
    /// What it does (`[stage-1 2/3] RUN make`).
    pub name: String,
    /// Whether its result came from the cache.
    pub cached: bool,
    /// When it started.
    pub started: Option<SystemTime>,
    /// When it completed.
    pub completed: Option<SystemTime>,
    /// Why it failed.
    pub error: Option<String>,
}

/// Progress of a part of a step (a layer being pulled, a context transfer).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct VertexStatus {
    /// What is progressing (`transferring context`, a layer digest).
    pub id: String,
    /// The step's digest.
    pub vertex: String,
    /// A display name.
    pub name: String,
    /// How far it got (bytes, usually).
    pub current: i64,
    /// Out of how much (0 when unknown).
    pub total: i64,
    /// When this was reported.
    pub timestamp: Option<SystemTime>,
    /// When it started.
    pub started: Option<SystemTime>,
    /// When it completed.
    pub completed: Option<SystemTime>,
}

/// Output a step printed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct VertexLog {
    /// The step's digest.
    pub vertex: String,
    /// When.
    pub timestamp: Option<SystemTime>,
    /// 1 for stdout, 2 for stderr.
    pub stream: i64,
    /// The bytes.
    pub data: Vec<u8>,
}

/// A warning about a step.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct VertexWarning {
    /// The step's digest.
    pub vertex: String,
    /// Its level.
    pub level: i64,
    /// A one-line summary.
    pub short: String,
    /// More lines.
    pub detail: Vec<String>,
    /// A link to read about it.
    pub url: String,
}

/// One piece of a BuildKit build's progress.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BuildKitEvent {
    /// A step appeared, started, completed or failed.
    Vertex(Vertex),
    /// Progress within a step.
    Status(VertexStatus),
    /// Output of a step.
    Log(VertexLog),
    /// A warning.
    Warning(VertexWarning),
    /// The built image's id (`moby.image.id`), at the end of a build that
    /// makes an image.
    ImageId(String),
    /// Any other text the daemon wrote into the stream.
    Message(String),
}

fn time(t: Option<proto::Timestamp>) -> Option<SystemTime> {
    let t = t?;
    let secs = u64::try_from(t.seconds).ok()?;
    let nanos = u32::try_from(t.nanos).ok()?;
    SystemTime::UNIX_EPOCH.checked_add(Duration::new(secs, nanos))
}

/// Decodes the `aux` of one `moby.buildkit.trace` message (a base64 string
/// of a protobuf `StatusResponse`) into events: vertexes, then statuses,
/// then logs, then warnings, each in the order the daemon listed them.
///
/// ```
/// use dockhand::buildkit::{decode_trace, BuildKitEvent};
/// // A StatusResponse with one vertex {digest: "sha256:a", name: "RUN true"}.
/// let events = decode_trace("ChQKCHNoYTI1NjphGghSVU4gdHJ1ZQ==")?;
/// assert!(matches!(&events[0], BuildKitEvent::Vertex(v) if v.name == "RUN true"));
/// assert!(dockhand::buildkit::decode_trace("not base64!").is_err());
/// # Ok::<(), dockhand::Error>(())
/// ```
pub fn decode_trace(aux: &str) -> Result<Vec<BuildKitEvent>> {
    use prost::Message;
    let bad = |what: String| Error::protocol(format!("ImageBuild: moby.buildkit.trace: {what}"));
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(aux)
        .map_err(|e| bad(format!("not base64: {e}")))?;
    let status = proto::StatusResponse::decode(bytes.as_slice())
        .map_err(|e| bad(format!("not a StatusResponse: {e}")))?;
    let mut out = Vec::with_capacity(
        status.vertexes.len() + status.statuses.len() + status.logs.len() + status.warnings.len(),
    );
    for v in status.vertexes {
        out.push(BuildKitEvent::Vertex(Vertex {
            digest: v.digest,
            inputs: v.inputs,
            name: v.name,
            cached: v.cached,
            started: time(v.started),
            completed: time(v.completed),
            error: Some(v.error).filter(|e| !e.is_empty()),
        }));
    }
    for s in status.statuses {
        out.push(BuildKitEvent::Status(VertexStatus {
            id: s.id,
            vertex: s.vertex,
            name: s.name,
            current: s.current,
            total: s.total,
            timestamp: time(s.timestamp),
            started: time(s.started),
            completed: time(s.completed),
        }));
    }
    for l in status.logs {
        out.push(BuildKitEvent::Log(VertexLog {
            vertex: l.vertex,
            timestamp: time(l.timestamp),
            stream: l.stream,
            data: l.msg,
        }));
    }
    for w in status.warnings {
        out.push(BuildKitEvent::Warning(VertexWarning {
            vertex: w.vertex,
            level: w.level,
            short: String::from_utf8_lossy(&w.short).into_owned(),
            detail: w
                .detail
                .iter()
                .map(|d| String::from_utf8_lossy(d).into_owned())
                .collect(),
            url: w.url,
        }));
    }
    Ok(out)
}

/// At most this much output is kept per step, for the error of a failed
/// step (the end of it, where the failure is).
const LOG_KEEP: usize = 64 * 1024;

/// What the stream remembers to explain a failure: step names and the end of
/// each step's output.
#[derive(Debug, Default)]
pub(crate) struct Tracker {
    names: HashMap<String, String>,
    logs: HashMap<String, Vec<u8>>,
    /// Failed steps, in the order their failure arrived.
    failed: Vec<String>,
}

impl Tracker {
    pub(crate) fn see(&mut self, event: &BuildKitEvent) {
        match event {
            BuildKitEvent::Vertex(v) => {
                self.names.insert(v.digest.clone(), v.name.clone());
                if v.error.is_some() && !self.failed.contains(&v.digest) {
                    self.failed.push(v.digest.clone());
                }
            }
            BuildKitEvent::Log(l) => {
                let buf = self.logs.entry(l.vertex.clone()).or_default();
                buf.extend_from_slice(&l.data);
                if buf.len() > LOG_KEEP {
                    let cut = buf.len() - LOG_KEEP;
                    buf.drain(..cut);
                }
            }
            _ => {}
        }
    }

    /// The error for a build the daemon reported failed with `message`.
    pub(crate) fn failure(&self, message: String) -> Error {
        // The step that failed: one whose error the message repeats, else the
        // first that failed (later ones are usually cancelled siblings).
        let digest = self
            .failed
            .iter()
            .find(|d| {
                self.names
                    .get(*d)
                    .is_some_and(|n| !n.is_empty() && message.contains(n.as_str()))
            })
            .or_else(|| self.failed.first());
        let step = digest.and_then(|d| self.names.get(d)).cloned();
        let log = digest
            .and_then(|d| self.logs.get(d))
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default();
        Error::BuildFailed { message, step, log }
    }
}

/// What a finished BuildKit build reported.
///
/// ```no_run
/// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
/// use dockhand::buildkit::{BuildKitOptions, BuildKitOutcome};
/// let stream = docker.images().build_kit("./app", &BuildKitOptions::default().tag("app:1")).await?;
/// let outcome = BuildKitOutcome::collect(stream).await?;
/// println!("{:?} in {} steps", outcome.image_id, outcome.vertexes.len());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct BuildKitOutcome {
    /// The image id, when the build made an image (not for `type=local` or
    /// `type=tar` outputs).
    pub image_id: Option<String>,
    /// Every step, in the order they first appeared, as last reported.
    pub vertexes: Vec<Vertex>,
}

impl BuildKitOutcome {
    /// Drives the stream to its end. A failed build is the `Err`
    /// ([`Error::BuildFailed`] with the failing step's output).
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// use dockhand::buildkit::BuildKitOutcome;
    /// let stream = docker.images().build_kit(".", &Default::default()).await?;
    /// let id = BuildKitOutcome::collect(stream).await?.image_id;
    /// # Ok(()) }
    /// ```
    pub async fn collect<S>(stream: S) -> Result<BuildKitOutcome>
    where
        S: Stream<Item = Result<BuildKitEvent>>,
    {
        Self::collect_with(stream, |_| {}).await
    }

    /// As [`BuildKitOutcome::collect`], calling `each` with every event.
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// use dockhand::buildkit::{BuildKitOutcome, PlainProgress};
    /// let mut plain = PlainProgress::new();
    /// let stream = docker.images().build_kit(".", &Default::default()).await?;
    /// BuildKitOutcome::collect_with(stream, |e| {
    ///     for line in plain.lines(e) {
    ///         eprintln!("{line}");
    ///     }
    /// })
    /// .await?;
    /// # Ok(()) }
    /// ```
    pub async fn collect_with<S, F>(stream: S, mut each: F) -> Result<BuildKitOutcome>
    where
        S: Stream<Item = Result<BuildKitEvent>>,
        F: FnMut(&BuildKitEvent),
    {
        let mut stream = std::pin::pin!(stream);
        let mut outcome = BuildKitOutcome::default();
        let mut index: HashMap<String, usize> = HashMap::new();
        while let Some(event) = stream.next().await {
            let event = event?;
            each(&event);
            match &event {
                BuildKitEvent::Vertex(v) => match index.get(&v.digest) {
                    Some(&i) => outcome.vertexes[i] = v.clone(),
                    None => {
                        index.insert(v.digest.clone(), outcome.vertexes.len());
                        outcome.vertexes.push(v.clone());
                    }
                },
                BuildKitEvent::ImageId(id) => outcome.image_id = Some(id.clone()),
                _ => {}
            }
        }
        Ok(outcome)
    }
}

/// Formats events as `docker build --progress=plain` prints them: steps
/// numbered `#1`, `#2`… in order of appearance, `CACHED` / `DONE 0.3s` /
/// `ERROR`, status lines with sizes, and each line of output with the
/// seconds since the step started.
///
/// ```
/// use dockhand::buildkit::{BuildKitEvent, PlainProgress, decode_trace};
/// let mut plain = PlainProgress::new();
/// let events = decode_trace("ChQKCHNoYTI1NjphGghSVU4gdHJ1ZQ==")?;
/// assert_eq!(plain.lines(&events[0]), vec!["#1 RUN true".to_owned()]);
/// # Ok::<(), dockhand::Error>(())
/// ```
#[derive(Debug, Default)]
pub struct PlainProgress {
    numbers: HashMap<String, usize>,
    started: HashMap<String, SystemTime>,
    done: HashMap<String, bool>,
}

impl PlainProgress {
    /// A printer with no steps seen.
    ///
    /// ```
    /// let plain = dockhand::buildkit::PlainProgress::new();
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    fn number(&mut self, digest: &str) -> (usize, bool) {
        let next = self.numbers.len() + 1;
        let mut new = false;
        let n = *self.numbers.entry(digest.to_owned()).or_insert_with(|| {
            new = true;
            next
        });
        (n, new)
    }

    /// The lines to print for one event (none, one or several).
    ///
    /// ```
    /// use dockhand::buildkit::{BuildKitEvent, PlainProgress};
    /// let mut plain = PlainProgress::new();
    /// let lines = plain.lines(&BuildKitEvent::ImageId("sha256:4b8e".into()));
    /// assert_eq!(lines, ["writing image sha256:4b8e done"]);
    /// ```
    pub fn lines(&mut self, event: &BuildKitEvent) -> Vec<String> {
        let mut out = Vec::new();
        match event {
            BuildKitEvent::Vertex(v) => {
                let (n, new) = self.number(&v.digest);
                if new {
                    out.push(format!("#{n} {}", v.name));
                }
                if let Some(t) = v.started {
                    self.started.entry(v.digest.clone()).or_insert(t);
                }
                if self.done.get(&v.digest).copied().unwrap_or(false) {
                    return out;
                }
                if v.cached {
                    out.push(format!("#{n} CACHED"));
                    self.done.insert(v.digest.clone(), true);
                } else if let Some(e) = &v.error {
                    out.push(format!("#{n} ERROR: {e}"));
                    self.done.insert(v.digest.clone(), true);
                } else if let (Some(s), Some(c)) = (v.started, v.completed) {
                    let secs = c.duration_since(s).unwrap_or_default().as_secs_f64();
                    out.push(format!("#{n} DONE {secs:.1}s"));
                    self.done.insert(v.digest.clone(), true);
                }
            }
            BuildKitEvent::Status(s) => {
                // Nothing to say yet.
                if s.current == 0 && s.total == 0 && s.completed.is_none() {
                    return out;
                }
                let (n, _) = self.number(&s.vertex);
                let name = if s.name.is_empty() { &s.id } else { &s.name };
                let mut line = format!("#{n} {name}");
                if s.total > 0 {
                    line.push_str(&format!(" {}B / {}B", s.current, s.total));
                } else if s.current > 0 {
                    line.push_str(&format!(" {}B", s.current));
                }
                if s.completed.is_some() {
                    line.push_str(" done");
                }
                out.push(line);
            }
            BuildKitEvent::Log(l) => {
                let (n, _) = self.number(&l.vertex);
                let since = match (self.started.get(&l.vertex), l.timestamp) {
                    (Some(s), Some(t)) => t.duration_since(*s).unwrap_or_default().as_secs_f64(),
                    _ => 0.0,
                };
                let text = String::from_utf8_lossy(&l.data);
                for line in text.lines() {
                    out.push(format!("#{n} {since:.3} {line}"));
                }
            }
            BuildKitEvent::Warning(w) => {
                let (n, _) = self.number(&w.vertex);
                out.push(format!("#{n} WARNING: {}", w.short));
            }
            BuildKitEvent::ImageId(id) => out.push(format!("writing image {id} done")),
            BuildKitEvent::Message(m) => {
                out.extend(m.lines().filter(|l| !l.is_empty()).map(str::to_owned))
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    fn encode(s: &proto::StatusResponse) -> String {
        base64::engine::general_purpose::STANDARD.encode(s.encode_to_vec())
    }

    #[test]
    fn a_trace_decodes_to_typed_events() {
        let ts = |s| proto::Timestamp {
            seconds: s,
            nanos: 500_000_000,
        };
        let status = proto::StatusResponse {
            vertexes: vec![proto::Vertex {
                digest: "sha256:v1".into(),
                inputs: vec!["sha256:v0".into()],
                name: "[2/2] RUN make".into(),
                cached: false,
                started: Some(ts(10)),
                completed: Some(ts(12)),
                error: "exit code: 2".into(),
                ..Default::default()
            }],
            statuses: vec![proto::VertexStatus {
                id: "transferring context".into(),
                vertex: "sha256:v0".into(),
                current: 512,
                total: 1024,
                ..Default::default()
            }],
            logs: vec![proto::VertexLog {
                vertex: "sha256:v1".into(),
                timestamp: Some(ts(11)),
                stream: 2,
                msg: b"make: *** no rule\n".to_vec(),
            }],
            warnings: vec![],
        };
        let events = decode_trace(&encode(&status)).unwrap();
        assert_eq!(events.len(), 3);
        let BuildKitEvent::Vertex(v) = &events[0] else {
            panic!("{events:?}")
        };
        assert_eq!(v.name, "[2/2] RUN make");
        assert_eq!(v.error.as_deref(), Some("exit code: 2"));
        assert_eq!(
            v.completed,
            Some(SystemTime::UNIX_EPOCH + Duration::from_millis(12_500))
        );
        assert!(
            matches!(&events[1], BuildKitEvent::Status(s) if s.current == 512 && s.total == 1024)
        );
        assert!(matches!(&events[2], BuildKitEvent::Log(l) if l.stream == 2));

        let mut plain = PlainProgress::new();
        let lines: Vec<String> = events.iter().flat_map(|e| plain.lines(e)).collect();
        assert_eq!(
            lines,
            vec![
                "#1 [2/2] RUN make",
                "#1 ERROR: exit code: 2",
                "#2 transferring context 512B / 1024B",
                "#1 1.000 make: *** no rule",
            ]
        );

        let mut t = Tracker::default();
        events.iter().for_each(|e| t.see(e));
        match t.failure("executor failed running [/bin/sh -c make]: exit code: 2".into()) {
            Error::BuildFailed { step, log, .. } => {
                assert_eq!(step.as_deref(), Some("[2/2] RUN make"));
                assert_eq!(log, "make: *** no rule\n");
            }
            e => panic!("{e:?}"),
        }
    }

    #[test]
    fn garbage_traces_are_errors() {
        assert!(decode_trace("%%%").is_err());
        // Valid base64, not a protobuf message (a truncated field).
        assert!(decode_trace("CgQ=").is_err());
        // An empty message is no events.
        assert_eq!(decode_trace("").unwrap(), vec![]);
    }

    #[test]
    fn logs_kept_per_step_are_bounded() {
        let mut t = Tracker::default();
        for _ in 0..100 {
            t.see(&BuildKitEvent::Log(VertexLog {
                vertex: "v".into(),
                data: vec![b'x'; 4096],
                ..Default::default()
            }));
        }
        assert_eq!(t.logs["v"].len(), LOG_KEEP);
    }
}
