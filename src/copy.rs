//! Copying files between the host and containers, like `docker cp`.
//!
//! [`pack`] tars a host file or directory on a blocking thread and streams
//! it as a request [`Body`] through a bounded channel; [`unpack`] extracts a
//! tar stream into a host directory entry by entry, refusing every entry that
//! could write outside the destination. [`Containers::copy_in`] and
//! [`Containers::copy_out`] put them together with `docker cp`'s rules for
//! naming the destination. Neither side holds more than a few chunks of an
//! archive in memory.
//!
//! [`Containers::copy_in`]: crate::api::Containers::copy_in
//! [`Containers::copy_out`]: crate::api::Containers::copy_out

use crate::{Body, Error, Result};
use bytes::{Bytes, BytesMut};
use futures::{Stream, TryStreamExt};
use std::ffi::{OsStr, OsString};
use std::io::{self, Read, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

pub use crate::error::Refusal;

/// How much one archive may unpack: [`unpack_with_limits`] refuses, with
/// [`Refusal::LimitExceeded`] and before writing the entry, the entry that
/// would go past one of them. An archive comes from the daemon, or from
/// whoever sits between it and you: these bound the disk it can fill and the
/// memory its metadata can take.
///
/// ```
/// let limits = dockhand::copy::UnpackLimits::default()
///     .max_bytes(1 << 30)
///     .max_entries(10_000);
/// assert_eq!(limits.max_bytes, 1 << 30);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct UnpackLimits {
    /// Bytes of file content written, summed over the archive (sparse files
    /// count their full size). Default: 64 GiB.
    pub max_bytes: u64,
    /// Entries of any kind (files, directories, links, global PAX headers).
    /// Default: 1,000,000.
    pub max_entries: u64,
    /// Size of one GNU long-name or long-link record, or one PAX extended
    /// header (they are held in memory while the entry they describe is
    /// read). Default: 1 MiB, the limit Go's `archive/tar`, which wrote
    /// the daemon's archive, sets on them.
    pub max_record: u64,
}

impl Default for UnpackLimits {
    fn default() -> Self {
        UnpackLimits {
            max_bytes: 64 << 30,
            max_entries: 1_000_000,
            max_record: 1 << 20,
        }
    }
}

impl UnpackLimits {
    /// Sets [`UnpackLimits::max_bytes`].
    #[must_use]
    pub fn max_bytes(mut self, max: u64) -> Self {
        self.max_bytes = max;
        self
    }

    /// Sets [`UnpackLimits::max_entries`].
    #[must_use]
    pub fn max_entries(mut self, max: u64) -> Self {
        self.max_entries = max;
        self
    }

    /// Sets [`UnpackLimits::max_record`].
    #[must_use]
    pub fn max_record(mut self, max: u64) -> Self {
        self.max_record = max;
        self
    }
}

/// Chunks sent through the channel hold about this many bytes.
const CHUNK: usize = 64 * 1024;
/// Chunks in flight between the packing thread and the request.
const CHANNEL: usize = 4;

/// Tars a host file or directory as a request body for
/// [`Containers::put_archive`](crate::api::Containers::put_archive): the
/// archive's root entry is named after the path's last component, symbolic
/// links are archived as links, and modes and modification times are kept.
///
/// The tree is read on a blocking thread while the request is sent, through a
/// bounded channel: it is never held in memory whole. A read error while
/// packing aborts the request.
///
/// ```no_run
/// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
/// // `./site` becomes `/srv/site` in the container.
/// let body = dockhand::copy::pack("./site")?;
/// docker.containers().put_archive("web", "/srv", body, &Default::default()).await?;
/// # Ok(()) }
/// ```
pub fn pack(path: impl AsRef<Path>) -> Result<Body> {
    let path = path.as_ref();
    let name = root_name(path)?;
    Ok(start_packing(path, &name)?.0)
}

