//! Safe extraction against hand-made archives, and packing round trips.

use super::*;
use std::os::unix::fs::{MetadataExt, PermissionsExt};

/// A sandbox `root` with an empty `root/dest`: whatever escapes `dest`
/// lands in `root` (or higher), which the tests check.
struct Sandbox {
    root: PathBuf,
}

impl Sandbox {
    fn new(tag: &str) -> Sandbox {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let root =
            std::env::temp_dir().join(format!("dockhand-unpack-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("dest")).expect("sandbox");
        Sandbox { root }
    }

    fn dest(&self) -> PathBuf {
        self.root.join("dest")
    }

    /// The names directly in `root`.
    fn root_names(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.root)
            .expect("read root")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// Every path under `dest`, relative, sorted.
    fn dest_tree(&self) -> Vec<String> {
        fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
            for e in std::fs::read_dir(dir).expect("read dir") {
                let e = e.expect("entry");
                let p = e.path();
                out.push(p.strip_prefix(base).unwrap().to_string_lossy().into_owned());
                if e.file_type().expect("type").is_dir() {
                    walk(base, &p, out);
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.dest(), &self.dest(), &mut out);
        out.sort();
        out
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        // Read-only directories from the tests must not stop the cleanup.
        let _ = std::process::Command::new("chmod")
            .args(["-R", "u+rwx"])
            .arg(&self.root)
            .status();
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// Appends an entry whose header is written byte by byte (the `tar` crate's
/// `set_path` refuses `..` and absolute paths, so they are written raw).
fn raw(b: &mut tar::Builder<Vec<u8>>, kind: tar::EntryType, path: &str, link: &str, data: &[u8]) {
    let mut h = tar::Header::new_gnu();
    {
        let old = h.as_old_mut();
        old.name[..path.len()].copy_from_slice(path.as_bytes());
        old.linkname[..link.len()].copy_from_slice(link.as_bytes());
    }
    h.set_entry_type(kind);
    h.set_size(data.len() as u64);
    h.set_mode(if kind == tar::EntryType::Directory {
        0o755
    } else {
        0o644
    });
    h.set_mtime(1_700_000_000);
    h.set_cksum();
    b.append(&h, data).expect("append");
}

fn archive(build: impl FnOnce(&mut tar::Builder<Vec<u8>>)) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    build(&mut b);
    b.into_inner().expect("finish")
}

fn extract(tar: &[u8], dest: &Path) -> Result<()> {
    unpack_reader(
        tar,
        dest,
        None,
        &AtomicBool::new(false),
        &UnpackLimits::default(),
    )
}

/// Asserts the error refuses `entry` for `reason`.
fn assert_refused(result: Result<()>, entry: &str, reason: Refusal) {
    match result {
        Err(Error::UnsafeArchiveEntry {
            entry: e,
            reason: r,
        }) => {
            assert_eq!((e.as_str(), &r), (entry, &reason));
        }
        other => panic!("{entry}: expected a refusal ({reason}), got {other:?}"),
    }
}

use tar::EntryType as T;

#[test]
fn parent_components_are_refused_and_nothing_escapes() {
    for path in ["../evil", "a/../../evil", "a/../b", "./../evil"] {
        let s = Sandbox::new("dotdot");
        let tar = archive(|b| {
            raw(b, T::Regular, "fine.txt", "", b"ok");
            raw(b, T::Regular, path, "", b"evil");
            raw(b, T::Regular, "after.txt", "", b"never");
        });
        assert_refused(extract(&tar, &s.dest()), path, Refusal::ParentComponent);
        assert_eq!(s.root_names(), ["dest"], "{path}: nothing beside dest");
        // What came before stays, nothing after is written, nor any `a/`.
        assert_eq!(s.dest_tree(), ["fine.txt"], "{path}");
    }
}

#[test]
fn absolute_paths_are_refused() {
    let s = Sandbox::new("abs");
    let before = Path::new("/abs").exists();
    let tar = archive(|b| raw(b, T::Regular, "/abs", "", b"evil"));
    assert_refused(extract(&tar, &s.dest()), "/abs", Refusal::AbsolutePath);
    assert_eq!(Path::new("/abs").exists(), before);
    assert!(s.dest_tree().is_empty());
    assert_eq!(s.root_names(), ["dest"]);
}

#[test]
fn an_absolute_symlink_is_refused_before_anything_is_written_through_it() {
    let s = Sandbox::new("etc");
    let passwd = std::fs::read("/etc/passwd").ok();
    let tar = archive(|b| {
        raw(b, T::Symlink, "link", "/etc", b"");
        raw(b, T::Regular, "link/passwd", "", b"root::0:0::/:/bin/sh\n");
    });
    assert_refused(
        extract(&tar, &s.dest()),
        "link",
        Refusal::LinkEscapes {
            target: "/etc".into(),
        },
    );
    assert!(s.dest_tree().is_empty());
    assert_eq!(std::fs::read("/etc/passwd").ok(), passwd);
}

#[test]
fn nothing_is_written_through_a_symlink_already_in_the_destination() {
    let s = Sandbox::new("through");
    let outside = s.root.join("outside");
    std::fs::create_dir(&outside).unwrap();
    std::os::unix::fs::symlink(&outside, s.dest().join("out")).unwrap();
    for path in ["out/x", "out/deeper/x"] {
        let tar = archive(|b| raw(b, T::Regular, path, "", b"evil"));
        assert_refused(
            extract(&tar, &s.dest()),
            path,
            Refusal::ThroughSymlink { link: "out".into() },
        );
    }
    // A directory entry under it is refused too, as is a hard link through it.
    let tar = archive(|b| raw(b, T::Directory, "out/d/", "", b""));
    assert!(matches!(
        extract(&tar, &s.dest()),
        Err(Error::UnsafeArchiveEntry { .. })
    ));
    std::fs::write(outside.join("secret"), b"s").unwrap();
    let tar = archive(|b| raw(b, T::Link, "hl", "out/secret", b""));
    assert_refused(
        extract(&tar, &s.dest()),
        "hl",
        Refusal::ThroughSymlink { link: "out".into() },
    );
    let mut left: Vec<_> = std::fs::read_dir(&outside)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    left.sort();
    assert_eq!(left, ["secret"], "nothing new outside");
    assert!(!s.dest().join("hl").exists());
}

#[test]
fn a_symlink_extracted_earlier_is_not_written_through() {
    // `link -> .` is inside; `link/x` would still be written through it.
    let s = Sandbox::new("earlier");
    let tar = archive(|b| {
        raw(b, T::Symlink, "link", ".", b"");
        raw(b, T::Regular, "link/x", "", b"x");
    });
    assert_refused(
        extract(&tar, &s.dest()),
        "link/x",
        Refusal::ThroughSymlink {
            link: "link".into(),
        },
    );
    assert_eq!(s.dest_tree(), ["link"]);
}

#[test]
fn escaping_symlinks_are_refused() {
    let cases = [
        ("up", "../.."),
        ("up1", ".."),
        ("sub/up", "../.."),
        ("sub/abs", "/tmp"),
        // `..` after a name could climb through another link (`a -> .`).
        ("b", "a/.."),
        ("c", "sub/../x"),
        // Within the depth, but `a` may be a link to `.` made later.
        ("sub/d", "a/.."),
    ];
    for (path, target) in cases {
        let s = Sandbox::new("symlink");
        let tar = archive(|b| {
            raw(b, T::Directory, "sub/", "", b"");
            raw(b, T::Symlink, path, target, b"");
        });
        assert_refused(
            extract(&tar, &s.dest()),
            path,
            Refusal::LinkEscapes {
                target: target.into(),
            },
        );
        assert_eq!(s.dest_tree(), ["sub"], "{path} -> {target}");
        assert_eq!(s.root_names(), ["dest"]);
    }
}

#[test]
fn escaping_hard_links_are_refused() {
    for target in ["../x", "/etc/passwd", "a/../../x", ""] {
        let s = Sandbox::new("hardlink");
        std::fs::write(s.root.join("x"), b"outside").unwrap();
        let tar = archive(|b| raw(b, T::Link, "hl", target, b""));
        assert_refused(
            extract(&tar, &s.dest()),
            "hl",
            Refusal::LinkEscapes {
                target: target.into(),
            },
        );
        assert!(s.dest_tree().is_empty(), "{target}");
        assert_eq!(std::fs::metadata(s.root.join("x")).unwrap().nlink(), 1);
    }
}

#[test]
fn devices_and_fifos_are_refused() {
    for (kind, name, reason) in [
        (T::Char, "tty", Refusal::Device),
        (T::Block, "sda", Refusal::Device),
        (T::Fifo, "pipe", Refusal::Fifo),
    ] {
        let s = Sandbox::new("special");
        let tar = archive(|b| raw(b, kind, name, "", b""));
        assert_refused(extract(&tar, &s.dest()), name, reason);
        assert!(s.dest_tree().is_empty());
    }
}

#[test]
fn an_archive_root_rename_refuses_entries_outside_the_root() {
    let s = Sandbox::new("rebase");
    let tar = archive(|b| {
        raw(b, T::Directory, "d/", "", b"");
        raw(b, T::Regular, "d/f", "", b"f");
        raw(b, T::Link, "d/hl", "d/f", b"");
        raw(b, T::Regular, "other", "", b"o");
    });
    let rebase = (OsString::from("d"), OsString::from("renamed"));
    let r = unpack_reader(
        &tar[..],
        &s.dest(),
        Some(&rebase),
        &AtomicBool::new(false),
        &UnpackLimits::default(),
    );
    assert_refused(r, "other", Refusal::NotUnderRoot { root: "d".into() });
    assert_eq!(s.dest_tree(), ["renamed", "renamed/f", "renamed/hl"]);
    let f = std::fs::metadata(s.dest().join("renamed/f")).unwrap();
    let hl = std::fs::metadata(s.dest().join("renamed/hl")).unwrap();
    assert_eq!(f.ino(), hl.ino(), "the hard link follows the rename");
}

#[test]
fn a_normal_archive_extracts_fully() {
    let s = Sandbox::new("normal");
    let binary: Vec<u8> = (0..70_000u32).map(|i| (i * 7 + i / 251) as u8).collect();
    let tar = archive(|b| {
        raw(b, T::Directory, "./", "", b"");
        raw(b, T::Directory, "top/", "", b"");
        raw(b, T::Regular, "top/a.txt", "", b"hello\n");
        raw(b, T::Regular, "top/empty", "", b"");
        raw(b, T::Regular, "top/nested/deeper/blob.bin", "", &binary);
        let mut h = tar::Header::new_gnu();
        h.set_path("top/run.sh").unwrap();
        h.set_entry_type(T::Regular);
        h.set_mode(0o755);
        h.set_size(3);
        h.set_cksum();
        b.append(&h, &b"#!\n"[..]).unwrap();
        raw(b, T::Symlink, "top/nested/link", "../a.txt", b"");
        raw(b, T::Symlink, "top/self", ".", b"");
        raw(b, T::Link, "top/hard", "top/a.txt", b"");
        let mut h = tar::Header::new_gnu();
        h.set_path("top/ro/").unwrap();
        h.set_entry_type(T::Directory);
        h.set_mode(0o555);
        h.set_size(0);
        h.set_cksum();
        b.append(&h, &b""[..]).unwrap();
        raw(b, T::Regular, "top/ro/inside", "", b"in a read-only dir");
    });
    extract(&tar, &s.dest()).expect("extracts");
    let d = s.dest().join("top");
    assert_eq!(std::fs::read(d.join("a.txt")).unwrap(), b"hello\n");
    assert_eq!(std::fs::read(d.join("empty")).unwrap(), b"");
    assert!(std::fs::read(d.join("nested/deeper/blob.bin")).unwrap() == binary);
    let mode = |p: &str| {
        std::fs::symlink_metadata(d.join(p))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode("run.sh"), 0o755);
    assert_eq!(mode("a.txt"), 0o644);
    assert_eq!(mode("ro"), 0o555);
    assert_eq!(
        std::fs::read_link(d.join("nested/link")).unwrap(),
        Path::new("../a.txt")
    );
    assert_eq!(std::fs::read(d.join("nested/link")).unwrap(), b"hello\n");
    assert_eq!(std::fs::read_link(d.join("self")).unwrap(), Path::new("."));
    assert_eq!(
        std::fs::metadata(d.join("hard")).unwrap().ino(),
        std::fs::metadata(d.join("a.txt")).unwrap().ino()
    );
    assert_eq!(
        std::fs::read(d.join("ro/inside")).unwrap(),
        b"in a read-only dir"
    );
    let mtime = std::fs::metadata(d.join("a.txt")).unwrap().mtime();
    assert_eq!(mtime, 1_700_000_000);
    assert_eq!(s.root_names(), ["dest"]);
}

#[test]
fn existing_files_are_replaced_not_written_through() {
    let s = Sandbox::new("replace");
    let outside = s.root.join("victim");
    std::fs::write(&outside, b"precious").unwrap();
    // `f` is a link to a file outside; the archive's `f` replaces the link.
    std::os::unix::fs::symlink(&outside, s.dest().join("f")).unwrap();
    let tar = archive(|b| raw(b, T::Regular, "f", "", b"new"));
    extract(&tar, &s.dest()).expect("extracts");
    assert_eq!(std::fs::read(&outside).unwrap(), b"precious");
    assert!(!std::fs::symlink_metadata(s.dest().join("f"))
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(std::fs::read(s.dest().join("f")).unwrap(), b"new");
}

#[test]
fn broken_archives_fail_without_panicking() {
    let s = Sandbox::new("broken");
    let tar = archive(|b| raw(b, T::Regular, "big", "", &[7u8; 5000]));
    // Cut in the middle of the data, and after the first header.
    for cut in [700, 512, 100] {
        let r = extract(&tar[..cut], &s.dest());
        assert!(r.is_err(), "cut at {cut}: {r:?}");
    }
    let garbage = vec![0x5au8; 4096];
    assert!(extract(&garbage, &s.dest()).is_err());
    // An empty stream is an empty archive.
    extract(&[], &s.dest()).expect("empty");
    // The destination must be a directory.
    let file = s.root.join("file");
    std::fs::write(&file, b"").unwrap();
    assert!(matches!(
        extract(&tar, &file),
        Err(Error::InvalidArgument { .. })
    ));
}

#[test]
fn a_cancelled_extraction_stops() {
    let s = Sandbox::new("cancel");
    let tar = archive(|b| raw(b, T::Regular, "f", "", b"x"));
    let r = unpack_reader(
        &tar[..],
        &s.dest(),
        None,
        &AtomicBool::new(true),
        &UnpackLimits::default(),
    );
    assert!(matches!(r, Err(Error::Io { .. })), "{r:?}");
    assert!(s.dest_tree().is_empty());
}

#[test]
fn container_paths_split_like_docker_cp() {
    let split = |p: &str| split_container_path(p).map(|(d, n)| (d, n.into_string().unwrap()));
    assert_eq!(split("/tmp/x").unwrap(), ("/tmp".into(), "x".into()));
    assert_eq!(split("/x").unwrap(), ("/".into(), "x".into()));
    assert_eq!(split("/tmp/x/").unwrap(), ("/tmp".into(), "x".into()));
    assert_eq!(split("x").unwrap(), ("/".into(), "x".into()));
    for bad in ["/", "", "/tmp/..", "/tmp/."] {
        assert!(split(bad).is_err(), "{bad}");
    }
}

/// Packs a tree through the channel and unpacks the bytes: the same files,
/// modes and links.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pack_then_unpack_round_trips() {
    use http_body_util::BodyExt;
    let s = Sandbox::new("pack");
    let src = s.root.join("tree");
    std::fs::create_dir_all(src.join("a/b")).unwrap();
    // Larger than a channel's worth of chunks, so the packer waits on the reader.
    let big: Vec<u8> = (0..(3 * CHUNK * CHANNEL) as u32)
        .map(|i| (i % 253) as u8)
        .collect();
    std::fs::write(src.join("a/b/big.bin"), &big).unwrap();
    std::fs::write(src.join("empty"), b"").unwrap();
    std::fs::write(src.join("run.sh"), b"#!/bin/sh\n").unwrap();
    std::fs::set_permissions(src.join("run.sh"), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::os::unix::fs::symlink("a/b/big.bin", src.join("link")).unwrap();
    // Names longer than a tar header holds (GNU long-name entries).
    let long = "n".repeat(120);
    std::fs::create_dir_all(src.join(&long)).unwrap();
    std::fs::write(src.join(&long).join("f"), b"long").unwrap();
    std::os::unix::fs::symlink(format!("{long}/f"), src.join("long-link")).unwrap();
    let body = pack(&src).expect("pack");
    let bytes = body.0.collect().await.expect("body").to_bytes();
    let dest = s.dest();
    tokio::task::spawn_blocking(move || extract(&bytes, &dest))
        .await
        .unwrap()
        .expect("unpack");
    let out = s.dest().join("tree");
    assert!(std::fs::read(out.join("a/b/big.bin")).unwrap() == big);
    assert_eq!(std::fs::read(out.join("empty")).unwrap(), b"");
    let mode = std::fs::metadata(out.join("run.sh"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o755);
    assert_eq!(
        std::fs::read_link(out.join("link")).unwrap(),
        Path::new("a/b/big.bin")
    );
    assert_eq!(std::fs::read(out.join(&long).join("f")).unwrap(), b"long");
    assert_eq!(
        std::fs::read_link(out.join("long-link")).unwrap(),
        Path::new(&format!("{long}/f"))
    );
    // A missing source fails before anything is sent.
    assert!(matches!(
        pack(s.root.join("missing")),
        Err(Error::Io { .. })
    ));
}

#[test]
fn an_mtime_past_the_end_of_time_does_not_panic() {
    // A daemon or a man in the middle controls every header field: the
    // largest mtime a header can hold overflows `SystemTime`.
    let s = Sandbox::new("mtime");
    for mtime in [u64::MAX, u64::MAX / 2, 1 << 62] {
        let tar = archive(|b| {
            let mut h = tar::Header::new_gnu();
            h.set_path("f").unwrap();
            h.set_entry_type(T::Regular);
            h.set_size(1);
            h.set_mode(0o644);
            h.set_mtime(mtime);
            h.set_cksum();
            b.append(&h, &b"x"[..]).expect("append");
        });
        extract(&tar, &s.dest()).unwrap_or_else(|e| panic!("mtime {mtime}: {e}"));
        assert_eq!(std::fs::read(s.dest().join("f")).unwrap(), b"x");
    }
}

fn extract_limited(tar: &[u8], dest: &Path, limits: UnpackLimits) -> Result<()> {
    unpack_reader(tar, dest, None, &AtomicBool::new(false), &limits)
}

fn assert_limit(result: Result<()>, entry: &str, field: &str) {
    match result {
        Err(Error::UnsafeArchiveEntry {
            entry: e,
            reason: Refusal::LimitExceeded { field: f, .. },
        }) => assert_eq!((e.as_str(), f), (entry, field)),
        other => panic!("{entry}: expected {field} to be exceeded, got {other:?}"),
    }
}

#[test]
fn the_bytes_an_archive_writes_are_capped() {
    let s = Sandbox::new("cap-bytes");
    let tar = archive(|b| {
        raw(b, T::Regular, "a", "", &[1u8; 600]);
        raw(b, T::Regular, "b", "", &[2u8; 600]);
    });
    let limits = UnpackLimits::default().max_bytes(1000);
    assert_limit(extract_limited(&tar, &s.dest(), limits), "b", "max_bytes");
    // Refused before anything of it was written.
    assert_eq!(s.dest_tree(), ["a"]);
    let e = extract_limited(&tar, &s.dest(), limits)
        .unwrap_err()
        .to_string();
    assert!(e.contains("1000 bytes") && e.contains("max_bytes"), "{e}");
    extract_limited(&tar, &s.dest(), limits.max_bytes(1200)).expect("exactly at the limit");
}

#[test]
fn the_entries_of_an_archive_are_capped() {
    let s = Sandbox::new("cap-entries");
    let tar = archive(|b| {
        raw(b, T::Directory, "d", "", b"");
        raw(b, T::Regular, "d/f", "", b"x");
        raw(b, T::Symlink, "d/l", "f", b"");
    });
    let limits = UnpackLimits::default().max_entries(2);
    assert_limit(
        extract_limited(&tar, &s.dest(), limits),
        "d/l",
        "max_entries",
    );
    extract_limited(&tar, &s.dest(), limits.max_entries(3)).expect("at the limit");
}

/// An archive whose entry `name` (too long for the header) is carried by a
/// GNU long-name record.
fn long_named(name: &str, data: &[u8]) -> Vec<u8> {
    archive(|b| {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(T::Regular);
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        b.append_data(&mut h, name, data).expect("append");
    })
}

#[test]
fn long_name_records_are_capped_before_they_are_read() {
    let s = Sandbox::new("cap-longname");
    let name = format!("{}/f", "d".repeat(200));
    let tar = long_named(&name, b"data");
    assert_eq!(tar[156], b'L', "the tar crate wrote a GNU long-name record");
    let limits = UnpackLimits::default().max_record(100);
    assert_limit(
        extract_limited(&tar, &s.dest(), limits),
        "(the record after \"(start of archive)\")",
        "max_record",
    );
    assert!(s.dest_tree().is_empty());
    extract_limited(&tar, &s.dest(), limits.max_record(512)).expect("under the limit");
    assert_eq!(std::fs::read(s.dest().join(&name)).unwrap(), b"data");

    // A record claiming far more than the archive holds is refused at its
    // header, not read (the tar crate would try to read it all into memory).
    let mut huge = tar.clone();
    let mut h = tar::Header::new_gnu();
    h.as_mut_bytes().copy_from_slice(&huge[..512]);
    h.set_size(1 << 40);
    h.set_cksum();
    huge[..512].copy_from_slice(h.as_bytes());
    assert_limit(
        extract_limited(&huge, &s.dest(), UnpackLimits::default()),
        "(the record after \"(start of archive)\")",
        "max_record",
    );
}

#[test]
fn pax_records_are_capped_and_their_size_is_followed() {
    let s = Sandbox::new("cap-pax");
    let name = "p".repeat(150);
    // The file's content looks like a long-name record claiming 1 TiB: a
    // guard that lost its place would take it for a header and refuse it.
    let mut content = {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(T::GNULongName);
        h.set_size(1 << 40);
        h.set_cksum();
        h.as_bytes().to_vec()
    };
    content.extend_from_slice(&[0u8; 512]);
    let mut tar = archive(|b| {
        b.append_pax_extensions([
            ("path", name.as_bytes()),
            ("comment", "v".repeat(3000).as_bytes()),
            ("size", content.len().to_string().as_bytes()),
        ])
        .expect("pax");
    });
    tar.truncate(tar.len() - 1024); // the end-of-archive marker
                                    // The entry's own header says size 0: the PAX `size` overrides it.
    let mut h = tar::Header::new_gnu();
    h.set_path("short").unwrap();
    h.set_entry_type(T::Regular);
    h.set_size(0);
    h.set_mode(0o644);
    h.set_cksum();
    tar.extend_from_slice(h.as_bytes());
    tar.extend_from_slice(&content);
    // Then a long-named entry, to check the guard is still in step.
    tar.extend_from_slice(&long_named(&format!("{}/g", "e".repeat(150)), b"second"));

    let limits = UnpackLimits::default().max_record(1024);
    assert_limit(
        extract_limited(&tar, &s.dest(), limits),
        "(the record after \"(start of archive)\")",
        "max_record",
    );
    assert!(s.dest_tree().is_empty());
    extract_limited(&tar, &s.dest(), limits.max_record(4096)).expect("under the limit");
    assert_eq!(std::fs::read(s.dest().join(&name)).unwrap(), content);
    let g = s.dest().join("e".repeat(150)).join("g");
    assert_eq!(std::fs::read(g).unwrap(), b"second");
}

#[test]
fn container_paths_are_named_like_docker_cp_names_them() {
    for (path, base) in [
        ("/app/current", "current"),
        ("/app/current/", "current"),
        ("app//current", "current"),
        ("/app/x/../current", "current"),
        ("/data/.", "."),
        (".", "."),
        ("/", "/"),
        ("/..", "/"),
    ] {
        assert_eq!(container_base(path), base, "{path}");
    }
}
