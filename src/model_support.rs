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
