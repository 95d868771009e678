//! Licence plates from pictures, for capture cameras without on-board plate reading: PP-OCRv4
//! text detection (DB) and recognition (CTC) ONNX models from the PyPI wheel
//! `rapidocr-onnxruntime==1.4.4`, run with `tract-onnx` (pure Rust). The recognition dictionary
//! is read from the model's metadata (`character`). tract needs fixed input shapes, so detection
//! runs on a fixed canvas (the picture scaled to fit and padded) and recognition on 48×320.
//!
//! A plate region of interest (the lane's part of the frame) cuts detection time; a crop that is
//! already a plate goes straight to recognition. The caller validates the text by the plate rules.

use crate::face::Rect;
use crate::{VisionError, VisionResult};
use image::{GrayImage, Luma, RgbImage, imageops::FilterType};
use imageproc::region_labelling::{Connectivity, connected_components};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use tract_onnx::prelude::*;

type Plan = std::sync::Arc<TypedRunnableModel>;

/// Recognition input height and width.
const REC_H: usize = 48;
const REC_W: usize = 320;

/// Where the OCR models are.
#[derive(Debug, Clone)]
pub struct PlateModels {
    /// The models directory (see `scripts/fetch-models.sh`).
    pub dir: PathBuf,
}

impl PlateModels {
    fn det(&self) -> PathBuf {
        self.dir.join("ch_PP-OCRv4_det_infer.onnx")
    }
    fn rec(&self) -> PathBuf {
        self.dir.join("ch_PP-OCRv4_rec_infer.onnx")
    }
}

/// A plate read from a picture.
#[derive(Debug, Clone, PartialEq)]
pub struct PlateRead {
    /// The text as read, separators removed (validate it by the plate rules).
    pub text: String,
    /// Mean per-character confidence.
    pub confidence: f32,
    /// Where, in the picture's pixels.
    pub rect: Rect,
    /// `blue`, `yellow`, `green`, `white`, `black`.
    pub colour: &'static str,
}

/// PP-OCRv4 detection + recognition. Not shared between threads: one per worker.
pub struct PlateReader {
    det: InferenceModel,
    det_plans: HashMap<(usize, usize), Plan>,
    rec: Plan,
    labels: Vec<String>,
    /// The labels of the province abbreviations (a plate's first character).
    provinces: Vec<usize>,
    /// The labels of the issuing-authority letters (its second character: A–Z without I and O).
    letters: Vec<usize>,
}

impl std::fmt::Debug for PlateReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlateReader")
            .field("labels", &self.labels.len())
            .finish()
    }
}

/// The province abbreviations that open a civil plate (GA 36).
pub const PROVINCES: &[char] = &[
    '京', '津', '沪', '渝', '冀', '豫', '云', '辽', '黑', '湘', '皖', '鲁', '新', '苏', '浙', '赣', '鄂',
    '桂', '甘', '晋', '蒙', '陕', '吉', '闽', '贵', '粤', '青', '藏', '川', '宁', '琼',
];

fn model_error(what: &str, e: impl std::fmt::Display) -> VisionError {
    VisionError::Model(what.into(), e.to_string())
}

fn check(path: &Path, what: &str) -> VisionResult<()> {
    if path.is_file() {
        Ok(())
    } else {
        Err(model_error(
            what,
            format!("{} missing: run scripts/fetch-models.sh", path.display()),
        ))
    }
}

fn runnable(model: InferenceModel, shape: [usize; 4], what: &str) -> VisionResult<Plan> {
    model
        .with_input_fact(0, f32::fact(shape).into())
        .and_then(|m| m.into_optimized())
        .and_then(|m| m.into_runnable())
        .map_err(|e| model_error(what, e))
}

/// The image as a Paddle input: BGR, (x/255 − 0.5)/0.5, NCHW, into a canvas of `w`×`h` (zeros
/// beyond the image).
fn tensor(image: &RgbImage, w: usize, h: usize) -> Tensor {
    let mut t = tract_ndarray::Array4::<f32>::zeros((1, 3, h, w));
    for (x, y, p) in image.enumerate_pixels() {
        let (x, y) = (x as usize, y as usize);
        if x < w && y < h {
            for (c, v) in [p[2], p[1], p[0]].into_iter().enumerate() {
                t[[0, c, y, x]] = (f32::from(v) / 255.0 - 0.5) / 0.5;
            }
        }
    }
    t.into_tensor()
}

