//! The console's files, embedded at build time by `build.rs` when `console/dist` existed.

include!(concat!(env!("OUT_DIR"), "/console_assets.rs"));

/// The embedded console.
pub struct EmbeddedConsole;

impl anfang_api::ConsoleAssets for EmbeddedConsole {
    fn get(&self, path: &str) -> Option<(std::borrow::Cow<'static, [u8]>, &'static str)> {
        FILES
            .iter()
            .find(|(p, _, _)| *p == path)
            .map(|(_, bytes, mime)| (std::borrow::Cow::Borrowed(*bytes), *mime))
    }
}

/// The console, if this binary carries one.
pub fn embedded() -> Option<std::sync::Arc<dyn anfang_api::ConsoleAssets>> {
    if FILES.is_empty() {
        None
    } else {
        Some(std::sync::Arc::new(EmbeddedConsole))
    }
}
