//! Recognition end to end through the use-cases, with dlib's real models and real photos (the
//! `face_recognition` 1.3.0 sdist's portraits, fetched by `scripts/fetch-models.sh`): obama.jpg
//! enrolled under consent, obama2.jpg captured → matched to him; biden.jpg → a stranger, and the
//! same stranger at each later sighting; consent withdrawn → the template leaves the gallery and
//! his next capture is no longer matched; strangers and search by image for police roles only.

use anfang_app::access::GiveConsent;
use anfang_app::captures::NewCapture;
use anfang_app::recognition::{Recognition, RecognitionConfig};
use anfang_app::registry::*;
use anfang_app::{App, AppConfig, Principal};
use common::user;

mod common;
use anfang_vision::{DlibFaces, FaceEngine, FaceModels, FacePool};
use image::imageops::FilterType;
use sha2::Digest;

fn models() -> FaceModels {
    let dir = FaceModels::default_dir();
    assert!(
        dir.join("fixtures/obama.jpg").is_file(),
        "models and fixtures missing in {}: run scripts/fetch-models.sh",
        dir.display()
    );
    FaceModels { dir }
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(models().dir.join("fixtures").join(name)).unwrap()
}

/// A camera-sized JPEG of a fixture (long side `side` px), as a capture camera would send.
fn capture_jpeg(name: &str, side: u32, mirror: bool) -> Vec<u8> {
    let img = image::load_from_memory(&fixture(name)).unwrap().to_rgb8();
    let (w, h) = img.dimensions();
    let scale = f64::from(side) / f64::from(w.max(h));
    let mut small = image::imageops::resize(
        &img,
        (f64::from(w) * scale) as u32,
        (f64::from(h) * scale) as u32,
        FilterType::Triangle,
    );
    if mirror {
        small = image::imageops::flip_horizontal(&small);
    }
    let mut out = std::io::Cursor::new(Vec::new());
    small.write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
    out.into_inner()
}

struct World {
    app: App,
    admin: Principal,
    police: Principal,
    manager: Principal,
    person: i64,
    consent: i64,
    camera: String,
}

async fn world(dir: &std::path::Path) -> World {
    let m = models();
    let pool = FacePool::start(2, 16, move || {
        DlibFaces::load(&m).map(|e| Box::new(e) as Box<dyn FaceEngine>)
    })
    .unwrap();
    let app = common::app(dir, AppConfig::default())
        .await
        .with_recognition(Recognition::new(pool, RecognitionConfig::default()));
    let admin = user(&app, "admin", "district_admin", "district").await;
    let community = common::community(&app, &admin).await;
    let police = user(
        &app,
        "police",
        "community_police",
        &format!("community:{}", community.code),
    )
    .await;
    let manager = user(
        &app,
        "manager",
        "property_manager",
        &format!("community:{}", community.code),
    )
    .await;
    let person = app
        .create_person(
            &admin,
            &CreatePerson {
                community_id: community.id,
                name: "张三丰".into(),
                gender: "male".into(),
                id_type: "resident_id".into(),
                id_number: "370323198001010018".into(),
                phone: None,
                population_type: "registered".into(),
                tags: vec![],
                house: None,
            },
        )
        .await
        .unwrap();
    let consent = app
        .give_face_consent(
            &admin,
            person.id,
            &GiveConsent {
                given_by: "self".into(),
                guardian_name: None,
            },
        )
        .await
        .unwrap();
    let camera = "37032300001190000001".to_string();
    app.create_device(
        None,
        &CreateDevice {
            code: camera.clone(),
            name: Some("南门人脸抓拍".into()),
            kind: "face_capture_camera".into(),
            protocol: "gat1400".into(),
            community_id: Some(community.id),
            ..CreateDevice::default()
        },
    )
    .await
    .unwrap();
    World {
        app,
        admin,
        police,
        manager,
        person: person.id,
        consent: consent.id,
        camera,
    }
}

async fn capture(w: &World, record_id: &str, jpeg: Vec<u8>) -> anfang_app::recognition::Recognised {
    let hash = hex::encode(sha2::Sha256::digest(&jpeg));
    w.app
        .ingest_captures(
            &w.camera,
            &[NewCapture {
                kind: "face",
                camera_code: None,
                record_id: record_id.into(),
                shot_at_ms: None,
                plate: None,
                event: None,
                attributes_json: "{}".into(),
                images: vec![jpeg],
                content_hash: hash,
            }],
        )
        .await
        .unwrap();
    let mut done = w.app.recognise_pending(10).await.unwrap();
    assert_eq!(done.len(), 1, "one capture recognised");
    done.remove(0)
}

