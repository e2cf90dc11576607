//! Pull and push progress added up: the daemon reports each layer on its
//! own (`id`, `status`, `progressDetail {current, total}`); [`Progress`]
//! keeps the latest state of every layer and the overall bytes transferred
//! of the bytes known, for one overall progress bar.

use crate::models::{CreateImageInfo, PushImageInfo};

/// A progress message of a pull or push.
pub trait ProgressMessage {
    /// The layer (or other item) the message is about.
    fn id(&self) -> Option<&str>;
    /// The status text (`Downloading`, `Pull complete`, `Pushing`, …).
    fn status(&self) -> Option<&str>;
    /// `progressDetail`: bytes so far and in all, when given.
    fn detail(&self) -> (Option<u64>, Option<u64>);
}

fn detail_of(d: Option<&crate::models::ProgressDetail>) -> (Option<u64>, Option<u64>) {
    let n = |v: Option<i64>| v.and_then(|v| u64::try_from(v).ok());
    match d {
        Some(d) => (n(d.current), n(d.total).filter(|t| *t > 0)),
        None => (None, None),
    }
}

impl ProgressMessage for CreateImageInfo {
    fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }
    fn status(&self) -> Option<&str> {
        self.status.as_deref()
    }
    fn detail(&self) -> (Option<u64>, Option<u64>) {
        detail_of(self.progress_detail.as_ref())
    }
}

impl ProgressMessage for PushImageInfo {
    fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }
    fn status(&self) -> Option<&str> {
        self.status.as_deref()
    }
    fn detail(&self) -> (Option<u64>, Option<u64>) {
        detail_of(self.progress_detail.as_ref())
    }
}

/// The latest state of one layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerProgress {
    /// The layer id (a short digest).
    pub id: String,
    /// The latest status (`Downloading`, `Extracting`, `Pushed`, …).
    pub status: String,
    /// `progressDetail.current` of the latest message: bytes of the current
    /// phase (download, extraction, upload), 0 when not given.
    pub current: u64,
    /// `progressDetail.total` of the latest message, when given.
    pub total: Option<u64>,
    /// Bytes transferred (downloaded or uploaded) so far.
    pub transferred: u64,
    /// The layer's transfer size, once the daemon has said it.
    pub size: Option<u64>,
    /// The layer is finished (`Pull complete`, `Already exists`, `Pushed`,
    /// `Layer already exists`, `Mounted from …`).
    pub done: bool,
}

/// Pull or push progress over all layers.
///
/// ```
/// use dockhand::models::CreateImageInfo;
/// use dockhand::stream::progress::Progress;
/// let mut p = Progress::new();
/// let m: CreateImageInfo = serde_json::from_str(
///     r#"{"id":"a1","status":"Downloading","progressDetail":{"current":50,"total":200}}"#,
/// ).unwrap();
/// p.update(&m);
/// assert_eq!((p.current(), p.total()), (50, 200));
/// ```
#[derive(Debug, Clone, Default)]
pub struct Progress {
    layers: Vec<LayerProgress>,
}

impl Progress {
    /// No layers yet.
    ///
    /// ```
    /// let p = dockhand::stream::progress::Progress::new();
    /// assert_eq!(p.total(), 0);
    /// ```
    pub fn new() -> Self {
        Progress::default()
    }

    /// Takes one message into account. Returns the layer it updated, or
    /// `None` for a message about no layer (`Pulling from …`, `Digest: …`,
    /// `Status: …`, the pushed digest).
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// use dockhand::stream::progress::Progress;
    /// use futures::TryStreamExt;
    /// let mut progress = Progress::new();
    /// let mut messages = docker.images().pull("busybox", &Default::default()).await?;
    /// while let Some(m) = messages.try_next().await? {
    ///     if let Some(layer) = progress.update(&m) {
    ///         println!("{}: {}", layer.id, layer.status);
    ///     }
    ///     println!("{} of {} bytes", progress.current(), progress.total());
    /// }
    /// # Ok(()) }
    /// ```
    pub fn update<M: ProgressMessage + ?Sized>(&mut self, message: &M) -> Option<&LayerProgress> {
        let id = message.id()?;
        let status = message.status().unwrap_or_default();
        if id.is_empty() || !is_layer_status(status) {
            return None;
        }
        let (current, total) = message.detail();
        let at = match self.layers.iter().position(|l| l.id == id) {
            Some(i) => i,
            None => {
                self.layers.push(LayerProgress {
                    id: id.to_owned(),
                    status: String::new(),
                    current: 0,
                    total: None,
                    transferred: 0,
                    size: None,
                    done: false,
                });
                self.layers.len() - 1
            }
        };
        let layer = &mut self.layers[at];
        layer.status = status.to_owned();
        layer.current = current.unwrap_or(0);
        layer.total = total;
        match status {
            "Downloading" | "Pushing" => {
                if let Some(t) = total {
                    layer.size = Some(t);
                }
                let c = current.unwrap_or(layer.transferred);
                layer.transferred = layer.size.map_or(c, |s| c.min(s));
            }
            _ => {
                if transfer_finished(status) {
                    if let Some(s) = layer.size {
                        layer.transferred = s;
                    }
                }
                if layer_finished(status) {
                    layer.done = true;
                }
            }
        }
        Some(&self.layers[at])
    }

