//! Images carried inline in up messages (snapshots, ID-card photos): a format and base64 data.

use base64::Engine;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use serde::{Serialize, Serializer};

use crate::MAX_IMAGE_BYTES;
use crate::error::ProtocolError;
use crate::reader::{Obj, wire_enum};

wire_enum! {
    /// The image formats a device may send.
    pub enum ImageFormat {
        Jpeg = "jpeg",
        Png = "png",
    }
}

impl ImageFormat {
    /// The signature every file of this format starts with.
    fn magic(self) -> &'static [u8] {
        match self {
            Self::Jpeg => &[0xFF, 0xD8, 0xFF],
            Self::Png => b"\x89PNG\r\n\x1a\n",
        }
    }
}

/// An image: its declared format and its decoded bytes (at most [`MAX_IMAGE_BYTES`]).
///
/// The bytes are kept decoded so that every holder of an `Image` knows it is valid; the encoder
/// writes standard padded base64.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    format: ImageFormat,
    bytes: Vec<u8>,
}

/// Decodes standard base64 with or without padding, since device SDKs differ on padding.
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

impl Image {
    /// Wraps image bytes, checking the size limit and that the bytes start like `format`.
    pub fn new(format: ImageFormat, bytes: Vec<u8>) -> Result<Self, ProtocolError> {
        Self::checked(format, bytes, "image")
    }

    /// [`Image::new`] with errors labelled by the field the image travels in.
    fn checked(format: ImageFormat, bytes: Vec<u8>, path: &str) -> Result<Self, ProtocolError> {
        if bytes.len() > MAX_IMAGE_BYTES {
            let (path, size, max) = (path.to_owned(), bytes.len(), MAX_IMAGE_BYTES);
            return Err(ProtocolError::ImageTooLarge { path, size, max });
        }
        if !bytes.starts_with(format.magic()) {
            let reason = format!("the data is not a {} file", format.as_str());
            return Err(ProtocolError::InvalidImage {
                path: path.to_owned(),
                reason,
            });
        }
        Ok(Self { format, bytes })
    }

    pub fn format(&self) -> ImageFormat {
        self.format
    }

    /// The decoded image file.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Reads an image object; line breaks inside the base64 are ignored because several Java
    /// device SDKs wrap base64 at 76 columns.
    pub(crate) fn read(obj: &Obj<'_>) -> Result<Self, ProtocolError> {
        let format = obj.enumeration::<ImageFormat>("format")?;
        let data_path = obj.path("data");
        let invalid = |reason: String| ProtocolError::InvalidImage {
            path: data_path.clone(),
            reason,
        };
        let data = obj
            .opt_raw_str("data")?
            .ok_or_else(|| invalid("is required".to_owned()))?;
        let cleaned: Vec<u8>;
        let text = if data.bytes().any(|byte| byte.is_ascii_whitespace()) {
            cleaned = data.bytes().filter(|byte| !byte.is_ascii_whitespace()).collect();
            &cleaned[..]
        } else {
            data.as_bytes()
        };
        let bytes = LENIENT
            .decode(text)
            .map_err(|error| invalid(format!("not base64: {error}")))?;
        Self::checked(format, bytes, &obj.path("data"))
    }

    pub(crate) fn read_opt(parent: &Obj<'_>, key: &str) -> Result<Option<Self>, ProtocolError> {
        parent.opt_obj(key)?.map(|obj| Self::read(&obj)).transpose()
    }
}

impl Serialize for Image {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Wire {
            format: ImageFormat,
            data: String,
        }
        Wire {
            format: self.format,
            data: STANDARD.encode(&self.bytes),
        }
        .serialize(serializer)
    }
}
