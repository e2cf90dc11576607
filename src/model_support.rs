//! Helpers the generated models use to decode and encode without losing data.
//!
//! Every generated struct keeps an [`Extra`] map: fields this crate does not
//! know, and known fields the daemon sent as `null` (so that `null` is not
//! turned into "absent" on re-encoding). Decoding borrows map keys from the
//! input whenever it can, so known fields cost no allocation.

use serde::de::{self, Deserialize, Deserializer, MapAccess};
use serde_json::Value;
use std::borrow::Cow;
use std::fmt;

/// Fields kept verbatim: unknown to this crate, or sent as `null`.
pub type Extra = serde_json::Map<String, Value>;

/// A JSON object key, borrowed from the input when possible.
#[doc(hidden)]
pub struct Key<'de>(Cow<'de, str>);

impl Key<'_> {
    /// The key text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key as an owned string.
    pub fn into_owned(self) -> String {
        self.0.into_owned()
    }
}

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> de::Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// Decodes an optional field; a `null` is remembered in `extra`.
#[doc(hidden)]
pub fn optional<'de, A, T>(
    map: &mut A,
    key: Key<'de>,
    extra: &mut Extra,
) -> Result<Option<T>, A::Error>
where
    A: MapAccess<'de>,
    T: Deserialize<'de>,
{
    let v: Option<T> = map.next_value()?;
    if v.is_none() {
        extra.insert(key.into_owned(), Value::Null);
    } else {
        extra.remove(key.as_str());
    }
    Ok(v)
}

/// Keeps a field this crate does not know.
#[doc(hidden)]
pub fn unknown<'de, A>(map: &mut A, key: Key<'de>, extra: &mut Extra) -> Result<(), A::Error>
where
    A: MapAccess<'de>,
{
    let v: Value = map.next_value()?;
    extra.insert(key.into_owned(), v);
    Ok(())
}

/// The error for a required field that was absent.
#[doc(hidden)]
pub fn missing<E: de::Error>(field: &'static str) -> E {
    E::missing_field(field)
}

/// Wraps a value whose Debug must not show (a password, a token).
#[doc(hidden)]
pub struct Redacted<'a, T: ?Sized>(pub &'a T);

impl<T: ?Sized> fmt::Debug for Redacted<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Shows only the keys of a map whose values may be secret.
#[doc(hidden)]
pub struct RedactedMap<'a>(pub &'a Extra);

impl fmt::Debug for RedactedMap<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.keys().map(|k| (k, "<redacted>")))
            .finish()
    }
}

/// What the daemon's API version cannot take in a request body: each field
/// (and enum value) of the generated models knows the first API version
/// that has it, and a body that *sets* one newer than the version in use is
/// refused before anything is sent (an older daemon would silently ignore
/// it: a volume mount's `Subpath` would mount the whole volume).
///
/// Generated for every model; implemented for the containers and scalars
/// models are made of. A field from the oldest specification (1.25) counts
/// as "that version or older", see [`crate::ApiVersion::supports`].
///
/// ```
/// use dockhand::models::{ExecStartBody, FieldVersions};
/// use dockhand::ApiVersion;
/// let body = ExecStartBody { console_size: Some(vec![24, 80]), ..Default::default() };
/// let too_new = body.first_too_new(ApiVersion::new(1, 41)).expect("ConsoleSize is 1.42");
/// assert_eq!(too_new.to_string(), "field `ConsoleSize`");
/// assert_eq!(too_new.needs, ApiVersion::new(1, 42));
/// assert!(body.first_too_new(ApiVersion::new(1, 42)).is_none());
/// ```
pub trait FieldVersions {
    /// The first field or value (depth first, in field order) that is set and
    /// newer than `version`, or `None` when the daemon has everything set.
    fn first_too_new(&self, version: crate::ApiVersion) -> Option<TooNew>;
}

/// A field or enum value a request sets that the API version in use does
/// not have. Displays as ``field `HostConfig.Mounts[0].VolumeOptions.Subpath` ``.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooNew {
    /// Where it is in the body: `HostConfig.Mounts[0].VolumeOptions.Subpath`;
    /// empty for the body itself.
    pub path: String,
    /// The enum value, when it is a value (not a field) that is too new.
    pub value: Option<String>,
    /// The first API version that has it.
    pub needs: crate::ApiVersion,
}

