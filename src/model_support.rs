//! Helpers the generated models use to decode and encode without losing data.
//!
//! Every generated struct keeps an [`Extra`]: the fields this crate does not
//! know (a map, allocated only when such a field arrives), and which known
//! fields the daemon sent as `null` (a bit per field, so that `null` is not
//! turned into "absent" on re-encoding). Decoding borrows map keys from the
//! input whenever it can, so known fields cost no allocation.

use serde::de::{self, Deserialize, Deserializer, MapAccess};
use serde_json::Value;
use std::borrow::Cow;
use std::fmt;

/// The unknown fields of a model: name → value, in the order they arrived.
pub type UnknownFields = serde_json::Map<String, Value>;

/// What a generated model keeps beyond its typed fields, so that decoding a
/// daemon response and encoding it again gives back the same JSON value:
///
/// - the fields this version of dockhand does not know, as a map in arrival
///   order ([`get`](Self::get), [`insert`](Self::insert), [`iter`](Self::iter),
///   …); allocated only when there is one;
/// - which known fields the daemon sent as `null` (see
///   [`KnownFields::null_fields`]); encoding writes them back as `null`.
///
/// A field inserted here under the name of a known field is written only
/// when the typed field is `None` (a way to send an explicit `null`).
///
/// ```
/// use dockhand::models::{ContainerSummary, KnownFields};
/// let c: ContainerSummary =
///     serde_json::from_str(r#"{"Id":"a","Ports":null,"FromTheFuture":1}"#).unwrap();
/// assert_eq!(c.extra.get("FromTheFuture"), Some(&serde_json::json!(1)));
/// assert_eq!(c.extra.len(), 1, "only unknown fields are in the map");
/// assert!(c.is_null("Ports"));
/// assert_eq!(c.null_fields().collect::<Vec<_>>(), ["Ports"]);
/// assert_eq!(
///     serde_json::to_string(&c).unwrap(),
///     r#"{"Id":"a","Ports":null,"FromTheFuture":1}"#
/// );
/// ```
#[derive(Clone, Default)]
pub struct Extra {
    /// Bit `i`: the known field at position `i` (declaration order) was
    /// `null`. Fields from position 64 on (two models have more) are kept
    /// as `null` entries of the map instead.
    nulls: u64,
    unknown: Option<Box<UnknownFields>>,
}

impl Extra {
    /// Nothing kept (no allocation).
    pub const fn new() -> Self {
        Extra {
            nulls: 0,
            unknown: None,
        }
    }

    /// The unknown fields, when there are any.
    pub fn unknown(&self) -> Option<&UnknownFields> {
        self.unknown.as_deref().filter(|m| !m.is_empty())
    }

    /// The unknown fields, to change them (allocates the map if needed).
    pub fn unknown_mut(&mut self) -> &mut UnknownFields {
        self.unknown.get_or_insert_with(Box::default)
    }

