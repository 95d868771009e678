//! Synthetic plate scenes for tests and `anfang bench ocr`: Chinese plates of each colour drawn
//! with a CJK font from Debian (`fonts-noto-cjk`, or `fonts-wqy-zenhei`), pasted into a cluttered
//! 1280×720 frame with a slight tilt, blur and a lighting change. Seeded, so reproducible.

use crate::face::Rect;
use crate::plate::PROVINCES;
use ab_glyph::{FontVec, PxScale};
use image::{Rgb, RgbImage, imageops::FilterType};
use rand::{Rng, SeedableRng, rngs::StdRng};

/// Where the CJK font is looked for.
pub const FONT_PATHS: &[&str] = &[
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
];

/// Loads the first CJK font found.
pub fn cjk_font() -> Option<FontVec> {
    FONT_PATHS.iter().find_map(|p| {
        let bytes = std::fs::read(p).ok()?;
        FontVec::try_from_vec_and_index(bytes, 0).ok()
    })
}

/// A rendered scene and what it shows.
#[derive(Debug, Clone)]
pub struct Scene {
    /// The frame.
    pub image: RgbImage,
    /// The plate text, without separator (e.g. `鲁CA1234`).
    pub text: String,
    /// `blue`, `yellow`, `green`, `black`.
    pub colour: &'static str,
    /// Where the plate is.
    pub rect: Rect,
}

const LETTERS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
const ALNUM: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ0123456789";

/// A random plate of `colour`: 7 characters, 8 for green new-energy plates.
pub fn random_plate(rng: &mut StdRng, colour: &'static str) -> String {
    let mut s = String::new();
    s.push(PROVINCES[rng.gen_range(0..PROVINCES.len())]);
    s.push(LETTERS[rng.gen_range(0..LETTERS.len())] as char);
    if colour == "green" {
        // Small new-energy cars: D or F, then five digits (GA 36-2018).
        s.push(if rng.gen_bool(0.5) { 'D' } else { 'F' });
        for _ in 0..5 {
            s.push((b'0' + rng.gen_range(0..10)) as char);
        }
    } else {
        for _ in 0..5 {
            s.push(ALNUM[rng.gen_range(0..ALNUM.len())] as char);
        }
    }
    s
}

/// The plate itself, 440×140, as GA 36 draws it (characters 45×90, separator dot after two).
pub fn plate_image(font: &FontVec, text: &str, colour: &'static str) -> RgbImage {
    let (bg, fg): (Rgb<u8>, Rgb<u8>) = match colour {
        "yellow" => (Rgb([235, 190, 20]), Rgb([10, 10, 10])),
        "green" => (Rgb([120, 200, 120]), Rgb([10, 10, 10])),
        "black" => (Rgb([15, 15, 15]), Rgb([240, 240, 240])),
        _ => (Rgb([20, 70, 190]), Rgb([245, 245, 245])),
    };
    let mut img = RgbImage::from_fn(440, 140, |_, y| {
        if colour == "green" {
            // New-energy plates fade from green to white.
            let t = y as f32 / 140.0;
            Rgb([
                (120.0 + 120.0 * t) as u8,
                (200.0 + 45.0 * t) as u8,
                (120.0 + 115.0 * t) as u8,
            ])
        } else {
            bg
        }
    });
    imageproc::drawing::draw_hollow_rect_mut(&mut img, imageproc::rect::Rect::at(5, 5).of_size(430, 130), fg);
    imageproc::drawing::draw_hollow_rect_mut(&mut img, imageproc::rect::Rect::at(6, 6).of_size(428, 128), fg);
    let chars: Vec<char> = text.chars().collect();
    let n = chars.len();
    let step = if n == 8 { 50 } else { 57 };
    let scale = PxScale {
        x: if n == 8 { 82.0 } else { 92.0 },
        y: 100.0,
    };
    let mut x = 16i32;
    for (i, c) in chars.iter().enumerate() {
        if i == 2 {
            imageproc::drawing::draw_filled_circle_mut(&mut img, (x + 6, 70), 5, fg);
            x += 16;
        }
        imageproc::drawing::draw_text_mut(&mut img, fg, x, 14, scale, font, &c.to_string());
        x += step;
    }
    img
}

/// A 1280×720 cluttered frame with one plate of `colour` (random text when `text` is `None`).
pub fn scene(font: &FontVec, seed: u64, colour: &'static str, text: Option<&str>) -> Scene {
    let mut rng = StdRng::seed_from_u64(seed);
    let text = text
        .map(str::to_string)
        .unwrap_or_else(|| random_plate(&mut rng, colour));
    let base = [
        rng.gen_range(60..160u8),
        rng.gen_range(60..160u8),
        rng.gen_range(60..160u8),
    ];
    let mut frame = RgbImage::from_fn(1280, 720, |x, y| {
        let shade = ((x + y) / 16 % 24) as u8;
        Rgb([
            base[0].saturating_add(shade),
            base[1].saturating_add(shade / 2),
            base[2],
        ])
    });
    // Clutter: a car body, windows, signs.
    for _ in 0..12 {
        let (x, y) = (rng.gen_range(0..1200), rng.gen_range(0..680));
        let (w, h) = (rng.gen_range(40..300), rng.gen_range(20..200));
        let c = Rgb([rng.r#gen(), rng.r#gen(), rng.r#gen()]);
        imageproc::drawing::draw_filled_rect_mut(
            &mut frame,
            imageproc::rect::Rect::at(x, y).of_size(w, h),
            c,
        );
    }
    let plate = plate_image(font, &text, colour);
    let (pw, ph) = (rng.gen_range(200..260u32), 0);
    let ph = if ph == 0 { pw * 140 / 440 } else { ph };
    let mut small = image::imageops::resize(&plate, pw, ph, FilterType::Triangle);
    let angle = rng.gen_range(-3.0f32..3.0).to_radians();
    small = imageproc::geometric_transformations::rotate_about_center(
        &small,
        angle,
        imageproc::geometric_transformations::Interpolation::Bilinear,
        imageproc::geometric_transformations::Border::Constant(Rgb([base[0], base[1], base[2]])),
    );
    let (px, py) = (
        rng.gen_range(300..1280 - pw - 300),
        rng.gen_range(380..720 - ph - 40),
    );
    image::imageops::replace(&mut frame, &small, i64::from(px), i64::from(py));
    let light = rng.gen_range(0.75f32..1.2);
    for p in frame.pixels_mut() {
        for v in p.0.iter_mut() {
            *v = (f32::from(*v) * light).min(255.0) as u8;
        }
    }
    let frame = image::imageops::blur(&frame, rng.gen_range(0.3f32..1.0));
    Scene {
        image: frame,
        text,
        colour,
        rect: Rect {
            left: px,
            top: py,
            width: pw,
            height: ph,
        },
    }
}
