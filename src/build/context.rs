//! A directory as a tar build context, produced on a blocking thread while
//! it is sent.

use super::ignore::{clean, Dockerignore};
use crate::{Body, Error, Result};
use bytes::{Bytes, BytesMut};
use futures::Stream;
use std::fs::{self, Metadata};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use tokio::sync::mpsc;

/// Size of the chunks the tar stream yields.
const CHUNK: usize = 64 << 10;
/// Chunks buffered between the producing thread and the request.
const DEPTH: usize = 4;

/// A local directory to send as a build context: what `docker build DIR`
/// sends.
///
/// The archive honours `DIR/.dockerignore` with the CLI's rules (see
/// [`Dockerignore`]); the Dockerfile and `.dockerignore` are sent even when a
/// pattern excludes them, as the CLI does. A directory that is excluded is
/// skipped whole unless an exception names something below it.
///
/// Entries are in lexical order with `/`-separated relative paths. Symbolic
/// links are archived as links, never followed; permission bits and
/// modification times are kept, owners are set to uid and gid 0, as the CLI
/// does. Sockets, FIFOs and device files are left out (the CLI archives FIFOs
/// and devices but fails on sockets; none of them is useful to a build), and
/// hard links are archived as separate files.
///
/// ```no_run
/// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
/// use dockhand::build::{BuildContext, BuildOutcome};
/// use dockhand::operations::ImageBuildOptions;
/// let context = BuildContext::from_dir("./app")?.dockerfile("docker/Dockerfile")?;
/// let opts = ImageBuildOptions::default().t("app:1").dockerfile("docker/Dockerfile");
/// let stream = docker.images().build(context.into_body()?, &opts).await?;
/// let outcome = BuildOutcome::collect(stream).await?;
/// println!("built {}", outcome.image_id);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct BuildContext {
    root: PathBuf,
    ignore: Dockerignore,
    dockerfile: String,
}

/// The tar archive of a [`BuildContext`] as a stream of chunks, produced on
/// a separate thread at most a few chunks ahead of the reader (so a large
/// context is never held in memory). Dropping the stream stops the producer.
///
/// An unreadable file ends the stream with [`Error::Io`] naming the file.
pub struct TarStream {
    rx: mpsc::Receiver<Result<Bytes>>,
}

impl std::fmt::Debug for TarStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TarStream(..)")
    }
}

impl Stream for TarStream {
    type Item = Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.rx.poll_recv(cx)
    }
}

/// What the producing thread shares with whoever started it.
#[derive(Default)]
pub(crate) struct Producer {
    /// Bytes of archive written so far (accepted by the chunk writer).
    pub(crate) produced: AtomicU64,
    /// The error that stopped the producer, if any.
    failure: Mutex<Option<Error>>,
}

impl Producer {
    pub(crate) fn take_failure(&self) -> Option<Error> {
        self.failure.lock().ok().and_then(|mut f| f.take())
    }
}

/// One filesystem object to archive.
struct Entry {
    /// `/`-separated path relative to the context root, for matching.
    rel: String,
    /// The same path for the archive.
    tar_path: PathBuf,
    abs: PathBuf,
}