    /// The unknown field `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.unknown.as_deref().and_then(|m| m.get(key))
    }

    /// Whether there is an unknown field `key`.
    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Adds (or replaces) an unknown field; returns the old value.
    pub fn insert(&mut self, key: impl Into<String>, value: Value) -> Option<Value> {
        self.unknown_mut().insert(key.into(), value)
    }

    /// Removes an unknown field, keeping the order of the others.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        self.unknown
            .as_deref_mut()
            .and_then(|m| m.shift_remove(key))
    }

    /// The unknown fields in arrival order.
    pub fn iter(&self) -> serde_json::map::Iter<'_> {
        static EMPTY: std::sync::OnceLock<UnknownFields> = std::sync::OnceLock::new();
        match self.unknown.as_deref() {
            Some(m) => m.iter(),
            None => EMPTY.get_or_init(UnknownFields::new).iter(),
        }
    }

    /// How many unknown fields there are.
    pub fn len(&self) -> usize {
        self.unknown.as_deref().map_or(0, |m| m.len())
    }

    /// No unknown field and no known field sent as `null`.
    pub fn is_empty(&self) -> bool {
        self.nulls == 0 && self.len() == 0
    }

    /// Whether the known field at `index` was sent as `null`.
    #[doc(hidden)]
    #[inline]
    pub fn is_null_at(&self, index: u32) -> bool {
        index < 64 && self.nulls & (1u64 << index) != 0
    }

    /// Records whether the known field at `index` (< 64) was `null`.
    #[doc(hidden)]
    #[inline]
    pub fn set_null_at(&mut self, index: u32, null: bool) {
        debug_assert!(index < 64);
        let bit = 1u64 << (index & 63);
        self.nulls = (self.nulls & !bit) | if null { bit } else { 0 };
    }

    /// The names among `names` (a model's known fields) that were `null`.
    fn nulls_in(&self, names: &'static [&'static str]) -> impl Iterator<Item = &'static str> + '_ {
        let bits = names
            .iter()
            .take(64)
            .enumerate()
            .filter(|(i, _)| self.nulls & (1u64 << i) != 0)
            .map(|(_, n)| *n);
        let late = names
            .iter()
            .skip(64)
            .filter(|n| self.get(n).is_some_and(Value::is_null))
            .copied();
        bits.chain(late)
    }
}

impl PartialEq for Extra {
    fn eq(&self, other: &Self) -> bool {
        self.nulls == other.nulls
            && match (self.unknown(), other.unknown()) {
                (Some(a), Some(b)) => a == b,
                (None, None) => true,
                _ => false,
            }
    }
}

impl fmt::Debug for Extra {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_map();
        d.entries(self.iter());
        if self.nulls != 0 {
            d.entry(&"(null fields)", &format_args!("{:#x}", self.nulls));
        }
        d.finish()
    }
}

impl<'a> IntoIterator for &'a Extra {
    type Item = (&'a String, &'a Value);
    type IntoIter = serde_json::map::Iter<'a>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// The known fields of a generated model: their names as the daemon spells
/// them, and which of them a decoded value had as `null`.
///
/// ```
/// use dockhand::models::{HostConfig, KnownFields};
/// let hc: HostConfig = serde_json::from_str(r#"{"MemorySwappiness":null}"#).unwrap();
/// assert!(hc.is_null("MemorySwappiness"));
/// assert_eq!(hc.memory_swappiness, None);
/// assert!(HostConfig::FIELDS.contains(&"MemorySwappiness"));
/// ```
pub trait KnownFields {
    /// The wire names of the typed fields, in declaration (and encoding) order.
    const FIELDS: &'static [&'static str];

    /// The unknown fields and the record of `null`s.
    fn extra(&self) -> &Extra;

    /// The known fields that were decoded from a `null`, in declaration
    /// order (encoding writes `null` for each that is still `None`).
    fn null_fields(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.extra().nulls_in(Self::FIELDS)
    }

    /// Whether the known field `name` (wire name) was sent as `null`.
    fn is_null(&self, name: &str) -> bool {
        self.null_fields().any(|n| n == name)
    }
}

/// A JSON object key, borrowed from the input when possible.
#[doc(hidden)]
pub struct Key<'de>(Cow<'de, str>);

impl Key<'_> {
    /// The key text.
    #[inline]
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

/// The index a key has among a model's known fields ([`UNKNOWN`] if none).
#[doc(hidden)]
pub trait FieldIndex {
    /// `key` (the name as sent) → position among the known fields.
    fn field_index(key: &[u8]) -> u32;
}

/// [`FieldIndex::field_index`] of a key that is not a known field.
#[doc(hidden)]
pub const UNKNOWN: u32 = u32::MAX;

/// An object key as a model decodes it: the position of a known field, or
/// the name of an unknown one (copied only then).
#[doc(hidden)]
pub enum Field {
    /// The known field at this position.
    Known(u32),
    /// A field this crate does not know.
    Unknown(String),
}