/// The last component of a host path, resolving `.` and `..` when needed.
pub(crate) fn root_name(path: &Path) -> Result<OsString> {
    if let Some(name) = path.file_name() {
        return Ok(name.to_owned());
    }
    let canonical = std::fs::canonicalize(path).map_err(|source| Error::Io {
        context: format!("resolving {}", path.display()),
        source,
    })?;
    canonical
        .file_name()
        .map(OsStr::to_owned)
        .ok_or_else(|| Error::InvalidArgument {
            name: "host_path",
            message: format!("{} has no name to copy it under", path.display()),
        })
}

/// The thread packing a tree into a request body.
pub(crate) struct Packer {
    pub(crate) thread: tokio::task::JoinHandle<io::Result<()>>,
    /// Set when a chunk could not be sent because the request had ended.
    pub(crate) request_gone: Arc<AtomicBool>,
}

/// Starts the packing thread: the body, and the thread.
pub(crate) fn start_packing(path: &Path, name: &OsStr) -> Result<(Body, Packer)> {
    let meta = std::fs::symlink_metadata(path).map_err(|source| Error::Io {
        context: format!("reading {}", path.display()),
        source,
    })?;
    let (tx, rx) = tokio::sync::mpsc::channel::<io::Result<Bytes>>(CHANNEL);
    let (path, name) = (path.to_owned(), PathBuf::from(name));
    let request_gone = Arc::new(AtomicBool::new(false));
    let gone = request_gone.clone();
    let thread = tokio::task::spawn_blocking(move || {
        let error_tx = tx.clone();
        let out = ChannelWriter {
            tx,
            buf: BytesMut::new(),
            gone,
        };
        let result = pack_blocking(&path, &name, meta.is_dir(), out);
        if let Err(e) = &result {
            // Abort the request; its error names the request, this one the file.
            let _ = error_tx.blocking_send(Err(io::Error::new(e.kind(), e.to_string())));
        }
        result
    });
    let chunks = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    });
    Ok((
        Body::from_stream(chunks),
        Packer {
            thread,
            request_gone,
        },
    ))
}

fn pack_blocking(path: &Path, name: &Path, is_dir: bool, out: ChannelWriter) -> io::Result<()> {
    let mut builder = tar::Builder::new(out);
    builder.follow_symlinks(false);
    if is_dir {
        builder.append_dir_all(name, path)?;
    } else {
        builder.append_path_with_name(path, name)?;
    }
    builder.into_inner()?.flush()
}

/// `Write` into a bounded channel, in chunks of about [`CHUNK`] bytes; fails
/// with `BrokenPipe` once the receiving request is gone.
struct ChannelWriter {
    tx: tokio::sync::mpsc::Sender<io::Result<Bytes>>,
    buf: BytesMut,
    gone: Arc<AtomicBool>,
}

impl ChannelWriter {
    fn send(&mut self) -> io::Result<()> {
        let chunk = self.buf.split().freeze();
        self.tx.blocking_send(Ok(chunk)).map_err(|_| {
            self.gone.store(true, Ordering::Relaxed);
            io::Error::new(
                io::ErrorKind::BrokenPipe,
                "the request sending the archive ended",
            )
        })
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if !self.buf.is_empty() {
            self.send()?;
        }
        Ok(())
    }
}