impl BuildContext {
    /// The directory `dir` with the patterns of its `.dockerignore`. The
    /// Dockerfile kept in spite of the patterns is `Dockerfile` unless
    /// [`BuildContext::dockerfile`] says otherwise.
    ///
    /// Fails with [`Error::Io`] when `dir` cannot be resolved, with
    /// [`Error::InvalidArgument`] when it is not a directory or its
    /// `.dockerignore` has a bad pattern.
    ///
    /// ```no_run
    /// let context = dockhand::build::BuildContext::from_dir("./app")?;
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref();
        let root = fs::canonicalize(dir).map_err(|source| Error::Io {
            context: format!("cannot resolve build context directory {}", dir.display()),
            source,
        })?;
        if !root.is_dir() {
            return Err(Error::InvalidArgument {
                name: "context",
                message: format!("{} is not a directory", dir.display()),
            });
        }
        let ignore = Dockerignore::read_dir(&root)?;
        Ok(BuildContext {
            root,
            ignore,
            dockerfile: "Dockerfile".to_owned(),
        })
    }

    /// The Dockerfile's path inside the context (the build's `dockerfile`
    /// option), which is sent even when `.dockerignore` excludes it. A path
    /// outside the context is refused with [`Error::InvalidArgument`].
    ///
    /// ```no_run
    /// let context = dockhand::build::BuildContext::from_dir(".")?.dockerfile("build/Dockerfile.prod")?;
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn dockerfile(mut self, path: &str) -> Result<Self> {
        #[cfg(windows)]
        let path = &path.replace('\\', "/");
        let cleaned = clean(path);
        if cleaned.starts_with('/')
            || cleaned == "."
            || cleaned == ".."
            || cleaned.starts_with("../")
        {
            return Err(Error::InvalidArgument {
                name: "dockerfile",
                message: format!("{path:?} is not a file path inside the build context"),
            });
        }
        self.dockerfile = cleaned;
        Ok(self)
    }

    /// The context directory (resolved).
    ///
    /// ```no_run
    /// let context = dockhand::build::BuildContext::from_dir(".")?;
    /// println!("{}", context.root().display());
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The patterns read from `.dockerignore`.
    ///
    /// ```no_run
    /// let context = dockhand::build::BuildContext::from_dir(".")?;
    /// assert!(!context.dockerignore().is_excluded("Dockerfile"));
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn dockerignore(&self) -> &Dockerignore {
        &self.ignore
    }

    /// The Dockerfile's path inside the context (cleaned).
    #[cfg(feature = "buildkit")]
    pub(crate) fn dockerfile_rel(&self) -> &str {
        &self.dockerfile
    }

    /// The patterns in force: `.dockerignore`'s, plus the exceptions the CLI
    /// adds for `.dockerignore` and the Dockerfile when they are excluded.
    pub(crate) fn rules(&self) -> Dockerignore {
        let mut rules = self.ignore.clone();
        if rules.is_excluded(".dockerignore") {
            rules.push_exception(".dockerignore");
        }
        if rules.is_excluded(&self.dockerfile) {
            rules.push_exception(&self.dockerfile);
        }
        rules
    }

    /// The paths the archive will hold, in order (directories included), after
    /// checking that every file can be opened, as the CLI checks before it
    /// sends anything. Blocking: walks the directory.
    ///
    /// ```no_run
    /// for path in dockhand::build::BuildContext::from_dir(".")?.paths()? {
    ///     println!("{path}");
    /// }
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn paths(&self) -> Result<Vec<String>> {
        let mut paths = Vec::new();
        self.walk(|entry, meta| {
            if meta.is_file() {
                fs::File::open(&entry.abs).map_err(|source| Error::Io {
                    context: format!("cannot read {}", entry.abs.display()),
                    source,
                })?;
            }
            paths.push(entry.rel.clone());
            Ok(())
        })?;
        Ok(paths)
    }

    /// Writes the tar archive to `out` and returns it. Blocking: reads the
    /// whole directory.
    ///
    /// ```no_run
    /// let file = std::fs::File::create("context.tar").unwrap();
    /// dockhand::build::BuildContext::from_dir(".")?.write_tar(file)?;
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn write_tar<W: Write>(&self, out: W) -> Result<W> {
        let mut builder = tar::Builder::new(out);
        self.walk(|entry, meta| append(&mut builder, entry, meta))?;
        let io_err = |source| Error::Io {
            context: "cannot finish the build context archive".to_owned(),
            source,
        };
        let mut out = builder.into_inner().map_err(io_err)?;
        out.flush().map_err(io_err)?;
        Ok(out)
    }

    /// The tar archive as a stream of chunks, produced on a new thread while
    /// the stream is read.
    ///
    /// ```no_run
    /// # async fn f() -> dockhand::Result<()> {
    /// use futures::TryStreamExt;
    /// let mut tar = dockhand::build::BuildContext::from_dir(".")?.tar_stream()?;
    /// while let Some(chunk) = tar.try_next().await? {
    ///     println!("{} bytes", chunk.len());
    /// }
    /// # Ok(()) }
    /// ```
    pub fn tar_stream(self) -> Result<TarStream> {
        Ok(self.spawn(CHUNK, DEPTH)?.0)
    }

    /// The tar archive as a request body for
    /// [`Images::build`](crate::api::Images::build), produced while
    /// it is sent.
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// let body = dockhand::build::BuildContext::from_dir(".")?.into_body()?;
    /// let stream = docker.images().build(body, &Default::default()).await?;
    /// # Ok(()) }
    /// ```
    pub fn into_body(self) -> Result<Body> {
        Ok(Body::from_stream(self.tar_stream()?))
    }

    /// Starts the producer: chunks of `chunk` bytes, `depth` of them buffered.
    pub(crate) fn spawn(self, chunk: usize, depth: usize) -> Result<(TarStream, Arc<Producer>)> {
        let (tx, rx) = mpsc::channel(depth.max(1));
        let producer = Arc::new(Producer::default());
        let shared = producer.clone();
        std::thread::Builder::new()
            .name("dockhand-build-context".to_owned())
            .spawn(move || {
                let writer = ChunkWriter {
                    tx: tx.clone(),
                    buf: BytesMut::new(),
                    chunk: chunk.max(1),
                    producer: shared.clone(),
                };
                if let Err(e) = self.write_tar(writer) {
                    // A closed channel means the reader is gone: nobody to tell.
                    if !tx.is_closed() {
                        let copy = duplicate(&e);
                        if let Ok(mut slot) = shared.failure.lock() {
                            *slot = Some(e);
                        }
                        let _ = tx.blocking_send(Err(copy));
                    }
                }
            })
            .map_err(|source| Error::Io {
                context: "cannot start the build context thread".to_owned(),
                source,
            })?;
        Ok((TarStream { rx }, producer))
    }

    /// Walks the context in lexical order, calling `visit` for each entry
    /// that is not excluded.
    fn walk(&self, mut visit: impl FnMut(&Entry, &Metadata) -> Result<()>) -> Result<()> {
        let rules = self.rules();
        let root = Entry {
            rel: String::new(),
            tar_path: PathBuf::new(),
            abs: self.root.clone(),
        };
        let mut stack = children(&root)?;
        while let Some(entry) = stack.pop() {
            let meta = fs::symlink_metadata(&entry.abs).map_err(|source| Error::Io {
                context: format!("cannot stat {}", entry.abs.display()),
                source,
            })?;
            let descend = if rules.is_excluded(&entry.rel) {
                meta.is_dir() && rules.may_reinclude_below(&entry.rel)
            } else {
                visit(&entry, &meta)?;
                meta.is_dir()
            };
            if descend {
                stack.extend(children(&entry)?);
            }
        }
        Ok(())
    }
}