/// Whether the keys a deserializer `A` gives (`A`: the deserializer of one
/// key) can be read as bytes, skipping the UTF-8 check a `&str` needs (a
/// known name is ASCII, and an unknown one is checked when it is copied).
/// True for serde_json's keys over bytes (`from_slice`), which give their
/// bytes to `deserialize_bytes`. Over a `&str` (`from_str`, the client's
/// `serde_json` path) the text is already checked, and a key read as a
/// string costs less than as bytes (429 M against 436 M instructions for
/// 100,000 progress messages) and refuses a raw control character itself.
/// Other formats (YAML refuses `deserialize_bytes`, a `serde_json::Value`
/// has its own key type) read keys as strings.
///
/// Decided from the type's name, a constant (`serde_json::de::MapKey<'_,
/// serde_json::read::StrRead<'_>>` with rustc 1.95; older compilers left
/// the lifetimes out), compared at its two ends only, so the compiler
/// settles the answer per type (a substring search cost 60 instructions a
/// progress message). The name is only a hint: spelled differently, keys
/// would be read the costlier way, still correctly;
/// `keys_are_read_as_the_parser_reads_them_best` (`tests/models.rs`) fails
/// then.
#[inline]
fn bytes_keys<A: ?Sized>() -> bool {
    let name = std::any::type_name::<A>();
    name.starts_with("serde_json::de::")
        && !(name.ends_with("StrRead<'_>>") || name.ends_with("StrRead>"))
}

/// The seed that reads one key of model `T`'s object. Whether it asks for
/// bytes or a string ([`bytes_keys`]) follows from the type of the key's
/// deserializer, so each copy of `serde_json`'s `next_key_seed` holds one
/// of the two ways, not both behind a flag (a flag kept both, and the
/// field match twice, in every copy).
#[doc(hidden)]
pub struct FieldKey<T: ?Sized> {
    model: std::marker::PhantomData<fn() -> T>,
}

impl<T: FieldIndex + ?Sized> FieldKey<T> {
    /// The seed of model `T`'s keys.
    #[inline]
    pub fn new() -> Self {
        FieldKey {
            model: std::marker::PhantomData,
        }
    }
}

impl<T: FieldIndex + ?Sized> Default for FieldKey<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: FieldIndex + ?Sized> Clone for FieldKey<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T: FieldIndex + ?Sized> Copy for FieldKey<T> {}

impl<'de, T: FieldIndex + ?Sized> de::DeserializeSeed<'de> for FieldKey<T> {
    type Value = Field;
    #[inline]
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Field, D::Error> {
        if bytes_keys::<D>() {
            d.deserialize_bytes(self)
        } else {
            d.deserialize_str(self)
        }
    }
}

impl<T: FieldIndex + ?Sized> FieldKey<T> {
    #[inline]
    fn known_or<E>(key: &[u8], owned: impl FnOnce() -> Result<String, E>) -> Result<Field, E> {
        match T::field_index(key) {
            UNKNOWN => owned().map(Field::Unknown),
            i => Ok(Field::Known(i)),
        }
    }
}