/// Extracts a tar stream into the host directory `dest` (which must exist),
/// entry by entry as the stream arrives, on a blocking thread.
///
/// Extraction never writes outside `dest`. It refuses, with
/// [`Error::UnsafeArchiveEntry`] naming the entry and before writing anything
/// for it, entries whose path is absolute or has a `..` component; symbolic
/// links whose target is absolute, climbs above `dest`, or has a `..` after a
/// name; hard links whose target is not a plain path inside the archive;
/// entries whose path goes through a symbolic link on disk (one extracted
/// earlier or already there); device files and FIFOs. Extraction stops at
/// the first refused entry; what came before it stays. Whole container
/// filesystems often hold absolute links (`/etc/localtime`, `/var/run`),
/// which are refused like any other.
///
/// Regular files, directories, in-destination links are written with their
/// permission bits (set-user-ID, set-group-ID and sticky bits are dropped,
/// and ownership is not changed) and files keep their modification time. A
/// file or link already at an entry's path is replaced, never written
/// through. Directory permissions are applied at the end, so a read-only
/// directory can still be filled. Dropping the returned future stops the
/// extraction. What one archive may unpack is bounded by the default
/// [`UnpackLimits`]; [`unpack_with_limits`] sets others.
///
/// ```no_run
/// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
/// // `docker cp web:/var/log ./logs` by hand, refusing anything unsafe
/// let archive = docker.containers().get_archive("web", "/var/log").await?;
/// std::fs::create_dir_all("logs").expect("mkdir");
/// dockhand::copy::unpack(archive.stream, "logs").await?;
/// # Ok(()) }
/// ```
pub async fn unpack<S>(tar: S, dest: impl AsRef<Path>) -> Result<()>
where
    S: Stream<Item = Result<Bytes>> + Send + 'static,
{
    unpack_stream(tar, dest.as_ref().to_owned(), None, UnpackLimits::default()).await
}

/// [`unpack`] with other [`UnpackLimits`] than the default ones.
///
/// ```no_run
/// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
/// use dockhand::copy::{unpack_with_limits, UnpackLimits};
/// let archive = docker.containers().get_archive("web", "/var/log").await?;
/// let limits = UnpackLimits::default().max_bytes(100 << 20).max_entries(1000);
/// unpack_with_limits(archive.stream, "logs", &limits).await?;
/// # Ok(()) }
/// ```
pub async fn unpack_with_limits<S>(
    tar: S,
    dest: impl AsRef<Path>,
    limits: &UnpackLimits,
) -> Result<()>
where
    S: Stream<Item = Result<Bytes>> + Send + 'static,
{
    unpack_stream(tar, dest.as_ref().to_owned(), None, *limits).await
}

/// Renames the archive's root: entries must start with `from`, which becomes `to`.
pub(crate) type Rebase = (OsString, OsString);

pub(crate) async fn unpack_stream<S>(
    tar: S,
    dest: PathBuf,
    rebase: Option<Rebase>,
    limits: UnpackLimits,
) -> Result<()>
where
    S: Stream<Item = Result<Bytes>> + Send + 'static,
{
    let reader = tokio_util::io::StreamReader::new(Box::pin(tar.map_err(std::io::Error::other)));
    let reader = tokio_util::io::SyncIoBridge::new(reader);
    let cancel = CancelOnDrop(Arc::new(AtomicBool::new(false)));
    let flag = cancel.0.clone();
    let reader = Cancellable {
        inner: reader,
        cancel: flag.clone(),
    };
    let job = tokio::task::spawn_blocking(move || {
        unpack_reader(reader, &dest, rebase.as_ref(), &flag, &limits)
    });
    let result = job.await.map_err(|e| Error::Io {
        context: "extracting the archive".into(),
        source: io::Error::other(e),
    })?;
    drop(cancel);
    result
}

/// Sets its flag when dropped: the caller stopped waiting.
struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// A reader that fails once its flag is set.
struct Cancellable<R> {
    inner: R,
    cancel: Arc<AtomicBool>,
}

impl<R: Read> Read for Cancellable<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.cancel.load(Ordering::Relaxed) {
            return Err(io::Error::other("extraction cancelled"));
        }
        self.inner.read(buf)
    }
}

