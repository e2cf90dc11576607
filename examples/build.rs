//! Builds a directory into an image, like `docker build -t TAG DIR`: the
//! directory is streamed as the build context (honouring its
//! `.dockerignore`), the build output is printed as it arrives, then the
//! image id. A failed build exits with status 1 and the daemon's message.
//!
//! ```sh
//! cargo run --example build -- ./app app:1
//! ```

use dockhand::build::BuildOutcome;
use dockhand::operations::ImageBuildOptions;
use dockhand::Docker;
use std::io::Write;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir, tag] = args.as_slice() else {
        eprintln!("usage: build DIR TAG");
        std::process::exit(2);
    };
    match build(dir, tag).await {
        Ok(outcome) => println!("image id: {}", outcome.image_id),
        Err(e) => {
            eprintln!("build: {e}");
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