impl<'de, T: FieldIndex + ?Sized> de::Visitor<'de> for FieldKey<T> {
    type Value = Field;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }
    #[inline]
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Field, E> {
        Self::known_or(v.as_bytes(), || Ok(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Field, E> {
        match T::field_index(v.as_bytes()) {
            UNKNOWN => Ok(Field::Unknown(v)),
            i => Ok(Field::Known(i)),
        }
    }
    #[inline]
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Field, E> {
        // `serde_json` hands a key over as bytes without refusing a raw
        // control character (it would as a string), and with escapes
        // already resolved, so the two cannot be told apart here: an
        // unknown name with a control character is refused either way (no
        // daemon sends one; taking raw ones would take text that is not
        // JSON, found by the `decode_paths` fuzz target). The client's
        // decode then tries again with the path tracked, which reads keys
        // as strings: an escaped one is taken there, a raw one refused.
        Self::known_or(v, || match std::str::from_utf8(v) {
            Ok(s) if !v.iter().any(|&b| b < 0x20) => Ok(s.to_owned()),
            Ok(_) => Err(E::invalid_value(
                de::Unexpected::Bytes(v),
                &"a field name without control characters",
            )),
            Err(_) => Err(E::invalid_value(
                de::Unexpected::Bytes(v),
                &"a UTF-8 field name",
            )),
        })
    }
}

/// Skips a value (for a key no model produces).
#[doc(hidden)]
#[cold]
pub fn skip<'de, A: MapAccess<'de>>(map: &mut A) -> Result<(), A::Error> {
    map.next_value::<BoundedValue>().map(drop)
}

/// Decodes the optional known field at `index` (< 64); a `null` is
/// remembered as a bit of `extra`. Always inlined (with [`next_bounded`]):
/// once the visitors went into `serde_json`'s `deserialize_map`, this
/// stayed a call of its own for each field (0.4 % of the progress
/// messages' count).
#[doc(hidden)]
#[inline(always)]
pub fn optional<'de, A, T>(
    map: &mut A,
    index: u32,
    extra: &mut Extra,
) -> Result<Option<T>, A::Error>
where
    A: MapAccess<'de>,
    T: Deserialize<'de> + 'static,
{
    let v: Option<T> = next_bounded(map)?;
    extra.set_null_at(index, v.is_none());
    Ok(v)
}

/// The next value of `map`; a free-form value (`serde_json::Value`, or a
/// list of them) is read with a nesting limit ([`BoundedValue`]), so that
/// every generated model decodes in bounded stack whatever the input.
/// Always inlined, as [`optional`] is (for any other type it is one call).
#[inline(always)]
fn next_bounded<'de, A, T>(map: &mut A) -> Result<Option<T>, A::Error>
where
    A: MapAccess<'de>,
    T: Deserialize<'de> + 'static,
{
    use std::any::{Any, TypeId};
    let id = TypeId::of::<T>();
    if id != TypeId::of::<Value>() && id != TypeId::of::<Vec<Value>>() {
        return map.next_value();
    }
    let mut slot: Option<Option<T>> = None;
    let any: &mut dyn Any = &mut slot;
    if let Some(slot) = any.downcast_mut::<Option<Option<Value>>>() {
        let v: Option<BoundedValue> = map.next_value()?;
        *slot = Some(v.map(|v| v.0));
    } else if let Some(slot) = any.downcast_mut::<Option<Option<Vec<Value>>>>() {
        let v: Option<Vec<BoundedValue>> = map.next_value()?;
        *slot = Some(v.map(|v| v.into_iter().map(|v| v.0).collect()));
    }
    slot.ok_or_else(|| de::Error::custom("free-form value of an unexpected type"))
}

/// Nesting allowed inside one free-form value: `serde_json`'s limit.
const MAX_DEPTH: u32 = 128;

/// A `serde_json::Value` decoded with a nesting limit (deeper input is an
/// error, as in `serde_json`), whatever the parser: the fast parser of
/// `codec` has no limit of its own, and the visitors recurse.
#[doc(hidden)]
pub struct BoundedValue(pub Value);

impl<'de> Deserialize<'de> for BoundedValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        de::DeserializeSeed::deserialize(Depth(MAX_DEPTH), d).map(BoundedValue)
    }
}

/// Reads one value with `.0` levels of nesting left.
#[derive(Clone, Copy)]
struct Depth(u32);