/// The synchronous extraction behind [`unpack`].
fn unpack_reader<R: Read>(
    reader: R,
    dest: &Path,
    rebase: Option<&Rebase>,
    cancel: &AtomicBool,
    limits: &UnpackLimits,
) -> Result<()> {
    let dest_meta = std::fs::metadata(dest).map_err(|source| Error::Io {
        context: format!("opening the destination {}", dest.display()),
        source,
    })?;
    if !dest_meta.is_dir() {
        return Err(Error::InvalidArgument {
            name: "dest",
            message: format!("{} is not a directory", dest.display()),
        });
    }
    let guard = RecordGuard::new(reader, limits.max_record);
    let record_refusal = guard.refusal.clone();
    let mut archive = tar::Archive::new(guard);
    let entries = archive.entries().map_err(|source| Error::Io {
        context: "reading the archive".into(),
        source,
    })?;
    // Directory permissions, applied last so read-only directories can be filled.
    let mut dirs: Vec<(PathBuf, u32)> = Vec::new();
    let mut previous = String::from("(start of archive)");
    let (mut entry_count, mut bytes_written) = (0u64, 0u64);
    for entry in entries {
        if cancel.load(Ordering::Relaxed) {
            return Err(Error::Io {
                context: "extracting the archive".into(),
                source: io::Error::other("extraction cancelled"),
            });
        }
        let mut entry = match entry {
            Ok(entry) => entry,
            Err(source) => {
                if let Some(reason) = record_refusal.lock().ok().and_then(|mut r| r.take()) {
                    return Err(Error::UnsafeArchiveEntry {
                        entry: format!("(the record after {previous:?})"),
                        reason,
                    });
                }
                return Err(Error::Io {
                    context: format!("reading the archive after entry {previous:?}"),
                    source,
                });
            }
        };
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        previous.clone_from(&name);
        let io_err = |what: &str, source: io::Error| Error::Io {
            context: format!("extracting {name:?}: {what}"),
            source,
        };
        let refuse = |reason: Refusal| Error::UnsafeArchiveEntry {
            entry: name.clone(),
            reason,
        };
        entry_count += 1;
        if entry_count > limits.max_entries {
            return Err(refuse(Refusal::LimitExceeded {
                what: "entries per archive",
                field: "max_entries",
                limit: limits.max_entries,
            }));
        }
        let kind = entry.header().entry_type();
        use tar::EntryType as T;
        match kind {
            T::Regular | T::Continuous | T::GNUSparse | T::Directory | T::Symlink | T::Link => {}
            T::Char | T::Block => return Err(refuse(Refusal::Device)),
            T::Fifo => return Err(refuse(Refusal::Fifo)),
            // Global PAX headers carry no file.
            T::XGlobalHeader => continue,
            other => return Err(refuse(Refusal::UnsupportedType(other.as_byte() as char))),
        }
        let path = entry.path().map_err(|e| io_err("bad path", e))?;
        let rel = plain_components(&path).map_err(&refuse)?;
        if rel.is_empty() {
            if kind == T::Directory {
                continue; // `./`: the destination itself
            }
            return Err(refuse(Refusal::EmptyPath));
        }
        let rel = rebased(rel, rebase).map_err(&refuse)?;
        let target = ensure_parents(dest, &rel)
            .map_err(|e| e.into_error(&name, "creating its parent directories"))?;
        let mode = entry.header().mode().unwrap_or(0o644) & 0o777;
        match kind {
            T::Directory => {
                match std::fs::symlink_metadata(&target) {
                    Ok(m) if m.is_dir() => {}
                    Ok(_) => {
                        std::fs::remove_file(&target).map_err(|e| io_err("replacing", e))?;
                        std::fs::create_dir(&target).map_err(|e| io_err("creating", e))?;
                    }
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {
                        std::fs::create_dir(&target).map_err(|e| io_err("creating", e))?;
                    }
                    Err(e) => return Err(io_err("inspecting", e)),
                }
                dirs.push((target, mode));
            }
            T::Symlink => {
                let link = entry
                    .link_name()
                    .map_err(|e| io_err("bad link target", e))?
                    .map(|l| l.into_owned())
                    .unwrap_or_default();
                check_symlink_target(&rel, &link).map_err(&refuse)?;
                clear(&target).map_err(|e| io_err("replacing", e))?;
                make_symlink(&link, &target).map_err(|e| io_err("creating the link", e))?;
            }
            T::Link => {
                let link = entry
                    .link_name()
                    .map_err(|e| io_err("bad link target", e))?
                    .map(|l| l.into_owned())
                    .unwrap_or_default();
                let escapes = || Refusal::LinkEscapes {
                    target: link.to_string_lossy().into_owned(),
                };
                let link_rel = plain_components(&link).map_err(|_| refuse(escapes()))?;
                if link_rel.is_empty() {
                    return Err(refuse(escapes()));
                }
                let link_rel = rebased(link_rel, rebase).map_err(&refuse)?;
                let source = existing_without_symlinks(dest, &link_rel)
                    .map_err(|e| e.into_error(&name, "finding the link target"))?;
                clear(&target).map_err(|e| io_err("replacing", e))?;
                std::fs::hard_link(&source, &target).map_err(|e| io_err("linking", e))?;
            }
            _ => {
                // Sparse entries count their full size, which is what lands on disk.
                bytes_written = bytes_written
                    .checked_add(entry.size())
                    .filter(|&total| total <= limits.max_bytes)
                    .ok_or_else(|| {
                        refuse(Refusal::LimitExceeded {
                            what: "bytes per archive",
                            field: "max_bytes",
                            limit: limits.max_bytes,
                        })
                    })?;
                clear(&target).map_err(|e| io_err("replacing", e))?;
                let mut file = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(&target)
                    .map_err(|e| io_err("creating", e))?;
                let written = io::copy(&mut entry, &mut file).map_err(|e| io_err("writing", e))?;
                let size = entry.size();
                if written != size {
                    return Err(io_err(
                        "reading its data",
                        io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            format!("the archive ends after {written} of {size} bytes"),
                        ),
                    ));
                }
                set_mode(&file, mode).map_err(|e| io_err("setting its mode", e))?;
                // Any u64 may stand in the header: a time `SystemTime` cannot
                // hold is left unset rather than overflowing.
                let at = entry.header().mtime().ok().and_then(|secs| {
                    std::time::UNIX_EPOCH.checked_add(std::time::Duration::from_secs(secs))
                });
                if let Some(at) = at {
                    // A filesystem without timestamps is no reason to fail.
                    let _ = file.set_modified(at);
                }
            }
        }
    }
    for (dir, mode) in dirs.iter().rev() {
        set_dir_mode(dir, *mode).map_err(|source| Error::Io {
            context: format!("setting the mode of {}", dir.display()),
            source,
        })?;
    }
    Ok(())
}

