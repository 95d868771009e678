//! Live video in Rust: an RTP receiver for one stream (UDP, or TCP with either framing, we
//! listening or connecting) that demuxes PS to access units, relays the raw packets with the
//! SSRC rewritten to any number of destinations (the cascade's "play our camera" without
//! re-muxing), and counts what arrived; and [`LiveStream`], which INVITEs a channel toward
//! such a receiver and sends BYE when the stream goes idle or nobody reads it any more.
//!
//! One port per stream is the primary demultiplexer (WVP's "multi-port mode"); the SSRC is
//! checked only when one is expected and non-zero (some Dahua firmware sends 0). No reorder
//! buffer: a gap in sequence numbers is counted as loss and the demuxer resynchronises on
//! the next pack header.

use crate::GbId;
use crate::platform::{Platform, PlatformError, PlayRequest, PlaySession};
use crate::ps::{AccessUnit, PsDemuxer};
use crate::rtp::{self, TcpDeframer};
use crate::sdp::MediaTransport;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// What a receiver counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReceiverStats {
    /// RTP packets accepted.
    pub packets: u64,
    /// Payload bytes accepted.
    pub bytes: u64,
    /// Access units demuxed.
    pub frames: u64,
    /// Key frames among them.
    pub key_frames: u64,
    /// Packets missing by sequence number.
    pub lost: u64,
    /// Packets dropped for carrying another SSRC.
    pub wrong_ssrc: u64,
}

#[derive(Debug, Default)]
struct Counters {
    packets: AtomicU64,
    bytes: AtomicU64,
    frames: AtomicU64,
    key_frames: AtomicU64,
    lost: AtomicU64,
    wrong_ssrc: AtomicU64,
}

/// Where relayed packets go.
enum RelayTarget {
    Udp(Arc<UdpSocket>, SocketAddr),
    /// RFC 4571 frames to a TCP writer task.
    Tcp(mpsc::Sender<Vec<u8>>),
}

struct Relay {
    id: u64,
    ssrc: u32,
    target: RelayTarget,
}

/// State shared between the receiver handle and its task.
struct Shared {
    counters: Counters,
    /// The SSRC to accept (None or 0: any).
    expected_ssrc: Mutex<Option<u32>>,
    /// When the last packet arrived.
    last_packet: Mutex<Instant>,
    /// Relays of the raw packets.
    relays: Mutex<Vec<Relay>>,
    /// Where access units go (dropped when the reader is slow: live video skips).
    frames: mpsc::Sender<AccessUnit>,
    next_relay: AtomicU64,
}

/// A receiver for one RTP stream.
pub struct RtpReceiver {
    /// The local port the sender must reach (0 for TCP active, where we connect).
    pub port: u16,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for RtpReceiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RtpReceiver").field("port", &self.port).finish()
    }
}

impl Drop for RtpReceiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct Sequence {
    last: Option<u16>,
}

impl Shared {
    fn packet(&self, packet: &mut [u8], demuxer: &mut PsDemuxer, sequence: &mut Sequence) {
        let Some((header, payload)) = rtp::parse(packet) else {
            return;
        };
        let expected = *self.expected_ssrc.lock().unwrap();
        if let Some(ssrc) = expected.filter(|s| *s != 0)
            && header.ssrc != ssrc
        {
            self.counters.wrong_ssrc.fetch_add(1, Ordering::Relaxed);
            return;
        }
        if let Some(last) = sequence.last {
            let gap = header.sequence.wrapping_sub(last);
            if gap > 1 && gap < 1000 {
                self.counters
                    .lost
                    .fetch_add(u64::from(gap - 1), Ordering::Relaxed);
            }
        }
        sequence.last = Some(header.sequence);
        *self.last_packet.lock().unwrap() = Instant::now();
        self.counters.packets.fetch_add(1, Ordering::Relaxed);
        self.counters
            .bytes
            .fetch_add(payload.len() as u64, Ordering::Relaxed);
        metrics::counter!("anfang_gb28181_rtp_packets_total").increment(1);
        let mut units = demuxer.push(payload);
        if header.marker {
            units.extend(demuxer.flush());
        }
        for unit in units {
            self.counters.frames.fetch_add(1, Ordering::Relaxed);
            if unit.key {
                self.counters.key_frames.fetch_add(1, Ordering::Relaxed);
            }
            let _ = self.frames.try_send(unit);
        }
        self.relay(packet);
    }

    fn relay(&self, packet: &mut [u8]) {
        let relays = self.relays.lock().unwrap();
        for relay in relays.iter() {
            rtp::rewrite_ssrc(packet, relay.ssrc);
            match &relay.target {
                RelayTarget::Udp(socket, to) => {
                    let _ = socket.try_send_to(packet, *to);
                }
                RelayTarget::Tcp(tx) => {
                    let _ = tx.try_send(rtp::frame_4571(packet));
                }
            }
        }
    }
}