impl PlateReader {
    /// Loads both models and the dictionary; plans recognition at 48×320.
    pub fn load(models: &PlateModels) -> VisionResult<PlateReader> {
        let onnx = tract_onnx::onnx();
        check(&models.rec(), "plate recognition")?;
        check(&models.det(), "plate detection")?;
        let proto = onnx
            .proto_model_for_path(models.rec())
            .map_err(|e| model_error("plate recognition", e))?;
        let dict = proto
            .metadata_props
            .iter()
            .find(|p| p.key == "character")
            .map(|p| p.value.clone())
            .ok_or_else(|| model_error("plate recognition", "no character dictionary in the model"))?;
        // CTC labels: blank, the dictionary, and a space.
        let mut labels = vec![String::new()];
        labels.extend(dict.lines().map(str::to_string));
        labels.push(" ".into());
        let provinces = labels
            .iter()
            .enumerate()
            .filter(|(_, l)| l.chars().count() == 1 && l.chars().all(|c| PROVINCES.contains(&c)))
            .map(|(i, _)| i)
            .collect();
        let letters = labels
            .iter()
            .enumerate()
            .filter(|(_, l)| {
                l.len() == 1
                    && l.bytes()
                        .all(|b| b.is_ascii_uppercase() && b != b'I' && b != b'O')
            })
            .map(|(i, _)| i)
            .collect();
        let rec = onnx
            .model_for_proto_model(&proto)
            .map_err(|e| model_error("plate recognition", e))?;
        let rec = runnable(rec, [1, 3, REC_H, REC_W], "plate recognition")?;
        let det = onnx
            .model_for_path(models.det())
            .map_err(|e| model_error("plate detection", e))?;
        Ok(PlateReader {
            det,
            det_plans: HashMap::new(),
            rec,
            labels,
            provinces,
            letters,
        })
    }

    /// Reads a plate crop (recognition only): text and mean confidence.
    pub fn read_crop(&mut self, crop: &RgbImage) -> VisionResult<(String, f32)> {
        let (w, h) = crop.dimensions();
        if w == 0 || h == 0 {
            return Err(VisionError::NoFace);
        }
        let width = ((REC_H as f64 * f64::from(w) / f64::from(h)).ceil() as u32).clamp(1, REC_W as u32);
        let resized = image::imageops::resize(crop, width, REC_H as u32, FilterType::Triangle);
        let out = self
            .rec
            .run(tvec!(tensor(&resized, REC_W, REC_H).into()))
            .map_err(|e| VisionError::Worker(e.to_string()))?;
        let probs = out[0]
            .to_plain_array_view::<f32>()
            .map_err(|e| VisionError::Worker(e.to_string()))?;
        let shape = probs.shape().to_vec();
        let (steps, classes) = (shape[1], shape[2]);
        let mut text = String::new();
        let mut confidence = Vec::new();
        let mut last = 0usize;
        for t in 0..steps {
            let (mut best, mut p) = (0usize, f32::MIN);
            for c in 0..classes {
                let v = probs[[0, t, c]];
                if v > p {
                    (best, p) = (c, v);
                }
            }
            if best != 0
                && best != last
                && let Some(label) = self.labels.get(best)
            {
                // A plate opens with its province and then a letter: a Chinese first character
                // that is no province is the likeliest province at that step (渝 is read as 激 or
                // 滁 otherwise), a Chinese second character after a province the likeliest letter
                // (X read as 队).
                let chinese = label.chars().next().is_some_and(|c| !c.is_ascii());
                let first = text.chars().next();
                let allowed = match (first, text.chars().count()) {
                    (None, _) if chinese && !label.chars().all(|c| PROVINCES.contains(&c)) => {
                        Some(&self.provinces)
                    }
                    (Some(p), 1) if chinese && PROVINCES.contains(&p) => Some(&self.letters),
                    _ => None,
                };
                let likeliest = allowed.and_then(|set| {
                    set.iter()
                        .copied()
                        .max_by(|a, b| probs[[0, t, *a]].total_cmp(&probs[[0, t, *b]]))
                });
                match likeliest {
                    Some(label) => {
                        text.push_str(&self.labels[label]);
                        confidence.push(probs[[0, t, label]]);
                    }
                    _ => {
                        text.push_str(label);
                        confidence.push(p);
                    }
                }
            }
            last = best;
        }
        let text: String = text
            .chars()
            .filter(|c| !matches!(c, '·' | '•' | '.' | ' ' | '-'))
            .collect();
        let mean = if confidence.is_empty() {
            0.0
        } else {
            confidence.iter().sum::<f32>() / confidence.len() as f32
        };
        Ok((text, mean))
    }