/// Tar block size.
const BLOCK: u64 = 512;

/// A reader that follows the tar block structure as the `tar` crate pulls
/// it through, and fails before the crate reads a GNU long-name/long-link
/// record or a PAX extended header larger than `max_record` into memory
/// (the crate reads those whole, whatever size their header claims).
///
/// It tracks what the crate does: a PAX `size` record overrides the size of
/// the next entry that is not itself a record, and a GNU sparse header may
/// be followed by extension blocks. When a header is not one the crate can
/// read either, the crate fails on it and the guard stops looking.
struct RecordGuard<R> {
    inner: R,
    max_record: u64,
    state: GuardState,
    /// Header bytes collected so far.
    block: Box<[u8; 512]>,
    have: usize,
    /// The PAX header being collected (at most `max_record` bytes).
    record: Vec<u8>,
    /// The `size` of the last PAX header, for the next entry.
    pax_size: Option<u64>,
    /// Set when the guard refused a record: why.
    refusal: Arc<std::sync::Mutex<Option<Refusal>>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GuardState {
    /// Collecting a 512-byte header.
    Header,
    /// Collecting GNU sparse extension blocks, then skipping `data` bytes.
    SparseExt { data: u64 },
    /// Collecting a PAX header's `len` bytes (into `record`), then skipping `pad`.
    Pax { len: u64, pad: u64 },
    /// Passing `n` bytes of data and padding.
    Skip(u64),
    /// No longer following (the crate stops at or fails on what came).
    Off,
}

impl<R> RecordGuard<R> {
    fn new(inner: R, max_record: u64) -> Self {
        RecordGuard {
            inner,
            max_record,
            state: GuardState::Header,
            block: Box::new([0; 512]),
            have: 0,
            record: Vec::new(),
            pax_size: None,
            refusal: Arc::new(std::sync::Mutex::new(None)),
        }
    }

