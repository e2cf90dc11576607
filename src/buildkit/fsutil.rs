//! The fsutil file-transfer protocol that BuildKit's `DiffCopy` methods
//! speak, both ways.
//!
//! Every message is a `fsutil.types.Packet`. The sender walks a directory
//! and sends one `STAT` packet per entry, in the order a receiver checks
//! (names sorted byte-wise inside each directory, a directory before what it
//! holds), then an empty `STAT` to end the listing. Entries are numbered from
//! 0 in the order their `STAT`s were sent. The receiver asks for the
//! contents of regular files it needs with `REQ {id}`; the sender answers
//! each with `DATA {id, bytes}` packets and an empty `DATA {id}` at the end
//! of the file. When the receiver has everything it sends `FIN` and the
//! sender answers `FIN`. Either side may send `ERR {message}` instead.
//!
//! Modes are Go's `os.FileMode` bits (directory `1<<31`, symlink `1<<27`,
//! …, permissions in the low 9 bits), not Unix `st_mode`.

use super::proto::{Packet, PacketType, Stat};
use crate::build::Dockerignore;
use futures::{Stream, StreamExt};
use std::collections::HashMap;
use std::fs::Metadata;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;
use tonic::Status;

/// Size of the `DATA` packets a file is sent in.
pub(crate) const CHUNK: usize = 32 * 1024;

/// Go's `os.FileMode` bits.
// Without Unix modes (Windows) the special bits are never set.
#[cfg_attr(not(unix), allow(dead_code))]
pub(crate) mod mode {
    pub const DIR: u32 = 1 << 31;
    pub const SYMLINK: u32 = 1 << 27;
    pub const DEVICE: u32 = 1 << 26;
    pub const NAMED_PIPE: u32 = 1 << 25;
    pub const SOCKET: u32 = 1 << 24;
    pub const SETUID: u32 = 1 << 23;
    pub const SETGID: u32 = 1 << 22;
    pub const CHAR_DEVICE: u32 = 1 << 21;
    pub const STICKY: u32 = 1 << 20;
    pub const IRREGULAR: u32 = 1 << 19;
    /// Every type bit: none is set for a regular file.
    pub const TYPE: u32 = DIR | SYMLINK | NAMED_PIPE | SOCKET | DEVICE | CHAR_DEVICE | IRREGULAR;
}

/// Go's `os.FileMode` for a Unix `st_mode`.
#[cfg_attr(not(unix), allow(dead_code))]
pub(crate) fn go_mode(unix: u32) -> u32 {
    let mut m = unix & 0o777;
    m |= match unix & 0o170000 {
        0o040000 => mode::DIR,
        0o120000 => mode::SYMLINK,
        0o010000 => mode::NAMED_PIPE,
        0o140000 => mode::SOCKET,
        0o060000 => mode::DEVICE,
        0o020000 => mode::DEVICE | mode::CHAR_DEVICE,
        _ => 0,
    };
    if unix & 0o4000 != 0 {
        m |= mode::SETUID;
    }
    if unix & 0o2000 != 0 {
        m |= mode::SETGID;
    }
    if unix & 0o1000 != 0 {
        m |= mode::STICKY;
    }
    m
}

/// Whether an entry of this Go mode has contents to request (a regular
/// file); both sides must agree on it.
pub(crate) fn has_data(go_mode: u32) -> bool {
    go_mode & mode::TYPE == 0
}

fn packet(kind: PacketType) -> Packet {
    Packet {
        r#type: kind as i32,
        ..Default::default()
    }
}

/// An `ERR` packet.
pub(crate) fn err_packet(message: &str) -> Packet {
    Packet {
        data: message.as_bytes().to_vec(),
        ..packet(PacketType::PacketErr)
    }
}