async fn read_tcp(shared: Arc<Shared>, mut stream: TcpStream) {
    let mut deframer = TcpDeframer::default();
    let mut demuxer = PsDemuxer::new();
    let mut sequence = Sequence { last: None };
    let mut buf = vec![0u8; 65_536];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => deframer.push(&buf[..n]),
        }
        while let Some(mut packet) = deframer.next_packet() {
            shared.packet(&mut packet, &mut demuxer, &mut sequence);
        }
    }
}

impl RtpReceiver {
    /// Opens a receiver on `ip` (a free port): UDP, or TCP where the sender connects
    /// (`TcpPassive`). Access units go to `frames`.
    pub async fn open(
        ip: IpAddr,
        transport: MediaTransport,
        frames: mpsc::Sender<AccessUnit>,
    ) -> io::Result<RtpReceiver> {
        let shared = Arc::new(Shared {
            counters: Counters::default(),
            expected_ssrc: Mutex::new(None),
            last_packet: Mutex::new(Instant::now()),
            relays: Mutex::new(Vec::new()),
            frames,
            next_relay: AtomicU64::new(1),
        });
        let task_shared = Arc::clone(&shared);
        let (port, task) = match transport {
            MediaTransport::Udp => {
                let socket = UdpSocket::bind((ip, 0)).await?;
                let port = socket.local_addr()?.port();
                let task = tokio::spawn(async move {
                    let mut buf = vec![0u8; 65_536];
                    let mut demuxer = PsDemuxer::new();
                    let mut sequence = Sequence { last: None };
                    loop {
                        let Ok((n, _)) = socket.recv_from(&mut buf).await else {
                            continue;
                        };
                        task_shared.packet(&mut buf[..n], &mut demuxer, &mut sequence);
                    }
                });
                (port, task)
            }
            MediaTransport::TcpPassive => {
                let listener = TcpListener::bind((ip, 0)).await?;
                let port = listener.local_addr()?.port();
                let task = tokio::spawn(async move {
                    // One sender at a time; a reconnect replaces the previous connection.
                    let mut current: Option<JoinHandle<()>> = None;
                    while let Ok((stream, _)) = listener.accept().await {
                        if let Some(old) = current.take() {
                            old.abort();
                        }
                        current = Some(tokio::spawn(read_tcp(Arc::clone(&task_shared), stream)));
                    }
                });
                (port, task)
            }
            MediaTransport::TcpActive => (0, tokio::spawn(async {})),
        };
        Ok(RtpReceiver { port, shared, task })
    }

    /// For `TcpActive`: connects to the sender's listening address from its SDP answer.
    pub async fn connect(&mut self, sender: SocketAddr) -> io::Result<()> {
        let stream = TcpStream::connect(sender).await?;
        self.task.abort();
        self.task = tokio::spawn(read_tcp(Arc::clone(&self.shared), stream));
        Ok(())
    }

    /// Accept only this SSRC from now on (None or 0: any).
    pub fn expect_ssrc(&self, ssrc: Option<u32>) {
        *self.shared.expected_ssrc.lock().unwrap() = ssrc;
    }

    /// What arrived so far.
    pub fn stats(&self) -> ReceiverStats {
        let c = &self.shared.counters;
        ReceiverStats {
            packets: c.packets.load(Ordering::Relaxed),
            bytes: c.bytes.load(Ordering::Relaxed),
            frames: c.frames.load(Ordering::Relaxed),
            key_frames: c.key_frames.load(Ordering::Relaxed),
            lost: c.lost.load(Ordering::Relaxed),
            wrong_ssrc: c.wrong_ssrc.load(Ordering::Relaxed),
        }
    }

    /// How long since the last packet (or since opening).
    pub fn idle_for(&self) -> Duration {
        self.shared.last_packet.lock().unwrap().elapsed()
    }

    /// Whether the access-unit reader is gone.
    pub fn unread(&self) -> bool {
        self.shared.frames.is_closed()
    }

    /// Relays every packet, SSRC rewritten to `ssrc`, to `to` over UDP; returns the relay's id.
    pub async fn relay_udp(&self, to: SocketAddr, ssrc: u32) -> io::Result<u64> {
        let local: SocketAddr = if to.is_ipv4() {
            ([0, 0, 0, 0], 0).into()
        } else {
            ([0u16; 8], 0).into()
        };
        let socket = Arc::new(UdpSocket::bind(local).await?);
        Ok(self.add_relay(ssrc, RelayTarget::Udp(socket, to)))
    }

    /// Relays every packet, SSRC rewritten, RFC 4571-framed over a TCP connection we open to
    /// `to` (the superior listens: its offer said `a=setup:passive`).
    pub async fn relay_tcp(&self, to: SocketAddr, ssrc: u32) -> io::Result<u64> {
        let stream = TcpStream::connect(to).await?;
        Ok(self.relay_stream(stream, ssrc))
    }

