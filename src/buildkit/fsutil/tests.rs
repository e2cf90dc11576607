//! The fsutil packet protocol, both sides, against constructed exchanges.

use super::*;
use prost::Message;

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        let p = std::env::temp_dir().join(format!(
            "dockhand-fsutil-{tag}-{}-{}",
            std::process::id(),
            super::super::unique_id(tag)
        ));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    fn write(&self, rel: &str, data: &[u8]) {
        let p = self.0.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, data).unwrap();
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn listing(root: &Path, filter: &WalkFilter) -> Vec<String> {
    let mut out = Vec::new();
    walk(root, filter, |e| {
        let kind = if e.stat.mode & mode::DIR != 0 {
            "/"
        } else {
            ""
        };
        out.push(format!("{}{kind}", e.stat.path));
        Ok(())
    })
    .unwrap();
    out
}

fn typ(p: &Packet) -> PacketType {
    PacketType::try_from(p.r#type).unwrap()
}

#[test]
fn packets_have_fsutils_wire_encoding() {
    // REQ for file 5: field 1 (type) = 1, field 3 (ID) = 5.
    let req = Packet {
        r#type: PacketType::PacketReq as i32,
        id: 5,
        ..Default::default()
    };
    assert_eq!(req.encode_to_vec(), [0x08, 0x01, 0x18, 0x05]);
    // The end of the listing: a STAT packet with no stat is all defaults,
    // which protobuf encodes as nothing at all.
    assert!(Packet::default().encode_to_vec().is_empty());
    // A recorded STAT of a 3-byte file `a` with mode 0644, mtime 1 s.
    let recorded: &[u8] = &[
        0x12, 0x0e, 0x0a, 0x01, b'a', 0x10, 0xa4, 0x03, 0x28, 0x03, 0x30, 0x80, 0x94, 0xeb, 0xdc,
        0x03,
    ];
    let p = Packet::decode(recorded).unwrap();
    assert_eq!(typ(&p), PacketType::PacketStat);
    let st = p.stat.unwrap();
    assert_eq!((st.path.as_str(), st.mode, st.size), ("a", 0o644, 3));
    assert_eq!(st.mod_time, 1_000_000_000);
}

#[test]
fn unix_modes_become_go_file_modes() {
    assert_eq!(go_mode(0o100644), 0o644);
    assert_eq!(go_mode(0o040755), mode::DIR | 0o755);
    assert_eq!(go_mode(0o120777), mode::SYMLINK | 0o777);
    assert_eq!(go_mode(0o104755), mode::SETUID | 0o755);
    assert_eq!(go_mode(0o020620), mode::DEVICE | mode::CHAR_DEVICE | 0o620);
    assert!(has_data(go_mode(0o100600)));
    assert!(!has_data(go_mode(0o040700)));
    assert!(!has_data(go_mode(0o010600)));
}

#[test]
fn the_walk_is_in_the_receivers_order_and_honours_dockerignore() {
    let d = TempDir::new("walk");
    for f in [
        "b",
        "a.txt",
        "a/z",
        "a/b/c",
        "a-b",
        "logs/x.log",
        "logs/keep.log",
        "Dockerfile",
    ] {
        d.write(f, b"x");
    }
    // No filter: everything, names byte-wise inside each directory
    // (`a` < `a-b` < `a.txt`: '-' < '.').
    assert_eq!(
        listing(&d.0, &WalkFilter::default()),
        [
            "Dockerfile",
            "a/",
            "a/b/",
            "a/b/c",
            "a/z",
            "a-b",
            "a.txt",
            "b",
            "logs/",
            "logs/keep.log",
            "logs/x.log"
        ]
    );
    // `.dockerignore` rules with an exception below an excluded directory:
    // the directory is sent only because something in it is.
    let rules = Dockerignore::parse("logs\n!logs/keep.log\na/b\n").unwrap();
    let f = WalkFilter::new(&d.0, Some(rules), &[], &[]).unwrap();
    assert_eq!(
        listing(&d.0, &f),
        [
            "Dockerfile",
            "a/",
            "a/z",
            "a-b",
            "a.txt",
            "b",
            "logs/",
            "logs/keep.log"
        ]
    );
}

#[test]
fn include_patterns_and_follow_paths_select_entries() {
    let d = TempDir::new("include");
    for f in [
        "Dockerfile",
        "Dockerfile.dockerignore",
        "src/x.rs",
        "src/deep/y.rs",
        "z",
    ] {
        d.write(f, b"x");
    }
    let f = WalkFilter::new(
        &d.0,
        None,
        &[],
        &["Dockerfile".into(), "Dockerfile.dockerignore".into()],
    )
    .unwrap();
    assert_eq!(listing(&d.0, &f), ["Dockerfile", "Dockerfile.dockerignore"]);
    // A directory pattern includes all below it; a deeper pattern brings its
    // parent directories along.
    let f = WalkFilter::new(&d.0, None, &["src/deep/*.rs".into()], &[]).unwrap();
    assert_eq!(listing(&d.0, &f), ["src/", "src/deep/", "src/deep/y.rs"]);
    let f = WalkFilter::new(&d.0, None, &["src".into()], &[]).unwrap();
    assert_eq!(
        listing(&d.0, &f),
        ["src/", "src/deep/", "src/deep/y.rs", "src/x.rs"]
    );
    // A follow path that is a symlink brings its target too.
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink("src/x.rs", d.0.join("link")).unwrap();
        let f = WalkFilter::new(&d.0, None, &[], &["link".into()]).unwrap();
        assert_eq!(listing(&d.0, &f), ["link", "src/", "src/x.rs"]);
    }
    // Nothing matches: nothing is sent.
    let f = WalkFilter::new(&d.0, None, &["nope".into()], &[]).unwrap();
    assert!(listing(&d.0, &f).is_empty());
}

