//! The end of a build: the image id and the output, from the typed
//! [`BuildInfo`] messages.

use crate::models::BuildInfo;
use crate::{Error, Result};
use futures::{Stream, StreamExt};

/// What a finished build reported.
///
/// ```no_run
/// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
/// use dockhand::build::BuildOutcome;
/// use dockhand::operations::ImageBuildOptions;
/// let stream = docker.images().build_dir("./app", &ImageBuildOptions::default().t("app:1")).await?;
/// let outcome = BuildOutcome::collect(stream).await?;
/// println!("{}built {}", outcome.log, outcome.image_id);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BuildOutcome {
    /// The built image's id: `sha256:…` from the daemon's `aux` message (API
    /// 1.36 and later) or the quiet build's output; from older daemons the
    /// short id of the `Successfully built` line.
    pub image_id: String,
    /// The build's output: every `stream` text, concatenated.
    pub log: String,
}

/// The image id a build message carries in `aux.ID`, if it does.
///
/// ```
/// use dockhand::build::image_id_from;
/// let msg: dockhand::models::BuildInfo = serde_json::from_str(r#"{"aux":{"ID":"sha256:4b8e"}}"#).unwrap();
/// assert_eq!(image_id_from(&msg), Some("sha256:4b8e"));
/// ```
pub fn image_id_from(info: &BuildInfo) -> Option<&str> {
    info.aux.as_ref()?.id.as_deref().filter(|id| !id.is_empty())
}

/// The id in a line of output, from a quiet build (`sha256:…` alone) or an
/// older daemon (`Successfully built 4b8e…`).
fn id_in_text(line: &str) -> Option<&str> {
    let line = line.trim();
    if let Some(hex) = line.strip_prefix("sha256:") {
        if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Some(line);
        }
    }
    let short = line.strip_prefix("Successfully built ")?;
    (!short.is_empty() && short.bytes().all(|b| b.is_ascii_hexdigit())).then_some(short)
}

impl BuildOutcome {
    /// Drives a build's message stream to its end and returns the image id
    /// and output. A build error (in-band or not) is the `Err`; so is a
    /// stream that ends without naming an image ([`Error::Protocol`]).
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// use dockhand::build::BuildOutcome;
    /// let stream = docker.images().build_dir(".", &Default::default()).await?;
    /// let id = BuildOutcome::collect(stream).await?.image_id;
    /// # Ok(()) }
    /// ```
    pub async fn collect<S>(stream: S) -> Result<BuildOutcome>
    where
        S: Stream<Item = Result<BuildInfo>>,
    {
        Self::collect_with(stream, |_| {}).await
    }

