//! One client connection of the embedded broker: CONNECT and authentication, then the packet
//! loop that applies the ACL, feeds the platform and delivers queued downlinks.
//!
//! Everything a connection needs lives in one task, so there is no per-connection locking: the
//! task selects over the socket, its delivery queue, the keep-alive deadline, a take-over signal
//! and broker shutdown. Refused publishes are acknowledged and dropped (see `docs/design/mqtt.md`):
//! MQTT 3.1.1 has no negative PUBACK, and disconnecting would invite a reconnect loop in which
//! every CONNECT costs a password check.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use rumqttc::mqttbytes::Error as CodecError;
use rumqttc::{
    ConnAck, ConnectReturnCode, LastWill, Packet, PubAck, PubComp, PubRec, Publish, SubAck,
    SubscribeReasonCode, UnsubAck,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{Notify, mpsc, watch};
use tokio::time::{Instant, timeout};

use super::Shared;
use super::router::Delivery;
use crate::{QoS, UpMessage, topic};

/// Why a connection ended; only an abnormal end publishes the client's last will.
#[derive(Debug)]
enum End {
    Disconnect,
    Abnormal(String),
    Shutdown,
    TakenOver,
}

/// Why reading the next packet failed.
#[derive(Debug)]
enum ReadError {
    Codec(CodecError),
    /// A CONNECT with a protocol level other than 4 (MQTT 3.1.1).
    Level(u8),
    Closed,
    Io(std::io::Error),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Codec(e) => write!(f, "malformed packet: {e}"),
            ReadError::Level(level) => write!(f, "unsupported protocol level {level}"),
            ReadError::Closed => f.write_str("connection closed without DISCONNECT"),
            ReadError::Io(e) => write!(f, "read failed: {e}"),
        }
    }
}

/// The framed socket: a read buffer that survives cancelled reads and a reusable write buffer.
struct Conn {
    stream: TcpStream,
    inbuf: BytesMut,
    outbuf: BytesMut,
    max_packet: usize,
    write_timeout: Duration,
}

impl Conn {
    /// Reads the next packet. Cancel-safe: partial input stays in `inbuf` for the next call.
    async fn read_packet(&mut self) -> Result<Packet, ReadError> {
        self.read(false).await
    }

    /// Reads the first packet, refusing a CONNECT of another protocol level before decoding
    /// it: the codec would misread an MQTT 5 CONNECT, whose properties it does not know.
    async fn read_connect(&mut self) -> Result<Packet, ReadError> {
        self.read(true).await
    }

    async fn read(&mut self, first: bool) -> Result<Packet, ReadError> {
        loop {
            if first
                && let Some(level) = connect_level(&self.inbuf)
                && level != 4
            {
                return Err(ReadError::Level(level));
            }
            match Packet::read(&mut self.inbuf, self.max_packet) {
                Ok(packet) => return Ok(packet),
                Err(CodecError::InsufficientBytes(more)) => {
                    self.inbuf.reserve(more);
                }
                Err(e) => return Err(ReadError::Codec(e)),
            }
            match self.stream.read_buf(&mut self.inbuf).await {
                Ok(0) => return Err(ReadError::Closed),
                Ok(_) => {}
                Err(e) => return Err(ReadError::Io(e)),
            }
        }
    }

    async fn send(&mut self, packet: Packet) -> Result<(), String> {
        self.outbuf.clear();
        // Outgoing packets are bounded by what clients may send us, plus a topic; the codec
        // only refuses packets larger than the limit it is given.
        packet
            .write(&mut self.outbuf, usize::MAX)
            .map_err(|e| format!("cannot encode packet: {e}"))?;
        match timeout(self.write_timeout, self.stream.write_all(&self.outbuf)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(format!("write failed: {e}")),
            Err(_) => Err("write timed out (client not reading)".to_owned()),
        }
    }
}

/// State of an authenticated session.
struct Session {
    id: u64,
    client_id: String,
    username: String,
    shared: Arc<Shared>,
    conn: Conn,
    shutdown: watch::Receiver<bool>,
    /// Packet ids of our QoS 1 publishes that await PUBACK.
    inflight: HashSet<u16>,
    last_pkid: u16,
    /// Packet ids of the client's QoS 2 publishes that await PUBREL, to drop duplicates.
    awaiting_rel: HashSet<u16>,
}

