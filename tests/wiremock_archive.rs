//! Archive and byte-stream request shapes against a wiremock daemon: the
//! path stat header of `get_archive`, bodies read from an `AsyncRead`, and
//! where `copy_in` puts what it packs.

use base64::Engine;
mod common;

use common::mock::{client, daemon};
use dockhand::{Body, Error};
use futures::TryStreamExt;
use std::io::Read;
use std::path::Path;
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

fn stat_header(json: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(json)
}

async fn received(server: &MockServer, m: &str, p: &str) -> Vec<Request> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.method.as_str() == m && r.url.path() == p)
        .collect()
}

#[tokio::test]
async fn get_archive_returns_the_decoded_stat_and_the_body() {
    let server = daemon(Some("1.41")).await;
    let json =
        r#"{"name":"hosts","size":174,"mode":420,"mtime":"2024-05-01T10:00:00Z","linkTarget":""}"#;
    Mock::given(method("GET"))
        .and(path("/v1.41/containers/web/archive"))
        .and(query_param("path", "/etc/hosts"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("X-Docker-Container-Path-Stat", stat_header(json).as_str())
                .insert_header("Content-Type", "application/x-tar")
                .set_body_bytes(vec![7u8; 3000]),
        )
        .expect(1)
        .mount(&server)
        .await;
    let archive = client(&server)
        .containers()
        .get_archive("web", "/etc/hosts")
        .await
        .expect("archive");
    assert_eq!(
        (
            archive.stat.name.as_str(),
            archive.stat.size,
            archive.stat.permissions()
        ),
        ("hosts", 174, 0o644)
    );
    assert!(!archive.stat.is_dir());
    let mut bytes = Vec::new();
    let mut reader = archive.stream.into_async_read();
    tokio::io::copy(&mut reader, &mut bytes)
        .await
        .expect("read");
    assert_eq!(bytes, vec![7u8; 3000]);
}

#[tokio::test]
async fn get_archive_without_a_stat_header_is_a_protocol_error() {
    let server = daemon(Some("1.41")).await;
    Mock::given(method("GET"))
        .and(path("/v1.41/containers/web/archive"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(vec![0u8; 1024]))
        .mount(&server)
        .await;
    let e = client(&server)
        .containers()
        .get_archive("web", "/x")
        .await
        .expect_err("no header");
    assert!(matches!(e, Error::Protocol { .. }), "{e}");
    assert!(e.to_string().contains("ContainerArchive:"), "{e}");
}

#[tokio::test]
async fn bodies_from_an_async_read_are_sent_whole() {
    let server = daemon(Some("1.41")).await;
    Mock::given(method("PUT"))
        .and(path("/v1.41/containers/web/archive"))
        .and(query_param("path", "/srv"))
        .and(header("Content-Type", "application/x-tar"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1.41/images/load"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("Content-Type", "application/json")
                .set_body_string("{\"stream\":\"Loaded image: x:1\\n\"}\r\n"),
        )
        .expect(1)
        .mount(&server)
        .await;
    // Larger than ReaderStream's buffer, so it goes in several chunks.
    let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let docker = client(&server);
    docker
        .containers()
        .put_archive(
            "web",
            "/srv",
            Body::from_reader(std::io::Cursor::new(data.clone())),
            &Default::default(),
        )
        .await
        .expect("put");
    let progress: Vec<_> = docker
        .images()
        .load(
            Body::from_reader(std::io::Cursor::new(data.clone())),
            &Default::default(),
        )
        .await
        .expect("load")
        .try_collect()
        .await
        .expect("progress");
    assert_eq!(progress[0].stream.as_deref(), Some("Loaded image: x:1\n"));
    for (m, p) in [
        ("PUT", "/v1.41/containers/web/archive"),
        ("POST", "/v1.41/images/load"),
    ] {
        let got = received(&server, m, p).await;
        assert_eq!(got.len(), 1);
        assert!(got[0].body == data, "{p}: body differs");
    }
}

/// The entry names of a tar body (directories without their trailing `/`).
fn entry_names(body: &[u8]) -> Vec<String> {
    let mut archive = tar::Archive::new(body);
    archive
        .entries()
        .expect("tar")
        .map(|e| {
            let name = e.unwrap().path().unwrap().to_string_lossy().into_owned();
            name.trim_end_matches('/').to_owned()
        })
        .collect()
}

#[tokio::test]
async fn copy_in_names_the_copy_like_docker_cp() {
    let tmp = std::env::temp_dir().join(format!("dockhand-wm-cp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(tmp.join("site/css")).unwrap();
    std::fs::write(tmp.join("site/index.html"), b"<p>hi</p>").unwrap();
    std::fs::write(tmp.join("site/css/a.css"), b"p{}").unwrap();
    let dir_stat = r#"{"name":"srv","size":4096,"mode":2147484141,"mtime":"2024-05-01T10:00:00Z","linkTarget":""}"#;
    let file_stat =
        r#"{"name":"app.conf","size":3,"mode":420,"mtime":"2024-05-01T10:00:00Z","linkTarget":""}"#;

    let server = daemon(Some("1.41")).await;
    for (p, stat) in [
        ("/srv", Some(dir_stat)),
        ("/etc/app.conf", Some(file_stat)),
        ("/new", None),
    ] {
        let answer = match stat {
            Some(s) => ResponseTemplate::new(200)
                .insert_header("X-Docker-Container-Path-Stat", stat_header(s).as_str()),
            None => ResponseTemplate::new(404),
        };
        Mock::given(method("HEAD"))
            .and(path("/v1.41/containers/web/archive"))
            .and(query_param("path", p))
            .respond_with(answer)
            .mount(&server)
            .await;
    }
    Mock::given(method("PUT"))
        .and(path("/v1.41/containers/web/archive"))
        .and(query_param("noOverwriteDirNonDir", "true"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let containers = client(&server).containers();
    // Into an existing directory, under its own name.
    containers
        .copy_in("web", tmp.join("site"), "/srv")
        .await
        .expect("into a directory");
    // Onto an existing file, and to a new name: the parent, renamed.
    std::fs::write(tmp.join("local.conf"), b"a=1").unwrap();
    containers
        .copy_in("web", tmp.join("local.conf"), "/etc/app.conf")
        .await
        .expect("onto a file");
    containers
        .copy_in("web", tmp.join("site"), "/new")
        .await
        .expect("to a new name");
    // A directory onto a file is refused before anything is sent.
    let e = containers
        .copy_in("web", tmp.join("site"), "/etc/app.conf")
        .await
        .expect_err("dir onto file");
    assert!(matches!(e, Error::InvalidArgument { .. }), "{e}");

    let puts = received(&server, "PUT", "/v1.41/containers/web/archive").await;
    let shapes: Vec<(String, Vec<String>)> = puts
        .iter()
        .map(|r| {
            let dir = r
                .url
                .query_pairs()
                .find(|(k, _)| k == "path")
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default();
            let mut names = entry_names(&r.body);
            names.sort();
            (dir, names)
        })
        .collect();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert_eq!(
        shapes,
        vec![
            (
                "/srv".into(),
                s(&["site", "site/css", "site/css/a.css", "site/index.html"])
            ),
            ("/etc".into(), s(&["app.conf"])),
            (
                "/".into(),
                s(&["new", "new/css", "new/css/a.css", "new/index.html"])
            ),
        ]
    );
    let mut archive = tar::Archive::new(&puts[1].body[..]);
    let mut entry = archive.entries().unwrap().next().unwrap().unwrap();
    let mut content = String::new();
    entry.read_to_string(&mut content).unwrap();
    assert_eq!(content, "a=1");
    let _ = std::fs::remove_dir_all(&tmp);
}

/// A `GET …/archive` answer: the stat header and a tar body.
fn archive_answer(stat: &str, body: Vec<u8>) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .insert_header("X-Docker-Container-Path-Stat", stat_header(stat).as_str())
        .insert_header("Content-Type", "application/x-tar")
        .set_body_bytes(body)
}

fn tar_of(entries: &[(&str, tar::EntryType, &str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, kind, link, data) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(*kind);
        h.set_mode(if *kind == tar::EntryType::Directory {
            0o755
        } else {
            0o644
        });
        h.set_size(data.len() as u64);
        if !link.is_empty() {
            h.set_link_name(link).unwrap();
        }
        b.append_data(&mut h, name, *data).unwrap();
    }
    b.into_inner().unwrap()
}

#[tokio::test]
async fn copy_out_of_a_symlinked_path_names_the_copy_after_the_requested_path() {
    use tar::EntryType as T;
    let tmp = std::env::temp_dir().join(format!("dockhand-wm-cpout-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(tmp.join("existing")).unwrap();
    // `/app/current` is a link to `releases/v2`, a directory. Entries are
    // named after the requested path, as `docker cp` expects.
    let entries: &[(&str, T, &str, &[u8])] = &[
        ("current", T::Directory, "", b""),
        ("current/a.txt", T::Regular, "", b"a"),
    ];
    // dockerd stats the link itself …
    let link_stat = r#"{"name":"current","size":11,"mode":134218239,"mtime":"2024-05-01T10:00:00Z","linkTarget":"/app/releases/v2"}"#;
    // … an implementation that stats the link's target names the target.
    let target_stat = r#"{"name":"v2","size":4096,"mode":2147484141,"mtime":"2024-05-01T10:00:00Z","linkTarget":""}"#;
    for (answer, stat, body) in [
        (
            "the link",
            link_stat,
            tar_of(&[("current", T::Symlink, "releases/v2", b"")]),
        ),
        ("the target, followed", target_stat, tar_of(entries)),
    ] {
        let server = daemon(Some("1.41")).await;
        Mock::given(method("GET"))
            .and(path("/v1.41/containers/web/archive"))
            .and(query_param("path", "/app/current"))
            .respond_with(archive_answer(stat, body))
            .mount(&server)
            .await;
        let containers = client(&server).containers();
        let out = tmp.join(format!("out-{}", stat.len()));
        containers
            .copy_out("web", "/app/current", &out)
            .await
            .unwrap_or_else(|e| panic!("stat naming {answer}: {e}"));
        let into = tmp.join("existing");
        containers
            .copy_out("web", "/app/current", &into)
            .await
            .unwrap_or_else(|e| panic!("stat naming {answer}, into a directory: {e}"));
        if stat == link_stat {
            assert_eq!(std::fs::read_link(&out).unwrap(), Path::new("releases/v2"));
            assert!(std::fs::symlink_metadata(into.join("current"))
                .unwrap()
                .file_type()
                .is_symlink());
        } else {
            assert_eq!(std::fs::read(out.join("a.txt")).unwrap(), b"a", "{answer}");
            assert_eq!(std::fs::read(into.join("current/a.txt")).unwrap(), b"a");
        }
        let _ = std::fs::remove_dir_all(tmp.join("existing/current"));
        let _ = std::fs::remove_file(tmp.join("existing/current"));
    }
    let _ = std::fs::remove_dir_all(&tmp);
}

#[tokio::test]
async fn copy_out_of_a_directory_s_contents_fills_the_new_directory() {
    use tar::EntryType as T;
    // `docker cp web:/data/. ./copy`: the entries are `./…`; `copy` is made
    // and holds what `/data` holds.
    let tmp = std::env::temp_dir().join(format!("dockhand-wm-cpdot-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).unwrap();
    let stat = r#"{"name":".","size":4096,"mode":2147484141,"mtime":"2024-05-01T10:00:00Z","linkTarget":""}"#;
    let server = daemon(Some("1.41")).await;
    Mock::given(method("GET"))
        .and(path("/v1.41/containers/web/archive"))
        .and(query_param("path", "/data/."))
        .respond_with(archive_answer(
            stat,
            tar_of(&[
                ("./", T::Directory, "", b""),
                ("./sub", T::Directory, "", b""),
                ("./sub/f", T::Regular, "", b"f"),
            ]),
        ))
        .mount(&server)
        .await;
    client(&server)
        .containers()
        .copy_out("web", "/data/.", &tmp.join("copy"))
        .await
        .expect("contents into a new directory");
    assert_eq!(std::fs::read(tmp.join("copy/sub/f")).unwrap(), b"f");
    let _ = std::fs::remove_dir_all(&tmp);
}