/// What the receiver asked to see of a directory: the gRPC metadata of a
/// `DiffCopy` call (`include-patterns`, `exclude-patterns`, `followpaths`),
/// with the client's own `.dockerignore` rules winning over the excludes the
/// daemon sends, as the docker CLI does.
#[derive(Debug, Clone, Default)]
pub(crate) struct WalkFilter {
    excludes: Option<Dockerignore>,
    /// Each include pattern alone (for "could something below match").
    includes: Vec<(Vec<String>, Dockerignore)>,
}

impl WalkFilter {
    /// A filter from patterns; `root` resolves the follow paths' symlinks.
    pub(crate) fn new(
        root: &Path,
        excludes: Option<Dockerignore>,
        include_patterns: &[String],
        follow_paths: &[String],
    ) -> std::result::Result<Self, String> {
        let mut patterns: Vec<String> = include_patterns.to_vec();
        for p in follow_paths {
            patterns.push(p.clone());
            patterns.extend(follow_links(root, p));
        }
        let mut includes = Vec::new();
        for p in patterns {
            let clean = crate::build::clean_pattern(&p);
            if clean.is_empty() || clean == "." {
                continue;
            }
            let rules = Dockerignore::parse(&escape_comment(&clean))
                .map_err(|e| format!("include pattern {p:?}: {e}"))?;
            let parts = clean.split('/').map(str::to_owned).collect();
            includes.push((parts, rules));
        }
        if includes.is_empty() && !(include_patterns.is_empty() && follow_paths.is_empty()) {
            // Patterns were given but none can match anything but the root.
            includes.push((vec![String::new()], Dockerignore::default()));
        }
        Ok(WalkFilter { excludes, includes })
    }

    fn excluded(&self, rel: &str) -> bool {
        self.excludes.as_ref().is_some_and(|x| x.is_excluded(rel))
    }

    /// Included by an include pattern (itself or a parent directory
    /// matches), or no include patterns at all.
    fn included(&self, rel: &str) -> bool {
        self.includes.is_empty()
            || self
                .includes
                .iter()
                .any(|(_, rules)| !rules.is_empty() && rules.is_excluded(rel))
    }

    /// Whether an include pattern could match something below `dir`.
    fn included_below(&self, dir: &str) -> bool {
        let depth = dir.split('/').count();
        self.includes.iter().any(|(parts, _)| {
            if parts.iter().any(|p| p.contains("**")) {
                return true;
            }
            if parts.len() <= depth {
                return false;
            }
            let prefix = parts[..depth].join("/");
            Dockerignore::parse(&escape_comment(&prefix))
                .map(|r| r.matches_exactly(dir))
                .unwrap_or(false)
        })
    }

    /// (send this entry, walk into it if it is a directory).
    fn decide(&self, rel: &str, is_dir: bool) -> (bool, bool) {
        let excluded = self.excluded(rel);
        let included = self.included(rel);
        let send = !excluded && included;
        if !is_dir {
            return (send, false);
        }
        let reachable = included || self.included_below(rel);
        let descend = if excluded {
            reachable
                && self
                    .excludes
                    .as_ref()
                    .is_some_and(|x| x.may_reinclude_below(rel))
        } else {
            reachable
        };
        (send, descend)
    }
}

/// A pattern line that starts with `#` would be a comment to the
/// `.dockerignore` parser; escape it.
fn escape_comment(p: &str) -> String {
    match p.strip_prefix('#') {
        Some(rest) => format!("\\#{rest}"),
        None => p.to_owned(),
    }
}

/// The paths a follow path leads to through symlinks inside `root`.
fn follow_links(root: &Path, rel: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = crate::build::clean_pattern(rel);
    for _ in 0..16 {
        let Ok(target) = std::fs::read_link(root.join(&cur)) else {
            break;
        };
        let target = target.to_string_lossy().replace('\\', "/");
        let joined = if target.starts_with('/') {
            target
        } else {
            match cur.rsplit_once('/') {
                Some((dir, _)) => format!("{dir}/{target}"),
                None => target,
            }
        };
        let next = crate::build::clean_pattern(&joined);
        if next.is_empty() || next == "." || next.starts_with("..") || out.contains(&next) {
            break;
        }
        out.push(next.clone());
        cur = next;
    }
    out
}