    /// Follows `data`, the next bytes of the archive.
    fn observe(&mut self, mut data: &[u8]) -> io::Result<()> {
        while !data.is_empty() {
            match self.state {
                GuardState::Off => return Ok(()),
                GuardState::Skip(n) => {
                    let take = n.min(data.len() as u64);
                    data = &data[take as usize..];
                    self.state = match n - take {
                        0 => GuardState::Header,
                        left => GuardState::Skip(left),
                    };
                }
                GuardState::Pax { len, pad } => {
                    // `len` is at most `max_record`, checked on the header.
                    let want = usize::try_from(len)
                        .unwrap_or(usize::MAX)
                        .saturating_sub(self.record.len());
                    let take = want.min(data.len());
                    self.record.extend_from_slice(&data[..take]);
                    data = &data[take..];
                    if self.record.len() as u64 >= len {
                        self.pax_size = pax_size(&self.record);
                        self.record.clear();
                        self.state = if pad == 0 {
                            GuardState::Header
                        } else {
                            GuardState::Skip(pad)
                        };
                    }
                }
                GuardState::Header | GuardState::SparseExt { .. } => {
                    let take = (512 - self.have).min(data.len());
                    self.block[self.have..self.have + take].copy_from_slice(&data[..take]);
                    self.have += take;
                    data = &data[take..];
                    if self.have == 512 {
                        self.have = 0;
                        self.state = match self.state {
                            // `isextended` of a GNU sparse extension block.
                            GuardState::SparseExt { data } if self.block[504] == 1 => {
                                GuardState::SparseExt { data }
                            }
                            GuardState::SparseExt { data } => skip(data),
                            _ => self.header()?,
                        };
                    }
                }
            }
        }
        Ok(())
    }

    /// What follows the header in `block`.
    fn header(&mut self) -> io::Result<GuardState> {
        if self.block.iter().all(|&b| b == 0) {
            // End-of-archive marker: the crate stops reading here.
            return Ok(GuardState::Off);
        }
        let header = tar::Header::from_byte_slice(&self.block[..]);
        let Ok(size) = header.entry_size() else {
            return Ok(GuardState::Off); // the crate fails on this header
        };
        let kind = header.entry_type();
        let recognized = header.as_gnu().is_some() || header.as_ustar().is_some();
        let record = kind.is_gnu_longname()
            || kind.is_gnu_longlink()
            || kind.is_pax_local_extensions()
            || kind.is_pax_global_extensions();
        if record {
            if size > self.max_record {
                let refusal = Refusal::LimitExceeded {
                    what: "bytes in one long-name or PAX record",
                    field: "max_record",
                    limit: self.max_record,
                };
                if let Ok(mut slot) = self.refusal.lock() {
                    *slot = Some(refusal.clone());
                }
                return Err(io::Error::other(refusal.to_string()));
            }
            if recognized && kind.is_pax_local_extensions() {
                return Ok(match size {
                    0 => GuardState::Header,
                    len => GuardState::Pax {
                        len,
                        pad: padded(len) - len,
                    },
                });
            }
            if !recognized || !kind.is_pax_global_extensions() {
                return Ok(skip(size));
            }
        }
        // An entry (or a global PAX header, which the crate hands out as one).
        let size = match self.pax_size.take() {
            Some(pax) if !record => pax,
            _ => size,
        };
        let extended = kind.is_gnu_sparse() && header.as_gnu().is_some_and(|g| g.is_extended());
        Ok(if extended {
            GuardState::SparseExt { data: size }
        } else {
            skip(size)
        })
    }
}

/// `n` rounded up to whole blocks (saturating: the crate refuses sizes that
/// overflow, and the guard then has nothing left to follow).
fn padded(n: u64) -> u64 {
    n.checked_add(BLOCK - 1)
        .map_or(u64::MAX, |n| n & !(BLOCK - 1))
}

fn skip(size: u64) -> GuardState {
    match padded(size) {
        0 => GuardState::Header,
        n => GuardState::Skip(n),
    }
}

/// The `size` record of a PAX header, as the `tar` crate reads it.
fn pax_size(record: &[u8]) -> Option<u64> {
    for ext in tar::PaxExtensions::new(record) {
        let ext = ext.ok()?;
        if ext.key() == Ok("size") {
            return ext.value().ok()?.parse().ok();
        }
    }
    None
}

impl<R: Read> Read for RecordGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.observe(&buf[..n])?;
        Ok(n)
    }
}

