//! How server functions answer: JSON, read with `serde_json::from_str`.
//!
//! Leptos' own `Json` reads answers with `from_slice`, while the page's
//! resources read the same types out of the server-rendered HTML with
//! `from_str`. serde_json's reader is generic over where it reads from, so
//! the wasm carried two copies of every answer type's deserializer (22 KB
//! before `wasm-opt` in the main module alone). Reading answers as text too
//! leaves one. Same wire format, same content type.

use leptos::server_fn::codec::Post;
use leptos::server_fn::{Bytes, ContentType, Decodes, Encodes, Format, FormatType};
use serde::de::{DeserializeOwned, Error as _};
use serde::Serialize;

/// JSON read as text; see the module doc.
pub struct JsonText;

impl ContentType for JsonText {
    const CONTENT_TYPE: &'static str = "application/json";
}

impl FormatType for JsonText {
    const FORMAT_TYPE: Format = Format::Text;
}

impl<T: Serialize> Encodes<T> for JsonText {
    type Error = serde_json::Error;

    fn encode(output: &T) -> Result<Bytes, Self::Error> {
        serde_json::to_vec(output).map(Bytes::from)
    }
}

impl<T: DeserializeOwned> Decodes<T> for JsonText {
    type Error = serde_json::Error;

    fn decode(bytes: Bytes) -> Result<T, Self::Error> {
        let text = std::str::from_utf8(&bytes).map_err(serde_json::Error::custom)?;
        serde_json::from_str(text)
    }
}

/// The output encoding of every server function: `output = crate::codec::Json`.
pub type Json = Post<JsonText>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_back_what_it_writes_and_rejects_what_is_not_json() {
        let bytes = <JsonText as Encodes<Vec<(String, i64)>>>::encode(&vec![("é".into(), 3)]).unwrap();
        assert_eq!(&bytes[..], "[[\"é\",3]]".as_bytes());
        let back: Vec<(String, i64)> = <JsonText as Decodes<_>>::decode(bytes).unwrap();
        assert_eq!(back, vec![("é".to_string(), 3)]);
        assert!(<JsonText as Decodes<Vec<i64>>>::decode(Bytes::from_static(b"[1,")).is_err());
        assert!(<JsonText as Decodes<Vec<i64>>>::decode(Bytes::from_static(&[0x5b, 0xff, 0x5d])).is_err());
    }
}
