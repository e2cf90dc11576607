//! Prints the daemon's version, API version and OS, using the configuration
//! the docker CLI would use (DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH,
//! DOCKER_CONTEXT, …).
//!
//! ```sh
//! cargo run --example version
//! DOCKER_HOST=ssh://root@127.0.0.1:2222 cargo run --example version
//! ```

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let result = async {
        let docker = dockhand::Docker::connect()?;
        let v = docker.system().version().await?;
        let negotiated = docker.api_version().await?;
        Ok::<_, dockhand::Error>((v, negotiated))
    }
    .await;
    match result {
        Ok((v, negotiated)) => {
            println!("Version:     {}", v.version.as_deref().unwrap_or("?"));
            println!(
                "API version: {} (negotiated {negotiated})",
                v.api_version.as_deref().unwrap_or("?")
            );
            println!(
                "OS/Arch:     {}/{}",
                v.os.as_deref().unwrap_or("?"),
                v.arch.as_deref().unwrap_or("?")
            );
        }
        Err(e) => {
            eprintln!("version: {e}");
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                eprintln!("  caused by: {s}");
                source = s.source();
            }
            std::process::exit(1);
        }
    }
}
