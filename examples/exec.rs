//! `docker exec -i` (and `-t` when stdin is a terminal): runs a command in a
//! running container with this process's stdin, stdout and stderr, and exits
//! with the command's exit code.
//!
//! ```sh
//! cargo run --example exec -- CONTAINER sh          # interactive shell
//! echo hello | cargo run --example exec -- CONTAINER cat
//! ```
//!
//! On a terminal the exec gets a TTY of the terminal's size and the terminal
//! is put in raw mode (keys go to the container as typed) until it ends.

use dockhand::models::ContainerExecBody;
use dockhand::stream::LogOutput;
use dockhand::Docker;
use futures::TryStreamExt;
use std::io::{IsTerminal, Write};
use tokio::io::AsyncWriteExt;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((container, cmd)) = args.split_first().filter(|(_, c)| !c.is_empty()) else {
        eprintln!("usage: exec CONTAINER COMMAND [ARG...]");
        std::process::exit(2);
    };
    let tty = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    let result = exec(container, cmd, tty).await;
    if tty {
        let _ = crossterm::terminal::disable_raw_mode();
    }
    match result {
        Ok(code) => std::process::exit(i32::try_from(code).unwrap_or(1)),
        Err(e) => {
            eprintln!("exec: {e}");
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                eprintln!("  caused by: {s}");
                source = s.source();
            }
            std::process::exit(126);
        }
    }
}

fn protocol(message: &str) -> dockhand::Error {
    dockhand::Error::Protocol {
        message: message.to_owned(),
        source: None,
    }
}

fn io_error(context: &str) -> impl FnOnce(std::io::Error) -> dockhand::Error + '_ {
    move |source| dockhand::Error::Io {
        context: context.to_owned(),
        source,
    }
}

async fn exec(container: &str, cmd: &[String], tty: bool) -> dockhand::Result<i64> {
    let docker = Docker::connect()?;
    let body = ContainerExecBody {
        cmd: Some(cmd.to_vec()),
        attach_stdin: Some(true),
        attach_stdout: Some(true),
        attach_stderr: Some(true),
        tty: Some(tty),
        ..Default::default()
    };
    let id = docker.exec().create(container, &body).await?.id;
    let attached = docker
        .exec()
        .start(&id, &Default::default())
        .await?;
    if tty {
        if let Ok((cols, rows)) = crossterm::terminal::size() {
            // Like the CLI: a failed resize (the process may already have
            // exited) leaves the default size and is not an error.
            let _ = docker
                .exec()
                .resize(&id, u32::from(rows), u32::from(cols))
                .await;
        }
        crossterm::terminal::enable_raw_mode().map_err(io_error("raw terminal mode"))?;
    }

    // stdin → the process; at EOF the writer is shut down, so the process
    // reads EOF while its output keeps coming.
    let mut input = attached.input;
    tokio::spawn(async move {
        let mut stdin = tokio::io::stdin();
        if tokio::io::copy(&mut stdin, &mut input).await.is_ok() {
            let _ = input.shutdown().await;
        }
    });

    let mut output = attached.output;
    let (mut out, mut err) = (std::io::stdout(), std::io::stderr());
    while let Some(piece) = output.try_next().await? {
        match &piece {
            LogOutput::StdErr(b) => err.write_all(b).and_then(|()| err.flush()),
            other => out.write_all(other.bytes()).and_then(|()| out.flush()),
        }
        .map_err(io_error("writing the output"))?;
    }
    // The output ends when the process does; its exit code follows shortly.
    for _ in 0..50 {
        let state = docker.exec().inspect(&id).await?;
        if state.running != Some(true) {
            return Ok(state.exit_code.unwrap_or(0));
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    Err(protocol("the exec's output ended but it still runs"))
}