    /// Text boxes in `image` (DB on a fixed canvas of `canvas` pixels, multiples of 32).
    pub fn detect(&mut self, image: &RgbImage, canvas: (u32, u32)) -> VisionResult<Vec<(Rect, f32)>> {
        let (cw, ch) = ((canvas.0 / 32).max(1) * 32, (canvas.1 / 32).max(1) * 32);
        let (w, h) = image.dimensions();
        let scale = (f64::from(cw) / f64::from(w)).min(f64::from(ch) / f64::from(h));
        let (sw, sh) = (
            ((f64::from(w) * scale) as u32).max(1),
            ((f64::from(h) * scale) as u32).max(1),
        );
        let scaled = image::imageops::resize(image, sw, sh, FilterType::Triangle);
        let key = (cw as usize, ch as usize);
        if !self.det_plans.contains_key(&key) {
            // One optimised plan per canvas size (tract needs fixed shapes), built once.
            let plan = runnable(self.det.clone(), [1, 3, key.1, key.0], "plate detection")?;
            self.det_plans.insert(key, plan);
        }
        let plan = &self.det_plans[&key];
        let out = plan
            .run(tvec!(tensor(&scaled, key.0, key.1).into()))
            .map_err(|e| VisionError::Worker(e.to_string()))?;
        let map = out[0]
            .to_plain_array_view::<f32>()
            .map_err(|e| VisionError::Worker(e.to_string()))?;
        let (mh, mw) = (map.shape()[2], map.shape()[3]);
        let mut binary = GrayImage::new(mw as u32, mh as u32);
        for y in 0..mh {
            for x in 0..mw {
                if map[[0, 0, y, x]] > 0.3 {
                    binary.put_pixel(x as u32, y as u32, Luma([255]));
                }
            }
        }
        let labels = connected_components(&binary, Connectivity::Eight, Luma([0u8]));
        // Per component: bounding box, probability sum, pixel count.
        let mut boxes: HashMap<u32, (u32, u32, u32, u32, f32, u32)> = HashMap::new();
        for (x, y, l) in labels.enumerate_pixels() {
            if l[0] == 0 {
                continue;
            }
            let p = map[[0, 0, y as usize, x as usize]];
            let e = boxes.entry(l[0]).or_insert((x, y, x, y, 0.0, 0));
            e.0 = e.0.min(x);
            e.1 = e.1.min(y);
            e.2 = e.2.max(x);
            e.3 = e.3.max(y);
            e.4 += p;
            e.5 += 1;
        }
        let mut found = Vec::new();
        for (x0, y0, x1, y1, sum, n) in boxes.into_values() {
            let score = sum / n as f32;
            let (bw, bh) = (f64::from(x1 - x0 + 1), f64::from(y1 - y0 + 1));
            if score < 0.5 || bw.min(bh) < 3.0 {
                continue;
            }
            // Unclip: DB shrinks text regions; grow by area × 1.6 / perimeter.
            let d = bw * bh * 1.6 / (2.0 * (bw + bh));
            let back = |v: f64| (v / scale).max(0.0);
            let left = back(f64::from(x0) - d);
            let top = back(f64::from(y0) - d);
            let right = back(f64::from(x1) + 1.0 + d).min(f64::from(w));
            let bottom = back(f64::from(y1) + 1.0 + d).min(f64::from(h));
            found.push((
                Rect {
                    left: left as u32,
                    top: top as u32,
                    width: (right - left).max(1.0) as u32,
                    height: (bottom - top).max(1.0) as u32,
                },
                score,
            ));
        }
        found.sort_by(|a, b| b.1.total_cmp(&a.1));
        Ok(found)
    }