pub(crate) async fn serve(
    stream: TcpStream,
    peer: SocketAddr,
    shared: Arc<Shared>,
    shutdown: watch::Receiver<bool>,
) {
    let limits = &shared.limits;
    let mut conn = Conn {
        stream,
        inbuf: BytesMut::with_capacity(1024),
        outbuf: BytesMut::with_capacity(1024),
        max_packet: limits.max_packet_size,
        write_timeout: limits.write_timeout,
    };
    let deadline = Instant::now() + limits.connect_timeout;

    let connect = match timeout(limits.connect_timeout, conn.read_connect()).await {
        Ok(Ok(Packet::Connect(connect))) => connect,
        Ok(Ok(other)) => {
            tracing::debug!(%peer, "MQTT client sent {other:?} before CONNECT; closing");
            return;
        }
        Ok(Err(error)) => {
            // MQTT 3.1 and 5 clients get the 3.1.1 answer for an unsupported protocol level.
            if let ReadError::Level(_) | ReadError::Codec(CodecError::InvalidProtocol) = error {
                let _ = conn
                    .send(connack(ConnectReturnCode::RefusedProtocolVersion))
                    .await;
            }
            tracing::debug!(%peer, "MQTT CONNECT failed: {error}");
            return;
        }
        Err(_) => {
            tracing::debug!(%peer, "MQTT client sent no CONNECT in time; closing");
            return;
        }
    };

    if connect.protocol != rumqttc::Protocol::V4 {
        let _ = conn
            .send(connack(ConnectReturnCode::RefusedProtocolVersion))
            .await;
        return;
    }
    let mut client_id = connect.client_id;
    if client_id.is_empty() {
        // A client without an id may only have a clean session (MQTT 3.1.1, 3.1.3.1).
        if !connect.clean_session {
            let _ = conn.send(connack(ConnectReturnCode::BadClientId)).await;
            return;
        }
        client_id = format!(
            "anfang-auto-{}",
            shared.next_auto_id.fetch_add(1, Ordering::Relaxed)
        );
    }
    let (username, password) = connect
        .login
        .map(|l| (l.username, l.password))
        .unwrap_or_default();

    let verdict = tokio::time::timeout_at(
        deadline,
        shared
            .access
            .authenticate(client_id.clone(), username.clone(), password),
    )
    .await;
    match verdict {
        Ok(true) => {}
        Ok(false) => {
            shared.counters.auth_refused.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(%peer, %client_id, %username, "MQTT CONNECT refused: bad username or password");
            let _ = conn.send(connack(ConnectReturnCode::BadUserNamePassword)).await;
            return;
        }
        Err(_) => {
            tracing::warn!(%peer, %client_id, "MQTT authentication timed out");
            let _ = conn.send(connack(ConnectReturnCode::ServiceUnavailable)).await;
            return;
        }
    }

    // A will is a publish made on the client's behalf later, so it passes the publish rule now:
    // refusing the CONNECT tells the device developer at once, instead of losing the will.
    if let Some(will) = &connect.last_will
        && !(valid_topic(&will.topic) && shared.access.may_publish(&username, &will.topic))
    {
        shared.counters.publish_refused.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(%peer, %client_id, topic = %will.topic, "MQTT CONNECT refused: will topic not allowed");
        let _ = conn.send(connack(ConnectReturnCode::NotAuthorized)).await;
        return;
    }

    let (tx, rx) = mpsc::channel(limits.session_queue.max(1));
    let kick = Arc::new(Notify::new());
    let id = shared.router.register(&username, &client_id, tx, kick.clone());
    // Sessions are always clean, so no session is ever present (see the design note).
    if let Err(reason) = conn.send(connack(ConnectReturnCode::Success)).await {
        tracing::debug!(%peer, %client_id, "MQTT CONNACK failed: {reason}");
        shared.router.unregister(id);
        return;
    }
    tracing::debug!(%peer, %client_id, %username, "MQTT client connected");

    let keep_alive = Duration::from_secs(u64::from(connect.keep_alive));
    let mut session = Session {
        id,
        client_id,
        username,
        shared: shared.clone(),
        conn,
        shutdown,
        inflight: HashSet::new(),
        last_pkid: 0,
        awaiting_rel: HashSet::new(),
    };
    let end = session.run(rx, &kick, keep_alive).await;
    shared.router.unregister(id);
    match &end {
        End::Abnormal(reason) => {
            tracing::debug!(%peer, client_id = %session.client_id, "MQTT client lost: {reason}")
        }
        other => tracing::debug!(%peer, client_id = %session.client_id, "MQTT client gone: {other:?}"),
    }
    if let (End::Abnormal(_), Some(will)) = (end, connect.last_will) {
        session.publish_will(will);
    }
}

