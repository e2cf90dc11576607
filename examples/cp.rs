//! Copies files between a container and the host, like `docker cp`.
//!
//! ```sh
//! cargo run --example cp -- CONTAINER:PATH HOSTPATH   # out of a container
//! cargo run --example cp -- HOSTPATH CONTAINER:PATH   # into a container
//! ```
//!
//! An existing directory as the destination receives the source under its
//! own name; any other destination is the new name of the copy. Archives
//! stream both ways; nothing is extracted outside the destination.

use std::process::exit;

/// `CONTAINER:PATH` or a host path, split as `docker cp` does: a path that
/// starts with `/` or `.` is always a host path.
fn split(arg: &str) -> Option<(&str, &str)> {
    if arg.starts_with('/') || arg.starts_with('.') {
        return None;
    }
    arg.split_once(':').filter(|(c, _)| !c.is_empty())
}

fn fail(message: &str) -> ! {
    eprintln!("cp: {message}");
    eprintln!("usage: cp CONTAINER:PATH HOSTPATH | cp HOSTPATH CONTAINER:PATH");
    exit(2)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [from, to] = &args[..] else {
        fail("expected two arguments");
    };
    // (container, path in it, copying out of it)
    let (container, path, out) = match (split(from), split(to)) {
        (Some((container, path)), None) => (container, path, true),
        (None, Some((container, path))) => (container, path, false),
        (Some(_), Some(_)) => fail("copying between containers is not supported"),
        (None, None) => fail("one argument must be CONTAINER:PATH"),
    };
    let result = async {
        let containers = dockhand::Docker::connect()?.containers();
        if out {
            containers.copy_out(container, path, to).await
        } else {
            containers.copy_in(container, from, path).await
        }
    }
    .await;
    match result {
        Ok(()) => println!("copied {from} to {to}"),
        Err(e) => {
            eprintln!("cp: {e}");
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                eprintln!("  caused by: {s}");
                source = s.source();
            }
            exit(1);
        }
    }
}
