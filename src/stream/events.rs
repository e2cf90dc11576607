//! A builder for the events stream's filters and time window
//! (`docker events --filter … --since … --until …`).

use crate::models::EventMessageType;
use crate::operations::{Filters, SystemEventsOptions};
use std::time::{SystemTime, UNIX_EPOCH};

/// A point in time for `since` / `until`.
///
/// The daemon takes Unix seconds (with an optional fraction), RFC 3339
/// dates, or durations relative to now (`10m`, `1h30m`); strings pass
/// through unchanged, a [`SystemTime`] becomes `seconds.nanoseconds`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventTime(String);

impl EventTime {
    /// The value sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<SystemTime> for EventTime {
    fn from(t: SystemTime) -> Self {
        let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
        EventTime(format!("{}.{:09}", d.as_secs(), d.subsec_nanos()))
    }
}

impl From<&str> for EventTime {
    fn from(s: &str) -> Self {
        EventTime(s.to_owned())
    }
}

impl From<String> for EventTime {
    fn from(s: String) -> Self {
        EventTime(s)
    }
}

/// Filters and a time window for [`crate::api::System::events`]. Each call
/// adds a value; values of one kind are alternatives (OR), kinds combine
/// with AND, as in the daemon.
///
/// ```no_run
/// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
/// use dockhand::models::EventMessageType;
/// use dockhand::stream::events::EventFilters;
/// use futures::TryStreamExt;
/// let opts = EventFilters::new()
///     .kind(EventMessageType::Container)
///     .event("start")
///     .event("die")
///     .label("app", Some("web"))
///     .since(std::time::SystemTime::now())
///     .into_options();
/// let mut events = docker.system().events(&opts).await?;
/// while let Some(e) = events.try_next().await? {
///     println!("{:?} {:?}", e.action, e.actor.and_then(|a| a.id));
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
#[must_use]
pub struct EventFilters {
    filters: Filters,
    since: Option<EventTime>,
    until: Option<EventTime>,
}

impl EventFilters {
    /// No filter: every event from now on.
    pub fn new() -> Self {
        EventFilters::default()
    }

    /// Adds a value under any filter name the daemon knows (`scope`,
    /// `daemon`, …).
    pub fn add(mut self, name: &str, value: impl Into<String>) -> Self {
        self.filters
            .entry(name.to_owned())
            .or_default()
            .push(value.into());
        self
    }

    /// Events about objects of this type (`type=container`, …).
    pub fn kind(self, kind: EventMessageType) -> Self {
        self.add("type", kind.as_str().to_owned())
    }

    /// This action (`create`, `start`, `die`, `pull`, …).
    pub fn event(self, action: impl Into<String>) -> Self {
        self.add("event", action)
    }

    /// About this container (name or id).
    pub fn container(self, container: impl Into<String>) -> Self {
        self.add("container", container)
    }

    /// About this image (name or id).
    pub fn image(self, image: impl Into<String>) -> Self {
        self.add("image", image)
    }

    /// About this network.
    pub fn network(self, network: impl Into<String>) -> Self {
        self.add("network", network)
    }

    /// About this volume.
    pub fn volume(self, volume: impl Into<String>) -> Self {
        self.add("volume", volume)
    }

    /// Objects with this label (`key`, or `key=value` when a value is given).
    pub fn label(self, key: &str, value: Option<&str>) -> Self {
        match value {
            Some(v) => self.add("label", format!("{key}={v}")),
            None => self.add("label", key.to_owned()),
        }
    }

    /// Events at or after this time (past events are replayed first).
    pub fn since(mut self, t: impl Into<EventTime>) -> Self {
        self.since = Some(t.into());
        self
    }

    /// Events up to this time; the stream ends then.
    pub fn until(mut self, t: impl Into<EventTime>) -> Self {
        self.until = Some(t.into());
        self
    }

    /// The filters alone.
    pub fn filters(&self) -> &Filters {
        &self.filters
    }

    /// The options for [`crate::api::System::events`].
    pub fn into_options(self) -> SystemEventsOptions {
        let mut o = SystemEventsOptions::default();
        if !self.filters.is_empty() {
            o = o.filters(self.filters);
        }
        if let Some(s) = self.since {
            o = o.since(s.0);
        }
        if let Some(u) = self.until {
            o = o.until(u.0);
        }
        o
    }
}

impl From<EventFilters> for SystemEventsOptions {
    fn from(f: EventFilters) -> Self {
        f.into_options()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn builds_filters_and_window() {
        // 500 ns: Windows' SystemTime counts in 100 ns steps.
        let t = UNIX_EPOCH + Duration::new(1_700_000_000, 500);
        let o = EventFilters::new()
            .kind(EventMessageType::Container)
            .event("start")
            .event("die")
            .label("app", Some("web"))
            .label("tier", None)
            .image("busybox")
            .since(t)
            .until("10m")
            .into_options();
        let f = o.filters.expect("filters");
        assert_eq!(f["type"], ["container"]);
        assert_eq!(f["event"], ["start", "die"]);
        assert_eq!(f["label"], ["app=web", "tier"]);
        assert_eq!(f["image"], ["busybox"]);
        assert_eq!(o.since.as_deref(), Some("1700000000.000000500"));
        assert_eq!(o.until.as_deref(), Some("10m"));
        // Sent as the daemon's JSON map, keys in a fixed order.
        assert_eq!(
            serde_json::to_string(&f).expect("json"),
            r#"{"event":["start","die"],"image":["busybox"],"label":["app=web","tier"],"type":["container"]}"#
        );
        // Nothing set, nothing sent.
        assert_eq!(
            EventFilters::new().into_options(),
            SystemEventsOptions::default()
        );
    }
}
