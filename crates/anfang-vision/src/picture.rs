//! Decoding untrusted pictures with limits, and the measures the quality checks use: contrast
//! (a blank or black frame) and sharpness (variance of the Laplacian on a normalised crop).
//!
//! The dimensions are read from the header before anything is decoded, so a 50-megapixel image
//! is refused without allocating it; decoder allocations are capped as well.

use crate::{VisionError, VisionResult};
use image::{GrayImage, ImageFormat, RgbImage, imageops::FilterType};
use std::io::Cursor;

/// How large a picture may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The most pixels (width × height).
    pub max_pixels: u64,
}

impl Default for Limits {
    /// 24 megapixels: more than any camera snapshot or enrollment photo needs.
    fn default() -> Self {
        Self {
            max_pixels: 24_000_000,
        }
    }
}

/// Decodes a JPEG or PNG picture to RGB within `limits`.
pub fn decode(bytes: &[u8], limits: Limits) -> VisionResult<RgbImage> {
    let format = match image::guess_format(bytes) {
        Ok(f @ (ImageFormat::Jpeg | ImageFormat::Png)) => f,
        _ => return Err(VisionError::NotAnImage),
    };
    let reader = image::ImageReader::with_format(Cursor::new(bytes), format);
    let (width, height) = reader
        .into_dimensions()
        .map_err(|e| VisionError::Unreadable(e.to_string()))?;
    if u64::from(width) * u64::from(height) > limits.max_pixels {
        return Err(VisionError::TooLarge {
            width,
            height,
            max_megapixels: (limits.max_pixels / 1_000_000) as u32,
        });
    }
    if format == ImageFormat::Jpeg && !jpeg_is_complete(bytes) {
        return Err(VisionError::Unreadable(
            "the JPEG is truncated (no end of image)".into(),
        ));
    }
    let mut reader = image::ImageReader::with_format(Cursor::new(bytes), format);
    let mut decoder_limits = image::Limits::default();
    decoder_limits.max_alloc = Some(limits.max_pixels * 4 + (64 << 20));
    reader.limits(decoder_limits);
    let decoded = reader
        .decode()
        .map_err(|e| VisionError::Unreadable(e.to_string()))?;
    Ok(decoded.to_rgb8())
}

/// Whether a JPEG's last scan is followed by an end-of-image marker. The decoder fills a cut-off
/// scan with grey instead of failing, so a truncated upload is caught here.
fn jpeg_is_complete(bytes: &[u8]) -> bool {
    let last_scan = bytes.windows(2).rposition(|w| w == [0xFF, 0xDA]);
    let last_end = bytes.windows(2).rposition(|w| w == [0xFF, 0xD9]);
    matches!((last_scan, last_end), (Some(s), Some(e)) if e > s)
}

/// The standard deviation of the grey levels: near 0 for a blank or black frame.
pub fn contrast(image: &RgbImage) -> f32 {
    let grey = image::imageops::grayscale(image);
    let n = grey.as_raw().len().max(1) as f64;
    let mean = grey.as_raw().iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    let var = grey
        .as_raw()
        .iter()
        .map(|&v| (f64::from(v) - mean).powi(2))
        .sum::<f64>()
        / n;
    var.sqrt() as f32
}

/// Sharpness of a region: the variance of the 4-neighbour Laplacian over the region resized to
/// 128×128 grey, so the figure does not depend on the face's size in pixels. Sharp portraits
/// measure in the hundreds; a strongly blurred face falls below ~30.
pub fn sharpness(image: &RgbImage, left: u32, top: u32, width: u32, height: u32) -> f32 {
    let (w, h) = image.dimensions();
    let left = left.min(w.saturating_sub(1));
    let top = top.min(h.saturating_sub(1));
    let width = width.clamp(1, w - left);
    let height = height.clamp(1, h - top);
    let crop = image::imageops::crop_imm(image, left, top, width, height).to_image();
    let grey: GrayImage =
        image::imageops::grayscale(&image::imageops::resize(&crop, 128, 128, FilterType::Triangle));
    let px = |x: u32, y: u32| f64::from(grey.get_pixel(x, y)[0]);
    let mut values = Vec::with_capacity(126 * 126);
    for y in 1..127 {
        for x in 1..127 {
            values.push(px(x - 1, y) + px(x + 1, y) + px(x, y - 1) + px(x, y + 1) - 4.0 * px(x, y));
        }
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32, f: impl Fn(u32, u32) -> [u8; 3]) -> Vec<u8> {
        let img = RgbImage::from_fn(w, h, |x, y| image::Rgb(f(x, y)));
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, ImageFormat::Png).unwrap();
        out.into_inner()
    }

    #[test]
    fn refuses_what_is_not_a_picture() {
        assert_eq!(decode(b"hello", Limits::default()), Err(VisionError::NotAnImage));
        let bytes = png(64, 64, |x, y| [x as u8, y as u8, 0]);
        let cut = &bytes[..bytes.len() / 2];
        assert!(matches!(
            decode(cut, Limits::default()),
            Err(VisionError::Unreadable(_))
        ));
    }

    #[test]
    fn refuses_oversized_pictures_from_the_header() {
        let bytes = png(300, 200, |_, _| [9, 9, 9]);
        let err = decode(&bytes, Limits { max_pixels: 50_000 }).unwrap_err();
        assert_eq!(err.code(), "image_too_large");
        assert_eq!(
            decode(&bytes, Limits::default()).unwrap().dimensions(),
            (300, 200)
        );
    }

    #[test]
    fn measures_contrast_and_sharpness() {
        let black = decode(&png(64, 64, |_, _| [0, 0, 0]), Limits::default()).unwrap();
        assert!(contrast(&black) < 1.0);
        let checks = decode(
            &png(128, 128, |x, y| {
                if (x / 4 + y / 4) % 2 == 0 {
                    [255; 3]
                } else {
                    [0; 3]
                }
            }),
            Limits::default(),
        )
        .unwrap();
        let smooth = decode(&png(128, 128, |x, _| [(x * 2) as u8; 3]), Limits::default()).unwrap();
        assert!(contrast(&checks) > 100.0);
        assert!(sharpness(&checks, 0, 0, 128, 128) > 10.0 * sharpness(&smooth, 0, 0, 128, 128));
    }
}