    /// Relays over an already connected TCP stream (the superior connected to us).
    pub fn relay_stream(&self, stream: TcpStream, ssrc: u32) -> u64 {
        let _ = stream.set_nodelay(true);
        let (tx, mut rx) = mpsc::channel::<Vec<u8>>(1024);
        let (_, mut writer) = stream.into_split();
        tokio::spawn(async move {
            while let Some(bytes) = rx.recv().await {
                if writer.write_all(&bytes).await.is_err() {
                    break;
                }
            }
        });
        self.add_relay(ssrc, RelayTarget::Tcp(tx))
    }

    fn add_relay(&self, ssrc: u32, target: RelayTarget) -> u64 {
        let id = self.shared.next_relay.fetch_add(1, Ordering::Relaxed);
        self.shared
            .relays
            .lock()
            .unwrap()
            .push(Relay { id, ssrc, target });
        id
    }

    /// Stops a relay.
    pub fn stop_relay(&self, id: u64) {
        self.shared.relays.lock().unwrap().retain(|r| r.id != id);
    }

    /// Stops every relay.
    pub fn stop_relays(&self) {
        self.shared.relays.lock().unwrap().clear();
    }

    /// How many relays are active.
    pub fn relays(&self) -> usize {
        self.shared.relays.lock().unwrap().len()
    }
}

/// How a live stream is received.
#[derive(Debug, Clone)]
pub struct LiveConfig {
    /// The local address to receive on (and to offer in the SDP).
    pub media_ip: IpAddr,
    /// UDP or TCP passive (TCP active: we connect to the device's answer).
    pub transport: MediaTransport,
    /// BYE after this long without a packet.
    pub idle_timeout: Duration,
    /// Access units buffered for the reader before frames are skipped.
    pub frame_buffer: usize,
}

impl Default for LiveConfig {
    fn default() -> LiveConfig {
        LiveConfig {
            media_ip: IpAddr::from([127, 0, 0, 1]),
            transport: MediaTransport::Udp,
            idle_timeout: Duration::from_secs(15),
            frame_buffer: 256,
        }
    }
}

/// A playing channel: the dialog and its receiver. Dropping it does not send BYE; call
/// [`LiveStream::stop`], or let the watchdog do it when idle or unread.
#[derive(Debug)]
pub struct LiveStream {
    /// The INVITE dialog.
    pub session: PlaySession,
    /// The receiver (stats, relays).
    pub receiver: Arc<RtpReceiver>,
    platform: Platform,
    watchdog: JoinHandle<()>,
}

/// Why a live stream could not start.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    /// The receiver could not bind or connect.
    #[error("media: {0}")]
    Io(#[from] io::Error),
    /// The INVITE failed.
    #[error(transparent)]
    Platform(#[from] PlatformError),
}

impl LiveStream {
    /// Opens a receiver, INVITEs `channel` of `device` to it, and starts the idle watchdog.
    pub async fn start(
        platform: &Platform,
        device: &GbId,
        channel: &GbId,
        config: LiveConfig,
    ) -> Result<(LiveStream, mpsc::Receiver<AccessUnit>), LiveError> {
        let (tx, rx) = mpsc::channel(config.frame_buffer);
        let mut receiver = RtpReceiver::open(config.media_ip, config.transport, tx).await?;
        let session = platform
            .play(PlayRequest {
                device: device.clone(),
                channel: channel.clone(),
                media_address: config.media_ip,
                media_port: receiver.port,
                transport: config.transport,
                ssrc: None,
            })
            .await?;
        receiver.expect_ssrc(session.ssrc);
        if config.transport == MediaTransport::TcpActive
            && let Some(address) = session.answer.address
            && let Err(e) = receiver
                .connect(SocketAddr::new(address, session.answer.port))
                .await
        {
            let _ = platform.bye(&session).await;
            return Err(e.into());
        }
        let receiver = Arc::new(receiver);
        let watchdog = {
            let (platform, session, receiver) = (platform.clone(), session.clone(), Arc::clone(&receiver));
            let idle = config.idle_timeout;
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_millis(500).min(idle));
                loop {
                    tick.tick().await;
                    if receiver.idle_for() >= idle || (receiver.unread() && receiver.relays() == 0) {
                        tracing::info!(channel = %session.channel, "live stream idle; BYE");
                        let _ = platform.bye(&session).await;
                        return;
                    }
                }
            })
        };
        Ok((
            LiveStream {
                session,
                receiver,
                platform: platform.clone(),
                watchdog,
            },
            rx,
        ))
    }

    /// Whether the watchdog already ended the dialog.
    pub fn ended(&self) -> bool {
        self.watchdog.is_finished()
    }

    /// Ends the stream now (BYE).
    pub async fn stop(self) -> Result<(), PlatformError> {
        let ended = self.watchdog.is_finished();
        self.watchdog.abort();
        if ended {
            Ok(())
        } else {
            self.platform.bye(&self.session).await
        }
    }
}
