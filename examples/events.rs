//! `docker events`: prints the daemon's events as they happen, one a line,
//! with optional filters and a time window; with `--until` it stops there.
//!
//! ```sh
//! cargo run --example events -- --filter type=container --filter event=die
//! cargo run --example events -- --since 10m --until 0s --filter label=app=web
//! ```

use dockhand::stream::events::EventFilters;
use dockhand::Docker;
use futures::TryStreamExt;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut filters = EventFilters::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || {
            args.next().unwrap_or_else(|| {
                eprintln!("events: {arg} needs a value");
                std::process::exit(2)
            })
        };
        filters = match arg.as_str() {
            "--filter" | "-f" => {
                let v = value();
                let Some((name, val)) = v.split_once('=') else {
                    eprintln!("events: a filter is NAME=VALUE, not {v:?}");
                    std::process::exit(2)
                };
                filters.add(name, val)
            }
            "--since" => filters.since(value()),
            "--until" => filters.until(value()),
            other => {
                eprintln!("usage: events [--filter NAME=VALUE]... [--since T] [--until T] (not {other:?})");
                std::process::exit(2)
            }
        };
    }
    if let Err(e) = tail(filters).await {
        eprintln!("events: {e}");
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            eprintln!("  caused by: {s}");
            source = s.source();
        }
        std::process::exit(1);
    }
}

async fn tail(filters: EventFilters) -> dockhand::Result<()> {
    let docker = Docker::connect()?;
    let mut events = docker.system().events(&filters.into_options()).await?;
    while let Some(e) = events.try_next().await? {
        let actor = e.actor.unwrap_or_default();
        let attributes = actor.attributes.unwrap_or_default();
        let mut attrs: Vec<String> = attributes.iter().map(|(k, v)| format!("{k}={v}")).collect();
        attrs.sort();
        println!(
            "{} {} {} {} ({})",
            e.time_nano
                .or(e.time.map(|t| t * 1_000_000_000))
                .unwrap_or(0),
            e.type_.map(|t| t.to_string()).unwrap_or_default(),
            e.action.unwrap_or_default(),
            actor.id.unwrap_or_default(),
            attrs.join(", ")
        );
    }
    Ok(())
}
