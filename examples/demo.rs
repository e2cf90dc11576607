//! The README's demo: connects the way the docker CLI would, negotiates the
//! API version, and shows what the daemon sees.
//!
//! ```sh
//! cargo run --example demo
//! ```

use dockhand::operations::ContainerListOptions;
use dockhand::Docker;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("demo: {e}");
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            eprintln!("  caused by: {s}");
            source = s.source();
        }
        std::process::exit(1);
    }
}

async fn run() -> dockhand::Result<()> {
    let docker = Docker::connect()?;
    let ping = docker.system().ping().await?;
    let daemon = docker.daemon_info().await?;
    println!("ping: {ping}");
    println!(
        "negotiated API {} (daemon supports up to {}), OS {}",
        daemon.api_version,
        daemon
            .daemon_api_version
            .map_or_else(|| "?".to_owned(), |v| v.to_string()),
        daemon.os_type.as_deref().unwrap_or("?")
    );

    let v = docker.system().version().await?;
    println!(
        "engine {} (go {}, {}/{})",
        v.version.as_deref().unwrap_or("?"),
        v.go_version.as_deref().unwrap_or("?"),
        v.os.as_deref().unwrap_or("?"),
        v.arch.as_deref().unwrap_or("?")
    );

    let info = docker.system().info().await?;
    println!(
        "{} containers ({} running), {} images, storage driver {}",
        info.containers.unwrap_or(0),
        info.containers_running.unwrap_or(0),
        info.images.unwrap_or(0),
        info.driver.as_deref().unwrap_or("?")
    );

    let containers = docker
        .containers()
        .list(&ContainerListOptions::default().all(true))
        .await?;
    println!("containers:");
    for c in &containers {
        println!(
            "  {:.12}  {:<30} {}",
            c.id.as_deref().unwrap_or(""),
            c.names
                .as_ref()
                .and_then(|n| n.first())
                .map_or("", |n| n.as_str()),
            c.status.as_deref().unwrap_or("")
        );
    }
    let images = docker.images().list(&Default::default()).await?;
    println!("images:");
    for i in &images {
        let tags = i.repo_tags.clone().unwrap_or_default().join(", ");
        println!("  {:.19}  {tags}", i.id);
    }
    Ok(())
}