    /// As [`BuildOutcome::collect`], calling `each` with every message as it
    /// arrives (to show progress).
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// use dockhand::build::BuildOutcome;
    /// let stream = docker.images().build_dir(".", &Default::default()).await?;
    /// let outcome = BuildOutcome::collect_with(stream, |msg| {
    ///     if let Some(text) = &msg.stream {
    ///         print!("{text}");
    ///     }
    /// })
    /// .await?;
    /// # Ok(()) }
    /// ```
    pub async fn collect_with<S, F>(stream: S, mut each: F) -> Result<BuildOutcome>
    where
        S: Stream<Item = Result<BuildInfo>>,
        F: FnMut(&BuildInfo),
    {
        let mut stream = std::pin::pin!(stream);
        let mut log = String::new();
        let mut aux_id: Option<String> = None;
        let mut text_id: Option<String> = None;
        while let Some(msg) = stream.next().await {
            let msg = msg?;
            each(&msg);
            if let Some(id) = image_id_from(&msg) {
                aux_id = Some(id.to_owned());
            }
            if let Some(text) = &msg.stream {
                log.push_str(text);
                if let Some(id) = text.lines().find_map(id_in_text) {
                    text_id = Some(id.to_owned());
                }
            }
            // A message shaped like an error that the stream did not turn
            // into one (no message text) still means failure.
            if let Some(detail) = &msg.error_detail {
                return Err(Error::Api {
                    status: 0,
                    message: detail
                        .message
                        .clone()
                        .unwrap_or_else(|| "the build failed".to_owned()),
                    operation: "ImageBuild",
                });
            }
        }
        let image_id = aux_id.or(text_id).ok_or_else(|| {
            Error::protocol("ImageBuild: the build ended without reporting an image id")
        })?;
        Ok(BuildOutcome { image_id, log })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream::JsonStream;
    use bytes::Bytes;
    use futures::stream;

    /// Output of dockerd 20.10 for `RUN echo hi`, split mid-value.
    const OK: &[&[u8]] = &[
        b"{\"stream\":\"Step 1/2 : FROM dockhand-test/busybox:latest\"}\r\n{\"stream\":\"\\n\"}\r\n{\"stream\":\" ---\\u003e 188592db7442\\n\"}\r\n{\"stream\":\"Step 2/2 : RUN echo hi\"}\r\n{\"str",
        b"eam\":\"\\n\"}\r\n{\"stream\":\" ---\\u003e Running in 04a79a6a8e0a\\n\"}\r\n{\"stream\":\"hi\\n\"}\r\n{\"stream\":\"Removing intermediate container 04a79a6a8e0a\\n\"}\r\n{\"stream\":\" ---\\u003e 678f1a465ecc\\n\"}\r\n{\"aux\":{\"ID\":\"sha256:678f1a465eccf9a2276a4126da1406aa316f6d0bad22767fc29a949cdb3474ce\"}}\r\n",
        b"{\"stream\":\"Successfully built 678f1a465ecc\\n\"}\r\n{\"stream\":\"Successfully tagged dhtmp:1\\n\"}\r\n",
    ];

    /// Output of dockerd 20.10 for `RUN false`.
    const FAILED: &[u8] = b"{\"stream\":\"Step 1/2 : FROM dockhand-test/busybox:latest\"}\r\n{\"stream\":\"\\n\"}\r\n{\"stream\":\" ---\\u003e Running in aa51e2e6d0f8\\n\"}\r\n{\"errorDetail\":{\"code\":1,\"message\":\"The command '/bin/sh -c false' returned a non-zero code: 1\"},\"error\":\"The command '/bin/sh -c false' returned a non-zero code: 1\"}\r\n";

    fn messages(
        chunks: &[&'static [u8]],
    ) -> JsonStream<impl Stream<Item = Result<Bytes>> + Unpin, BuildInfo> {
        let chunks: Vec<Result<Bytes>> = chunks.iter().map(|c| Ok(Bytes::from_static(c))).collect();
        crate::stream::json::carrying_errors("ImageBuild", stream::iter(chunks))
    }

    #[tokio::test]
    async fn image_id_comes_from_aux() {
        let mut seen = 0;
        let outcome = BuildOutcome::collect_with(messages(OK), |_| seen += 1)
            .await
            .unwrap();
        assert_eq!(
            outcome.image_id,
            "sha256:678f1a465eccf9a2276a4126da1406aa316f6d0bad22767fc29a949cdb3474ce"
        );
        assert_eq!(seen, 12);
        assert!(outcome
            .log
            .starts_with("Step 1/2 : FROM dockhand-test/busybox:latest\n"));
        assert!(outcome.log.contains("hi\nRemoving intermediate container"));
        assert!(outcome.log.ends_with("Successfully tagged dhtmp:1\n"));
    }

    #[tokio::test]
    async fn quiet_and_old_daemons_name_the_image_in_the_text() {
        let quiet: &[&[u8]] = &[b"{\"stream\":\"sha256:95d5d4fe1cb86acd7f55e444842dd96454e79d92aec367ff0b8fd5731a85803f\\n\"}\n"];
        let outcome = BuildOutcome::collect(messages(quiet)).await.unwrap();
        assert_eq!(
            outcome.image_id,
            "sha256:95d5d4fe1cb86acd7f55e444842dd96454e79d92aec367ff0b8fd5731a85803f"
        );
        let old: &[&[u8]] = &[b"{\"stream\":\"Step 1/1 : FROM x\\n\"}{\"stream\":\"Successfully built 678f1a465ecc\\n\"}"];
        let outcome = BuildOutcome::collect(messages(old)).await.unwrap();
        assert_eq!(outcome.image_id, "678f1a465ecc");
    }

    #[tokio::test]
    async fn in_band_error_is_the_daemon_message() {
        let e = BuildOutcome::collect(messages(&[FAILED]))
            .await
            .unwrap_err();
        match &e {
            Error::Api {
                message, operation, ..
            } => {
                assert_eq!(
                    message,
                    "The command '/bin/sh -c false' returned a non-zero code: 1"
                );
                assert_eq!(*operation, "ImageBuild");
            }
            other => panic!("{other:?}"),
        }
        // The messages before the error arrive first.
        let items: Vec<Result<BuildInfo>> = messages(&[FAILED]).collect().await;
        assert_eq!(items.len(), 4);
        assert!(items[..3].iter().all(|m| m.is_ok()));
        assert!(matches!(items[3], Err(Error::Api { .. })));
    }

    #[tokio::test]
    async fn no_image_id_is_an_error() {
        let none: &[&[u8]] =
            &[b"{\"stream\":\"Step 1/1 : FROM x\\n\"}{\"stream\":\"sha256:nothex\\n\"}"];
        let e = BuildOutcome::collect(messages(none)).await.unwrap_err();
        assert!(matches!(e, Error::Protocol { .. }), "{e}");
        // A truncated stream is an error, not an outcome.
        let cut: &[&[u8]] = &[b"{\"aux\":{\"ID\":\"sha256:1\"}}{\"stream\":\"Succ"];
        let e = BuildOutcome::collect(messages(cut)).await.unwrap_err();
        assert!(matches!(e, Error::Protocol { .. }), "{e}");
    }

    #[test]
    fn ids_in_text() {
        assert_eq!(
            id_in_text("Successfully built 0123abcd\n"),
            Some("0123abcd")
        );
        assert_eq!(id_in_text("Successfully built \n"), None);
        assert_eq!(id_in_text("Successfully tagged app:1\n"), None);
        assert_eq!(id_in_text("sha256:abc\n"), None);
    }
}
