//! Archives and byte streams against the real daemon: `docker cp` both ways,
//! the path stat of an archive, image save, load and import, all streamed.
//! Unix only: the trees copied carry Unix modes and symlinks.
#![cfg(unix)]

mod common;

use common::{test_env, TempDir, TestEnv};
use dockhand::models::{ContainerCreateBody, HostConfig};
use dockhand::operations::{ImageCreateOptions, ImageDeleteOptions};
use dockhand::{Body, Docker, Error};
use futures::TryStreamExt;
use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use tokio::io::AsyncWriteExt;

fn docker() -> Docker {
    Docker::connect_with_host("unix:///var/run/docker.sock").expect("client")
}

/// A container that is removed when the guard is dropped.
struct Container {
    docker: Docker,
    id: String,
    _remove: common::RemoveContainer,
}

/// A created (not started) container: archives work on it all the same.
async fn create(env: &TestEnv) -> Container {
    let docker = docker();
    let body = ContainerCreateBody {
        image: Some(env.image.clone()),
        cmd: Some(vec!["true".into()]),
        host_config: Some(HostConfig::default()),
        ..Default::default()
    };
    let id = docker
        .containers()
        .create(&body, &Default::default())
        .await
        .expect("create")
        .id;
    Container {
        docker,
        _remove: common::RemoveContainer(id.clone()),
        id,
    }
}

/// What a tree holds: relative path → (kind, permission bits, content or link target).
fn snapshot(root: &Path) -> BTreeMap<String, (char, u32, Vec<u8>)> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<String, (char, u32, Vec<u8>)>) {
        for e in std::fs::read_dir(dir).expect("read dir") {
            let p = e.expect("entry").path();
            let m = std::fs::symlink_metadata(&p).expect("stat");
            let rel = p.strip_prefix(base).unwrap().to_string_lossy().into_owned();
            let perm = m.permissions().mode() & 0o777;
            if m.file_type().is_symlink() {
                let target = std::fs::read_link(&p).expect("readlink");
                out.insert(rel, ('l', 0, target.into_os_string().into_encoded_bytes()));
            } else if m.is_dir() {
                out.insert(rel, ('d', perm, Vec::new()));
                walk(base, &p, out);
            } else {
                out.insert(rel, ('f', perm, std::fs::read(&p).expect("read")));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn a_directory_copied_in_and_back_out_is_identical() {
    let env = test_env("a_directory_copied_in_and_back_out_is_identical");
    let c = create(&env).await;
    let tmp = TempDir::new("cp-roundtrip");
    let src = tmp.0.join("tree");
    std::fs::create_dir_all(src.join("nested/deeper")).unwrap();
    std::fs::write(src.join("a.txt"), b"hello\n").unwrap();
    std::fs::write(src.join("empty"), b"").unwrap();
    // Every byte value, more than a few chunks of the channel.
    let binary: Vec<u8> = (0..(600 * 1024u32))
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    std::fs::write(src.join("nested/deeper/blob.bin"), &binary).unwrap();
    std::fs::write(src.join("run.sh"), b"#!/bin/sh\necho hi\n").unwrap();
    std::fs::set_permissions(src.join("run.sh"), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(src.join("a.txt"), std::fs::Permissions::from_mode(0o640)).unwrap();
    std::fs::set_permissions(src.join("nested"), std::fs::Permissions::from_mode(0o750)).unwrap();
    std::os::unix::fs::symlink("../a.txt", src.join("nested/link")).unwrap();
    std::os::unix::fs::symlink("nested/deeper/blob.bin", src.join("blob-link")).unwrap();

    let containers = c.docker.containers();
    containers
        .copy_in(&c.id, &src, "/tmp")
        .await
        .expect("copy in");
    // The daemon sees what was sent.
    let stat = containers
        .archive_info(&c.id, "/tmp/tree/run.sh")
        .await
        .expect("stat run.sh");
    assert_eq!((stat.size, stat.permissions()), (18, 0o755));
    let stat = containers
        .archive_info(&c.id, "/tmp/tree/nested/link")
        .await
        .expect("stat link");
    assert!(stat.is_symlink(), "{stat:?}");
    assert_eq!(stat.link_target, "/tmp/tree/a.txt");

    // Out into an existing directory: it lands under its own name.
    let out = tmp.0.join("out");
    std::fs::create_dir(&out).unwrap();
    containers
        .copy_out(&c.id, "/tmp/tree", &out)
        .await
        .expect("copy out");
    let (want, got) = (snapshot(&src), snapshot(&out.join("tree")));
    assert_eq!(want.len(), 8, "{:?}", want.keys());
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>()
    );
    for (path, w) in &want {
        assert!(got[path] == *w, "{path} differs");
    }

    // Out to a new name, and a file in under a new name.
    let renamed = tmp.0.join("renamed.txt");
    containers
        .copy_out(&c.id, "/tmp/tree/a.txt", &renamed)
        .await
        .expect("copy a file out");
    assert_eq!(std::fs::read(&renamed).unwrap(), b"hello\n");
    containers
        .copy_in(&c.id, src.join("empty"), "/tmp/was-empty")
        .await
        .expect("copy a file in");
    let stat = containers
        .archive_info(&c.id, "/tmp/was-empty")
        .await
        .expect("stat");
    assert_eq!((stat.name.as_str(), stat.size), ("was-empty", 0));
    // A directory onto a file is refused before anything is sent.
    let e = containers
        .copy_in(&c.id, &src, "/tmp/was-empty")
        .await
        .expect_err("dir onto file");
    assert!(matches!(e, Error::InvalidArgument { .. }), "{e}");
    // A missing container path is the daemon's 404.
    let e = containers
        .copy_out(&c.id, "/no/such/path", &out)
        .await
        .expect_err("missing");
    assert!(e.is_not_found(), "{e}");
}

#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn copy_out_refuses_a_link_that_leaves_the_destination() {
    let env = test_env("copy_out_refuses_a_link_that_leaves_the_destination");
    let c = create(&env).await;
    // In the container: /tmp/d/etc -> /etc (harmless there, an escape on the host).
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Directory);
    h.set_mode(0o755);
    h.set_size(0);
    b.append_data(&mut h, "d/", &b""[..]).unwrap();
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Symlink);
    h.set_size(0);
    b.append_link(&mut h, "d/etc", "/etc").unwrap();
    let tar = b.into_inner().unwrap();
    c.docker
        .containers()
        .put_archive(&c.id, "/tmp", Body::from(tar), &Default::default())
        .await
        .expect("put");
    let tmp = TempDir::new("cp-escape");
    let e = c
        .docker
        .containers()
        .copy_out(&c.id, "/tmp/d", &tmp.0)
        .await
        .expect_err("refused");
    match e {
        Error::UnsafeArchiveEntry { entry, reason } => {
            assert_eq!(entry, "d/etc");
            assert!(reason.to_string().contains("/etc"), "{reason}");
        }
        other => panic!("expected a refusal, got {other}"),
    }
    assert!(!tmp.0.join("d/etc").exists());
}