impl Session {
    async fn run(&mut self, mut rx: mpsc::Receiver<Delivery>, kick: &Notify, keep_alive: Duration) -> End {
        // MQTT 3.1.1, 3.1.2.10: without a packet for 1.5 times the keep-alive, the client is gone.
        let grace = keep_alive + keep_alive / 2;
        let keep_alive_on = !keep_alive.is_zero();
        let idle = tokio::time::sleep(grace);
        tokio::pin!(idle);
        loop {
            let may_send = self.inflight.len() < usize::from(self.shared.limits.max_inflight);
            // Not `biased`: a client that keeps sending must not starve its own downlinks.
            tokio::select! {
                _ = self.shutdown.changed() => return End::Shutdown,
                () = kick.notified() => return End::TakenOver,
                () = &mut idle, if keep_alive_on => {
                    return End::Abnormal("keep-alive expired".to_owned());
                }
                packet = self.conn.read_packet() => {
                    let packet = match packet {
                        Ok(packet) => packet,
                        Err(error) => return End::Abnormal(error.to_string()),
                    };
                    if keep_alive_on {
                        idle.as_mut().reset(Instant::now() + grace);
                    }
                    if let Err(end) = self.on_packet(packet).await {
                        return end;
                    }
                }
                Some(delivery) = rx.recv(), if may_send => {
                    if let Err(reason) = self.deliver(delivery).await {
                        return End::Abnormal(reason);
                    }
                }
            }
        }
    }

    async fn on_packet(&mut self, packet: Packet) -> Result<(), End> {
        match packet {
            Packet::Publish(publish) => self.on_publish(publish).await,
            Packet::PubAck(ack) => {
                self.inflight.remove(&ack.pkid);
                Ok(())
            }
            Packet::PubRel(rel) => {
                self.awaiting_rel.remove(&rel.pkid);
                self.send(Packet::PubComp(PubComp { pkid: rel.pkid })).await
            }
            // We never publish with QoS 2, so these can only be stray; they are harmless.
            Packet::PubRec(_) | Packet::PubComp(_) => Ok(()),
            Packet::Subscribe(subscribe) => {
                let mut codes = Vec::with_capacity(subscribe.filters.len());
                for filter in subscribe.filters {
                    codes.push(self.on_subscribe(&filter.path, QoS::from_wire(filter.qos)));
                }
                self.send(Packet::SubAck(SubAck {
                    pkid: subscribe.pkid,
                    return_codes: codes,
                }))
                .await
            }
            Packet::Unsubscribe(unsubscribe) => {
                for filter in &unsubscribe.topics {
                    self.shared.router.unsubscribe(self.id, filter);
                }
                self.send(Packet::UnsubAck(UnsubAck {
                    pkid: unsubscribe.pkid,
                }))
                .await
            }
            Packet::PingReq => self.send(Packet::PingResp).await,
            Packet::Disconnect => Err(End::Disconnect),
            other => Err(End::Abnormal(format!("protocol violation: unexpected {other:?}"))),
        }
    }

    fn on_subscribe(&mut self, filter: &str, qos: QoS) -> SubscribeReasonCode {
        if rumqttc::valid_filter(filter) && self.shared.access.may_subscribe(&self.username, filter) {
            self.shared.router.subscribe(self.id, filter, qos);
            SubscribeReasonCode::Success(qos.to_wire())
        } else {
            self.shared
                .counters
                .subscribe_refused
                .fetch_add(1, Ordering::Relaxed);
            tracing::warn!(client_id = %self.client_id, username = %self.username, filter, "MQTT SUBSCRIBE refused");
            SubscribeReasonCode::Failure
        }
    }

    async fn on_publish(&mut self, publish: Publish) -> Result<(), End> {
        if !valid_topic(&publish.topic) {
            return Err(End::Abnormal(format!(
                "protocol violation: bad topic {:?}",
                publish.topic
            )));
        }
        let duplicate = publish.qos == rumqttc::QoS::ExactlyOnce && self.awaiting_rel.contains(&publish.pkid);
        if !duplicate {
            if self.shared.access.may_publish(&self.username, &publish.topic) {
                self.dispatch(&publish.topic, publish.payload, QoS::from_wire(publish.qos))
                    .await?;
            } else {
                self.shared
                    .counters
                    .publish_refused
                    .fetch_add(1, Ordering::Relaxed);
                tracing::warn!(
                    client_id = %self.client_id,
                    username = %self.username,
                    topic = %publish.topic,
                    "MQTT PUBLISH refused; acknowledged and dropped"
                );
            }
        }
        match publish.qos {
            rumqttc::QoS::AtMostOnce => Ok(()),
            rumqttc::QoS::AtLeastOnce => self.send(Packet::PubAck(PubAck { pkid: publish.pkid })).await,
            rumqttc::QoS::ExactlyOnce => {
                self.awaiting_rel.insert(publish.pkid);
                self.send(Packet::PubRec(PubRec { pkid: publish.pkid })).await
            }
        }
    }