/// One entry of a walk: its path relative to the root and its stat.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entry {
    pub(crate) abs: PathBuf,
    pub(crate) stat: Stat,
}

/// The stat the receiver sees: owner reset to 0:0 (as the docker CLI does
/// for a build context), times in nanoseconds.
pub(crate) fn stat_of(rel: &str, abs: &Path, meta: &Metadata) -> std::io::Result<Stat> {
    let mut stat = Stat {
        path: rel.to_owned(),
        ..Default::default()
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::{FileTypeExt, MetadataExt};
        stat.mode = go_mode(meta.mode());
        stat.mod_time = meta.mtime() * 1_000_000_000 + meta.mtime_nsec();
        if meta.file_type().is_block_device() || meta.file_type().is_char_device() {
            let dev = meta.rdev();
            stat.devmajor = (((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff)) as i64;
            stat.devminor = ((dev & 0xff) | ((dev >> 12) & !0xff)) as i64;
        }
    }
    #[cfg(not(unix))]
    {
        // No permission bits on Windows: the docker CLI sends 0755.
        let kind = if meta.is_dir() {
            mode::DIR
        } else if meta.file_type().is_symlink() {
            mode::SYMLINK
        } else {
            0
        };
        stat.mode = kind | 0o755;
        stat.mod_time = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos() as i64);
    }
    if meta.file_type().is_symlink() {
        stat.linkname = std::fs::read_link(abs)?
            .to_string_lossy()
            .replace('\\', "/");
    } else if meta.is_file() {
        stat.size = meta.len() as i64;
    }
    Ok(stat)
}

/// Walks `root` in the receiver's order, calling `each` with every entry the
/// filter lets through. A directory that is only on the way to included
/// entries is sent just before the first of them.
pub(crate) fn walk(
    root: &Path,
    filter: &WalkFilter,
    mut each: impl FnMut(Entry) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let ctx = |what: &str, p: &Path, e: std::io::Error| {
        std::io::Error::new(e.kind(), format!("cannot {what} {}: {e}", p.display()))
    };
    // (rel, abs) pending in reverse order; a `None` marks leaving a directory.
    let mut stack: Vec<Option<(String, PathBuf)>> = Vec::new();
    push_children(root, "", &mut stack).map_err(|e| ctx("read directory", root, e))?;
    // Directories being walked: (rel, entry if not sent yet).
    let mut chain: Vec<(String, Option<Entry>)> = Vec::new();
    while let Some(item) = stack.pop() {
        let Some((rel, abs)) = item else {
            chain.pop();
            continue;
        };
        let meta = std::fs::symlink_metadata(&abs).map_err(|e| ctx("stat", &abs, e))?;
        let is_dir = meta.is_dir();
        let (send, descend) = filter.decide(&rel, is_dir);
        let entry = if send || descend {
            Some(Entry {
                stat: stat_of(&rel, &abs, &meta).map_err(|e| ctx("stat", &abs, e))?,
                abs: abs.clone(),
            })
        } else {
            None
        };
        if send {
            for (_, pending) in chain.iter_mut() {
                if let Some(parent) = pending.take() {
                    each(parent)?;
                }
            }
            if let Some(e) = entry.clone() {
                each(e)?;
            }
        }
        if descend {
            chain.push((rel.clone(), if send { None } else { entry }));
            stack.push(None);
            push_children(&abs, &rel, &mut stack).map_err(|e| ctx("read directory", &abs, e))?;
        }
    }
    Ok(())
}

