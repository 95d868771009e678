//! Faces: the [`FaceEngine`] trait (detect + embed, one instance per worker thread), dlib's
//! implementation, and the steps every caller shares — scaling a picture to a size the detector
//! handles (small ID-card photos are upsampled, large frames downsampled), mapping boxes back,
//! and the enrollment quality checks (exactly one face, minimum size, not blurred, not blank).

use crate::picture::{contrast, sharpness};
use crate::{VisionError, VisionResult};
use dlib_face_recognition::{
    FaceDetector, FaceDetectorTrait, FaceEncoderNetwork, FaceEncoderTrait, ImageMatrix, LandmarkPredictor,
    LandmarkPredictorTrait,
};
use image::{RgbImage, imageops::FilterType};
use std::path::{Path, PathBuf};

/// Dimensions of a face embedding.
pub const EMBEDDING_DIM: usize = 128;

/// A face embedding: 128 floats, compared by Euclidean distance (dlib: same person below ~0.6).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Embedding(pub [f32; EMBEDDING_DIM]);

impl Embedding {
    /// Euclidean distance to another embedding.
    pub fn distance(&self, other: &Embedding) -> f32 {
        self.0
            .iter()
            .zip(other.0.iter())
            .map(|(a, b)| (a - b) * (a - b))
            .sum::<f32>()
            .sqrt()
    }

    /// Little-endian bytes (512), the stored form.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.0.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    /// From the stored form; `None` unless exactly 512 bytes of finite floats.
    pub fn from_bytes(bytes: &[u8]) -> Option<Embedding> {
        if bytes.len() != EMBEDDING_DIM * 4 {
            return None;
        }
        let mut out = [0f32; EMBEDDING_DIM];
        for (slot, chunk) in out.iter_mut().zip(bytes.chunks_exact(4)) {
            *slot = f32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
            if !slot.is_finite() {
                return None;
            }
        }
        Some(Embedding(out))
    }
}

/// A box in picture pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect {
    /// Left edge.
    pub left: u32,
    /// Top edge.
    pub top: u32,
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
}

/// A face found in a picture.
#[derive(Debug, Clone, PartialEq)]
pub struct Face {
    /// Where, in the original picture's pixels.
    pub rect: Rect,
    /// Its embedding.
    pub embedding: Embedding,
    /// Sharpness of the face region (see [`crate::picture::sharpness`]).
    pub sharpness: f32,
}

/// A face model: finds faces in an RGB image and embeds each. Not shared between threads (dlib's
/// detector is not thread-safe): the pool gives each worker its own.
pub trait FaceEngine: Send {
    /// Which model produced the embeddings; embeddings of different models never mix.
    fn model_id(&self) -> &'static str;
    /// The faces in `image` (boxes in `image`'s pixels) with their embeddings.
    fn detect_and_embed(&mut self, image: &RgbImage) -> Vec<(Rect, Embedding)>;
}

/// Where dlib's model files are.
#[derive(Debug, Clone)]
pub struct FaceModels {
    /// The models directory (see `scripts/fetch-models.sh`).
    pub dir: PathBuf,
}

impl FaceModels {
    /// `$ANFANG_MODELS`, else `~/.cache/anfang/models` — where `scripts/fetch-models.sh` puts them.
    pub fn default_dir() -> PathBuf {
        if let Some(dir) = std::env::var_os("ANFANG_MODELS") {
            return PathBuf::from(dir);
        }
        let cache = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
            .unwrap_or_else(|| PathBuf::from(".cache"));
        cache.join("anfang").join("models")
    }

    /// The ResNet embedding model.
    pub fn embedding(&self) -> PathBuf {
        self.dir.join("dlib_face_recognition_resnet_model_v1.dat")
    }
    /// The 5-point landmark model.
    pub fn landmarks(&self) -> PathBuf {
        self.dir.join("shape_predictor_5_face_landmarks.dat")
    }
}

/// dlib: HOG frontal-face detector, 5-point landmarks, ResNet v1 embedding (99.38 % on LFW as
/// published — pair verification on mostly non-Asian faces; thresholds are exposed for that reason).
pub struct DlibFaces {
    detector: FaceDetector,
    landmarks: LandmarkPredictor,
    encoder: FaceEncoderNetwork,
}

impl std::fmt::Debug for DlibFaces {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DlibFaces")
    }
}

impl DlibFaces {
    /// Loads the models from `models`.
    pub fn load(models: &FaceModels) -> VisionResult<DlibFaces> {
        let open = |path: &Path| -> VisionResult<()> {
            if path.is_file() {
                Ok(())
            } else {
                Err(VisionError::Model(
                    path.display().to_string(),
                    "missing: run scripts/fetch-models.sh".into(),
                ))
            }
        };
        open(&models.landmarks())?;
        open(&models.embedding())?;
        let landmarks = LandmarkPredictor::open(models.landmarks())
            .map_err(|e| VisionError::Model("landmarks".into(), e))?;
        let encoder = FaceEncoderNetwork::open(models.embedding())
            .map_err(|e| VisionError::Model("embedding".into(), e))?;
        Ok(DlibFaces {
            detector: FaceDetector::new(),
            landmarks,
            encoder,
        })
    }
}

