//! GB/T 28181 (公共安全视频监控联网系统信息传输、交换、控制技术要求): how cameras and NVRs
//! network with video platforms over SIP. This crate holds the pure parts — the SIP codec
//! (`sip`), Digest (`auth`, sharing the GA/T 1400 crate's arithmetic), MANSCDP bodies in
//! GB2312/GB18030 (`manscdp`), GB SDP with its `y=` SSRC (`sdp`), RTP and its TCP framings
//! (`rtp`), the MPEG-PS demuxer to H.264/H.265 access units (`ps`), the registration and
//! presence table (`registry`) — and the network parts over tokio: the platform side that
//! cameras register with (`platform`), the live-video receiver (`live`), the seam for an
//! external media server (`media`) and the cascade to a superior platform (`cascade`).
//! Design notes: `docs/design/gb28181.md`; protocol notes with sources:
//! `../shared/protocols/gb28181.md`.
//!
//! The crate knows no storage and no use-case: the platform reports what devices do through
//! the [`DeviceDirectory`] trait, which the binary implements over the application.
//!
//! Invariant: strict in what we send (GB2312 bodies, element form, our realm), tolerant in
//! what we accept (UTF-8 or GB18030 bodies, attribute form, 2016 and 2022 field placement,
//! malformed messages answered 400 or dropped, never a panic).
//! Invariant: time rules (expiry, keepalive timeout) are decided by pure functions of a time
//! passed in; the server reads it from an injected clock.

pub mod auth;
pub mod cascade;
pub mod catalog;
pub mod directory;
pub mod fmp4;
pub mod id;
pub mod live;
pub mod manscdp;
pub mod media;
pub mod platform;
pub mod ps;
pub mod registry;
pub mod rtp;
pub mod sdp;
pub mod sip;
pub mod transport;

pub use cascade::{Cascade, CascadeConfig, CascadeStatus, MediaMode, SharedCatalogue, SharedChannel};
pub use directory::{DeviceDirectory, Lookup, Report};
pub use fmp4::{Fmp4Muxer, InitSegment, Segment};
pub use id::{BadId, GbId};
pub use live::{LiveConfig, LiveStream, RtpReceiver};
pub use media::{BuiltinMedia, MediaServer};
pub use platform::{Platform, PlatformConfig, PlatformError, PlayRequest, PlaySession};
pub use registry::{DeviceState, OfflineReason, Peer, Transport};
