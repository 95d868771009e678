//! Face enrollment: a photo uploaded by the property office (or the resident) becomes the
//! person's face credential, only while a face-recognition consent is active. The photo is
//! checked (format, size, dimensions, not blank), encrypted with the vault and kept in the
//! image store; its SHA-256 goes to the terminals' libraries as the face credential's value,
//! and a terminal fetches the photo itself over authenticated HTTP when the value changes.
//!
//! Invariant: withdrawing consent removes the photo (row and file), so no biometric data
//! outlives the consent (PIPL art. 15, the 2025 face-recognition measures).

use crate::{App, AppError, AppResult, Permission, Principal};
use anfang_domain::access::grant_reaches;
use anfang_store::*;
use serde_json::json;
use sha2::{Digest, Sha256};

/// The largest photo accepted.
pub const MAX_PHOTO_BYTES: usize = 2 * 1024 * 1024;
/// The shortest side a photo may have (terminals enrol from at least this).
pub const MIN_SIDE: u32 = 160;
/// The longest side a photo may have.
pub const MAX_SIDE: u32 = 4096;
/// The vault context of photo ciphertexts.
const PHOTO_CONTEXT: &str = "face_photo";

/// Where images live (local files by default); keys are relative paths such as
/// `faces/12/3f…`. Implementations store bytes as given: the caller encrypts.
#[async_trait::async_trait]
pub trait ImageStore: Send + Sync + std::fmt::Debug {
    /// Stores bytes under a new key.
    async fn put(&self, key: &str, bytes: &[u8]) -> Result<(), String>;
    /// The bytes under a key, if any.
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, String>;
    /// Deletes a key (absent keys are fine).
    async fn delete(&self, key: &str) -> Result<(), String>;

    /// Stores several images in `stream` (a folder) durably with one sync for all of them, and
    /// returns their keys in order: the write path of bulk uploads (capture batches), where a
    /// sync per picture would cost more than everything else. This default puts each under a
    /// fresh key; the file store appends them to a segment file instead.
    async fn append(&self, stream: &str, items: Vec<Vec<u8>>) -> Result<Vec<String>, String> {
        let mut keys = Vec::with_capacity(items.len());
        for bytes in items {
            let key = format!("{stream}/{}", hex::encode(anfang_base::random_bytes(12)));
            self.put(&key, &bytes).await?;
            keys.push(key);
        }
        Ok(keys)
    }
}

/// An image store in memory, for tests.
#[derive(Debug, Default)]
pub struct MemoryImages {
    images: std::sync::Mutex<std::collections::HashMap<String, Vec<u8>>>,
}

impl MemoryImages {
    /// How many images are held.
    pub fn len(&self) -> usize {
        self.images.lock().map(|m| m.len()).unwrap_or(0)
    }

