//! dlib on real photos (the `face_recognition` 1.3.0 sdist's public-domain portraits, fetched by
//! `scripts/fetch-models.sh`): same-person and different-person distances, the enrollment
//! quality refusals, bad input, and the worker pool around the real engine.

use anfang_vision::face::{Quality, Scaling, enrollment_face, find_faces};
use anfang_vision::{DlibFaces, FaceEngine, FaceModels, FacePool, Limits, VisionError, decode};
use image::{RgbImage, imageops::FilterType};

fn models() -> FaceModels {
    let dir = FaceModels::default_dir();
    assert!(
        dir.join("fixtures/obama.jpg").is_file(),
        "models and fixtures missing in {}: run scripts/fetch-models.sh",
        dir.display()
    );
    FaceModels { dir }
}

fn photo(name: &str) -> RgbImage {
    let bytes = std::fs::read(models().dir.join("fixtures").join(name)).unwrap();
    decode(&bytes, Limits::default()).unwrap()
}

fn jpeg(image: &RgbImage) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    image.write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
    out.into_inner()
}

#[test]
fn same_person_is_near_and_different_people_far() {
    let mut engine = DlibFaces::load(&models()).unwrap();
    let q = Quality::default();
    let obama = enrollment_face(&mut engine, &photo("obama.jpg"), q).unwrap();
    let obama2 = enrollment_face(&mut engine, &photo("obama2.jpg"), q).unwrap();
    let obama3 = enrollment_face(&mut engine, &photo("obama3.jpg"), q).unwrap();
    let biden = enrollment_face(&mut engine, &photo("biden.jpg"), q).unwrap();
    for (a, b) in [(&obama, &obama2), (&obama, &obama3), (&obama2, &obama3)] {
        let d = a.embedding.distance(&b.embedding);
        assert!(d < 0.5, "same person at {d}");
    }
    for o in [&obama, &obama2, &obama3] {
        let d = o.embedding.distance(&biden.embedding);
        assert!(d > 0.7, "different people at {d}");
    }
    assert!(obama.rect.width > 150, "{:?}", obama.rect);
    assert!(
        obama.sharpness > Quality::default().min_sharpness,
        "{}",
        obama.sharpness
    );
}

#[test]
fn enrollment_refuses_bad_photos_precisely() {
    let mut engine = DlibFaces::load(&models()).unwrap();
    let q = Quality::default();
    let obama = photo("obama.jpg");

    let black = RgbImage::new(640, 480);
    assert_eq!(enrollment_face(&mut engine, &black, q), Err(VisionError::Blank));

    let mut noise = RgbImage::new(400, 400);
    for (x, y, p) in noise.enumerate_pixels_mut() {
        *p = image::Rgb([(x * 7 % 256) as u8, (y * 13 % 256) as u8, ((x + y) % 256) as u8]);
    }
    assert_eq!(enrollment_face(&mut engine, &noise, q), Err(VisionError::NoFace));

    let biden = photo("biden.jpg");
    let (a, b) = (
        image::imageops::resize(&obama, 455, 568, FilterType::Triangle),
        image::imageops::resize(&biden, 485, 1102, FilterType::Triangle),
    );
    let mut pair = RgbImage::new(a.width() + b.width(), a.height().max(b.height()));
    image::imageops::replace(&mut pair, &a, 0, 0);
    image::imageops::replace(&mut pair, &b, i64::from(a.width()), 0);
    assert_eq!(
        enrollment_face(&mut engine, &pair, q),
        Err(VisionError::SeveralFaces(2))
    );

    let blurred = image::imageops::blur(&obama, 6.0);
    assert!(matches!(
        enrollment_face(&mut engine, &blurred, q),
        Err(VisionError::Blurred(..))
    ));

    // A face ~60 px wide is found (the small picture is upsampled) but refused at enrollment.
    let small = image::imageops::resize(&obama, 180, 225, FilterType::Triangle);
    let err = enrollment_face(&mut engine, &small, q).err().map(|e| e.code());
    assert_eq!(err, Some("face_too_small"));
}

#[test]
fn an_id_card_sized_photo_is_upsampled_and_still_matches() {
    let mut engine = DlibFaces::load(&models()).unwrap();
    let live = enrollment_face(&mut engine, &photo("obama2.jpg"), Quality::default()).unwrap();
    // The second-generation ID card's photo is about 102×126 px.
    let card = image::imageops::resize(&photo("obama.jpg"), 102, 126, FilterType::Triangle);
    let faces = find_faces(&mut engine, &card, Scaling::default());
    assert_eq!(faces.len(), 1);
    let d = faces[0].embedding.distance(&live.embedding);
    assert!(d < 0.6, "1:1 at {d}");
}

#[test]
fn bad_input_gets_precise_errors() {
    let obama = std::fs::read(models().dir.join("fixtures/obama.jpg")).unwrap();
    let code = |bytes: &[u8]| decode(bytes, Limits::default()).err().map(|e| e.code());
    assert_eq!(code(b"GIF89a...."), Some("not_an_image"));
    assert_eq!(code(&obama[..obama.len() / 3]), Some("unreadable_image"));
    assert_eq!(code(&obama), None);
    // A JPEG whose header claims 8000×6250 (50 megapixels) is refused before decoding.
    let mut big = jpeg(&RgbImage::new(16, 16));
    let sof = big.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
    big[sof + 5..sof + 7].copy_from_slice(&6250u16.to_be_bytes());
    big[sof + 7..sof + 9].copy_from_slice(&8000u16.to_be_bytes());
    assert_eq!(code(&big), Some("image_too_large"));
}

#[tokio::test]
async fn the_pool_runs_the_real_engine() {
    let m = models();
    let pool = FacePool::start(2, 8, move || {
        DlibFaces::load(&m).map(|e| Box::new(e) as Box<dyn FaceEngine>)
    })
    .unwrap();
    assert_eq!(pool.model_id(), "dlib-resnet-v1");
    let img = photo("obama3.jpg");
    let faces = pool
        .run(move |e| find_faces(e, &img, Scaling::default()))
        .await
        .unwrap();
    assert_eq!(faces.len(), 1);
}
