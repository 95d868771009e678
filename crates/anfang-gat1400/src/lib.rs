//! GA/T 1400 (公安视频图像信息应用系统, the "视图库" or VIID): the parts every peer speaks —
//! HTTP Digest authentication as capture cameras and police platforms implement it, the
//! System objects (`Register`, `Keepalive`, `UnRegister`, `Time`), the response envelopes and
//! the table of registered peers with their validity. Notes with sources:
//! `../shared/protocols/gat1400.md` (§1.3 registration and digest, §1.4 envelopes).
//!
//! Invariant: strict in what we send (header order, integer `StatusCode`), tolerant in what we
//! accept (unquoted `qop`/`nc`, absolute `uri`, `StatusCode` as string, content types).
//! Invariant: no I/O and no clock: times come in as milliseconds.

pub mod cascade;
pub mod digest;
pub mod objects;
pub mod registry;
pub mod system;

pub use digest::{Challenge, Credentials, DigestError};
pub use registry::{Registrations, Verdict};
pub use system::{StatusCode, SystemError, device_id_of, local_time, response_status, system_time};