    /// Plates in a picture: detection (within `roi` when given) on a 960×544 canvas, then
    /// recognition and colour of each text box that reads as 7–8 characters.
    pub fn read_scene(&mut self, image: &RgbImage, roi: Option<Rect>) -> VisionResult<Vec<PlateRead>> {
        let (w, h) = image.dimensions();
        let region = roi.unwrap_or(Rect {
            left: 0,
            top: 0,
            width: w,
            height: h,
        });
        let left = region.left.min(w.saturating_sub(1));
        let top = region.top.min(h.saturating_sub(1));
        let view = image::imageops::crop_imm(
            image,
            left,
            top,
            region.width.min(w - left),
            region.height.min(h - top),
        )
        .to_image();
        let canvas = if roi.is_some() { (480, 288) } else { (960, 544) };
        let mut out = Vec::new();
        for (rect, _) in self.detect(&view, canvas)? {
            let crop =
                image::imageops::crop_imm(&view, rect.left, rect.top, rect.width, rect.height).to_image();
            let (text, confidence) = self.read_crop(&crop)?;
            let text = plate_fixups(&text);
            let n = text.chars().count();
            if !(7..=8).contains(&n) {
                continue;
            }
            out.push(PlateRead {
                // Eight characters are a new-energy plate (GA 36-2018), green fading to white,
                // whose pale half can outweigh the green in the crop.
                colour: if n == 8 { "green" } else { plate_colour(&crop) },
                text,
                confidence,
                rect: Rect {
                    left: rect.left + left,
                    top: rect.top + top,
                    ..rect
                },
            });
        }
        Ok(out)
    }
}

/// Plate-specific repairs of an OCR read. GA 36 never uses the letters I and O: an `I` read from
/// the separator dot or the border makes an 8-character read of a 7-character plate and is dropped;
/// otherwise `O` and `I` after the issuing letter are the digits they resemble.
pub fn plate_fixups(text: &str) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    // A stray letter from the plate's border before the province (not the armed police's WJ).
    if chars.len() == 8 && chars[0].is_ascii() && PROVINCES.contains(&chars[1]) {
        chars.remove(0);
    }
    if chars.first().is_none_or(char::is_ascii) {
        return chars.into_iter().collect();
    }
    if chars.len() == 8
        && let Some(i) = chars.iter().skip(1).position(|&c| c == 'I')
    {
        chars.remove(i + 1);
    }
    for c in chars.iter_mut().skip(2) {
        *c = match *c {
            'O' => '0',
            'I' => '1',
            other => other,
        };
    }
    chars.into_iter().collect()
}

/// The plate's background colour from its crop: the dominant saturated hue (blue, yellow,
/// green), else white or black by brightness.
pub fn plate_colour(crop: &RgbImage) -> &'static str {
    let (mut blue, mut yellow, mut green, mut bright, mut n) = (0u32, 0u32, 0u32, 0u32, 0u32);
    for p in crop.pixels() {
        let [r, g, b] = p.0.map(|v| f32::from(v) / 255.0);
        let max = r.max(g).max(b);
        let min = r.min(g).min(b);
        let sat = if max > 0.0 { (max - min) / max } else { 0.0 };
        n += 1;
        if max > 0.6 && sat < 0.25 {
            bright += 1;
        }
        if sat < 0.35 || max < 0.25 {
            continue;
        }
        let hue = if max == r {
            60.0 * ((g - b) / (max - min)).rem_euclid(6.0)
        } else if max == g {
            60.0 * ((b - r) / (max - min) + 2.0)
        } else {
            60.0 * ((r - g) / (max - min) + 4.0)
        };
        match hue {
            h if (190.0..260.0).contains(&h) => blue += 1,
            h if (30.0..70.0).contains(&h) => yellow += 1,
            h if (70.0..170.0).contains(&h) => green += 1,
            _ => {}
        }
    }
    let n = n.max(1);
    let (best, count) = [("blue", blue), ("yellow", yellow), ("green", green)]
        .into_iter()
        .max_by_key(|(_, c)| *c)
        .unwrap_or(("blue", 0));
    if count * 5 >= n {
        best
    } else if bright * 3 >= n {
        "white"
    } else {
        "black"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixups_follow_the_plate_alphabet() {
        assert_eq!(plate_fixups("皖NMRONS"), "皖NMR0NS");
        assert_eq!(plate_fixups("川IPVGHP9"), "川PVGHP9");
        assert_eq!(plate_fixups("粤BD12345"), "粤BD12345");
        assert_eq!(plate_fixups("鲁CA1234"), "鲁CA1234");
        assert_eq!(plate_fixups("ABC"), "ABC");
        assert_eq!(plate_fixups("J川J7QNE0"), "川J7QNE0");
        assert_eq!(plate_fixups("WJ川12345"), "WJ川12345");
    }
}