fn push_children(
    dir: &Path,
    rel: &str,
    stack: &mut Vec<Option<(String, PathBuf)>>,
) -> std::io::Result<()> {
    let mut names = Vec::new();
    for item in std::fs::read_dir(dir)? {
        names.push(item?.file_name());
    }
    // Byte-wise order, as the receiver checks it; reversed for the stack.
    names.sort_unstable_by(|a, b| {
        b.to_string_lossy()
            .as_bytes()
            .cmp(a.to_string_lossy().as_bytes())
    });
    for name in names {
        let lossy = name.to_string_lossy();
        let child = if rel.is_empty() {
            lossy.into_owned()
        } else {
            format!("{rel}/{lossy}")
        };
        stack.push(Some((child, dir.join(&name))));
    }
    Ok(())
}

fn status_of(e: &std::io::Error) -> Status {
    Status::internal(e.to_string())
}

/// The sending side of `DiffCopy`: walks `root` on a blocking thread and
/// streams its entries and the requested files' contents to `out`, never
/// holding more than one chunk of a file. Returns when the receiver said
/// `FIN` (answered), failed, or went away.
pub(crate) async fn send_dir<S>(
    root: PathBuf,
    filter: WalkFilter,
    mut incoming: S,
    out: mpsc::Sender<Result<Packet, Status>>,
) -> Result<(), Status>
where
    S: Stream<Item = Result<Packet, Status>> + Unpin,
{
    let files: Arc<Mutex<HashMap<u32, PathBuf>>> = Arc::default();
    let walker = {
        let files = files.clone();
        let out = out.clone();
        tokio::task::spawn_blocking(move || {
            let mut id: u32 = 0;
            let result = walk(&root, &filter, |entry| {
                if has_data(entry.stat.mode) {
                    files
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .insert(id, entry.abs);
                }
                id = id.wrapping_add(1);
                let p = Packet {
                    stat: Some(entry.stat),
                    ..packet(PacketType::PacketStat)
                };
                out.blocking_send(Ok(p)).map_err(|_| {
                    std::io::Error::new(std::io::ErrorKind::BrokenPipe, "receiver gone")
                })
            });
            match result {
                Ok(()) => {
                    let _ = out.blocking_send(Ok(packet(PacketType::PacketStat)));
                    Ok(())
                }
                Err(e) => {
                    let _ = out.blocking_send(Ok(err_packet(&e.to_string())));
                    Err(e)
                }
            }
        })
    };
    // Requested files go out one after another, in request order.
    let (queue, mut requests) = mpsc::unbounded_channel::<(u32, PathBuf)>();
    let file_sender = {
        let out = out.clone();
        tokio::spawn(async move {
            while let Some((id, path)) = requests.recv().await {
                send_file(id, &path, &out).await?;
            }
            Ok::<(), Status>(())
        })
    };
    let _abort = AbortOnDrop(file_sender.abort_handle());
    let result = loop {
        let Some(p) = incoming.next().await else {
            break Err(Status::aborted("the receiver closed the stream before FIN"));
        };
        let p = p?;
        match PacketType::try_from(p.r#type) {
            Ok(PacketType::PacketReq) => {
                let path = files
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .remove(&p.id);
                let Some(path) = path else {
                    break Err(Status::invalid_argument(format!(
                        "invalid file id {}",
                        p.id
                    )));
                };
                let _ = queue.send((p.id, path));
            }
            Ok(PacketType::PacketFin) => {
                // Everything requested was received: the receiver says so.
                let _ = out.send(Ok(packet(PacketType::PacketFin))).await;
                break Ok(());
            }
            Ok(PacketType::PacketErr) => {
                break Err(Status::aborted(format!(
                    "error from receiver: {}",
                    String::from_utf8_lossy(&p.data)
                )));
            }
            _ => {
                break Err(Status::invalid_argument(format!(
                    "unexpected packet type {} from the receiver",
                    p.r#type
                )))
            }
        }
    };
    if result.is_err() {
        walker.abort();
    } else if let Ok(Err(e)) = walker.await {
        return Err(status_of(&e));
    }
    result
}

struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn send_file(
    id: u32,
    path: &Path,
    out: &mpsc::Sender<Result<Packet, Status>>,
) -> Result<(), Status> {
    use tokio::io::AsyncReadExt;
    let mut file = tokio::fs::File::open(path)
        .await
        .map_err(|e| Status::internal(format!("cannot open {}: {e}", path.display())))?;
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = file
            .read(&mut buf)
            .await
            .map_err(|e| Status::internal(format!("cannot read {}: {e}", path.display())))?;
        if n == 0 {
            break;
        }
        let p = Packet {
            id,
            data: buf[..n].to_vec(),
            ..packet(PacketType::PacketData)
        };
        if out.send(Ok(p)).await.is_err() {
            return Err(Status::cancelled("the receiver went away"));
        }
    }
    let end = Packet {
        id,
        ..packet(PacketType::PacketData)
    };
    out.send(Ok(end))
        .await
        .map_err(|_| Status::cancelled("the receiver went away"))
}

/// A path from the sender, checked before anything is written: relative,
/// clean, no `..`.
fn safe_rel(path: &str) -> Result<&str, Status> {
    let bad = |why: &str| Status::invalid_argument(format!("refused path {path:?}: {why}"));
    if path.is_empty() {
        return Err(bad("empty"));
    }
    if path.starts_with('/') || path.contains('\\') || path.contains('\0') {
        return Err(bad("not a relative path"));
    }
    if path
        .split('/')
        .any(|c| c.is_empty() || c == "." || c == "..")
    {
        return Err(bad("not a clean path"));
    }
    Ok(path)
}

/// `dest/rel`, refusing a path whose parent directories are not plain
/// directories under `dest` (a symlink the sender made earlier must not
/// lead writes elsewhere).
fn target(dest: &Path, rel: &str) -> Result<PathBuf, Status> {
    let mut cur = dest.to_path_buf();
    let parts: Vec<&str> = rel.split('/').collect();
    for part in &parts[..parts.len() - 1] {
        cur.push(part);
        match std::fs::symlink_metadata(&cur) {
            Ok(m) if m.is_dir() => {}
            _ => {
                return Err(Status::invalid_argument(format!(
                    "refused path {rel:?}: {} is not a directory",
                    cur.display()
                )))
            }
        }
    }
    cur.push(parts[parts.len() - 1]);
    Ok(cur)
}

fn write_err(p: &Path, e: std::io::Error) -> Status {
    Status::internal(format!("cannot write {}: {e}", p.display()))
}