    /// Every layer seen, in the order they first appeared.
    ///
    /// ```
    /// assert!(dockhand::stream::progress::Progress::new().layers().is_empty());
    /// ```
    pub fn layers(&self) -> &[LayerProgress] {
        &self.layers
    }

    /// One layer by id.
    ///
    /// ```
    /// assert!(dockhand::stream::progress::Progress::new().layer("a1").is_none());
    /// ```
    pub fn layer(&self, id: &str) -> Option<&LayerProgress> {
        self.layers.iter().find(|l| l.id == id)
    }

    /// Bytes transferred over all layers.
    ///
    /// ```
    /// assert_eq!(dockhand::stream::progress::Progress::new().current(), 0);
    /// ```
    pub fn current(&self) -> u64 {
        self.layers
            .iter()
            .fold(0u64, |sum, l| sum.saturating_add(l.transferred))
    }

    /// Bytes to transfer over all layers whose size is known so far (layers
    /// that already exist on the other side add nothing).
    ///
    /// ```
    /// assert_eq!(dockhand::stream::progress::Progress::new().total(), 0);
    /// ```
    pub fn total(&self) -> u64 {
        self.layers.iter().fold(0u64, |sum, l| {
            sum.saturating_add(l.size.unwrap_or(0).max(l.transferred))
        })
    }

    /// How many layers are finished.
    ///
    /// ```
    /// assert_eq!(dockhand::stream::progress::Progress::new().done_layers(), 0);
    /// ```
    pub fn done_layers(&self) -> usize {
        self.layers.iter().filter(|l| l.done).count()
    }

    /// True when at least one layer was seen and all are finished.
    ///
    /// ```
    /// assert!(!dockhand::stream::progress::Progress::new().is_done());
    /// ```
    pub fn is_done(&self) -> bool {
        !self.layers.is_empty() && self.layers.iter().all(|l| l.done)
    }
}

/// The manifest a push put on the registry: its tag, digest and size.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PushedManifest {
    /// The tag pushed (`latest`).
    pub tag: String,
    /// The manifest's digest (`sha256:…`): what `NAME@DIGEST` pulls.
    pub digest: String,
    /// The manifest's size in bytes, when said.
    pub size: Option<u64>,
}

/// The manifest a push message reports, if it reports one: dockerd's final
/// `aux` (`{"Tag","Digest","Size"}`), or the status line
/// `TAG: digest: sha256:… size: N` that dockerd sends before it and Podman
/// sends alone (its push has no `aux`). Look at every message of a push; the
/// last one that answers is the pushed manifest.
///
/// ```
/// use dockhand::models::PushImageInfo;
/// use dockhand::stream::progress::pushed_manifest;
/// let digest = "sha256:4b8e6d7a3f2c1b0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e";
/// // dockerd
/// let m: PushImageInfo = serde_json::from_str(&format!(
///     r#"{{"progressDetail":{{}},"aux":{{"Tag":"1","Digest":"{digest}","Size":527}}}}"#
/// )).unwrap();
/// assert_eq!(pushed_manifest(&m).unwrap().digest, digest);
/// // Podman
/// let m: PushImageInfo =
///     serde_json::from_str(&format!(r#"{{"status":"1: digest: {digest} size: 348"}}"#)).unwrap();
/// let pushed = pushed_manifest(&m).unwrap();
/// assert_eq!((pushed.tag.as_str(), pushed.size), ("1", Some(348)));
/// ```
pub fn pushed_manifest(message: &PushImageInfo) -> Option<PushedManifest> {
    if let Some(aux) = &message.aux {
        if let Some(digest) = aux.digest.as_deref().filter(|d| is_digest(d)) {
            return Some(PushedManifest {
                tag: aux.tag.clone().unwrap_or_default(),
                digest: digest.to_owned(),
                size: aux.size.and_then(|s| u64::try_from(s).ok()),
            });
        }
    }
    let (tag, rest) = message.status.as_deref()?.trim().split_once(": digest: ")?;
    let (digest, size) = match rest.split_once(" size: ") {
        Some((d, s)) => (d, Some(s.trim().parse::<u64>().ok()?)),
        None => (rest, None),
    };
    is_digest(digest).then(|| PushedManifest {
        tag: tag.to_owned(),
        digest: digest.to_owned(),
        size,
    })
}

