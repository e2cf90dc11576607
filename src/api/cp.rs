//! `docker cp` put together from the archive operations of
//! [`Containers`] and the packing and extraction of [`crate::copy`]: the
//! feature module knows nothing of the client, the client side lives here.

use super::Containers;
use crate::copy::{
    container_base, root_name, split_container_path, start_packing, unpack_stream, Rebase,
    UnpackLimits,
};
use crate::operations::PutContainerArchiveOptions;
use crate::{Error, Result};
use std::ffi::OsString;
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::Ordering;

/// `docker cp HOST CONTAINER:PATH`.
pub(super) async fn copy_in(
    containers: &Containers,
    id: &str,
    host_path: &Path,
    container_path: &str,
) -> Result<()> {
    let source_name = root_name(host_path)?;
    let source_is_dir = std::fs::symlink_metadata(host_path)
        .map_err(|source| Error::Io {
            context: format!("reading {}", host_path.display()),
            source,
        })?
        .is_dir();
    let stat = match containers.archive_info(id, container_path).await {
        // A link to a directory is the directory.
        Ok(stat) if stat.is_symlink() => {
            let inside = format!("{}/.", container_path.trim_end_matches('/'));
            match containers.archive_info(id, &inside).await {
                Ok(target) if target.is_dir() => Ok(target),
                _ => Ok(stat),
            }
        }
        other => other,
    };
    let (dir, name) = match stat {
        Ok(stat) if stat.is_dir() => (container_path.to_owned(), source_name),
        Ok(_) if source_is_dir => {
            return Err(Error::InvalidArgument {
                name: "container_path",
                message: format!(
                    "cannot copy the directory {} onto the file {container_path}",
                    host_path.display()
                ),
            })
        }
        Ok(_) => split_container_path(container_path)?,
        Err(e) if e.is_not_found() => {
            if container_path.ends_with('/') {
                return Err(Error::InvalidArgument {
                    name: "container_path",
                    message: format!("the directory {container_path} does not exist"),
                });
            }
            split_container_path(container_path)?
        }
        Err(e) => return Err(e),
    };
    let (body, packer) = start_packing(host_path, &name)?;
    let options = PutContainerArchiveOptions::default().no_overwrite_dir_non_dir("true");
    let sent = containers.put_archive(id, &dir, body, &options).await;
    match packer.thread.await {
        Ok(Ok(())) => sent,
        // Packing stopped because the request ended: the request's error says why.
        Ok(Err(_)) if sent.is_err() && packer.request_gone.load(Ordering::Relaxed) => sent,
        // A packing error explains a broken request better than the request's error.
        Ok(Err(source)) => Err(Error::Io {
            context: format!("archiving {}", host_path.display()),
            source,
        }),
        Err(join) => sent.and(Err(Error::Io {
            context: format!("archiving {}", host_path.display()),
            source: io::Error::other(join),
        })),
    }
}

/// `docker cp CONTAINER:PATH HOST`.
pub(super) async fn copy_out(
    containers: &Containers,
    id: &str,
    container_path: &str,
    host_dest: &Path,
) -> Result<()> {
    let archive = containers.get_archive(id, container_path).await?;
    // The archive's root is named after the requested path, as `docker cp`
    // takes it: not after the stat's `name`, which an implementation that
    // follows a symbolic link (Podman's) gives as the link target's name.
    let root = OsString::from(container_base(container_path));
    let simple_root = matches!(
        Path::new(&root).components().collect::<Vec<_>>()[..],
        [Component::Normal(_)]
    );
    let parent = |p: &Path| match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let renamed = |p: &Path| -> Result<(PathBuf, Option<Rebase>)> {
        let name = p.file_name().ok_or_else(|| Error::InvalidArgument {
            name: "host_dest",
            message: format!("{} names no file or directory to copy to", p.display()),
        })?;
        if root == "." && archive.stat.is_dir() {
            // `DIR/.`: the directory's contents, into a new directory.
            std::fs::create_dir(p).map_err(|source| Error::Io {
                context: format!("creating {}", p.display()),
                source,
            })?;
            return Ok((p.to_path_buf(), None));
        }
        if !simple_root {
            return Err(Error::InvalidArgument {
                name: "container_path",
                message: format!("{container_path} can only be copied into an existing directory"),
            });
        }
        Ok((parent(p), Some((root.clone(), name.to_owned()))))
    };
    let (dir, rebase) = match std::fs::metadata(host_dest) {
        Ok(m) if m.is_dir() => (host_dest.to_path_buf(), None),
        Ok(_) if archive.stat.is_dir() => {
            return Err(Error::InvalidArgument {
                name: "host_dest",
                message: format!(
                    "cannot copy the directory {container_path} onto the file {}",
                    host_dest.display()
                ),
            })
        }
        Ok(_) => renamed(host_dest)?,
        Err(e) if e.kind() == io::ErrorKind::NotFound => renamed(host_dest)?,
        Err(source) => {
            return Err(Error::Io {
                context: format!("inspecting {}", host_dest.display()),
                source,
            })
        }
    };
    unpack_stream(archive.stream, dir, rebase, UnpackLimits::default()).await
}