impl<'de> de::DeserializeSeed<'de> for Depth {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl Depth {
    fn inner<E: de::Error>(self) -> Result<Depth, E> {
        match self.0.checked_sub(1) {
            Some(n) if n > 0 => Ok(Depth(n)),
            _ => Err(E::custom("recursion limit exceeded")),
        }
    }
}

impl<'de> de::Visitor<'de> for Depth {
    type Value = Value;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        // As serde_json's own: a non-finite number becomes null.
        Ok(Value::from(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let inner = self.inner()?;
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(v) = seq.next_element_seed(inner)? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let inner = self.inner()?;
        let mut out = UnknownFields::new();
        while let Some(k) = map.next_key::<String>()? {
            let v = map.next_value_seed(inner)?;
            out.insert(k, v);
        }
        Ok(Value::Object(out))
    }
}

/// As [`optional`], for a map field: read at its exact size.
#[doc(hidden)]
#[inline]
pub fn optional_map<'de, A, V, S>(
    map: &mut A,
    index: u32,
    extra: &mut Extra,
) -> Result<Option<std::collections::HashMap<String, V, S>>, A::Error>
where
    A: MapAccess<'de>,
    V: Deserialize<'de> + 'static,
    S: std::hash::BuildHasher + Default + 'static,
{
    let v: Option<std::collections::HashMap<String, V, S>> =
        if std::any::TypeId::of::<V>() == std::any::TypeId::of::<Value>() {
            // Free-form values: read with a nesting limit (see `next_bounded`).
            let v: Option<SizedMap<BoundedValue, S>> = map.next_value()?;
            let mut slot = v.map(|m| {
                m.0.into_iter()
                    .map(|(k, v)| (k, v.0))
                    .collect::<std::collections::HashMap<String, Value, S>>()
            });
            let any: &mut dyn std::any::Any = &mut slot;
            match any.downcast_mut::<Option<std::collections::HashMap<String, V, S>>>() {
                Some(v) => v.take(),
                None => return Err(de::Error::custom("free-form map of an unexpected type")),
            }
        } else {
            map.next_value::<Option<SizedMap<V, S>>>()?.map(|m| m.0)
        };
    extra.set_null_at(index, v.is_none());
    Ok(v)
}

/// A `HashMap` decoded at its exact size: the entries are read into a list
/// first, so the map is allocated once and each key hashed once (serde's
/// own decoding grows the map from empty, hashing the first keys again at
/// each growth). A repeated key: the last one wins, as in serde's.
#[doc(hidden)]
pub struct SizedMap<V, S = std::collections::hash_map::RandomState>(
    pub std::collections::HashMap<String, V, S>,
);

impl<'de, V, S> Deserialize<'de> for SizedMap<V, S>
where
    V: Deserialize<'de>,
    S: std::hash::BuildHasher + Default,
{
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit<V, S>(std::marker::PhantomData<fn() -> (V, S)>);
        impl<'de, V, S> de::Visitor<'de> for Visit<V, S>
        where
            V: Deserialize<'de>,
            S: std::hash::BuildHasher + Default,
        {
            type Value = SizedMap<V, S>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                // A parser that knows the object's length says so: the map is made at that size
                // directly (bounded, so a lying hint cannot reserve much).
                if let Some(n) = map.size_hint() {
                    let mut out = std::collections::HashMap::with_capacity_and_hasher(
                        n.min(4096),
                        S::default(),
                    );
                    while let Some((k, v)) = map.next_entry()? {
                        out.insert(k, v);
                    }
                    return Ok(SizedMap(out));
                }
                // Otherwise (serde_json) the entries are counted first.
                let mut entries: Vec<(String, V)> = Vec::with_capacity(8);
                while let Some(e) = map.next_entry()? {
                    entries.push(e);
                }
                let mut out = std::collections::HashMap::with_capacity_and_hasher(
                    entries.len(),
                    S::default(),
                );
                out.extend(entries);
                Ok(SizedMap(out))
            }
        }
        d.deserialize_map(Visit(std::marker::PhantomData))
    }
}

/// Decodes an optional known field past the 64th; a `null` is remembered
/// as an entry of the unknown-field map.
#[doc(hidden)]
pub fn optional_late<'de, A, T>(
    map: &mut A,
    name: &'static str,
    extra: &mut Extra,
) -> Result<Option<T>, A::Error>
where
    A: MapAccess<'de>,
    T: Deserialize<'de> + 'static,
{
    let v: Option<T> = next_bounded(map)?;
    if v.is_none() {
        extra.insert(name, Value::Null);
    } else {
        extra.remove(name);
    }
    Ok(v)
}

