//! Builds a directory into an image, like `docker build -t TAG DIR`: the
//! directory is streamed as the build context (honouring its
//! `.dockerignore`), the build output is printed as it arrives, then the
//! image id. A failed build exits with status 1 and the daemon's message.
//!
//! With `--kit`, the build runs with BuildKit (`DOCKER_BUILDKIT=1 docker
//! build --progress=plain`): the context is served over a session and the
//! progress is printed the way `--progress=plain` prints it; a failed step
//! prints its output.
//!
//! ```sh
//! cargo run --example build -- ./app app:1
//! cargo run --example build -- --kit ./app app:1
//! ```

use dockhand::build::BuildOutcome;
use dockhand::operations::ImageBuildOptions;
use dockhand::Docker;
use std::io::Write;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let kit = args.first().is_some_and(|a| a == "--kit");
    if kit {
        args.remove(0);
    }
    let [dir, tag] = args.as_slice() else {
        eprintln!("usage: build [--kit] DIR TAG");
        std::process::exit(2);
    };
    let result = if kit {
        build_kit(dir, tag).await
    } else {
        build(dir, tag).await.map(|o| o.image_id)
    };
    match result {
        Ok(id) => println!("image id: {id}"),
        Err(e) => {
            eprintln!("build: {e}");
            #[cfg(feature = "buildkit")]
            if let dockhand::Error::BuildFailed { log, .. } = &e {
                for line in log.lines() {
                    eprintln!("  | {line}");
                }
            }
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                eprintln!("  caused by: {s}");
                source = s.source();
            }
            std::process::exit(1);
        }
    }
}

async fn build(dir: &str, tag: &str) -> dockhand::Result<BuildOutcome> {
    let docker = Docker::connect()?;
    let options = ImageBuildOptions::default().t(tag).forcerm(true);
    let stream = docker.images().build_dir(dir, &options).await?;
    let stdout = std::io::stdout();
    BuildOutcome::collect_with(stream, |msg| {
        let mut out = stdout.lock();
        if let Some(text) = &msg.stream {
            let _ = out.write_all(text.as_bytes());
        } else if let Some(status) = &msg.status {
            let _ = writeln!(out, "{status}");
        }
        let _ = out.flush();
    })
    .await
}

#[cfg(feature = "buildkit")]
async fn build_kit(dir: &str, tag: &str) -> dockhand::Result<String> {
    use dockhand::buildkit::{BuildKitOptions, BuildKitOutcome, PlainProgress};
    let docker = Docker::connect()?;
    let stream = docker
        .images()
        .build_kit(dir, &BuildKitOptions::default().tag(tag))
        .await?;
    let mut plain = PlainProgress::new();
    let stdout = std::io::stdout();
    let outcome = BuildKitOutcome::collect_with(stream, |event| {
        let mut out = stdout.lock();
        for line in plain.lines(event) {
            let _ = writeln!(out, "{line}");
        }
        let _ = out.flush();
    })
    .await?;
    outcome.image_id.ok_or_else(|| dockhand::Error::Protocol {
        message: "the build reported no image id".into(),
        source: None,
    })
}

#[cfg(not(feature = "buildkit"))]
async fn build_kit(_dir: &str, _tag: &str) -> dockhand::Result<String> {
    Err(dockhand::Error::InvalidArgument {
        name: "--kit",
        message: "dockhand was built without its `buildkit` feature".into(),
    })
}