#[tokio::test]
async fn residents_are_matched_strangers_stay_stable_and_consent_withdrawal_forgets() {
    let dir = tempfile::tempdir().unwrap();
    let w = world(dir.path()).await;
    let r = w.app.recognition().unwrap().clone();

    // Enrollment checks the photo: a blank frame and a photo with no face are refused.
    let mut blank = std::io::Cursor::new(Vec::new());
    image::RgbImage::new(400, 500)
        .write_to(&mut blank, image::ImageFormat::Png)
        .unwrap();
    let err = w
        .app
        .enroll_face(&w.admin, w.person, blank.get_ref())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "blank_photo");
    w.app
        .enroll_face(&w.admin, w.person, &fixture("obama.jpg"))
        .await
        .unwrap();
    assert!(r.has_person(w.person));
    assert_eq!(r.gallery_sizes().0, 1);

    // His other photo, captured at the gate → him, with distance and margin.
    let seen = capture(&w, "R1", capture_jpeg("obama2.jpg", 640, false)).await;
    assert_eq!(seen.outcome, "resident");
    assert_eq!(seen.person_id, Some(w.person));
    assert!(seen.distance.unwrap() < 0.5, "{seen:?}");

    // Someone else → a stranger; seen again (another size, mirrored) → the same stranger.
    let first = capture(&w, "R2", capture_jpeg("biden.jpg", 800, false)).await;
    assert_eq!(first.outcome, "stranger");
    let stranger = first.stranger_id.unwrap();
    let again = capture(&w, "R3", capture_jpeg("biden.jpg", 600, true)).await;
    assert_eq!(
        (again.outcome.as_str(), again.stranger_id),
        ("stranger", Some(stranger))
    );
    let third = capture(&w, "R4", capture_jpeg("biden.jpg", 1000, false)).await;
    assert_eq!(third.stranger_id, Some(stranger));

    // Strangers are for police roles only; the count is what the stranger rule uses.
    let list = w.app.strangers(&w.police, 1).await.unwrap();
    assert_eq!((list.len(), list[0].id, list[0].sightings), (1, stranger, 3));
    assert_eq!(
        w.app.strangers(&w.manager, 1).await.unwrap_err().code(),
        "forbidden"
    );

    // Search by image (police only): his third photo finds his capture, not the others.
    let hits = w
        .app
        .search_by_image(&w.police, &fixture("obama3.jpg"), 10)
        .await
        .unwrap();
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert!(hits[0].distance < 0.5);
    let err = w
        .app
        .search_by_image(&w.manager, &fixture("obama3.jpg"), 10)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "forbidden");

    // Consent withdrawn: the template leaves the gallery, and his next capture is unknown.
    w.app.revoke_consent(&w.admin, w.person, w.consent).await.unwrap();
    assert!(!r.has_person(w.person));
    assert_eq!(r.gallery_sizes().0, 0);
    let after = capture(&w, "R5", capture_jpeg("obama3.jpg", 700, false)).await;
    assert_eq!((after.outcome.as_str(), after.person_id), ("stranger", None));
    assert_ne!(after.stranger_id, Some(stranger));

    // After a restart the galleries load from the store: the strangers are still there.
    let sizes = w.app.load_galleries().await.unwrap();
    assert_eq!(sizes, (0, 0, 2));
}

#[tokio::test]
async fn booth_one_to_one_and_bad_pictures() {
    let dir = tempfile::tempdir().unwrap();
    let w = world(dir.path()).await;
    // The ID card's photo is ~102×126 px: upsampled, it still matches the live snapshot.
    let card = {
        let img = image::load_from_memory(&fixture("obama.jpg")).unwrap().to_rgb8();
        let small = image::imageops::resize(&img, 102, 126, FilterType::Triangle);
        let mut out = std::io::Cursor::new(Vec::new());
        small.write_to(&mut out, image::ImageFormat::Png).unwrap();
        out.into_inner()
    };
    let same = w
        .app
        .compare_faces(&capture_jpeg("obama2.jpg", 640, false), &card)
        .await
        .unwrap();
    assert!(same.same_person, "{same:?}");
    let other = w
        .app
        .compare_faces(&capture_jpeg("biden.jpg", 640, false), &card)
        .await
        .unwrap();
    assert!(!other.same_person, "{other:?}");

    // A capture whose picture is not an image is recorded as unreadable; nothing panics.
    let seen = capture(&w, "BAD", b"not a picture".to_vec()).await;
    assert_eq!(seen.outcome, "unreadable");
    let err = w.app.compare_faces(b"nope", &card).await.unwrap_err();
    assert_eq!((err.code(), err.field_name()), ("not_an_image", Some("live")));
}