/// `algorithm:encoded`, as an image reference's digest is checked.
fn is_digest(d: &str) -> bool {
    crate::auth::check_digest(d).is_ok()
}

/// Messages with an id that are not about a layer: `Pulling from …` carries
/// the tag as its id.
fn is_layer_status(status: &str) -> bool {
    !status.starts_with("Pulling from")
}

/// The layer's bytes are all across (downloaded and verified, or on the registry).
fn transfer_finished(status: &str) -> bool {
    matches!(
        status,
        "Verifying Checksum" | "Download complete" | "Extracting" | "Pull complete" | "Pushed"
    ) || layer_finished(status)
}

fn layer_finished(status: &str) -> bool {
    matches!(
        status,
        "Pull complete" | "Already exists" | "Pushed" | "Layer already exists"
    ) || status.starts_with("Mounted from")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pull(json: &str) -> CreateImageInfo {
        serde_json::from_str(json).unwrap()
    }

    fn push(json: &str) -> PushImageInfo {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn a_pull_adds_up_over_layers() {
        let mut p = Progress::new();
        let msgs = [
            r#"{"status":"Pulling from dockhand-test/busybox","id":"latest"}"#,
            r#"{"status":"Pulling fs layer","progressDetail":{},"id":"aaa"}"#,
            r#"{"status":"Pulling fs layer","progressDetail":{},"id":"bbb"}"#,
            r#"{"status":"Already exists","progressDetail":{},"id":"ccc"}"#,
            r#"{"status":"Downloading","progressDetail":{"current":100,"total":1000},"progress":"[>  ]","id":"aaa"}"#,
            r#"{"status":"Downloading","progressDetail":{"current":50,"total":500},"id":"bbb"}"#,
        ];
        for m in msgs {
            p.update(&pull(m));
        }
        assert_eq!(p.layers().len(), 3, "{:?}", p.layers());
        assert!(p.layer("latest").is_none());
        assert_eq!((p.current(), p.total()), (150, 1500));
        assert_eq!(p.done_layers(), 1);
        let l = p
            .update(&pull(
                r#"{"status":"Download complete","progressDetail":{},"id":"aaa"}"#,
            ))
            .unwrap()
            .clone();
        assert_eq!((l.transferred, l.size, l.done), (1000, Some(1000), false));
        assert_eq!(p.current(), 1050);
        // Extraction has its own current/total, but bytes transferred stay.
        let l = p
            .update(&pull(r#"{"status":"Extracting","progressDetail":{"current":32768,"total":1000},"id":"aaa"}"#))
            .unwrap()
            .clone();
        assert_eq!((l.current, l.total), (32768, Some(1000)));
        assert_eq!(p.current(), 1050);
        p.update(&pull(
            r#"{"status":"Pull complete","progressDetail":{},"id":"aaa"}"#,
        ));
        p.update(&pull(
            r#"{"status":"Downloading","progressDetail":{"current":500,"total":500},"id":"bbb"}"#,
        ));
        p.update(&pull(
            r#"{"status":"Verifying Checksum","progressDetail":{},"id":"bbb"}"#,
        ));
        p.update(&pull(
            r#"{"status":"Pull complete","progressDetail":{},"id":"bbb"}"#,
        ));
        assert!(p.is_done());
        assert_eq!((p.current(), p.total()), (1500, 1500));
        // Messages about no layer.
        assert!(p
            .update(&pull(r#"{"status":"Digest: sha256:abc"}"#))
            .is_none());
        assert!(p
            .update(&pull(
                r#"{"status":"Status: Downloaded newer image for x"}"#
            ))
            .is_none());
        assert_eq!(p.layers().len(), 3);
    }

    #[test]
    fn a_push_reads_the_undeclared_id() {
        let mut p = Progress::new();
        let msgs = [
            r#"{"status":"The push refers to repository [127.0.0.1:5001/x]"}"#,
            r#"{"status":"Preparing","progressDetail":{},"id":"l1"}"#,
            r#"{"status":"Preparing","progressDetail":{},"id":"l2"}"#,
            r#"{"status":"Pushing","progressDetail":{"current":512,"total":2048},"progress":"[=>  ]","id":"l1"}"#,
            r#"{"status":"Layer already exists","progressDetail":{},"id":"l2"}"#,
        ];
        for m in msgs {
            p.update(&push(m));
        }
        assert_eq!(p.layers().len(), 2);
        assert_eq!((p.current(), p.total()), (512, 2048));
        assert_eq!(p.done_layers(), 1);
        p.update(&push(
            r#"{"status":"Pushed","progressDetail":{},"id":"l1"}"#,
        ));
        assert!(p.is_done());
        assert_eq!(p.current(), 2048);
        assert!(p
            .update(&push(
                r#"{"status":"latest: digest: sha256:abc size: 527"}"#
            ))
            .is_none());
        let mut m = Progress::new();
        m.update(&push(
            r#"{"status":"Mounted from other/repo","progressDetail":{},"id":"l3"}"#,
        ));
        assert!(m.is_done());
    }

    #[test]
    fn the_pushed_manifest_comes_from_aux_or_from_the_status_line() {
        const D: &str = "sha256:0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9";
        // dockerd: the status line, then the aux; both say the same.
        let line = push(&format!(r#"{{"status":"latest: digest: {D} size: 527"}}"#));
        let aux = push(&format!(
            r#"{{"progressDetail":{{}},"aux":{{"Tag":"latest","Digest":"{D}","Size":527}}}}"#
        ));
        let want = PushedManifest {
            tag: "latest".into(),
            digest: D.into(),
            size: Some(527),
        };
        assert_eq!(pushed_manifest(&line), Some(want.clone()));
        assert_eq!(pushed_manifest(&aux), Some(want));
        // Podman 4.3: only the status line.
        let podman = push(&format!(r#"{{"status":"v1: digest: {D} size: 348"}}"#));
        assert_eq!(pushed_manifest(&podman).map(|p| p.tag), Some("v1".into()));
        // No size: still the digest.
        let bare = push(&format!(r#"{{"status":"v1: digest: {D}"}}"#));
        assert_eq!(pushed_manifest(&bare).map(|p| p.size), Some(None));
        // Not a pushed manifest.
        for m in [
            r#"{"status":"The push refers to repository [127.0.0.1:5000/x:1]"}"#,
            r#"{"status":"Pushed","progressDetail":{},"id":"l1"}"#,
            r#"{"status":"x: digest: not-a-digest size: 1"}"#,
            r#"{"status":"x: digest: sha256:zz size: 1"}"#,
            // A sha256 digest has 64 hex digits (as in an image reference).
            r#"{"status":"x: digest: sha256:0a1b size: 1"}"#,
            r#"{"status":"x: digest: sha256:ab size: many"}"#,
            r#"{"aux":{"Tag":"1","Digest":""}}"#,
            r#"{}"#,
        ] {
            assert_eq!(pushed_manifest(&push(m)), None, "{m}");
        }
    }

    #[test]
    fn odd_details_never_panic_or_overflow() {
        let mut p = Progress::new();
        for m in [
            r#"{"status":"Downloading","progressDetail":{"current":-5,"total":-1},"id":"a"}"#,
            r#"{"status":"Downloading","progressDetail":{"current":9000,"total":100},"id":"a"}"#,
            r#"{"status":"Downloading","progressDetail":{"current":9223372036854775807,"total":9223372036854775807},"id":"b"}"#,
            r#"{"status":"Downloading","progressDetail":{"current":9223372036854775807,"total":9223372036854775807},"id":"c"}"#,
            r#"{"status":"Downloading","id":""}"#,
            r#"{"id":"d"}"#,
        ] {
            p.update(&pull(m));
        }
        // Current never exceeds the layer's size.
        assert_eq!(p.layer("a").unwrap().transferred, 100);
        // Huge layers: the sums saturate instead of overflowing.
        assert_eq!(p.current(), u64::MAX);
        assert_eq!(p.total(), u64::MAX);
        assert!(p.layer("d").is_some());
    }
}