/// Keeps a field this crate does not know.
#[doc(hidden)]
#[cold]
pub fn unknown<'de, A>(map: &mut A, key: String, extra: &mut Extra) -> Result<(), A::Error>
where
    A: MapAccess<'de>,
{
    let v: BoundedValue = map.next_value()?;
    extra.insert(key, v.0);
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
            .entries(self.0.iter().map(|(k, _)| (k, "<redacted>")))
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
        self.path = path_under(name, &self.path);
        self
    }

    fn prefixed(mut self, prefix: String) -> Self {
        self.path = path_under(&prefix, &self.path);
        self
    }
}

/// `path` inside `outer`, a field name (`HostConfig` + `Mounts[1]` →
/// `HostConfig.Mounts[1]`) or an index or key (`[1]` + `Subpath` →
/// `[1].Subpath`).
fn path_under(outer: &str, path: &str) -> String {
    if path.is_empty() {
        outer.to_owned()
    } else if path.starts_with('[') {
        format!("{outer}{path}")
    } else {
        format!("{outer}.{path}")
    }
}

/// ``field `Path` ``, or ``value "v" of `Path` `` for an enum value.
fn describe(value: Option<&str>, path: &str) -> String {
    match (value, path.is_empty()) {
        (Some(v), true) => format!("value {v:?}"),
        (Some(v), false) => format!("value {v:?} of `{path}`"),
        (None, _) => format!("field `{path}`"),
    }
}

impl fmt::Display for TooNew {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&describe(self.value.as_deref(), &self.path))
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

/// What a daemon's operating system does not have in a request body: fields
/// (and enum values) the specification marks as one platform's only
/// (`HostConfig.CpuCount` is Windows only), or as refused on a platform
/// (`HostConfig.BlkioWeight` is not on Windows). A body that *sets* one is
/// refused before anything is sent; fields a platform merely ignores are
/// listed by [`FieldPlatforms::ignored_on`] (the client logs a warning).
///
/// "Set" means present with a value other than the zero value (`""`, `0`,
/// `false`, an empty list or map): the daemon decodes into Go values and
/// cannot tell a zero from an absent field, so neither does this check.
///
/// ```
/// use dockhand::models::{FieldPlatforms, HostConfig, HostConfigIsolation};
/// let body = HostConfig { cpu_count: Some(2), ..Default::default() };
/// let refused = body.first_not_on("linux").expect("CpuCount is Windows only");
/// assert_eq!(refused.to_string(), "field `CpuCount` (Windows only)");
/// assert!(body.first_not_on("windows").is_none());
///
/// let body = HostConfig { isolation: Some(HostConfigIsolation::Hyperv), ..Default::default() };
/// assert_eq!(
///     body.first_not_on("linux").unwrap().to_string(),
///     "value \"hyperv\" of `Isolation` (Windows only)"
/// );
/// let body = HostConfig { isolation: Some(HostConfigIsolation::Default), ..Default::default() };
/// assert!(body.first_not_on("linux").is_none());
/// ```
pub trait FieldPlatforms {
    /// The first field or value (depth first, in field order) that is set and
    /// that a daemon on `os` (`linux`, `windows`) does not have.
    fn first_not_on(&self, os: &str) -> Option<NotOnPlatform> {
        let _ = os;
        None
    }

    /// Appends the paths of the set fields a daemon on `os` ignores.
    fn ignored_on(&self, os: &str, out: &mut Vec<String>) {
        let _ = (os, out);
    }

    /// Whether this is the value Go decodes from an absent field.
    #[doc(hidden)]
    fn is_zero(&self) -> bool {
        false
    }
}

/// A set field or value the daemon's platform does not have. Displays as
/// ``field `HostConfig.CpuCount` (Windows only)``.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotOnPlatform {
    /// Where it is in the body; empty for the body itself.
    pub path: String,
    /// The enum value, when it is a value (not a field) that is limited.
    pub value: Option<String>,
    /// The platforms that have it, when it is limited to some (`["windows"]`).
    pub only: &'static [&'static str],
    /// The platforms that refuse it.
    pub not_on: &'static [&'static str],
}