/// The normal components of an archive path; `.` is skipped.
fn plain_components(path: &Path) -> std::result::Result<Vec<OsString>, Refusal> {
    let mut out = Vec::new();
    for c in path.components() {
        match c {
            Component::Normal(n) => out.push(n.to_owned()),
            Component::CurDir => {}
            Component::ParentDir => return Err(Refusal::ParentComponent),
            Component::RootDir | Component::Prefix(_) => return Err(Refusal::AbsolutePath),
        }
    }
    Ok(out)
}

/// Applies a root rename to an entry's components.
fn rebased(
    mut rel: Vec<OsString>,
    rebase: Option<&Rebase>,
) -> std::result::Result<Vec<OsString>, Refusal> {
    if let Some((from, to)) = rebase {
        if rel.first() != Some(from) {
            return Err(Refusal::NotUnderRoot {
                root: from.to_string_lossy().into_owned(),
            });
        }
        rel[0].clone_from(to);
    }
    Ok(rel)
}

/// A symbolic link at `rel` may point to `target` when the target is
/// relative, all its `..` come before any name, and they climb no higher
/// than the destination. Since the link's parents are real directories (no
/// entry is written through a link), the `..` walk is exact; the names after
/// it can only descend, through real directories or links that obey the
/// same rule.
fn check_symlink_target(rel: &[OsString], target: &Path) -> std::result::Result<(), Refusal> {
    let escapes = || Refusal::LinkEscapes {
        target: target.to_string_lossy().into_owned(),
    };
    let depth = rel.len() - 1;
    let (mut ups, mut named) = (0usize, false);
    for c in target.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir if named => return Err(escapes()),
            Component::ParentDir => ups += 1,
            Component::Normal(_) => named = true,
            Component::RootDir | Component::Prefix(_) => return Err(escapes()),
        }
    }
    if ups > depth {
        return Err(escapes());
    }
    Ok(())
}

/// Why a path under the destination cannot be used.
enum PathProblem {
    Refused(Refusal),
    Io(io::Error),
}

impl PathProblem {
    fn into_error(self, entry: &str, what: &str) -> Error {
        match self {
            PathProblem::Refused(reason) => Error::UnsafeArchiveEntry {
                entry: entry.to_owned(),
                reason,
            },
            PathProblem::Io(source) => Error::Io {
                context: format!("extracting {entry:?}: {what}"),
                source,
            },
        }
    }
}