    /// Hands an allowed publish to the platform (up topics) and to subscribed sessions. Waiting
    /// for room in the platform's channel is the back-pressure: the PUBACK follows only after.
    async fn dispatch(&mut self, topic: &str, payload: Bytes, qos: QoS) -> Result<(), End> {
        if let Some(code) = topic::parse_up_topic(topic) {
            let message = UpMessage {
                device_code: code.to_owned(),
                payload: payload.clone(),
            };
            tokio::select! {
                () = self.shared.up.deliver(message) => {}
                _ = self.shutdown.changed() => return Err(End::Shutdown),
            }
        }
        self.shared.router.route(topic, &payload, qos);
        Ok(())
    }

    fn publish_will(&self, will: LastWill) {
        if let Some(code) = topic::parse_up_topic(&will.topic) {
            let message = UpMessage {
                device_code: code.to_owned(),
                payload: will.message.clone(),
            };
            self.shared.up.try_deliver(message);
        }
        self.shared
            .router
            .route(&will.topic, &will.message, QoS::from_wire(will.qos));
    }

    async fn deliver(&mut self, delivery: Delivery) -> Result<(), String> {
        let pkid = match delivery.qos {
            QoS::AtMostOnce => 0,
            QoS::AtLeastOnce => {
                let pkid = self.next_pkid();
                self.inflight.insert(pkid);
                pkid
            }
        };
        let publish = Publish {
            dup: false,
            qos: delivery.qos.to_wire(),
            retain: false,
            topic: delivery.topic,
            pkid,
            payload: delivery.payload,
        };
        self.conn.send(Packet::Publish(publish)).await
    }

    /// The next free packet id; `inflight` is capped well below 65535, so one is always free.
    fn next_pkid(&mut self) -> u16 {
        loop {
            self.last_pkid = self.last_pkid.wrapping_add(1);
            if self.last_pkid != 0 && !self.inflight.contains(&self.last_pkid) {
                return self.last_pkid;
            }
        }
    }

    async fn send(&mut self, packet: Packet) -> Result<(), End> {
        self.conn.send(packet).await.map_err(End::Abnormal)
    }
}

/// The protocol level of a CONNECT at the start of `buf`, once enough bytes have arrived: after
/// the fixed header come the protocol name (length-prefixed) and then the level byte.
fn connect_level(buf: &[u8]) -> Option<u8> {
    if buf.first()? >> 4 != 1 {
        return None;
    }
    let mut i = 1;
    // The remaining length is a variable-length integer of at most four bytes.
    while buf.get(i)? & 0x80 != 0 {
        i += 1;
        if i > 4 {
            return None;
        }
    }
    i += 1;
    let name_len = usize::from(u16::from_be_bytes([*buf.get(i)?, *buf.get(i + 1)?]));
    buf.get(i + 2 + name_len).copied()
}

fn connack(code: ConnectReturnCode) -> Packet {
    Packet::ConnAck(ConnAck {
        session_present: false,
        code,
    })
}

/// A topic a client may publish to: non-empty and without wildcards (MQTT 3.1.1, 4.7.3).
fn valid_topic(topic: &str) -> bool {
    !topic.is_empty() && rumqttc::valid_topic(topic) && !topic.contains('\0')
}

#[cfg(test)]
mod tests {
    use super::connect_level;

    #[test]
    fn finds_the_protocol_level_of_a_connect() {
        let v311 = [0x10, 0x10, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0x02];
        assert_eq!(connect_level(&v311), Some(4));
        let v31 = [
            0x10, 0x80, 0x01, 0x00, 0x06, b'M', b'Q', b'I', b's', b'd', b'p', 0x03,
        ];
        assert_eq!(connect_level(&v31), Some(3));
        assert_eq!(connect_level(&v311[..7]), None, "not enough bytes yet");
        assert_eq!(connect_level(&[0x30, 0x00]), None, "not a CONNECT");
    }
}
