//! Reading JSON objects key by key and values that may be `null`, with serde's visitors.

use std::fmt;

use serde::de::{DeserializeSeed, MapAccess, Visitor};
use serde::Deserializer;

use super::Text;

/// Reads an object's keys, handing each to `value` (which reads its value).
pub(super) fn keys<'de, A: MapAccess<'de>>(
    mut map: A,
    mut value: impl FnMut(&str, &mut A) -> Result<(), A::Error>,
) -> Result<(), A::Error> {
    while let Some(key) = map.next_key::<Text<'de>>()? {
        value(&key, &mut map)?;
    }
    Ok(())
}

/// Marks `key` (one of `names`) seen in `seen`; `false` if it was already.
pub(super) fn first_time(seen: &mut [bool], names: &[&str], key: &str) -> bool {
    match names
        .iter()
        .position(|name| *name == key)
        .and_then(|at| seen.get_mut(at))
    {
        Some(seen) => !std::mem::replace(seen, true),
        None => true,
    }
}

/// A value that may be `null` (read as nothing), else read by the visitor it wraps.
pub(super) struct Nullable<V>(pub(super) V);

impl<'de, V: Visitor<'de>> DeserializeSeed<'de> for Nullable<V> {
    type Value = Option<V::Value>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_option(self)
    }
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Nullable<V> {
    type Value = Option<V::Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.expecting(f)
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        // The visitor takes the map or sequence it expects, and refuses any other value.
        deserializer.deserialize_any(self.0).map(Some)
    }
}