/// The receiving side of `DiffCopy` (`--output type=local`): recreates the
/// sender's tree under `dest`, asking for every regular file, writing each
/// chunk as it arrives. Returns after the `FIN` exchange.
pub(crate) async fn receive_dir<S>(
    dest: PathBuf,
    mut incoming: S,
    out: mpsc::Sender<Result<Packet, Status>>,
) -> Result<(), Status>
where
    S: Stream<Item = Result<Packet, Status>> + Unpin,
{
    use tokio::io::AsyncWriteExt;
    tokio::fs::create_dir_all(&dest)
        .await
        .map_err(|e| write_err(&dest, e))?;
    let mut next_id: u32 = 0;
    let mut open: HashMap<u32, Requested> = HashMap::new();
    let mut listed = false;
    let mut fin_sent = false;
    loop {
        if listed && open.is_empty() && !fin_sent {
            out.send(Ok(packet(PacketType::PacketFin)))
                .await
                .map_err(|_| Status::cancelled("the sender went away"))?;
            fin_sent = true;
        }
        let Some(p) = incoming.next().await else {
            return Err(Status::aborted("the sender closed the stream before FIN"));
        };
        let p = p?;
        match PacketType::try_from(p.r#type) {
            Ok(PacketType::PacketStat) => {
                let Some(stat) = p.stat else {
                    listed = true;
                    continue;
                };
                let id = next_id;
                next_id = next_id.wrapping_add(1);
                let rel = safe_rel(&stat.path)?;
                let path = target(&dest, rel)?;
                let kind = stat.mode & mode::TYPE;
                if kind & mode::DIR != 0 {
                    match std::fs::symlink_metadata(&path) {
                        Ok(m) if m.is_dir() => {}
                        _ => std::fs::create_dir(&path).map_err(|e| write_err(&path, e))?,
                    }
                    set_perm(&path, stat.mode);
                } else if kind & mode::SYMLINK != 0 {
                    let _ = std::fs::remove_file(&path);
                    make_symlink(&stat.linkname, &path)?;
                } else if kind == 0 && !stat.linkname.is_empty() {
                    // A hard link to an entry sent before.
                    let from = target(&dest, safe_rel(&stat.linkname)?)?;
                    let _ = std::fs::remove_file(&path);
                    std::fs::hard_link(&from, &path).map_err(|e| write_err(&path, e))?;
                } else if kind == 0 {
                    open.insert(
                        id,
                        Requested {
                            path,
                            mode: stat.mode,
                            mod_time: stat.mod_time,
                            file: None,
                        },
                    );
                    let req = Packet {
                        id,
                        ..packet(PacketType::PacketReq)
                    };
                    out.send(Ok(req))
                        .await
                        .map_err(|_| Status::cancelled("the sender went away"))?;
                }
                // Devices, pipes and sockets are not recreated.
            }
            Ok(PacketType::PacketData) => {
                let Some(slot) = open.get_mut(&p.id) else {
                    return Err(Status::invalid_argument(format!(
                        "data for file id {} that was not requested",
                        p.id
                    )));
                };
                let file = match &mut slot.file {
                    Some(f) => f,
                    none => none.insert(
                        tokio::fs::File::create(&slot.path)
                            .await
                            .map_err(|e| write_err(&slot.path, e))?,
                    ),
                };
                if p.data.is_empty() {
                    file.flush().await.map_err(|e| write_err(&slot.path, e))?;
                    if let Some(done) = open.remove(&p.id) {
                        done.finish().await?;
                    }
                } else {
                    file.write_all(&p.data)
                        .await
                        .map_err(|e| write_err(&slot.path, e))?;
                }
            }
            Ok(PacketType::PacketFin) => {
                if !fin_sent {
                    return Err(Status::invalid_argument("FIN before the transfer ended"));
                }
                return Ok(());
            }
            Ok(PacketType::PacketErr) => {
                return Err(Status::aborted(format!(
                    "error from sender: {}",
                    String::from_utf8_lossy(&p.data)
                )))
            }
            _ => {
                return Err(Status::invalid_argument(format!(
                    "unexpected packet type {} from the sender",
                    p.r#type
                )))
            }
        }
    }
}

/// A file the receiver asked for.
struct Requested {
    path: PathBuf,
    /// Go mode bits.
    mode: u32,
    /// Nanoseconds since the epoch.
    mod_time: i64,
    /// Open once its first packet came.
    file: Option<tokio::fs::File>,
}

impl Requested {
    /// The file is complete: its permissions and modification time as sent.
    async fn finish(self) -> Result<(), Status> {
        if let Some(file) = self.file {
            let file = file.into_std().await;
            if let Ok(nanos) = u64::try_from(self.mod_time) {
                let t = std::time::UNIX_EPOCH + std::time::Duration::from_nanos(nanos);
                file.set_modified(t).map_err(|e| write_err(&self.path, e))?;
            }
        }
        set_perm(&self.path, self.mode);
        Ok(())
    }
}

fn set_perm(path: &Path, go_mode: u32) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(go_mode & 0o777));
    }
    #[cfg(not(unix))]
    let _ = (path, go_mode);
}

fn make_symlink(link: &str, path: &Path) -> Result<(), Status> {
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(link, path).map_err(|e| write_err(path, e))
    }
    #[cfg(not(unix))]
    {
        let _ = (link, path);
        Ok(())
    }
}

#[cfg(test)]
mod tests;
