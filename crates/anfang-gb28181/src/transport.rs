//! SIP over UDP and TCP on one port (tokio), and the client half of transactions. Requests
//! that arrive go to one channel with the peer they came from (the observed source, where
//! answers go); responses go to the transaction waiting for them, matched by Call-ID and
//! CSeq. A request we send over UDP is retransmitted (500 ms doubling to 4 s, RFC 3261
//! timers A/E) until any response arrives; over TCP it is sent once. Unparseable input is
//! counted (`anfang_gb28181_rejected_total{reason}`) and dropped; a TCP stream that cannot be
//! framed is closed. Nothing here panics on input.
//!
//! A request that arrives again (the peer retransmits because our answer was lost) is not
//! handled twice: for 32 s (RFC 3261 timer J) its last answer is sent again, or, while it is
//! still being handled, the repeat is dropped — so a retransmitted alarm is one alarm.

use crate::registry::{Peer, Transport};
use crate::sip::{self, SipMessage};
use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::{mpsc, oneshot};

/// A request that arrived, with where it came from.
#[derive(Debug)]
pub struct Incoming {
    /// The request.
    pub message: SipMessage,
    /// Its observed source.
    pub peer: Peer,
}

/// Why a request we sent got no final answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransactionError {
    /// No final response in time.
    #[error("no answer in time")]
    Timeout,
    /// Sending failed (no TCP connection to that peer, socket error).
    #[error("cannot send: {0}")]
    Send(String),
}

struct Pending {
    /// Where the final response goes.
    final_tx: oneshot::Sender<SipMessage>,
    /// Set by the first response of any kind: retransmission stops.
    answered: Arc<AtomicBool>,
}

/// One SIP endpoint: a UDP socket and a TCP listener on the same port.
pub struct Endpoint {
    /// The UDP socket (shared by every UDP peer).
    udp: Arc<UdpSocket>,
    /// The bound address (UDP and TCP share the port).
    local: SocketAddr,
    /// Writers of open TCP connections by remote address.
    tcp: Mutex<HashMap<SocketAddr, mpsc::Sender<Vec<u8>>>>,
    /// Our requests waiting for a final response, by `Call-ID CSeq-number CSeq-method`.
    pending: Mutex<HashMap<String, Pending>>,
    /// Where arriving requests go.
    requests: mpsc::Sender<Incoming>,
    /// Requests seen lately (server transactions) with when, and the last answer we sent.
    answered: Mutex<HashMap<String, (tokio::time::Instant, Option<SipMessage>)>>,
}

/// How long a server transaction is remembered (RFC 3261 timer J, 64 × T1).
const TRANSACTION_MEMORY: Duration = Duration::from_secs(32);

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint").field("local", &self.local).finish()
    }
}

fn transaction_key(m: &SipMessage) -> Option<String> {
    let (n, method) = m.cseq()?;
    Some(format!("{} {n} {}", m.call_id()?, method.to_ascii_uppercase()))
}

fn reject(reason: &'static str) {
    metrics::counter!("anfang_gb28181_rejected_total", "reason" => reason).increment(1);
}

