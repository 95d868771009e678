//! Plates with the real PP-OCRv4 models (from the `rapidocr-onnxruntime` wheel, fetched by
//! `scripts/fetch-models.sh`) on scenes rendered with a Debian CJK font: the right text and
//! colour for blue, yellow and green (new-energy, 8 characters) plates, with and without a
//! region of interest, and a crop read by recognition alone.

use anfang_vision::face::Rect;
use anfang_vision::plate::{PlateModels, PlateReader, plate_colour};
use anfang_vision::synth;

fn reader() -> PlateReader {
    let dir = anfang_vision::FaceModels::default_dir();
    PlateReader::load(&PlateModels { dir }).expect("OCR models: run scripts/fetch-models.sh")
}

#[test]
fn scenes_read_to_the_right_plate_and_colour() {
    let font = synth::cjk_font().expect("a CJK font (fonts-noto-cjk)");
    let mut reader = reader();
    for (seed, colour, text) in [
        (1, "blue", "鲁CA1234"),
        (2, "yellow", "京A88888"),
        (3, "green", "粤BD12345"),
    ] {
        let scene = synth::scene(&font, seed, colour, Some(text));
        let reads = reader.read_scene(&scene.image, None).unwrap();
        let best = reads.iter().find(|r| r.text == text);
        assert!(best.is_some(), "{colour} {text}: read {reads:?}");
        let best = best.unwrap();
        assert_eq!(best.colour, colour, "{text}");
        // The box is where the plate was drawn.
        let (cx, cy) = (
            best.rect.left + best.rect.width / 2,
            best.rect.top + best.rect.height / 2,
        );
        assert!(
            cx.abs_diff(scene.rect.left + scene.rect.width / 2) < 40,
            "{:?} vs {:?}",
            best.rect,
            scene.rect
        );
        assert!(
            cy.abs_diff(scene.rect.top + scene.rect.height / 2) < 30,
            "{:?} vs {:?}",
            best.rect,
            scene.rect
        );
        // With the lane's region of interest the same plate is read.
        let roi = Rect {
            left: scene.rect.left.saturating_sub(120),
            top: scene.rect.top.saturating_sub(80),
            width: scene.rect.width + 240,
            height: scene.rect.height + 160,
        };
        let in_roi = reader.read_scene(&scene.image, Some(roi)).unwrap();
        assert!(in_roi.iter().any(|r| r.text == text), "ROI: {in_roi:?}");
    }
}

#[test]
fn a_plate_crop_reads_by_recognition_alone() {
    let font = synth::cjk_font().expect("a CJK font (fonts-noto-cjk)");
    let mut reader = reader();
    let plate = synth::plate_image(&font, "苏E5T6Y7", "blue");
    let (text, confidence) = reader.read_crop(&plate).unwrap();
    assert_eq!(text, "苏E5T6Y7");
    assert!(confidence > 0.8, "{confidence}");
    assert_eq!(plate_colour(&plate), "blue");
    assert_eq!(
        plate_colour(&synth::plate_image(&font, "京A88888", "yellow")),
        "yellow"
    );
}
