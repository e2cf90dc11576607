//! Windows named pipes. Opening one fails with `ERROR_PIPE_BUSY` while every
//! instance is taken; the open is retried until a deadline, never forever.
//! That retry is plain code, tested on every platform with an injected opener.

use std::io;
use std::time::{Duration, Instant};

/// Windows' `ERROR_PIPE_BUSY`.
const ERROR_PIPE_BUSY: i32 = 231;

/// Calls `open` until it succeeds, fails with something other than
/// "pipe busy", or `deadline` passes (then the last busy error is returned,
/// saying how long it waited).
pub async fn open_with_busy_retry<T, F>(mut open: F, deadline: Duration) -> io::Result<T>
where
    F: FnMut() -> io::Result<T>,
{
    let start = Instant::now();
    let mut pause = Duration::from_millis(5);
    loop {
        match open() {
            Err(e) if e.raw_os_error() == Some(ERROR_PIPE_BUSY) => {
                if start.elapsed() >= deadline {
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!("named pipe still busy after {deadline:?}: {e}"),
                    ));
                }
                tokio::time::sleep(pause.min(deadline.saturating_sub(start.elapsed()))).await;
                pause = (pause * 2).min(Duration::from_millis(100));
            }
            other => return other,
        }
    }
}

#[cfg(windows)]
pub(super) async fn open(
    path: &str,
) -> io::Result<tokio::net::windows::named_pipe::NamedPipeClient> {
    let opts = tokio::net::windows::named_pipe::ClientOptions::new();
    open_with_busy_retry(|| opts.open(path), Duration::from_secs(10)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn busy() -> io::Error {
        io::Error::from_raw_os_error(ERROR_PIPE_BUSY)
    }

    #[tokio::test]
    async fn retries_busy_then_succeeds() {
        let mut calls = 0;
        let r = open_with_busy_retry(
            || {
                calls += 1;
                if calls < 4 {
                    Err(busy())
                } else {
                    Ok("pipe")
                }
            },
            Duration::from_secs(5),
        )
        .await;
        assert_eq!(r.unwrap(), "pipe");
        assert_eq!(calls, 4);
    }

    #[tokio::test]
    async fn gives_up_at_the_deadline() {
        let start = Instant::now();
        let mut calls = 0;
        let r: io::Result<()> = open_with_busy_retry(
            || {
                calls += 1;
                Err(busy())
            },
            Duration::from_millis(200),
        )
        .await;
        let e = r.unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);
        assert!(e.to_string().contains("still busy"), "{e}");
        assert!(calls > 1, "retried");
        assert!(start.elapsed() < Duration::from_secs(2), "bounded");
    }

    #[tokio::test]
    async fn other_errors_are_not_retried() {
        let mut calls = 0;
        let r: io::Result<()> = open_with_busy_retry(
            || {
                calls += 1;
                Err(io::Error::new(io::ErrorKind::NotFound, "no such pipe"))
            },
            Duration::from_secs(5),
        )
        .await;
        assert_eq!(r.unwrap_err().kind(), io::ErrorKind::NotFound);
        assert_eq!(calls, 1);
    }
}