impl NotOnPlatform {
    /// What the fact says: `Windows only`, `not on Windows`.
    pub fn platform(&self) -> String {
        if self.only.is_empty() {
            format!("not on {}", os_names(self.not_on))
        } else {
            format!("{} only", os_names(self.only))
        }
    }

    /// The same, inside field `name`.
    #[doc(hidden)]
    #[must_use]
    pub fn under(mut self, name: &str) -> Self {
        self.path = path_under(name, &self.path);
        self
    }

    fn prefixed(mut self, prefix: String) -> Self {
        self.path = path_under(&prefix, &self.path);
        self
    }
}

impl NotOnPlatform {
    /// What it is, without the fact: ``field `HostConfig.CpuCount` ``,
    /// ``value "hyperv" of `HostConfig.Isolation` ``.
    pub fn what(&self) -> String {
        describe(self.value.as_deref(), &self.path)
    }
}

impl fmt::Display for NotOnPlatform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.what(), capitalized(&self.platform()))
    }
}

/// `Windows`, `Linux`, or the name as it is; joined with "and".
pub(crate) fn os_names(list: &[&str]) -> String {
    list.iter()
        .map(|o| capitalized(o))
        .collect::<Vec<_>>()
        .join(" and ")
}

fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Does a daemon on `os` lack something with these facts?
pub(crate) fn lacks(os: &str, only: &[&str], not_on: &[&str]) -> bool {
    (!only.is_empty() && !only.iter().any(|o| o.eq_ignore_ascii_case(os)))
        || not_on.iter().any(|o| o.eq_ignore_ascii_case(os))
}

/// The check of one field with facts.
#[doc(hidden)]
pub fn field_not_on<T: FieldPlatforms + ?Sized>(
    value: &T,
    name: &str,
    os: &str,
    only: &'static [&'static str],
    not_on: &'static [&'static str],
) -> Option<NotOnPlatform> {
    (!value.is_zero() && lacks(os, only, not_on)).then(|| NotOnPlatform {
        path: name.to_owned(),
        value: None,
        only,
        not_on,
    })
}

/// The check of one enum value with facts.
#[doc(hidden)]
pub fn value_not_on(
    value: &str,
    os: &str,
    only: &'static [&'static str],
    not_on: &'static [&'static str],
) -> Option<NotOnPlatform> {
    lacks(os, only, not_on).then(|| NotOnPlatform {
        path: String::new(),
        value: Some(value.to_owned()),
        only,
        not_on,
    })
}

/// Is this field set and ignored on `os`?
#[doc(hidden)]
pub fn field_ignored<T: FieldPlatforms + ?Sized>(value: &T, os: &str, ignored: &[&str]) -> bool {
    !value.is_zero() && ignored.iter().any(|o| o.eq_ignore_ascii_case(os))
}

/// Prefixes the paths pushed since `from` with field `name`.
#[doc(hidden)]
pub fn prefix_from(out: &mut [String], from: usize, name: &str) {
    for p in out.iter_mut().skip(from) {
        *p = if p.is_empty() {
            name.to_owned()
        } else if p.starts_with('[') {
            format!("{name}{p}")
        } else {
            format!("{name}.{p}")
        };
    }
}

impl<T: FieldPlatforms + ?Sized> FieldPlatforms for &T {
    fn first_not_on(&self, os: &str) -> Option<NotOnPlatform> {
        (**self).first_not_on(os)
    }
    fn ignored_on(&self, os: &str, out: &mut Vec<String>) {
        (**self).ignored_on(os, out)
    }
    fn is_zero(&self) -> bool {
        (**self).is_zero()
    }
}

impl<T: FieldPlatforms + ?Sized> FieldPlatforms for Box<T> {
    fn first_not_on(&self, os: &str) -> Option<NotOnPlatform> {
        (**self).first_not_on(os)
    }
    fn ignored_on(&self, os: &str, out: &mut Vec<String>) {
        (**self).ignored_on(os, out)
    }
    fn is_zero(&self) -> bool {
        (**self).is_zero()
    }
}

