//! Recognition for Anfang: faces through dlib (HOG detector, 5-point landmarks, the ResNet 128-d
//! embedding) behind the [`FaceEngine`] trait, decoding with limits and quality checks, a bounded
//! worker pool that keeps the blocking C++ work off the async runtime, and galleries searched
//! exactly with int8 SIMD vectors and a float re-rank.
//!
//! Nothing here does storage or network I/O; models load from a directory the caller names
//! (fetched from PyPI by `scripts/fetch-models.sh`, never from a model hub at run time).

pub mod face;
pub mod gallery;
pub mod ivf;
mod kernel;
pub mod picture;
pub mod plate;
pub mod pool;
pub mod synth;

pub use face::{DlibFaces, EMBEDDING_DIM, Embedding, Face, FaceEngine, FaceModels, Rect};
pub use gallery::{Gallery, Hit};
pub use ivf::{FaceIndex, IvfGallery};
pub use picture::{Limits, decode};
pub use pool::{FacePool, PoolStats};

/// What can go wrong in recognition. Codes are stable and public.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum VisionError {
    /// The bytes are not a JPEG or PNG image.
    #[error("not a JPEG or PNG image")]
    NotAnImage,
    /// The image does not decode (truncated, corrupt).
    #[error("the image does not decode: {0}")]
    Unreadable(String),
    /// The image has more pixels or bytes than allowed.
    #[error("{width}×{height} px is larger than the {max_megapixels} megapixels allowed")]
    TooLarge {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
        /// The limit.
        max_megapixels: u32,
    },
    /// A blank or nearly uniform frame.
    #[error("the image is blank (no contrast)")]
    Blank,
    /// No face was found.
    #[error("no face found")]
    NoFace,
    /// More than one face where exactly one is needed.
    #[error("{0} faces found; exactly one is needed")]
    SeveralFaces(usize),
    /// The face is smaller than required.
    #[error("the face is {0} px wide; at least {1} px is needed")]
    FaceTooSmall(u32, u32),
    /// The face is too blurred.
    #[error("the face is too blurred (sharpness {0:.1}, at least {1:.1} needed)")]
    Blurred(f32, f32),
    /// A model file could not be loaded.
    #[error("model {0}: {1}")]
    Model(String, String),
    /// All workers are busy and the queue is full: try again later.
    #[error("recognition is busy; try again later")]
    Busy,
    /// A worker failed while handling the job (the pool stays healthy).
    #[error("recognition failed: {0}")]
    Worker(String),
}

impl VisionError {
    /// The stable public code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotAnImage => "not_an_image",
            Self::Unreadable(_) => "unreadable_image",
            Self::TooLarge { .. } => "image_too_large",
            Self::Blank => "blank_image",
            Self::NoFace => "no_face",
            Self::SeveralFaces(_) => "several_faces",
            Self::FaceTooSmall(..) => "face_too_small",
            Self::Blurred(..) => "face_blurred",
            Self::Model(..) => "model_unavailable",
            Self::Busy => "recognition_busy",
            Self::Worker(_) => "recognition_failed",
        }
    }
}

/// Shorthand for results of this crate.
pub type VisionResult<T> = Result<T, VisionError>;
