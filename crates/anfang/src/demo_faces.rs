//! The demo's faces: two residents give their face-recognition consent and have a photo
//! enrolled (the public-domain portraits fetched with the models, `fixtures/` beside them), and
//! the simulated face terminals' camera gets other photos of passers-by — other pictures of the
//! enrolled residents and a stranger — to recognise against the library the platform syncs to
//! them. Nothing here decides a match: the terminal embeds what it sees with the same dlib models
//! and matches it against the enrolled photos it fetched (see `sim.rs`).

use crate::sim::{FaceSim, Passer};
use anfang_app::access::GiveConsent;
use anfang_app::registry::{ListQuery, PageRequest};
use anfang_app::{App, Principal};
use anyhow::Context;
use std::path::Path;
use std::sync::Arc;

/// Who is enrolled: (community code, enrolled photo). The manager's community gets the first, so
/// its live view shows a recognised face early; in the second community that face is a stranger.
const ENROLLED: &[(&str, &str)] = &[("370323001001001", "obama.jpg"), ("370323001001002", "biden.jpg")];

/// What the terminals' camera sees, in turn: a mirrored picture is another capture of the face.
const PASSERS: &[(&str, bool)] = &[
    ("obama2.jpg", false),
    ("biden.jpg", true),
    ("obama3.jpg", false),
    ("obama.jpg", true),
];

/// The long side of a capture: a door camera's snapshot, small enough for a device message.
const CAPTURE_SIDE: u32 = 640;

/// Enrols the demo's faces (once: a resident with a photo keeps it) and prepares the terminals'
/// captures; `None` without recognition or without the fixture photos (the demo then runs with
/// cards only).
pub async fn prepare(
    app: &App,
    admin: &Principal,
    models: &Path,
    base: &str,
) -> anyhow::Result<Option<FaceSim>> {
    let Some(recognition) = app.recognition() else {
        return Ok(None);
    };
    let dir = models.join("fixtures");
    if !dir.join(ENROLLED[0].1).exists() {
        println!(
            "no face fixtures in {} (scripts/fetch-models.sh fetches them): the terminals present cards only",
            dir.display()
        );
        return Ok(None);
    }
    for (code, photo) in ENROLLED {
        let bytes = std::fs::read(dir.join(photo)).with_context(|| format!("reading {photo}"))?;
        let bytes = portrait(&bytes, u32::MAX, false)?;
        enrol_one(app, admin, code, &bytes)
            .await
            .with_context(|| format!("enrolling {photo} in {code}"))?;
    }
    let pool = recognition.pool().clone();
    let mut passers = Vec::new();
    for (file, mirrored) in PASSERS {
        let bytes = std::fs::read(dir.join(file)).with_context(|| format!("reading {file}"))?;
        let snapshot = portrait(&bytes, CAPTURE_SIDE, *mirrored)?;
        let jpeg = snapshot.clone();
        // The terminal's camera: detection and embedding of the capture, once per picture.
        let face = pool
            .run(move |engine| {
                anfang_vision::decode(&jpeg, anfang_vision::Limits::default())
                    .map(|image| anfang_vision::face::largest_face(engine, &image).map(|f| f.embedding))
            })
            .await??;
        passers.push(Passer {
            snapshot,
            embedding: face,
        });
    }
    Ok(Some(FaceSim {
        base: base.to_string(),
        pool,
        passers: Arc::new(passers),
    }))
}

/// Enrols `photo` for a resident (an owner, adult) of the community `code`, unless one of its
/// residents already has a photo.
async fn enrol_one(app: &App, admin: &Principal, code: &str, photo: &[u8]) -> anyhow::Result<()> {
    let community = {
        let mut tx = app.store().read().await?;
        tx.community_by_code(code).await?.context("no such community")?
    };
    let query = ListQuery {
        community_id: Some(community.id),
        ..Default::default()
    };
    let page = PageRequest {
        page: 1,
        page_size: 50,
    };
    let persons = app.list_persons(admin, &query, page).await?.items;
    for person in &persons {
        if app.face_photo(admin, person.id).await.is_ok() {
            return Ok(());
        }
    }
    for person in persons
        .iter()
        .filter(|p| p.houses.iter().any(|h| h.role == "owner"))
    {
        let consent = GiveConsent {
            given_by: "self".into(),
            guardian_name: None,
        };
        // A minor needs a guardian: the next owner then.
        if app.give_face_consent(admin, person.id, &consent).await.is_err() {
            continue;
        }
        app.enroll_face(admin, person.id, photo).await?;
        return Ok(());
    }
    anyhow::bail!("no adult owner to enrol")
}

/// A photo as a head-and-shoulders portrait, JPEG: a tall picture is cut to its top (a
/// standing person's head; an enrolment photo is at most twice as long as wide), scaled to
/// `side` at most and mirrored when asked (a door camera's snapshot of a passer-by).
fn portrait(bytes: &[u8], side: u32, mirrored: bool) -> anyhow::Result<Vec<u8>> {
    let image = image::load_from_memory(bytes)?;
    let (w, h) = (image.width(), image.height());
    let image = if h > w * 3 / 2 {
        image.crop_imm(0, 0, w, w * 3 / 2)
    } else {
        image
    };
    let image = if image.width().max(image.height()) > side {
        image.resize(side, side, image::imageops::FilterType::Triangle)
    } else {
        image
    };
    let image = if mirrored { image.fliph() } else { image };
    let mut out = std::io::Cursor::new(Vec::new());
    image.to_rgb8().write_to(&mut out, image::ImageFormat::Jpeg)?;
    Ok(out.into_inner())
}