/// The entries of directory `dir`, sorted by name in reverse (for a stack).
fn children(dir: &Entry) -> Result<Vec<Entry>> {
    let io_err = |source| Error::Io {
        context: format!("cannot read directory {}", dir.abs.display()),
        source,
    };
    let mut names = Vec::new();
    for item in fs::read_dir(&dir.abs).map_err(io_err)? {
        names.push(item.map_err(io_err)?.file_name());
    }
    names.sort_unstable_by(|a, b| b.cmp(a));
    Ok(names
        .into_iter()
        .map(|name| {
            let lossy = name.to_string_lossy();
            Entry {
                rel: if dir.rel.is_empty() {
                    lossy.into_owned()
                } else {
                    format!("{}/{lossy}", dir.rel)
                },
                tar_path: dir.tar_path.join(&name),
                abs: dir.abs.join(&name),
            }
        })
        .collect())
}

/// Appends one entry to the archive.
fn append<W: Write>(builder: &mut tar::Builder<W>, entry: &Entry, meta: &Metadata) -> Result<()> {
    let io_err = |source| Error::Io {
        context: format!("cannot archive {}", entry.abs.display()),
        source,
    };
    let kind = meta.file_type();
    if kind.is_dir() {
        let mut h = header(meta, tar::EntryType::Directory, 0);
        builder
            .append_data(&mut h, &entry.tar_path, io::empty())
            .map_err(io_err)
    } else if kind.is_symlink() {
        let target = fs::read_link(&entry.abs).map_err(io_err)?;
        let mut h = header(meta, tar::EntryType::Symlink, 0);
        builder
            .append_link(&mut h, &entry.tar_path, target)
            .map_err(io_err)
    } else if kind.is_file() {
        let file = fs::File::open(&entry.abs).map_err(|source| Error::Io {
            context: format!("cannot read {}", entry.abs.display()),
            source,
        })?;
        let size = meta.len();
        let mut h = header(meta, tar::EntryType::Regular, size);
        let data = Exact {
            file,
            remaining: size,
        };
        builder
            .append_data(&mut h, &entry.tar_path, data)
            .map_err(io_err)
    } else {
        Ok(())
    }
}

