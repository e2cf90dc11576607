//! `ssh://` hosts: each connection is an `ssh … docker system dial-stdio`
//! child process whose stdin and stdout carry the HTTP connection, as the
//! docker CLI does it. The child ends when the connection is dropped.

use crate::error::BoxError;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

/// What of ssh's stderr is kept for error messages.
const STDERR_LIMIT: usize = 4096;

/// The ssh command line (after `ssh`) for a host. The host comes after `--`,
/// so it can never be taken for an option. `BatchMode=yes`: ssh fails
/// instead of asking for a password or a host key confirmation (nobody is
/// there to answer); `ConnectTimeout` is the client's connect timeout, in
/// whole seconds (at least one).
pub(super) fn argv(
    user: Option<&str>,
    host: &str,
    port: Option<u16>,
    connect_timeout: std::time::Duration,
) -> Vec<String> {
    let secs = connect_timeout
        .as_secs()
        .saturating_add(u64::from(connect_timeout.subsec_nanos() > 0))
        .max(1);
    let timeout = format!("ConnectTimeout={secs}");
    let mut v = Vec::new();
    if let Some(u) = user {
        v.push("-l".to_owned());
        v.push(u.to_owned());
    }
    if let Some(p) = port {
        v.push("-p".to_owned());
        v.push(p.to_string());
    }
    v.extend(
        [
            "-o",
            "BatchMode=yes",
            "-o",
            &timeout,
            "-T",
            "--",
            host,
            "docker",
            "system",
            "dial-stdio",
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    v
}

/// Spawns the ssh child for one connection.
pub(super) fn spawn(
    argv: &[String],
    last_stderr: Arc<Mutex<String>>,
) -> Result<SshStream, BoxError> {
    let mut child = Command::new("ssh")
        .args(argv)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot run ssh: {e}"))?;
    let stdin = child.stdin.take().ok_or("ssh: no stdin")?;
    let stdout = child.stdout.take().ok_or("ssh: no stdout")?;
    if let Some(mut stderr) = child.stderr.take() {
        tokio::spawn(async move {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 1024];
            while let Ok(n) = stderr.read(&mut chunk).await {
                if n == 0 {
                    break;
                }
                let room = STDERR_LIMIT.saturating_sub(buf.len());
                buf.extend_from_slice(&chunk[..n.min(room)]);
                if let Ok(mut s) = last_stderr.lock() {
                    *s = String::from_utf8_lossy(&buf).into_owned();
                }
            }
        });
    }
    Ok(SshStream {
        _child: child,
        stdin: Some(stdin),
        stdout,
    })
}

/// The child's stdout (read) and stdin (write) as one duplex stream.
/// Shutting down the write half closes the child's stdin (a pipe has no
/// half-close; tokio's `ChildStdin::poll_shutdown` only flushes), so ssh
/// sends EOF and `dial-stdio` half-closes its connection to the daemon: an
/// exec'd `cat` reads the end of its input.
pub(super) struct SshStream {
    _child: Child,
    stdin: Option<ChildStdin>,
    stdout: ChildStdout,
}

impl AsyncRead for SshStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stdout).poll_read(cx, buf)
    }
}

impl AsyncWrite for SshStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match &mut self.stdin {
            Some(stdin) => Pin::new(stdin).poll_write(cx, buf),
            None => Poll::Ready(Err(std::io::ErrorKind::BrokenPipe.into())),
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match &mut self.stdin {
            Some(stdin) => Pin::new(stdin).poll_flush(cx),
            None => Poll::Ready(Ok(())),
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        if let Some(stdin) = &mut self.stdin {
            std::task::ready!(Pin::new(stdin).poll_flush(cx))?;
            // Dropping the pipe's write end is its close.
            self.stdin = None;
        }
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::argv;
    use std::time::Duration;

    #[test]
    fn command_line() {
        assert_eq!(
            argv(Some("root"), "127.0.0.1", Some(2222), Duration::from_secs(30)).join(" "),
            "-l root -p 2222 -o BatchMode=yes -o ConnectTimeout=30 -T -- 127.0.0.1 docker system dial-stdio"
        );
        assert_eq!(
            argv(None, "box", None, Duration::from_millis(2500)).join(" "),
            "-o BatchMode=yes -o ConnectTimeout=3 -T -- box docker system dial-stdio"
        );
        // Never 0, which ssh would read as "no timeout".
        assert!(argv(None, "box", None, Duration::ZERO).contains(&"ConnectTimeout=1".to_owned()));
    }
}