/// Plays the receiver against `send_dir`: reads the listing, asks for every
/// file, checks the contents and the FIN exchange.
#[tokio::test]
async fn send_dir_answers_requests_with_chunked_data_and_fin() {
    let d = TempDir::new("send");
    let big: Vec<u8> = (0..(CHUNK * 2 + 100)).map(|i| (i % 251) as u8).collect();
    d.write("big.bin", &big);
    d.write("dir/small", b"hello");
    d.write("empty", b"");
    let (to_sender, from_receiver) = mpsc::channel::<Result<Packet, Status>>(4);
    let (out, mut from_sender) = mpsc::channel(4);
    let incoming = Box::pin(futures::stream::unfold(
        from_receiver,
        |mut rx| async move { rx.recv().await.map(|p| (p, rx)) },
    ));
    let sender = tokio::spawn(send_dir(d.0.clone(), WalkFilter::default(), incoming, out));

    let mut stats = Vec::new();
    loop {
        let p = from_sender.recv().await.unwrap().unwrap();
        assert_eq!(typ(&p), PacketType::PacketStat);
        match p.stat {
            Some(s) => stats.push(s),
            None => break,
        }
    }
    let paths: Vec<&str> = stats.iter().map(|s| s.path.as_str()).collect();
    assert_eq!(paths, ["big.bin", "dir", "dir/small", "empty"]);
    assert_eq!(stats[0].size, big.len() as i64);
    assert_eq!((stats[0].uid, stats[0].gid), (0, 0));
    assert!(stats[1].mode & mode::DIR != 0);

    // Ask for big.bin (id 0) and dir/small (id 2); a directory has no data.
    for id in [0u32, 2] {
        let req = Packet {
            r#type: PacketType::PacketReq as i32,
            id,
            ..Default::default()
        };
        to_sender.send(Ok(req)).await.unwrap();
    }
    let mut got: HashMap<u32, Vec<u8>> = HashMap::new();
    let mut ended = 0;
    let mut chunks = 0;
    while ended < 2 {
        let p = from_sender.recv().await.unwrap().unwrap();
        assert_eq!(typ(&p), PacketType::PacketData);
        if p.data.is_empty() {
            ended += 1;
        } else {
            assert!(p.data.len() <= CHUNK);
            chunks += 1;
            got.entry(p.id).or_default().extend_from_slice(&p.data);
        }
    }
    assert_eq!(got[&0], big);
    assert_eq!(got[&2], b"hello");
    assert_eq!(chunks, 4, "3 chunks of big.bin, 1 of small");

    to_sender
        .send(Ok(Packet {
            r#type: PacketType::PacketFin as i32,
            ..Default::default()
        }))
        .await
        .unwrap();
    let fin = from_sender.recv().await.unwrap().unwrap();
    assert_eq!(typ(&fin), PacketType::PacketFin);
    sender.await.unwrap().unwrap();
}

#[tokio::test]
async fn send_dir_refuses_unknown_ids_and_reports_receiver_errors() {
    let d = TempDir::new("bad");
    d.write("a", b"1");
    for (packet, want) in [
        (
            Packet {
                r#type: PacketType::PacketReq as i32,
                id: 99,
                ..Default::default()
            },
            "invalid file id 99",
        ),
        (err_packet("disk full"), "error from receiver: disk full"),
    ] {
        let incoming = Box::pin(futures::stream::iter(vec![Ok(packet)]));
        let (out, mut rx) = mpsc::channel(16);
        let drain = tokio::spawn(async move { while rx.recv().await.is_some() {} });
        let e = send_dir(d.0.clone(), WalkFilter::default(), incoming, out)
            .await
            .unwrap_err();
        assert!(e.message().contains(want), "{e:?}");
        drain.await.unwrap();
    }
    // The receiver hanging up without FIN is an error, not a success.
    let (out, _rx) = mpsc::channel(16);
    let e = send_dir(
        d.0.clone(),
        WalkFilter::default(),
        futures::stream::empty(),
        out,
    )
    .await
    .unwrap_err();
    assert!(e.message().contains("before FIN"), "{e:?}");
}