fn header(meta: &Metadata, kind: tar::EntryType, size: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_size(size);
    h.set_mode(mode(meta));
    h.set_uid(0);
    h.set_gid(0);
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs());
    h.set_mtime(mtime);
    h
}

#[cfg(unix)]
fn mode(meta: &Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o7777
}

/// Windows has no permission bits: the CLI sends `0755` there.
#[cfg(not(unix))]
fn mode(_meta: &Metadata) -> u32 {
    0o755
}

/// A file read as exactly the size its header declares: a file that shrank
/// while being archived is an error (it would corrupt the archive), one that
/// grew is cut at the declared size.
struct Exact {
    file: fs::File,
    remaining: u64,
}

impl Read for Exact {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.remaining == 0 || buf.is_empty() {
            return Ok(0);
        }
        let want = buf
            .len()
            .min(usize::try_from(self.remaining).unwrap_or(usize::MAX));
        let n = self.file.read(&mut buf[..want])?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the file shrank while it was being archived",
            ));
        }
        self.remaining -= n as u64;
        Ok(n)
    }
}

/// Collects written bytes into chunks and sends each to the stream, blocking
/// while the stream is `depth` chunks behind.
struct ChunkWriter {
    tx: mpsc::Sender<Result<Bytes>>,
    buf: BytesMut,
    chunk: usize,
    producer: Arc<Producer>,
}

impl ChunkWriter {
    fn send(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = self.buf.split().freeze();
        self.tx.blocking_send(Ok(chunk)).map_err(|_| {
            io::Error::new(
                io::ErrorKind::BrokenPipe,
                "the build context reader is gone",
            )
        })
    }
}

impl Write for ChunkWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.buf.len() >= self.chunk {
            self.send()?;
        }
        let n = data.len().min(self.chunk - self.buf.len());
        self.buf.extend_from_slice(&data[..n]);
        self.producer
            .produced
            .fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}

/// A copy of a producer error, for the stream (the original is kept for the
/// caller of [`prepare_dir`]).
fn duplicate(e: &Error) -> Error {
    match e {
        Error::Io { context, source } => Error::Io {
            context: context.clone(),
            source: io::Error::new(source.kind(), source.to_string()),
        },
        other => Error::protocol(other.to_string()),
    }
}

