//! A path-aware reader over parsed JSON, used by every decoder.
//!
//! Decoding goes through `serde_json::Value` and this reader rather than `#[derive(Deserialize)]`
//! because the protocol promises errors that name the offending field (`body.visitor.name`),
//! tolerates unknown fields and treats `null` like an absent optional field (many embedded JSON
//! encoders write `null` for "not set"); serde's derive gives none of that precisely.

use serde_json::{Map, Value};

use crate::error::{ProtocolError, quote};

/// A JSON object together with the path that leads to it.
pub(crate) struct Obj<'a> {
    map: &'a Map<String, Value>,
    path: String,
}

/// Joins a parent path and a key; the root has the empty path.
pub(crate) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// Describes a JSON value's type for "expected X, got Y" messages.
fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A string enumeration of the protocol: its wire names are its only spellings.
pub(crate) trait WireEnum: Sized + Copy + 'static {
    const ALL: &'static [Self];
    fn wire(self) -> &'static str;

    fn parse(text: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|item| item.wire() == text)
    }
}

impl<'a> Obj<'a> {
    /// Views the whole payload as the root object.
    pub(crate) fn root(map: &'a Map<String, Value>) -> Self {
        Self {
            map,
            path: String::new(),
        }
    }

    /// Views `value`, found at `path`, as an object.
    pub(crate) fn at(value: &'a Value, path: String) -> Result<Self, ProtocolError> {
        match value {
            Value::Object(map) => Ok(Self { map, path }),
            other => Err(ProtocolError::body(
                &path,
                format!("expected an object, got {}", kind_of(other)),
            )),
        }
    }

    pub(crate) fn path(&self, key: &str) -> String {
        join(&self.path, key)
    }

    /// The field's value, with `null` read as absent.
    pub(crate) fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|value| !value.is_null())
    }

    fn missing(&self, key: &str) -> ProtocolError {
        ProtocolError::body(&self.path(key), "is required")
    }

    fn wrong(&self, key: &str, expected: &str, got: &Value) -> ProtocolError {
        ProtocolError::body(
            &self.path(key),
            format!("expected {expected}, got {}", kind_of(got)),
        )
    }

    pub(crate) fn opt_obj(&self, key: &str) -> Result<Option<Obj<'a>>, ProtocolError> {
        self.get(key)
            .map(|value| Obj::at(value, self.path(key)))
            .transpose()
    }

    pub(crate) fn obj(&self, key: &str) -> Result<Obj<'a>, ProtocolError> {
        self.opt_obj(key)?.ok_or_else(|| self.missing(key))
    }

    /// The raw string, without length rules; for fields with their own error code.
    pub(crate) fn opt_raw_str(&self, key: &str) -> Result<Option<&'a str>, ProtocolError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text)),
            Some(other) => Err(self.wrong(key, "a string", other)),
        }
    }

    /// An optional string of at most `max_chars` characters; if present it must not be blank.
    pub(crate) fn opt_str(&self, key: &str, max_chars: usize) -> Result<Option<String>, ProtocolError> {
        let Some(text) = self.opt_raw_str(key)? else {
            return Ok(None);
        };
        if text.trim().is_empty() {
            return Err(ProtocolError::body(&self.path(key), "must not be empty"));
        }
        let chars = text.chars().count();
        if chars > max_chars {
            let reason = format!("is {chars} characters, at most {max_chars} allowed");
            return Err(ProtocolError::body(&self.path(key), reason));
        }
        Ok(Some(text.to_owned()))
    }

    pub(crate) fn str(&self, key: &str, max_chars: usize) -> Result<String, ProtocolError> {
        self.opt_str(key, max_chars)?.ok_or_else(|| self.missing(key))
    }

    /// An optional unsigned integer no larger than `max`; floats and numeric strings are refused.
    pub(crate) fn opt_uint(&self, key: &str, max: u64) -> Result<Option<u64>, ProtocolError> {
        match self.get(key) {
            None => Ok(None),
            Some(value) => match value.as_u64() {
                Some(number) if number <= max => Ok(Some(number)),
                Some(number) => Err(ProtocolError::body(
                    &self.path(key),
                    format!("must be at most {max}, got {number}"),
                )),
                None => Err(self.wrong(key, &format!("an integer from 0 to {max}"), value)),
            },
        }
    }

    pub(crate) fn uint(&self, key: &str, max: u64) -> Result<u64, ProtocolError> {
        self.opt_uint(key, max)?.ok_or_else(|| self.missing(key))
    }

    pub(crate) fn f64(&self, key: &str) -> Result<f64, ProtocolError> {
        let value = self.get(key).ok_or_else(|| self.missing(key))?;
        value.as_f64().ok_or_else(|| self.wrong(key, "a number", value))
    }

    pub(crate) fn opt_bool(&self, key: &str) -> Result<Option<bool>, ProtocolError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(flag)) => Ok(Some(*flag)),
            Some(other) => Err(self.wrong(key, "true or false", other)),
        }
    }

    pub(crate) fn opt_enum<E: WireEnum>(&self, key: &str) -> Result<Option<E>, ProtocolError> {
        let Some(text) = self.opt_raw_str(key)? else {
            return Ok(None);
        };
        E::parse(text).map(Some).ok_or_else(|| {
            let allowed: Vec<&str> = E::ALL.iter().map(|item| item.wire()).collect();
            let reason = format!("expected one of {}, got {}", allowed.join(", "), quote(text));
            ProtocolError::body(&self.path(key), reason)
        })
    }

    pub(crate) fn enumeration<E: WireEnum>(&self, key: &str) -> Result<E, ProtocolError> {
        self.opt_enum(key)?.ok_or_else(|| self.missing(key))
    }

    /// The elements of an array field with their paths (`changes[3]`); absent reads as empty.
    pub(crate) fn array(&self, key: &str) -> Result<Vec<(String, &'a Value)>, ProtocolError> {
        match self.get(key) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => Ok(items
                .iter()
                .enumerate()
                .map(|(index, item)| (format!("{}[{index}]", self.path(key)), item))
                .collect()),
            Some(other) => Err(self.wrong(key, "an array", other)),
        }
    }
}

/// Declares a string enumeration once: the Rust variants, their wire spellings, an `as_str`,
/// [`WireEnum`] for decoding and `Serialize` for encoding, so the two directions cannot drift.
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident { $( $(#[$vmeta:meta])* $variant:ident = $wire:literal ),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $( $(#[$vmeta])* $variant ),+ }

        impl $name {
            /// The spelling on the wire.
            pub fn as_str(self) -> &'static str {
                match self { $( Self::$variant => $wire ),+ }
            }
        }

        impl $crate::reader::WireEnum for $name {
            const ALL: &'static [Self] = &[ $( Self::$variant ),+ ];
            fn wire(self) -> &'static str {
                self.as_str()
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }
    };
}
pub(crate) use wire_enum;
