//! Integration tests of the GB/T 28181 platform side against peers nobody here wrote: the
//! `gb28181-rs` device library (register, keepalive, catalogue, device info and status,
//! alarms, live INVITE with real PS/RTP over UDP and TCP) and SIPp scenarios
//! (`tests/sipp/*.xml`: Digest, keepalive, a catalogue answer in GB2312, malformed messages,
//! many devices at once); live video remuxed to fragmented MP4 from a gb28181-rs
//! camera's OpenH264 frames. Everything binds 127.0.0.1 on free ports.

mod cascade;
mod gbrs;
mod live_fmp4;
mod raw;
mod sipp;
mod support;