impl Endpoint {
    /// Binds UDP and TCP on `addr` (port 0: a free port, the same for both) and starts
    /// reading; requests arrive on the returned channel.
    pub async fn bind(addr: SocketAddr) -> io::Result<(Arc<Endpoint>, mpsc::Receiver<Incoming>)> {
        let mut last_error = None;
        for _ in 0..20 {
            let udp = UdpSocket::bind(addr).await?;
            let local = udp.local_addr()?;
            match TcpListener::bind(local).await {
                Ok(listener) => {
                    let (requests, rx) = mpsc::channel(4096);
                    let endpoint = Arc::new(Endpoint {
                        udp: Arc::new(udp),
                        local,
                        tcp: Mutex::new(HashMap::new()),
                        pending: Mutex::new(HashMap::new()),
                        requests,
                        answered: Mutex::new(HashMap::new()),
                    });
                    tokio::spawn(Arc::clone(&endpoint).read_udp());
                    tokio::spawn(Arc::clone(&endpoint).accept_tcp(listener));
                    return Ok((endpoint, rx));
                }
                // The UDP port's TCP twin is taken: with port 0, try another.
                Err(e) if addr.port() == 0 => last_error = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last_error.unwrap_or_else(|| io::Error::other("no free port")))
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    async fn read_udp(self: Arc<Self>) {
        let mut buf = vec![0u8; 65_536];
        loop {
            let (n, from) = match self.udp.recv_from(&mut buf).await {
                Ok(x) => x,
                // ICMP port unreachable from an earlier send shows up here on some systems.
                Err(_) => continue,
            };
            let peer = Peer {
                transport: Transport::Udp,
                addr: from,
            };
            self.deliver(&buf[..n], peer).await;
        }
    }

    async fn accept_tcp(self: Arc<Self>, listener: TcpListener) {
        loop {
            let Ok((stream, from)) = listener.accept().await else {
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            };
            self.attach(stream, from);
        }
    }

    /// Serves a TCP connection (accepted, or opened by [`Endpoint::connect`]).
    fn attach(self: &Arc<Self>, stream: TcpStream, from: SocketAddr) {
        let _ = stream.set_nodelay(true);
        let (mut reader, mut writer) = stream.into_split();
        let (tx, mut rx) = mpsc::channel::<Vec<u8>>(256);
        self.tcp.lock().unwrap().insert(from, tx.clone());
        tokio::spawn(async move {
            while let Some(bytes) = rx.recv().await {
                if writer.write_all(&bytes).await.is_err() {
                    break;
                }
            }
        });
        let me = Arc::clone(self);
        tokio::spawn(async move {
            let peer = Peer {
                transport: Transport::Tcp,
                addr: from,
            };
            let mut buf: Vec<u8> = Vec::new();
            let mut chunk = vec![0u8; 16_384];
            'read: loop {
                match reader.read(&mut chunk).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
                loop {
                    match sip::frame(&buf) {
                        Ok(Some((skip, len))) => {
                            let message: Vec<u8> = buf[skip..skip + len].to_vec();
                            buf.drain(..skip + len);
                            me.deliver(&message, peer).await;
                        }
                        Ok(None) => break,
                        Err(e) => {
                            reject(e.code());
                            break 'read;
                        }
                    }
                }
            }
            let mut tcp = me.tcp.lock().unwrap();
            if tcp.get(&from).is_some_and(|t| t.same_channel(&tx)) {
                tcp.remove(&from);
            }
        });
    }

    /// Opens a TCP connection to `addr` (a superior platform, a device over TCP) unless one
    /// is open.
    pub async fn connect(self: &Arc<Self>, addr: SocketAddr) -> io::Result<()> {
        if self.tcp.lock().unwrap().contains_key(&addr) {
            return Ok(());
        }
        let stream = TcpStream::connect(addr).await?;
        self.attach(stream, addr);
        Ok(())
    }

    async fn deliver(&self, bytes: &[u8], peer: Peer) {
        if bytes.iter().all(|b| b.is_ascii_whitespace()) {
            return; // keep-alive CRLFs
        }
        let message = match SipMessage::parse(bytes) {
            Ok(m) => m,
            Err(e) => {
                reject(e.code());
                tracing::debug!(peer = %peer.addr, error = %e, "unparseable SIP dropped");
                return;
            }
        };
        if message.is_request() {
            if message.method() != Some("ACK")
                && let Some(key) = transaction_key(&message)
            {
                let now = tokio::time::Instant::now();
                let repeat = {
                    let mut answered = self.answered.lock().unwrap();
                    if answered.len() > 4096 {
                        answered.retain(|_, (at, _)| now.duration_since(*at) < TRANSACTION_MEMORY);
                    }
                    match answered.get(&key) {
                        Some((at, answer)) if now.duration_since(*at) < TRANSACTION_MEMORY => {
                            Some(answer.clone())
                        }
                        _ => {
                            answered.insert(key, (now, None));
                            None
                        }
                    }
                };
                if let Some(answer) = repeat {
                    metrics::counter!("anfang_gb28181_retransmissions_total").increment(1);
                    if let Some(answer) = answer {
                        let _ = self.send(peer, &answer).await;
                    }
                    return;
                }
            }
            if self.requests.try_send(Incoming { message, peer }).is_err() {
                reject("overloaded");
            }
            return;
        }
        let Some(key) = transaction_key(&message) else {
            reject("response_without_cseq");
            return;
        };
        let mut pending = self.pending.lock().unwrap();
        if let Some(p) = pending.get(&key) {
            p.answered.store(true, Ordering::Relaxed);
        }
        if message.status().is_some_and(|c| c >= 200)
            && let Some(p) = pending.remove(&key)
        {
            let _ = p.final_tx.send(message);
        }
    }

    /// Sends a message to a peer.
    pub async fn send(&self, peer: Peer, message: &SipMessage) -> Result<(), TransactionError> {
        if !message.is_request()
            && message.status().is_some_and(|c| c >= 200)
            && let Some(key) = transaction_key(message)
            && let Some(entry) = self.answered.lock().unwrap().get_mut(&key)
        {
            entry.1 = Some(message.clone());
        }
        let bytes = message.to_bytes();
        match peer.transport {
            Transport::Udp => self
                .udp
                .send_to(&bytes, peer.addr)
                .await
                .map(|_| ())
                .map_err(|e| TransactionError::Send(e.to_string())),
            Transport::Tcp => {
                let tx = self.tcp.lock().unwrap().get(&peer.addr).cloned();
                let tx = tx.ok_or_else(|| TransactionError::Send("no TCP connection".into()))?;
                tx.send(bytes)
                    .await
                    .map_err(|_| TransactionError::Send("TCP connection closed".into()))
            }
        }
    }

    /// Sends a request and waits for its final response (provisional ones are skipped).
    pub async fn request(
        &self,
        peer: Peer,
        message: SipMessage,
        timeout: Duration,
    ) -> Result<SipMessage, TransactionError> {
        let key =
            transaction_key(&message).ok_or_else(|| TransactionError::Send("request without CSeq".into()))?;
        let (final_tx, mut final_rx) = oneshot::channel();
        let answered = Arc::new(AtomicBool::new(false));
        self.pending.lock().unwrap().insert(
            key.clone(),
            Pending {
                final_tx,
                answered: Arc::clone(&answered),
            },
        );
        let result = async {
            self.send(peer, &message).await?;
            let deadline = tokio::time::Instant::now() + timeout;
            let mut interval = Duration::from_millis(500);
            loop {
                let wake = (tokio::time::Instant::now() + interval).min(deadline);
                tokio::select! {
                    answer = &mut final_rx => return answer.map_err(|_| TransactionError::Timeout),
                    _ = tokio::time::sleep_until(wake) => {}
                }
                if tokio::time::Instant::now() >= deadline {
                    return Err(TransactionError::Timeout);
                }
                if peer.transport == Transport::Udp && !answered.load(Ordering::Relaxed) {
                    self.send(peer, &message).await?;
                    interval = (interval * 2).min(Duration::from_secs(4));
                }
            }
        }
        .await;
        self.pending.lock().unwrap().remove(&key);
        result
    }
}