impl TooNew {
    /// The field `name` needs `needs`.
    #[doc(hidden)]
    pub fn field(name: &str, needs: crate::ApiVersion) -> Self {
        TooNew {
            path: name.to_owned(),
            value: None,
            needs,
        }
    }

    /// The enum value `value` needs `needs`.
    #[doc(hidden)]
    pub fn value(value: &str, needs: crate::ApiVersion) -> Self {
        TooNew {
            path: String::new(),
            value: Some(value.to_owned()),
            needs,
        }
    }

    /// The same, inside field `name`.
    #[doc(hidden)]
    #[must_use]
    pub fn under(mut self, name: &str) -> Self {
        self.path = match (self.path.is_empty(), self.path.starts_with('[')) {
            (true, _) => name.to_owned(),
            (false, true) => format!("{name}{}", self.path),
            (false, false) => format!("{name}.{}", self.path),
        };
        self
    }

    fn prefixed(mut self, prefix: String) -> Self {
        self.path = if self.path.is_empty() || self.path.starts_with('[') {
            prefix + &self.path
        } else {
            format!("{prefix}.{}", self.path)
        };
        self
    }
}

impl fmt::Display for TooNew {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.value, self.path.is_empty()) {
            (Some(v), true) => write!(f, "value {v:?}")?,
            (Some(v), false) => write!(f, "value {v:?} of `{}`", self.path)?,
            (None, _) => write!(f, "field `{}`", self.path)?,
        }
        Ok(())
    }
}

impl<T: FieldVersions + ?Sized> FieldVersions for &T {
    fn first_too_new(&self, version: crate::ApiVersion) -> Option<TooNew> {
        (**self).first_too_new(version)
    }
}

impl<T: FieldVersions + ?Sized> FieldVersions for Box<T> {
    fn first_too_new(&self, version: crate::ApiVersion) -> Option<TooNew> {
        (**self).first_too_new(version)
    }
}

impl<T: FieldVersions> FieldVersions for Option<T> {
    fn first_too_new(&self, version: crate::ApiVersion) -> Option<TooNew> {
        self.as_ref().and_then(|v| v.first_too_new(version))
    }
}

impl<T: FieldVersions> FieldVersions for [T] {
    fn first_too_new(&self, version: crate::ApiVersion) -> Option<TooNew> {
        self.iter().enumerate().find_map(|(i, v)| {
            v.first_too_new(version)
                .map(|t| t.prefixed(format!("[{i}]")))
        })
    }
}

impl<T: FieldVersions> FieldVersions for Vec<T> {
    fn first_too_new(&self, version: crate::ApiVersion) -> Option<TooNew> {
        self.as_slice().first_too_new(version)
    }
}

impl<T: FieldVersions, S> FieldVersions for std::collections::HashMap<String, T, S> {
    fn first_too_new(&self, version: crate::ApiVersion) -> Option<TooNew> {
        // The smallest key, so the same body always names the same field.
        self.iter()
            .filter_map(|(k, v)| v.first_too_new(version).map(|t| (k, t)))
            .min_by(|a, b| a.0.cmp(b.0))
            .map(|(k, t)| t.prefixed(format!("[{k:?}]")))
    }
}

impl<T: FieldVersions> FieldVersions for std::collections::BTreeMap<String, T> {
    fn first_too_new(&self, version: crate::ApiVersion) -> Option<TooNew> {
        self.iter().find_map(|(k, v)| {
            v.first_too_new(version)
                .map(|t| t.prefixed(format!("[{k:?}]")))
        })
    }
}

macro_rules! leaf_field_versions {
    ($($t:ty),*) => {$(
        impl FieldVersions for $t {
            fn first_too_new(&self, _: crate::ApiVersion) -> Option<TooNew> {
                None
            }
        }
    )*};
}
leaf_field_versions!(String, str, bool, i64, u64, i32, u32, u16, u8, f64, Value);