    /// Whether none is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[async_trait::async_trait]
impl ImageStore for MemoryImages {
    async fn put(&self, key: &str, bytes: &[u8]) -> Result<(), String> {
        let mut images = self.images.lock().map_err(|e| e.to_string())?;
        images.insert(key.to_string(), bytes.to_vec());
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, String> {
        let images = self.images.lock().map_err(|e| e.to_string())?;
        Ok(images.get(key).cloned())
    }

    async fn delete(&self, key: &str) -> Result<(), String> {
        let mut images = self.images.lock().map_err(|e| e.to_string())?;
        images.remove(key);
        Ok(())
    }
}

/// What the checks found out about a photo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhotoInfo {
    /// `jpeg` or `png`.
    pub format: &'static str,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Hex SHA-256 of the bytes.
    pub sha256: String,
}

fn photo_error(code: &'static str, message: impl Into<String>) -> AppError {
    AppError::invalid(code, "photo", message)
}

/// The basic checks of an enrollment photo: JPEG or PNG by content, at most
/// [`MAX_PHOTO_BYTES`], decodable to the end, sides between [`MIN_SIDE`] and [`MAX_SIDE`], a
/// portrait-ish shape, and not blank. (Face detection and quality come with recognition.)
pub fn check_photo(bytes: &[u8]) -> AppResult<PhotoInfo> {
    if bytes.len() > MAX_PHOTO_BYTES {
        return Err(photo_error(
            "photo_too_large",
            format!("a photo is at most {} KiB", MAX_PHOTO_BYTES / 1024),
        ));
    }
    let format = match image::guess_format(bytes) {
        Ok(image::ImageFormat::Jpeg) => "jpeg",
        Ok(image::ImageFormat::Png) => "png",
        _ => return Err(photo_error("unsupported_photo", "a photo is a JPEG or PNG image")),
    };
    let decoded = image::load_from_memory(bytes)
        .map_err(|e| photo_error("unreadable_photo", format!("the image does not decode: {e}")))?;
    let (width, height) = (decoded.width(), decoded.height());
    if width.min(height) < MIN_SIDE || width.max(height) > MAX_SIDE {
        return Err(photo_error(
            "photo_dimensions",
            format!("{width}×{height} px: each side must be {MIN_SIDE}–{MAX_SIDE} px"),
        ));
    }
    if width.max(height) > 2 * width.min(height) {
        return Err(photo_error(
            "photo_dimensions",
            format!("{width}×{height} px: a face photo is at most twice as long as wide"),
        ));
    }
    // A blank or nearly uniform image (lens cap, a white page) has almost no spread of light.
    if anfang_vision::picture::contrast(&decoded.to_rgb8()) < 8.0 {
        return Err(photo_error("blank_photo", "the image is blank or nearly uniform"));
    }
    Ok(PhotoInfo {
        format,
        width,
        height,
        sha256: hex::encode(Sha256::digest(bytes)),
    })
}

impl App {
    /// Enrols (or replaces) a person's face photo. Needs an active face consent.
    pub async fn enroll_face(
        &self,
        who: &Principal,
        person_id: i64,
        bytes: &[u8],
    ) -> AppResult<FacePhotoRow> {
        who.require(Permission::WritePersons)?;
        let mut tx = self.store.write().await?;
        let person = self.managed_person(&mut tx, who, person_id).await?;
        let info = check_photo(bytes)?;
        if !Self::has_face_consent(&mut tx, person_id).await? {
            return Err(AppError::Conflict {
                code: "consent_required",
                message: "record the person's face-recognition consent before enrolling a photo".into(),
            });
        }
        // With recognition: exactly one face, large and sharp enough, and its template.
        let template = self.enrollment_template(bytes).await?;
        let now = self.clock.now_ms();
        let key = format!("faces/{person_id}/{}-{now}", &info.sha256[..16]);
        self.put_sealed(PHOTO_CONTEXT, &key, bytes).await?;
        let replaced = tx.remove_face_photos(person_id, now).await?;
        let id = tx
            .insert_face_photo(&NewFacePhoto {
                person_id,
                image_key: key.clone(),
                sha256: info.sha256.clone(),
                format: info.format.into(),
                width: i64::from(info.width),
                height: i64::from(info.height),
                size_bytes: bytes.len() as i64,
                uploaded_by: who.actor(),
                uploaded_at: now,
            })
            .await?;
        self.store_template(&mut tx, id, template.as_ref()).await?;
        self.library_changed(&mut tx, person.community_id, person_id)
            .await?;
        let audit = self
            .audit(
                &mut tx,
                &who.actor(),
                "face.enroll",
                &format!("person:{person_id}"),
                json!({"photo": id, "sha256": info.sha256, "replaced": replaced.len()}),
            )
            .await?;
        let row = tx
            .face_photo(person_id)
            .await?
            .ok_or(AppError::NotFound { entity: "face photo" })?;
        if let Err(e) = self.commit(tx, Some(&audit)).await {
            // Nothing refers to the new file: take it away again.
            let _ = self.images.delete(&key).await;
            return Err(e);
        }
        self.delete_images(&replaced).await;
        self.refresh_person_faces(person_id).await?;
        Ok(row)
    }

    /// A person's enrolled photo (its record, not the image).
    pub async fn face_photo(&self, who: &Principal, person_id: i64) -> AppResult<FacePhotoRow> {
        let mut tx = self.store.read().await?;
        self.self_service_person(&mut tx, who, person_id, false).await?;
        tx.face_photo(person_id)
            .await?
            .ok_or(AppError::NotFound { entity: "face photo" })
    }

    /// Removes a person's face photo (row and file); their face opens nothing afterwards.
    pub async fn remove_face(&self, who: &Principal, person_id: i64) -> AppResult<()> {
        who.require(Permission::WritePersons)?;
        let mut tx = self.store.write().await?;
        let person = self.managed_person(&mut tx, who, person_id).await?;
        let keys = tx.remove_face_photos(person_id, self.clock.now_ms()).await?;
        if keys.is_empty() {
            return Err(AppError::NotFound { entity: "face photo" });
        }
        self.library_changed(&mut tx, person.community_id, person_id)
            .await?;
        let audit = self
            .audit(
                &mut tx,
                &who.actor(),
                "face.remove",
                &format!("person:{person_id}"),
                json!({"photos": keys.len()}),
            )
            .await?;
        self.commit(tx, Some(&audit)).await?;
        self.delete_images(&keys).await;
        self.refresh_person_faces(person_id).await?;
        Ok(())
    }

    /// Seals `bytes` with the vault under `context` and stores them under `key`.
    pub(crate) async fn put_sealed(&self, context: &str, key: &str, bytes: &[u8]) -> AppResult<()> {
        let sealed = self.vault.encrypt_bytes(context, bytes)?;
        self.images
            .put(key, &sealed)
            .await
            .map_err(|e| AppError::Internal(format!("image store: {e}")))
    }