impl<T: FieldPlatforms> FieldPlatforms for Option<T> {
    fn first_not_on(&self, os: &str) -> Option<NotOnPlatform> {
        self.as_ref().and_then(|v| v.first_not_on(os))
    }
    fn ignored_on(&self, os: &str, out: &mut Vec<String>) {
        if let Some(v) = self {
            v.ignored_on(os, out);
        }
    }
    fn is_zero(&self) -> bool {
        self.as_ref().is_none_or(FieldPlatforms::is_zero)
    }
}

impl<T: FieldPlatforms> FieldPlatforms for Vec<T> {
    fn first_not_on(&self, os: &str) -> Option<NotOnPlatform> {
        self.as_slice().first_not_on(os)
    }
    fn ignored_on(&self, os: &str, out: &mut Vec<String>) {
        self.as_slice().ignored_on(os, out)
    }
    fn is_zero(&self) -> bool {
        self.is_empty()
    }
}

impl<T: FieldPlatforms> FieldPlatforms for [T] {
    fn first_not_on(&self, os: &str) -> Option<NotOnPlatform> {
        self.iter()
            .enumerate()
            .find_map(|(i, v)| v.first_not_on(os).map(|t| t.prefixed(format!("[{i}]"))))
    }
    fn ignored_on(&self, os: &str, out: &mut Vec<String>) {
        for (i, v) in self.iter().enumerate() {
            let n = out.len();
            v.ignored_on(os, out);
            prefix_from(out, n, &format!("[{i}]"));
        }
    }
    fn is_zero(&self) -> bool {
        self.is_empty()
    }
}

impl<T: FieldPlatforms, S> FieldPlatforms for std::collections::HashMap<String, T, S> {
    fn first_not_on(&self, os: &str) -> Option<NotOnPlatform> {
        // The smallest key, so the same body always names the same field.
        self.iter()
            .filter_map(|(k, v)| v.first_not_on(os).map(|t| (k, t)))
            .min_by(|a, b| a.0.cmp(b.0))
            .map(|(k, t)| t.prefixed(format!("[{k:?}]")))
    }
    fn ignored_on(&self, os: &str, out: &mut Vec<String>) {
        let mut entries: Vec<(&String, &T)> = self.iter().collect();
        entries.sort_by(|a, b| a.0.cmp(b.0));
        for (k, v) in entries {
            let n = out.len();
            v.ignored_on(os, out);
            prefix_from(out, n, &format!("[{k:?}]"));
        }
    }
    fn is_zero(&self) -> bool {
        self.is_empty()
    }
}

impl<T: FieldPlatforms> FieldPlatforms for std::collections::BTreeMap<String, T> {
    fn first_not_on(&self, os: &str) -> Option<NotOnPlatform> {
        self.iter()
            .find_map(|(k, v)| v.first_not_on(os).map(|t| t.prefixed(format!("[{k:?}]"))))
    }
    fn ignored_on(&self, os: &str, out: &mut Vec<String>) {
        for (k, v) in self {
            let n = out.len();
            v.ignored_on(os, out);
            prefix_from(out, n, &format!("[{k:?}]"));
        }
    }
    fn is_zero(&self) -> bool {
        self.is_empty()
    }
}

macro_rules! leaf_field_platforms {
    ($($t:ty => $zero:expr),* $(,)?) => {$(
        impl FieldPlatforms for $t {
            fn is_zero(&self) -> bool {
                let zero: fn(&$t) -> bool = $zero;
                zero(self)
            }
        }
    )*};
}
leaf_field_platforms!(
    String => |s| s.is_empty(),
    str => |s| s.is_empty(),
    bool => |b| !*b,
    i64 => |n| *n == 0,
    u64 => |n| *n == 0,
    i32 => |n| *n == 0,
    u32 => |n| *n == 0,
    u16 => |n| *n == 0,
    u8 => |n| *n == 0,
    f64 => |n| *n == 0.0,
    Value => |v| v.is_null(),
);
