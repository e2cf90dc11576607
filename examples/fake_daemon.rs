//! A fake Docker daemon (`dockhand::testing`) as a process: for trying a
//! Docker client, dockhand's examples or the docker CLI without a daemon.
//! Prints `DOCKER_HOST=…` lines, then serves until its stdin closes or it
//! is killed.
//!
//! ```sh
//! cargo run --features testing --example fake_daemon -- [--api 1.41] [--os windows] [--image REF]… [--pullable REF]…
//! ```
//!
//! It starts with a running container `fake-box` of `busybox:latest`.

use dockhand::testing::{FakeContainer, FakeDocker, PullScript};
use dockhand::ApiVersion;
use tokio::io::AsyncReadExt;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut builder = FakeDocker::builder();
    let mut images = vec!["busybox:latest".to_string()];
    let mut pullable = Vec::new();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let Some(value) = it.next() else {
            eprintln!("fake_daemon: {flag} needs a value");
            std::process::exit(2);
        };
        match flag.as_str() {
            "--api" => match value.parse::<ApiVersion>() {
                Ok(v) => builder = builder.api_version(v),
                Err(e) => {
                    eprintln!("fake_daemon: --api: {e}");
                    std::process::exit(2);
                }
            },
            "--os" => builder = builder.os(value.clone()),
            "--image" => images.push(value.clone()),
            "--pullable" => pullable.push(value.clone()),
            other => {
                eprintln!("fake_daemon: unknown option {other}");
                std::process::exit(2);
            }
        }
    }
    let fake = match builder.try_start().await {
        Ok(f) => f,
        Err(e) => {
            eprintln!("fake_daemon: cannot listen: {e}");
            std::process::exit(1);
        }
    };
    for image in &images {
        fake.image(image);
    }
    for reference in &pullable {
        fake.pullable(reference, PullScript::new().layers(2));
    }
    fake.container(
        FakeContainer::new("fake-box", "busybox:latest")
            .cmd(["sleep", "3600"])
            .running(),
    );
    println!("DOCKER_HOST={}", fake.host());
    if let Some(unix) = fake.unix_host() {
        println!("DOCKER_HOST={unix}");
    }
    // Serve until stdin closes (the parent went away) or a signal ends us.
    let mut sink = Vec::new();
    let _ = tokio::io::stdin().read_to_end(&mut sink).await;
    drop(fake);
}