#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn get_archive_decodes_the_path_stat_and_streams_the_file() {
    let env = test_env("get_archive_decodes_the_path_stat_and_streams_the_file");
    let c = create(&env).await;
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Regular);
    h.set_mode(0o640);
    h.set_size(13);
    b.append_data(&mut h, "known.txt", &b"thirteen byte"[..])
        .unwrap();
    c.docker
        .containers()
        .put_archive(
            &c.id,
            "/tmp",
            Body::from(b.into_inner().unwrap()),
            &Default::default(),
        )
        .await
        .expect("put");

    let archive = c
        .docker
        .containers()
        .get_archive(&c.id, "/tmp/known.txt")
        .await
        .expect("get archive");
    let stat = &archive.stat;
    assert_eq!(
        (stat.name.as_str(), stat.size, stat.permissions()),
        ("known.txt", 13, 0o640)
    );
    assert!(!stat.is_dir() && !stat.is_symlink());
    let bytes: Vec<u8> = archive
        .stream
        .try_fold(Vec::new(), |mut v, c| async move {
            v.extend_from_slice(&c);
            Ok(v)
        })
        .await
        .expect("stream");
    let mut tar = tar::Archive::new(&bytes[..]);
    let mut entries = tar.entries().expect("tar");
    let mut e = entries.next().expect("one entry").expect("entry");
    assert_eq!(e.path().unwrap(), Path::new("known.txt"));
    let mut content = String::new();
    std::io::Read::read_to_string(&mut e, &mut content).unwrap();
    assert_eq!(content, "thirteen byte");

    let dir = c
        .docker
        .containers()
        .get_archive(&c.id, "/tmp")
        .await
        .expect("dir");
    assert!(
        dir.stat.is_dir() && dir.stat.name == "tmp",
        "{:?}",
        dir.stat
    );
    let e = c
        .docker
        .containers()
        .get_archive(&c.id, "/tmp/missing")
        .await
        .expect_err("missing");
    assert!(e.is_not_found(), "{e}");
}

