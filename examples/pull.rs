//! Pulls an image with the credentials `docker login` left behind
//! (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`: `auths`,
//! `credsStore`, `credHelpers`), with a progress bar per layer and one for
//! the whole pull. There is no authentication code here: `images().pull`
//! finds the registry's credentials the way the docker CLI does.
//!
//! ```sh
//! cargo run --example pull -- 127.0.0.1:5001/dockhand-test/busybox:latest
//! ```

use dockhand::stream::progress::Progress;
use futures::TryStreamExt;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use std::collections::HashMap;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let Some(reference) = std::env::args().nth(1) else {
        eprintln!("usage: pull IMAGE[:TAG|@DIGEST]");
        std::process::exit(2);
    };
    if let Err(e) = pull(&reference).await {
        eprintln!("error: {e}");
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            eprintln!("  caused by: {s}");
            source = s.source();
        }
        std::process::exit(1);
    }
}

async fn pull(reference: &str) -> dockhand::Result<()> {
    let docker = dockhand::Docker::connect()?;
    let mut messages = docker.images().pull(reference, &Default::default()).await?;

    let bars = MultiProgress::new();
    let layer_style = ProgressStyle::with_template(
        "{prefix:.bold} {msg:<18} [{bar:30.cyan/blue}] {bytes:>9}/{total_bytes:<9}",
    )
    .expect("layer template")
    .progress_chars("=> ");
    let overall = bars.add(ProgressBar::new(0));
    overall.set_style(
        ProgressStyle::with_template(
            "{msg:<31} [{bar:30.green/white}] {bytes:>9}/{total_bytes:<9} {binary_bytes_per_sec}",
        )
        .expect("overall template")
        .progress_chars("=> "),
    );
    let mut layer_bars: HashMap<String, ProgressBar> = HashMap::new();
    let mut last_status: HashMap<String, String> = HashMap::new();
    let mut progress = Progress::new();

    while let Some(message) = messages.try_next().await? {
        match progress.update(&message) {
            Some(layer) => {
                let bar = layer_bars.entry(layer.id.clone()).or_insert_with(|| {
                    let b = bars.insert_before(&overall, ProgressBar::new(0));
                    b.set_style(layer_style.clone());
                    b.set_prefix(layer.id.clone());
                    b
                });
                // The current phase's bytes (download, extraction); between
                // phases, the bytes transferred.
                match layer.total {
                    Some(total) => {
                        bar.set_length(total);
                        bar.set_position(layer.current);
                    }
                    None => {
                        bar.set_length(layer.size.unwrap_or(0));
                        bar.set_position(layer.transferred);
                    }
                }
                bar.set_message(layer.status.clone());
                if layer.done {
                    bar.finish();
                }
                // One line per change of status, for logs and non-terminals.
                if last_status.get(&layer.id) != Some(&layer.status) {
                    last_status.insert(layer.id.clone(), layer.status.clone());
                    let line = format!("{}: {}", layer.id, layer.status);
                    bars.suspend(|| println!("{line}"));
                }
            }
            None => {
                if let Some(status) = &message.status {
                    bars.suspend(|| println!("{status}"));
                }
            }
        }
        overall.set_length(progress.total());
        overall.set_position(progress.current());
        overall.set_message(format!(
            "overall: {}/{} layers done",
            progress.done_layers(),
            progress.layers().len()
        ));
    }
    overall.finish();
    println!(
        "pulled {reference}: {} layers, {} of {} bytes transferred",
        progress.layers().len(),
        progress.current(),
        progress.total()
    );
    Ok(())
}