/// The context of `dir` for [`Images::build_dir`](crate::api::Images::build_dir):
/// checked like the CLI checks it (every file to send is readable), then
/// started as a tar stream, with the producer that reports why the archive
/// could not be made when the request fails.
pub(crate) async fn prepare_dir(
    dir: &Path,
    dockerfile: Option<String>,
) -> Result<(TarStream, Arc<Producer>)> {
    let dir = dir.to_owned();
    let context = tokio::task::spawn_blocking(move || {
        let mut context = BuildContext::from_dir(&dir)?;
        if let Some(d) = dockerfile {
            context = context.dockerfile(&d)?;
        }
        context.paths()?;
        Ok::<_, Error>(context)
    })
    .await
    .map_err(|e| Error::Io {
        context: "the build context check did not finish".to_owned(),
        source: io::Error::other(e),
    })??;
    context.spawn(CHUNK, DEPTH)
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;

    /// A fresh temporary directory, removed when dropped.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(tag: &str) -> TempDir {
            static N: AtomicU64 = AtomicU64::new(0);
            let n = N.fetch_add(1, Ordering::Relaxed);
            let p =
                std::env::temp_dir().join(format!("dockhand-ctx-{tag}-{}-{n}", std::process::id()));
            let _ = fs::remove_dir_all(&p);
            fs::create_dir_all(&p).unwrap();
            TempDir(p)
        }

        fn file(&self, rel: &str, text: &str) -> PathBuf {
            let p = self.0.join(rel);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(&p, text).unwrap();
            p
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    // Only the Unix-only tests read the mode, owner and link fields.
    #[cfg_attr(not(unix), allow(dead_code))]
    struct Listed {
        path: String,
        kind: tar::EntryType,
        mode: u32,
        uid: u64,
        gid: u64,
        mtime: u64,
        link: Option<String>,
        data: Vec<u8>,
    }

    fn list(tar_bytes: &[u8]) -> Vec<Listed> {
        let mut archive = tar::Archive::new(tar_bytes);
        archive
            .entries()
            .unwrap()
            .map(|e| {
                let mut e = e.unwrap();
                let h = e.header().clone();
                let mut data = Vec::new();
                e.read_to_end(&mut data).unwrap();
                Listed {
                    path: e.path().unwrap().to_string_lossy().into_owned(),
                    kind: h.entry_type(),
                    mode: h.mode().unwrap(),
                    uid: h.uid().unwrap(),
                    gid: h.gid().unwrap(),
                    mtime: h.mtime().unwrap(),
                    link: e
                        .link_name()
                        .unwrap()
                        .map(|l| l.to_string_lossy().into_owned()),
                    data,
                }
            })
            .collect()
    }

    #[cfg(unix)]
    const IGNORE: &str = "# neither secrets nor logs\n\nsecret.txt\nlogs/**\n*.tmp\n!keep.tmp\n\
                          Dockerfile\n/.dockerignore\nvendor\n!vendor/keep/me.txt\n";

    #[cfg(unix)]
    fn sample() -> TempDir {
        let t = TempDir::new("sample");
        t.file(".dockerignore", IGNORE);
        t.file("Dockerfile", "FROM scratch\n");
        let a = t.file("a.txt", "alpha\n");
        t.file("secret.txt", "hunter2\n");
        t.file("keep.tmp", "kept\n");
        t.file("x.tmp", "dropped\n");
        t.file("logs/a.log", "log\n");
        t.file("logs/sub/b.log", "log\n");
        let main = t.file("src/main.rs", "fn main() {}\n");
        t.file("src/x.tmp", "not at the root: kept\n");
        t.file("vendor/lib.rs", "\n");
        t.file("vendor/keep/me.txt", "me\n");
        t.file("vendor/keep/other.txt", "other\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::os::unix::fs::symlink("a.txt", t.0.join("link")).unwrap();
            std::os::unix::fs::symlink("src", t.0.join("dirlink")).unwrap();
            fs::set_permissions(&main, fs::Permissions::from_mode(0o755)).unwrap();
            fs::set_permissions(&a, fs::Permissions::from_mode(0o640)).unwrap();
        }
        let when = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000_000);
        fs::File::options()
            .write(true)
            .open(&a)
            .unwrap()
            .set_modified(when)
            .unwrap();
        t
    }

    #[cfg(unix)]
    const EXPECTED: &[&str] = &[
        ".dockerignore",
        "Dockerfile",
        "a.txt",
        "dirlink",
        "keep.tmp",
        "link",
        "logs",
        "src",
        "src/main.rs",
        "src/x.tmp",
        "vendor/keep/me.txt",
    ];

    #[cfg(unix)]
    #[test]
    fn archive_holds_what_dockerignore_leaves() {
        let t = sample();
        let context = BuildContext::from_dir(&t.0).unwrap();
        assert_eq!(context.paths().unwrap(), EXPECTED);
        let bytes = context.write_tar(Vec::new()).unwrap();
        let entries = list(&bytes);
        let paths: Vec<&str> = entries
            .iter()
            .map(|e| e.path.trim_end_matches('/'))
            .collect();
        assert_eq!(paths, EXPECTED);
        let get = |p: &str| {
            entries
                .iter()
                .find(|e| e.path.trim_end_matches('/') == p)
                .unwrap()
        };
        // Symbolic links stay links, never followed.
        let link = get("link");
        assert_eq!(link.kind, tar::EntryType::Symlink);
        assert_eq!(link.link.as_deref(), Some("a.txt"));
        assert!(link.data.is_empty());
        let dirlink = get("dirlink");
        assert_eq!(dirlink.kind, tar::EntryType::Symlink);
        assert_eq!(dirlink.link.as_deref(), Some("src"));
        assert!(!paths.contains(&"dirlink/main.rs"));
        // Modes, owners, times and contents.
        let a = get("a.txt");
        assert_eq!(a.kind, tar::EntryType::Regular);
        assert_eq!(a.mode, 0o640);
        assert_eq!(a.mtime, 1_000_000_000);
        assert_eq!(a.data, b"alpha\n");
        assert_eq!(get("src/main.rs").mode, 0o755);
        assert_eq!(get("logs").kind, tar::EntryType::Directory);
        assert_eq!(get("vendor/keep/me.txt").data, b"me\n");
        assert_eq!(get("Dockerfile").data, b"FROM scratch\n");
        assert!(entries.iter().all(|e| e.uid == 0 && e.gid == 0));
    }

    #[test]
    fn another_dockerfile_is_kept_and_must_be_inside() {
        let t = TempDir::new("dockerfile");
        t.file(".dockerignore", "build\n*.df\n");
        t.file("build/app.df", "FROM scratch\n");
        t.file("build/other", "x\n");
        t.file("Dockerfile", "FROM scratch\n");
        let context = BuildContext::from_dir(&t.0)
            .unwrap()
            .dockerfile("./build//app.df")
            .unwrap();
        assert_eq!(
            context.paths().unwrap(),
            [".dockerignore", "Dockerfile", "build/app.df"]
        );
        for bad in ["../Dockerfile", "/etc/passwd", ".", "a/../../x"] {
            let e = BuildContext::from_dir(&t.0)
                .unwrap()
                .dockerfile(bad)
                .unwrap_err();
            assert!(
                matches!(
                    e,
                    Error::InvalidArgument {
                        name: "dockerfile",
                        ..
                    }
                ),
                "{bad}: {e}"
            );
        }
        // Not a directory; a bad pattern.
        let e = BuildContext::from_dir(t.0.join("Dockerfile")).unwrap_err();
        assert!(
            matches!(
                e,
                Error::InvalidArgument {
                    name: "context",
                    ..
                }
            ),
            "{e}"
        );
        t.file(".dockerignore", "ok\n[z-a]\n");
        let e = BuildContext::from_dir(&t.0).unwrap_err();
        assert!(e.to_string().contains("line 2"), "{e}");
    }

    #[tokio::test]
    async fn stream_is_the_archive_produced_a_few_chunks_ahead() {
        let t = TempDir::new("big");
        t.file("Dockerfile", "FROM scratch\n");
        // 16 MiB that do not compress to anything clever.
        let big: Vec<u8> = (0..(16usize << 20))
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect();
        fs::write(t.0.join("big.bin"), &big).unwrap();
        let context = BuildContext::from_dir(&t.0).unwrap();
        let whole = context.write_tar(Vec::new()).unwrap();
        let (chunk, depth) = (16 << 10, 2);
        let (mut stream, producer) = context.spawn(chunk, depth).unwrap();
        let bound = ((depth + 2) * chunk) as u64;
        let mut got = Vec::new();
        let mut chunks = 0;
        while let Some(c) = stream.next().await {
            let c = c.unwrap();
            assert!(!c.is_empty() && c.len() <= chunk);
            got.extend_from_slice(&c);
            chunks += 1;
            // The producer never runs more than the channel's room ahead of
            // the reader: the archive is never all in memory.
            let produced = producer.produced.load(Ordering::Relaxed);
            let ahead = produced - got.len() as u64;
            assert!(ahead <= bound, "{ahead} bytes produced ahead of the reader");
            if chunks == 1 {
                // So the first chunk came while the big file was being read.
                assert!(produced < whole.len() as u64 / 4, "{produced} produced");
            }
        }
        assert!(chunks > 1000, "{chunks} chunks");
        assert_eq!(got.len(), whole.len());
        assert!(got == whole, "streamed archive differs from write_tar's");
        let entries = list(&got);
        assert_eq!(entries[1].path, "big.bin");
        assert!(entries[1].data == big);
    }

    #[tokio::test]
    async fn dropping_the_stream_stops_the_producer() {
        let t = TempDir::new("drop");
        fs::write(t.0.join("big.bin"), vec![7u8; 4 << 20]).unwrap();
        let (mut stream, producer) = BuildContext::from_dir(&t.0)
            .unwrap()
            .spawn(4096, 1)
            .unwrap();
        stream.next().await.unwrap().unwrap();
        drop(stream);
        // The thread fails its next send and ends without reporting: nobody listens.
        for _ in 0..200 {
            if Arc::strong_count(&producer) == 1 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert_eq!(
            Arc::strong_count(&producer),
            1,
            "producer thread still running"
        );
        assert!(producer.produced.load(Ordering::Relaxed) < 1 << 20);
        assert!(producer.take_failure().is_none());
    }

    #[tokio::test]
    async fn unreadable_context_is_an_io_error_naming_the_path() {
        let t = TempDir::new("gone");
        t.file("Dockerfile", "FROM scratch\n");
        let context = BuildContext::from_dir(&t.0).unwrap();
        let root = context.root().display().to_string();
        fs::remove_dir_all(&t.0).unwrap();
        let check = |e: Error| match e {
            Error::Io { context, source } => {
                assert!(context.contains(&root), "{context}");
                assert_eq!(source.kind(), io::ErrorKind::NotFound);
            }
            other => panic!("{other:?}"),
        };
        check(context.paths().unwrap_err());
        check(context.write_tar(Vec::new()).unwrap_err());
        let (stream, producer) = context.clone().spawn(CHUNK, DEPTH).unwrap();
        let items: Vec<Result<Bytes>> = stream.collect().await;
        assert_eq!(items.len(), 1);
        check(items.into_iter().next().unwrap().unwrap_err());
        // The original is kept for build_dir, to report instead of the
        // aborted request's error.
        check(producer.take_failure().expect("failure kept"));
        let e = BuildContext::from_dir(&t.0).unwrap_err();
        assert!(matches!(e, Error::Io { .. }), "{e}");
    }

    #[test]
    fn a_file_that_shrinks_is_an_error_not_a_corrupt_archive() {
        let t = TempDir::new("shrink");
        let p = t.file("f", "0123456789");
        let mut r = Exact {
            file: fs::File::open(&p).unwrap(),
            remaining: 20,
        };
        let mut out = Vec::new();
        let e = r.read_to_end(&mut out).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof);
        // One that grew is cut at the declared size.
        let mut r = Exact {
            file: fs::File::open(&p).unwrap(),
            remaining: 4,
        };
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        assert_eq!(out, b"0123");
    }
}
