//! The media seam. Signalling stays in Rust; in production the media (PS/RTP in, PS/RTP
//! out to a superior, remuxing for browsers, recording) may be terminated by an external
//! media server controlled over HTTP, ZLMediaKit-style. [`MediaServer`] is what the signalling
//! needs from one, in the terms of ZLMediaKit's HTTP API (`/index/api/…`):
//!
//! | method | ZLMediaKit call | purpose |
//! | --- | --- | --- |
//! | `open_rtp_server` | `openRtpServer?port=0&tcp_mode=0/1/2&stream_id=…` → `{code, port}` | a port to put in our INVITE offer |
//! | `close_rtp_server` | `closeRtpServer?stream_id=…` | after BYE |
//! | `start_send_rtp` | `startSendRtp?app=rtp&stream=…&ssrc=…&dst_url=…&dst_port=…&is_udp=…` (TCP passive: `startSendRtpPassive`) → `{code, local_port}` | the cascade: send a stream to a superior |
//! | `stop_send_rtp` | `stopSendRtp?app=rtp&stream=…&ssrc=…` | the superior's BYE |
//!
//! An HTTP client implementing this trait belongs in the binary (it knows the server's URL
//! and secret); no such server runs in tests here, so none is mocked. [`BuiltinMedia`] is
//! the in-process implementation over [`RtpReceiver`]: it receives, demuxes to access units
//! and relays raw RTP with the SSRC rewritten — enough for a community site and for tests.

use crate::live::RtpReceiver;
use crate::ps::AccessUnit;
use crate::sdp::MediaTransport;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// Why a media operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MediaError {
    /// No stream by that id.
    #[error("no such stream")]
    NoStream,
    /// The server or socket said no.
    #[error("media server: {0}")]
    Server(String),
}

/// What the signalling needs from a media server.
#[async_trait::async_trait]
pub trait MediaServer: Send + Sync + 'static {
    /// Opens a port receiving one stream; returns the port for the INVITE offer.
    async fn open_rtp_server(
        &self,
        stream_id: &str,
        transport: MediaTransport,
        ssrc: Option<u32>,
    ) -> Result<u16, MediaError>;

    /// Closes it.
    async fn close_rtp_server(&self, stream_id: &str) -> Result<(), MediaError>;

    /// Sends a received stream as PS/RTP with `ssrc` to `destination` (UDP, or TCP where the
    /// superior listens); returns our sending port.
    async fn start_send_rtp(
        &self,
        stream_id: &str,
        destination: SocketAddr,
        transport: MediaTransport,
        ssrc: u32,
    ) -> Result<u16, MediaError>;

    /// Stops every send of a stream.
    async fn stop_send_rtp(&self, stream_id: &str) -> Result<(), MediaError>;
}

/// A receiver and its not yet taken access-unit reader.
type Stream = (Arc<RtpReceiver>, Option<mpsc::Receiver<AccessUnit>>);

/// The in-process media node: one [`RtpReceiver`] per stream.
#[derive(Debug)]
pub struct BuiltinMedia {
    ip: IpAddr,
    /// Receivers and their access-unit readers (taken by [`BuiltinMedia::frames`]), by stream id.
    streams: Mutex<HashMap<String, Stream>>,
}

impl BuiltinMedia {
    /// Receives on `ip`.
    pub fn new(ip: IpAddr) -> BuiltinMedia {
        BuiltinMedia {
            ip,
            streams: Mutex::new(HashMap::new()),
        }
    }

    /// A stream's receiver (stats, relays).
    pub fn receiver(&self, stream_id: &str) -> Option<Arc<RtpReceiver>> {
        self.streams
            .lock()
            .unwrap()
            .get(stream_id)
            .map(|(r, _)| Arc::clone(r))
    }

    /// Takes a stream's access units (once).
    pub fn frames(&self, stream_id: &str) -> Option<mpsc::Receiver<AccessUnit>> {
        self.streams.lock().unwrap().get_mut(stream_id)?.1.take()
    }
}

#[async_trait::async_trait]
impl MediaServer for BuiltinMedia {
    async fn open_rtp_server(
        &self,
        stream_id: &str,
        transport: MediaTransport,
        ssrc: Option<u32>,
    ) -> Result<u16, MediaError> {
        let (tx, rx) = mpsc::channel(256);
        let receiver = RtpReceiver::open(self.ip, transport, tx)
            .await
            .map_err(|e| MediaError::Server(e.to_string()))?;
        receiver.expect_ssrc(ssrc);
        let port = receiver.port;
        self.streams
            .lock()
            .unwrap()
            .insert(stream_id.to_string(), (Arc::new(receiver), Some(rx)));
        Ok(port)
    }

    async fn close_rtp_server(&self, stream_id: &str) -> Result<(), MediaError> {
        self.streams
            .lock()
            .unwrap()
            .remove(stream_id)
            .map(|_| ())
            .ok_or(MediaError::NoStream)
    }

    async fn start_send_rtp(
        &self,
        stream_id: &str,
        destination: SocketAddr,
        transport: MediaTransport,
        ssrc: u32,
    ) -> Result<u16, MediaError> {
        let receiver = self.receiver(stream_id).ok_or(MediaError::NoStream)?;
        let result = match transport {
            MediaTransport::Udp => receiver.relay_udp(destination, ssrc).await,
            _ => receiver.relay_tcp(destination, ssrc).await,
        };
        result.map(|_| 0).map_err(|e| MediaError::Server(e.to_string()))
    }

    async fn stop_send_rtp(&self, stream_id: &str) -> Result<(), MediaError> {
        let receiver = self.receiver(stream_id).ok_or(MediaError::NoStream)?;
        receiver.stop_relays();
        Ok(())
    }
}