#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn image_save_streams_to_a_file_and_loads_back() {
    let env = test_env("image_save_streams_to_a_file_and_loads_back");
    let docker = docker();
    let tmp = TempDir::new("save");
    let path = tmp.0.join("image.tar");
    let saved = docker
        .images()
        .save(&env.image, &Default::default())
        .await
        .expect("save");
    let mut file = tokio::fs::File::create(&path).await.unwrap();
    let n = tokio::io::copy(&mut saved.into_async_read(), &mut file)
        .await
        .expect("stream to file");
    file.flush().await.unwrap();
    drop(file);
    assert!(n > 512 * 1024, "the busybox image is more than {n} bytes");

    let mut names = Vec::new();
    let mut manifest = Vec::new();
    let mut archive = tar::Archive::new(std::fs::File::open(&path).unwrap());
    for e in archive.entries().expect("tar") {
        let mut e = e.expect("entry");
        let name = e.path().unwrap().to_string_lossy().into_owned();
        if name == "manifest.json" {
            std::io::Read::read_to_end(&mut e, &mut manifest).unwrap();
        }
        names.push(name);
    }
    let manifest: serde_json::Value = serde_json::from_slice(&manifest)
        .unwrap_or_else(|e| panic!("manifest.json in {names:?}: {e}"));
    assert_eq!(manifest[0]["RepoTags"][0], env.image.as_str(), "{manifest}");

    let file = tokio::fs::File::open(&path).await.unwrap();
    let progress: Vec<_> = docker
        .images()
        .load(Body::from_reader(file), &Default::default())
        .await
        .expect("load")
        .try_collect()
        .await
        .expect("progress decodes");
    let text: String = progress.iter().filter_map(|m| m.stream.clone()).collect();
    assert!(
        text.contains(&format!("Loaded image: {}", env.image)),
        "{progress:?}"
    );
}

#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn import_from_an_async_read_creates_an_image() {
    let _env = test_env("import_from_an_async_read_creates_an_image");
    let docker = docker();
    // A small root filesystem, written into a pipe in small pieces while it is sent.
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Directory);
    h.set_mode(0o755);
    h.set_size(0);
    b.append_data(&mut h, "etc/", &b""[..]).unwrap();
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Regular);
    h.set_mode(0o644);
    h.set_size(6);
    b.append_data(&mut h, "etc/motd", &b"hello\n"[..]).unwrap();
    let rootfs = b.into_inner().unwrap();
    let (mut writer, reader) = tokio::io::duplex(256);
    let feeder = tokio::spawn(async move {
        for piece in rootfs.chunks(100) {
            writer.write_all(piece).await?;
        }
        writer.shutdown().await
    });

    let tag = format!("t{}", std::process::id());
    let repo = "dockhand-test/imported";
    let opts = ImageCreateOptions::default().repo(repo).tag(tag.clone());
    let progress: Vec<_> = docker
        .images()
        .import(Body::from_reader(reader), &opts)
        .await
        .expect("import")
        .try_collect()
        .await
        .expect("progress");
    feeder.await.unwrap().expect("fed");
    let id = progress
        .iter()
        .filter_map(|m| m.status.clone())
        .find(|s| s.starts_with("sha256:"))
        .unwrap_or_else(|| panic!("an image id in {progress:?}"));
    let name = format!("{repo}:{tag}");
    let image = docker
        .images()
        .inspect(&name, &Default::default())
        .await
        .expect("imported image");
    assert_eq!(image.id.as_deref(), Some(id.as_str()));
    docker
        .images()
        .remove(&name, &ImageDeleteOptions::default().force(true))
        .await
        .expect("remove");
}