fn stat_packet(path: &str, mode_bits: u32, size: i64) -> Packet {
    Packet {
        r#type: PacketType::PacketStat as i32,
        stat: Some(Stat {
            path: path.into(),
            mode: mode_bits,
            size,
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn data(id: u32, bytes: &[u8]) -> Packet {
    Packet {
        r#type: PacketType::PacketData as i32,
        id,
        data: bytes.to_vec(),
        ..Default::default()
    }
}

/// Plays the sender against `receive_dir` with a recorded-style exchange.
#[tokio::test]
async fn receive_dir_requests_files_writes_them_and_finishes() {
    let d = TempDir::new("recv");
    let dest = d.0.join("out");
    let (to_recv, from_sender) = mpsc::channel::<Result<Packet, Status>>(16);
    let (out, mut from_recv) = mpsc::channel(16);
    let incoming = Box::pin(futures::stream::unfold(from_sender, |mut rx| async move {
        rx.recv().await.map(|p| (p, rx))
    }));
    let receiver = tokio::spawn(receive_dir(dest.clone(), incoming, out));
    for p in [
        stat_packet("bin", mode::DIR | 0o755, 0),
        Packet {
            stat: Some(Stat {
                mod_time: 1_600_000_000_123_456_789,
                ..stat_packet("bin/tool", 0o755, 6).stat.unwrap()
            }),
            ..stat_packet("bin/tool", 0o755, 6)
        },
        stat_packet("etc", mode::DIR | 0o755, 0),
        stat_packet("etc/conf", 0o600, 0),
        Packet::default(),
    ] {
        to_recv.send(Ok(p)).await.unwrap();
    }
    // It asks for the two files, by their index in the listing.
    let mut asked = Vec::new();
    for _ in 0..2 {
        let p = from_recv.recv().await.unwrap().unwrap();
        assert_eq!(typ(&p), PacketType::PacketReq);
        asked.push(p.id);
    }
    assert_eq!(asked, [1, 3]);
    for p in [data(1, b"#!"), data(1, b"/bin"), data(1, b""), data(3, b"")] {
        to_recv.send(Ok(p)).await.unwrap();
    }
    let fin = from_recv.recv().await.unwrap().unwrap();
    assert_eq!(typ(&fin), PacketType::PacketFin);
    to_recv
        .send(Ok(Packet {
            r#type: PacketType::PacketFin as i32,
            ..Default::default()
        }))
        .await
        .unwrap();
    receiver.await.unwrap().unwrap();
    assert_eq!(std::fs::read(dest.join("bin/tool")).unwrap(), b"#!/bin");
    assert_eq!(std::fs::read(dest.join("etc/conf")).unwrap(), b"");
    let modified = std::fs::metadata(dest.join("bin/tool"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(
        modified
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
        1_600_000_000
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let m = std::fs::metadata(dest.join("bin/tool"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(m & 0o777, 0o755);
    }
}

#[tokio::test]
async fn receive_dir_refuses_paths_that_escape() {
    let d = TempDir::new("escape");
    for bad in ["../x", "/etc/passwd", "a/../../x", "a//b"] {
        let incoming = Box::pin(futures::stream::iter(vec![Ok(stat_packet(bad, 0o644, 1))]));
        let (out, _rx) = mpsc::channel(16);
        let e = receive_dir(d.0.join("out"), incoming, out)
            .await
            .unwrap_err();
        assert!(e.message().contains("refused path"), "{bad}: {e:?}");
    }
    // Through a symlink the sender made: refused as well.
    #[cfg(unix)]
    {
        let incoming = Box::pin(futures::stream::iter(vec![
            Ok(Packet {
                stat: Some(Stat {
                    path: "l".into(),
                    mode: mode::SYMLINK | 0o777,
                    linkname: "/tmp".into(),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            Ok(stat_packet("l/evil", 0o644, 1)),
        ]));
        let (out, _rx) = mpsc::channel(16);
        let e = receive_dir(d.0.join("out2"), incoming, out)
            .await
            .unwrap_err();
        assert!(e.message().contains("not a directory"), "{e:?}");
    }
}
