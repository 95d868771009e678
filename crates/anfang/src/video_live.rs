//! Live video for the console: the binary's [`LiveVideo`]. A camera is played through the
//! device that lists it in its catalogue (an NVR), or itself when it registered on its own:
//! INVITE over the platform side ([`LiveStream`], PS over RTP to a local port), access units
//! remuxed to fragmented MP4 ([`Fmp4Muxer`]) and fanned out to every viewer of that camera.
//! One stream per camera however many watch; BYE when the last viewer leaves, or when the
//! device sends nothing for [`IDLE`].
//!
//! A viewer joins at a key frame; a viewer too slow to take fragments loses them until the
//! next key frame (live video skips rather than lags).

use anfang_app::App;
use anfang_app::store::DeviceRow;
use anfang_app::video_live::{LiveVideo, LiveVideoError, LiveWatch};
use anfang_gb28181::fmp4::{Fmp4Muxer, InitSegment, Segment};
use anfang_gb28181::{GbId, LiveConfig, LiveStream, Platform};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// BYE after this long without a packet.
pub(crate) const IDLE: Duration = Duration::from_secs(10);
/// How long a first viewer waits for the stream's first key frame.
const FIRST_FRAME: Duration = Duration::from_secs(10);
/// Fragments queued per viewer before it skips to the next key frame.
const VIEWER_QUEUE: usize = 128;

struct Viewer {
    tx: mpsc::Sender<Vec<u8>>,
    /// Waiting for a key frame (just joined, or skipped).
    waiting: bool,
}

/// One camera's running stream.
struct CameraStream {
    viewers: Mutex<Vec<Viewer>>,
    init: watch::Receiver<Option<Result<InitSegment, String>>>,
}

/// The live-video hub over the platform side.
pub(crate) struct LiveHub {
    app: App,
    platform: Platform,
    media_ip: IpAddr,
    streams: Arc<Mutex<HashMap<String, Arc<CameraStream>>>>,
}

impl std::fmt::Debug for LiveHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveHub")
            .field("streams", &self.streams())
            .finish()
    }
}

impl LiveHub {
    /// A hub playing through `platform`, receiving on `media_ip`.
    pub(crate) fn new(app: &App, platform: Platform, media_ip: IpAddr) -> LiveHub {
        let media_ip = if media_ip.is_unspecified() {
            IpAddr::from([127, 0, 0, 1])
        } else {
            media_ip
        };
        LiveHub {
            app: app.clone(),
            platform,
            media_ip,
            streams: Arc::default(),
        }
    }

    /// The device to INVITE and the channel to ask for, from the presence table.
    fn route(&self, code: &str) -> Result<(GbId, GbId), LiveVideoError> {
        let states = self.app.video_presence().states();
        let state = states.get(code).ok_or(LiveVideoError::Offline)?;
        if !state.online {
            return Err(LiveVideoError::Offline);
        }
        let device = state.parent.as_deref().unwrap_or(code);
        let parse = |id: &str| GbId::parse(id).map_err(|e| LiveVideoError::Failed(e.to_string()));
        Ok((parse(device)?, parse(code)?))
    }

    /// Starts a camera's stream: INVITE, then a task muxing and fanning out until the last
    /// viewer leaves or the device goes quiet.
    async fn start(&self, code: &str) -> Result<Arc<CameraStream>, LiveVideoError> {
        let (device, channel) = self.route(code)?;
        let config = LiveConfig {
            media_ip: self.media_ip,
            idle_timeout: IDLE,
            ..LiveConfig::default()
        };
        let (stream, mut frames) = LiveStream::start(&self.platform, &device, &channel, config)
            .await
            .map_err(|e| LiveVideoError::Failed(e.to_string()))?;
        let (init_tx, init_rx) = watch::channel(None);
        let camera = Arc::new(CameraStream {
            viewers: Mutex::new(Vec::new()),
            init: init_rx,
        });
        let streams = Arc::clone(&self.streams);
        let key = code.to_string();
        let running = Arc::clone(&camera);
        tokio::spawn(async move {
            let mut muxer = Fmp4Muxer::new();
            let mut joined = false;
            let started = tokio::time::Instant::now();
            while let Some(unit) = frames.recv().await {
                let segments = match muxer.push(&unit) {
                    Ok(s) => s,
                    Err(e) => {
                        tracing::warn!(camera = %key, code = e.code(), error = %e, "live video not remuxed");
                        let _ = init_tx.send(Some(Err(e.to_string())));
                        break;
                    }
                };
                for segment in segments {
                    match segment {
                        Segment::Init(init) => {
                            let _ = init_tx.send(Some(Ok(init)));
                        }
                        Segment::Fragment(f) => {
                            let mut viewers = running.viewers.lock().unwrap();
                            viewers.retain_mut(|v| {
                                if v.waiting && !f.key {
                                    return !v.tx.is_closed();
                                }
                                match v.tx.try_send(f.bytes.clone()) {
                                    Ok(()) => {
                                        v.waiting = false;
                                        true
                                    }
                                    Err(mpsc::error::TrySendError::Full(_)) => {
                                        v.waiting = true;
                                        true
                                    }
                                    Err(mpsc::error::TrySendError::Closed(_)) => false,
                                }
                            });
                            joined |= !viewers.is_empty();
                        }
                    }
                }
                // The last viewer left: end the stream (under the map's lock, so nobody joins
                // a stream being stopped).
                let mut map = streams.lock().unwrap();
                let mut viewers = running.viewers.lock().unwrap();
                viewers.retain(|v| !v.tx.is_closed());
                // Nobody came (the first viewer gave up waiting): end it too.
                if viewers.is_empty() && (joined || started.elapsed() > FIRST_FRAME * 2) {
                    map.remove(&key);
                    break;
                }
            }
            streams
                .lock()
                .unwrap()
                .retain(|k, s| !(k == &key && Arc::ptr_eq(s, &running)));
            running.viewers.lock().unwrap().clear();
            tracing::info!(camera = %key, "live video ended; BYE");
            if let Err(e) = stream.stop().await {
                tracing::debug!(camera = %key, error = %e, "BYE");
            }
        });
        Ok(camera)
    }
}

#[async_trait::async_trait]
impl LiveVideo for LiveHub {
    async fn watch(&self, camera: &DeviceRow) -> Result<LiveWatch, LiveVideoError> {
        let existing = self.streams.lock().unwrap().get(&camera.code).cloned();
        let stream = match existing {
            Some(s) => s,
            None => {
                let s = self.start(&camera.code).await?;
                // Two first viewers at once: the later INVITE's stream serves only its own
                // viewers until it ends; the map keeps the first.
                self.streams
                    .lock()
                    .unwrap()
                    .entry(camera.code.clone())
                    .or_insert_with(|| Arc::clone(&s));
                s
            }
        };
        let mut init = stream.init.clone();
        let ready = tokio::time::timeout(FIRST_FRAME, init.wait_for(|i| i.is_some())).await;
        let init = match ready {
            Ok(Ok(value)) => value.clone(),
            _ => None,
        };
        let init = match init {
            Some(Ok(init)) => init,
            Some(Err(e)) => return Err(LiveVideoError::Failed(e)),
            None => return Err(LiveVideoError::Failed("no key frame arrived".into())),
        };
        let (tx, rx) = mpsc::channel(VIEWER_QUEUE);
        stream.viewers.lock().unwrap().push(Viewer { tx, waiting: true });
        Ok(LiveWatch {
            mime: init.mime(),
            init: init.bytes,
            fragments: rx,
        })
    }

    fn streams(&self) -> usize {
        self.streams.lock().unwrap().len()
    }
}