fn display(components: &[OsString]) -> String {
    components
        .iter()
        .map(|c| c.to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// Makes sure every parent of `rel` under `dest` is a real directory
/// (creating missing ones, refusing symbolic links); returns the full path.
fn ensure_parents(dest: &Path, rel: &[OsString]) -> std::result::Result<PathBuf, PathProblem> {
    let mut path = dest.to_path_buf();
    for (i, c) in rel[..rel.len() - 1].iter().enumerate() {
        path.push(c);
        match std::fs::symlink_metadata(&path) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(PathProblem::Refused(Refusal::ThroughSymlink {
                    link: display(&rel[..=i]),
                }))
            }
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                return Err(PathProblem::Io(io::Error::other(format!(
                    "{} is not a directory",
                    display(&rel[..=i])
                ))))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                std::fs::create_dir(&path).map_err(PathProblem::Io)?
            }
            Err(e) => return Err(PathProblem::Io(e)),
        }
    }
    path.push(&rel[rel.len() - 1]);
    Ok(path)
}

/// The full path of an existing `rel` under `dest` whose parents are real
/// directories (the target of a hard link).
fn existing_without_symlinks(
    dest: &Path,
    rel: &[OsString],
) -> std::result::Result<PathBuf, PathProblem> {
    let mut path = dest.to_path_buf();
    for (i, c) in rel[..rel.len() - 1].iter().enumerate() {
        path.push(c);
        let m = std::fs::symlink_metadata(&path).map_err(PathProblem::Io)?;
        if m.file_type().is_symlink() {
            return Err(PathProblem::Refused(Refusal::ThroughSymlink {
                link: display(&rel[..=i]),
            }));
        }
    }
    path.push(&rel[rel.len() - 1]);
    Ok(path)
}

/// Removes what is at `path` unless it is a directory (which is an error):
/// files are never written through an existing link.
fn clear(path: &Path) -> io::Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => Err(io::Error::other("a directory is in the way")),
        Ok(_) => std::fs::remove_file(path),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(unix)]
fn make_symlink(target: &Path, at: &Path) -> io::Result<()> {
    std::os::unix::fs::symlink(target, at)
}

#[cfg(windows)]
fn make_symlink(target: &Path, at: &Path) -> io::Result<()> {
    std::os::windows::fs::symlink_file(target, at)
}

#[cfg(not(any(unix, windows)))]
fn make_symlink(_target: &Path, _at: &Path) -> io::Result<()> {
    Err(io::ErrorKind::Unsupported.into())
}

#[cfg(unix)]
fn set_mode(file: &std::fs::File, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_file: &std::fs::File, _mode: u32) -> io::Result<()> {
    Ok(())
}

#[cfg(unix)]
fn set_dir_mode(dir: &Path, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_dir_mode(_dir: &Path, _mode: u32) -> io::Result<()> {
    Ok(())
}

/// `dir/name` of a container path, as `docker cp` splits a destination that
/// is not an existing directory.
pub(crate) fn split_container_path(path: &str) -> Result<(String, OsString)> {
    let trimmed = path.trim_end_matches('/');
    let (dir, base) = match trimmed.rsplit_once('/') {
        Some(("", base)) => ("/", base),
        Some((dir, base)) => (dir, base),
        None => ("/", trimmed),
    };
    if base.is_empty() || base == "." || base == ".." {
        return Err(Error::InvalidArgument {
            name: "container_path",
            message: format!("{path:?} names no file or directory to copy to"),
        });
    }
    Ok((dir.to_owned(), OsString::from(base)))
}

/// The base name `docker cp` gives a container path: its last component
/// once cleaned (`/a/b/` and `/a/x/../b` give `b`), `.` when the path ends
/// in `/.` (the directory's contents), `/` for the root.
pub(crate) fn container_base(path: &str) -> String {
    if path == "." || path.ends_with("/.") {
        return ".".into();
    }
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            name => parts.push(name),
        }
    }
    parts
        .last()
        .map_or_else(|| "/".into(), |name| (*name).to_owned())
}

#[cfg(all(test, unix))]
mod tests;