    /// Seals several images under `context` and appends them to `stream` with one sync;
    /// returns their keys in order.
    pub(crate) async fn append_sealed(
        &self,
        context: &str,
        stream: &str,
        images: impl Iterator<Item = &[u8]>,
    ) -> AppResult<Vec<String>> {
        let sealed = images
            .map(|bytes| self.vault.encrypt_bytes(context, bytes))
            .collect::<AppResult<Vec<_>>>()?;
        self.images
            .append(stream, sealed)
            .await
            .map_err(|e| AppError::Internal(format!("image store: {e}")))
    }

    /// The image under `key`, opened with the vault under `context` (`None`: no such image).
    pub(crate) async fn get_sealed(&self, context: &str, key: &str) -> AppResult<Option<Vec<u8>>> {
        let sealed = self
            .images
            .get(key)
            .await
            .map_err(|e| AppError::Internal(format!("image store: {e}")))?;
        sealed.map(|s| self.vault.decrypt_bytes(context, &s)).transpose()
    }

    /// Deletes image files after their rows are gone; a failure leaves an orphan file that
    /// nothing refers to and is logged.
    pub(crate) async fn delete_images(&self, keys: &[String]) {
        for key in keys {
            if let Err(e) = self.images.delete(key).await {
                tracing::warn!(key, error = %e, "image not deleted");
            }
        }
    }

    /// The enrolled photo of `person_ref` for a terminal that may hold it in its library: the
    /// person has an active consent and a grant reaching the terminal's door. Returns the
    /// image and its format.
    pub async fn device_face_photo(
        &self,
        device_code: &str,
        person_ref: &str,
    ) -> AppResult<(Vec<u8>, String)> {
        let not_found = || AppError::NotFound { entity: "face photo" };
        let person_id: i64 = person_ref.parse().map_err(|_| not_found())?;
        let device = self
            .cached_device(device_code)
            .await?
            .ok_or(AppError::NotFound { entity: "device" })?;
        let Some(door) = &device.door else {
            return Err(not_found());
        };
        let Some(policy) = self.person_policy(person_id).await? else {
            return Err(not_found());
        };
        let reaches = policy.grants.iter().any(|g| grant_reaches(g, door));
        if !policy.face_consent || !reaches || policy.denied_in.contains(&door.community_id) {
            return Err(not_found());
        }
        let mut tx = self.store.read().await?;
        let photo = tx.face_photo(person_id).await?.ok_or_else(not_found)?;
        let bytes = self
            .get_sealed(PHOTO_CONTEXT, &photo.image_key)
            .await?
            .ok_or_else(not_found)?;
        Ok((bytes, photo.format))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(img: image::DynamicImage, format: image::ImageFormat) -> Vec<u8> {
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, format).unwrap();
        out.into_inner()
    }

    /// A synthetic portrait: a gradient with some texture.
    fn portrait(w: u32, h: u32) -> image::DynamicImage {
        image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(w, h, |x, y| {
            image::Rgb([(x * 255 / w) as u8, (y * 255 / h) as u8, ((x ^ y) & 0xff) as u8])
        }))
    }

    #[test]
    fn good_photos_pass_with_their_shape_and_digest() {
        let bytes = encode(portrait(300, 400), image::ImageFormat::Png);
        let info = check_photo(&bytes).unwrap();
        assert_eq!((info.format, info.width, info.height), ("png", 300, 400));
        assert_eq!(info.sha256.len(), 64);
        let jpeg = encode(portrait(480, 640), image::ImageFormat::Jpeg);
        assert_eq!(check_photo(&jpeg).unwrap().format, "jpeg");
    }

    #[test]
    fn bad_photos_are_refused_with_precise_codes() {
        let code = |bytes: &[u8]| match check_photo(bytes) {
            Err(AppError::Invalid { code, .. }) => code,
            other => panic!("expected a refusal, got {other:?}"),
        };
        assert_eq!(code(b"GIF89a not a photo"), "unsupported_photo");
        let png = encode(portrait(300, 400), image::ImageFormat::Png);
        assert_eq!(code(&png[..png.len() / 2]), "unreadable_photo");
        assert_eq!(
            code(&encode(portrait(100, 120), image::ImageFormat::Png)),
            "photo_dimensions",
            "an ID-card-sized photo is too small to enrol"
        );
        assert_eq!(
            code(&encode(portrait(200, 900), image::ImageFormat::Png)),
            "photo_dimensions"
        );
        let blank =
            image::DynamicImage::ImageLuma8(image::GrayImage::from_pixel(300, 400, image::Luma([250])));
        assert_eq!(code(&encode(blank, image::ImageFormat::Png)), "blank_photo");
        assert_eq!(code(&vec![0xff; MAX_PHOTO_BYTES + 1]), "photo_too_large");
    }
}