impl FaceEngine for DlibFaces {
    fn model_id(&self) -> &'static str {
        "dlib-resnet-v1"
    }

    fn detect_and_embed(&mut self, image: &RgbImage) -> Vec<(Rect, Embedding)> {
        let (w, h) = image.dimensions();
        let Some(buffer) = image024::ImageBuffer::<image024::Rgb<u8>, &[u8]>::from_raw(w, h, image.as_raw())
        else {
            return Vec::new();
        };
        let matrix = ImageMatrix::from_image(&buffer);
        let locations = self.detector.face_locations(&matrix);
        if locations.is_empty() {
            return Vec::new();
        }
        let shapes: Vec<_> = locations
            .iter()
            .map(|r| self.landmarks.face_landmarks(&matrix, r))
            .collect();
        let encodings = self.encoder.get_face_encodings(&matrix, &shapes, 0);
        locations
            .iter()
            .zip(encodings.iter())
            .filter_map(|(r, e)| {
                let mut v = [0f32; EMBEDDING_DIM];
                let values = e.as_ref();
                if values.len() != EMBEDDING_DIM {
                    return None;
                }
                for (slot, x) in v.iter_mut().zip(values) {
                    *slot = *x as f32;
                }
                let left = r.left.clamp(0, i64::from(w) as _) as u32;
                let top = r.top.clamp(0, i64::from(h) as _) as u32;
                let right = (r.right.max(0) as u32).min(w);
                let bottom = (r.bottom.max(0) as u32).min(h);
                Some((
                    Rect {
                        left,
                        top,
                        width: right.saturating_sub(left),
                        height: bottom.saturating_sub(top),
                    },
                    Embedding(v),
                ))
            })
            .collect()
    }
}

/// How pictures are scaled for detection.
#[derive(Debug, Clone, Copy)]
pub struct Scaling {
    /// Pictures whose long side is below this are upsampled (dlib's HOG finds faces of about
    /// 80 px and up; an ID-card photo is ~102×126).
    pub min_long_side: u32,
    /// Pictures whose long side is above this are downsampled (HOG time grows with area).
    pub max_long_side: u32,
}

impl Default for Scaling {
    fn default() -> Self {
        Self {
            min_long_side: 480,
            max_long_side: 1024,
        }
    }
}

/// Finds and embeds every face in `image`, scaling it first; boxes are in `image`'s pixels.
pub fn find_faces(engine: &mut dyn FaceEngine, image: &RgbImage, scaling: Scaling) -> Vec<Face> {
    let (w, h) = image.dimensions();
    let long = w.max(h).max(1);
    let factor = if long < scaling.min_long_side {
        (f64::from(scaling.min_long_side) / f64::from(long)).min(4.0)
    } else if long > scaling.max_long_side {
        f64::from(scaling.max_long_side) / f64::from(long)
    } else {
        1.0
    };
    let scaled;
    let work = if (factor - 1.0).abs() > 1e-6 {
        let sw = ((f64::from(w) * factor).round() as u32).max(1);
        let sh = ((f64::from(h) * factor).round() as u32).max(1);
        scaled = image::imageops::resize(image, sw, sh, FilterType::Triangle);
        &scaled
    } else {
        image
    };
    engine
        .detect_and_embed(work)
        .into_iter()
        .map(|(r, embedding)| {
            let back = |v: u32| (f64::from(v) / factor).round() as u32;
            let rect = Rect {
                left: back(r.left).min(w.saturating_sub(1)),
                top: back(r.top).min(h.saturating_sub(1)),
                width: back(r.width).max(1),
                height: back(r.height).max(1),
            };
            let sharpness = sharpness(image, rect.left, rect.top, rect.width, rect.height);
            Face {
                rect,
                embedding,
                sharpness,
            }
        })
        .collect()
}

/// The largest face in `image` (by area), if any: the subject of a capture, a search photo or a
/// booth snapshot.
pub fn largest_face(engine: &mut dyn FaceEngine, image: &RgbImage) -> Option<Face> {
    find_faces(engine, image, Scaling::default())
        .into_iter()
        .max_by_key(|f| u64::from(f.rect.width) * u64::from(f.rect.height))
}

/// What an enrollment photo must meet.
#[derive(Debug, Clone, Copy)]
pub struct Quality {
    /// The narrowest face accepted, in the photo's pixels.
    pub min_face_px: u32,
    /// The least sharpness accepted (see [`crate::picture::sharpness`]).
    pub min_sharpness: f32,
    /// The least grey-level spread of the whole photo (refuses blank and black frames).
    pub min_contrast: f32,
}

impl Default for Quality {
    fn default() -> Self {
        Self {
            min_face_px: 80,
            min_sharpness: 30.0,
            min_contrast: 8.0,
        }
    }
}

/// The one face of an enrollment photo, or a precise refusal.
pub fn enrollment_face(
    engine: &mut dyn FaceEngine,
    image: &RgbImage,
    quality: Quality,
) -> VisionResult<Face> {
    if contrast(image) < quality.min_contrast {
        return Err(VisionError::Blank);
    }
    let mut faces = find_faces(engine, image, Scaling::default());
    match faces.len() {
        0 => return Err(VisionError::NoFace),
        1 => {}
        n => return Err(VisionError::SeveralFaces(n)),
    }
    let face = faces.remove(0);
    if face.rect.width < quality.min_face_px {
        return Err(VisionError::FaceTooSmall(face.rect.width, quality.min_face_px));
    }
    if face.sharpness < quality.min_sharpness {
        return Err(VisionError::Blurred(face.sharpness, quality.min_sharpness));
    }
    Ok(face)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embeddings_round_trip_and_measure() {
        let mut a = [0f32; EMBEDDING_DIM];
        a[0] = 0.3;
        let mut b = a;
        b[1] = 0.4;
        let (a, b) = (Embedding(a), Embedding(b));
        assert!((a.distance(&b) - 0.4).abs() < 1e-6);
        assert_eq!(Embedding::from_bytes(&a.to_bytes()), Some(a));
        assert_eq!(Embedding::from_bytes(&[0; 10]), None);
    }
}
