//! The event pipeline: every transport (HTTP push, MQTT, later GA/T 1400 and GB/T 28181)
//! submits device events here; a bounded queue feeds a small pool of workers that run the
//! application's decision and persistence (`App::device_event`), and each submitter awaits its
//! own answer.
//!
//! Back-pressure: the queue is bounded. When it is full, [`Pipeline::submit`] fails at once
//! with [`PipelineError::Busy`] and the transport answers "busy" (HTTP 503 with Retry-After,
//! an MQTT error ack); the device keeps the event and resends it, so nothing acknowledged is
//! lost and memory stays flat under overload.
//!
//! This is the skeleton the alarm and recognition issues extend (enrich, rules, more sinks).

use anfang_app::access::{DecidedEvent, DeviceAnswer, DeviceEvent};
use anfang_app::{App, AppError};

mod device;
pub use device::{GatewayError, command_message};
use std::sync::Arc;
use tokio::sync::{Mutex, mpsc, oneshot};

/// Why a submission got no answer from the application.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// The queue is full; retry after a moment.
    #[error("the platform is busy; retry shortly")]
    Busy,
    /// The pipeline is shutting down.
    #[error("the pipeline is stopped")]
    Stopped,
    /// The application refused or failed the event.
    #[error(transparent)]
    App(#[from] AppError),
}

/// One queued event and where its answer goes.
struct Job {
    device_code: String,
    event: DeviceEvent,
    reply: oneshot::Sender<Result<DeviceAnswer, AppError>>,
}

/// Sizes of the pipeline.
#[derive(Debug, Clone, Copy)]
pub struct PipelineConfig {
    /// Events waiting at most (beyond it, submissions are refused as busy).
    pub capacity: usize,
    /// Concurrent workers.
    pub workers: usize,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        PipelineConfig {
            capacity: 4096,
            workers: 4,
        }
    }
}

/// A handle to submit events; cheap to clone.
#[derive(Clone)]
pub struct Pipeline {
    /// The bounded queue's sending side.
    queue: mpsc::Sender<Job>,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("free", &self.queue.capacity())
            .finish()
    }
}

/// Decided events stored in one transaction at most.
pub const MAX_BATCH: usize = 256;

type Reply = oneshot::Sender<Result<DeviceAnswer, AppError>>;

fn answer(reply: Reply, started: std::time::Instant, result: Result<DeviceAnswer, AppError>) {
    metrics::histogram!("anfang_pipeline_event_seconds").record(started.elapsed().as_secs_f64());
    // The submitter may have given up (timeout, disconnect): nothing to do then.
    let _ = reply.send(result);
}

/// The single writer of decided events: takes whatever has queued up (up to [`MAX_BATCH`]),
/// stores it in one transaction and answers each submitter. A failed batch is retried one
/// event at a time, so one bad event fails alone.
async fn store_batches(app: App, mut decided: mpsc::Receiver<(DecidedEvent, Reply, std::time::Instant)>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while decided.recv_many(&mut batch, MAX_BATCH).await > 0 {
        metrics::histogram!("anfang_pipeline_batch_events").record(batch.len() as f64);
        let events: Vec<DecidedEvent> = batch.iter().map(|(e, _, _)| e.clone()).collect();
        match app.store_decided(&events).await {
            Ok(answers) => {
                for ((_, reply, started), a) in batch.drain(..).zip(answers) {
                    answer(reply, started, Ok(a));
                }
            }
            Err(e) if batch.len() == 1 => {
                if let Some((_, reply, started)) = batch.pop() {
                    answer(reply, started, Err(e));
                }
            }
            Err(e) => {
                tracing::warn!(events = batch.len(), error = %e, "batch not stored; storing its events one by one");
                for (event, reply, started) in batch.drain(..) {
                    let result = app
                        .store_decided(std::slice::from_ref(&event))
                        .await
                        .and_then(|mut a| a.pop().ok_or(AppError::Internal("no answer".into())));
                    answer(reply, started, result);
                }
            }
        }
    }
}

impl Pipeline {
    /// Starts the workers and the writer on the current Tokio runtime.
    pub fn start(app: App, config: PipelineConfig) -> Pipeline {
        let (queue, receiver) = mpsc::channel::<Job>(config.capacity.max(1));
        let (to_writer, decided) = mpsc::channel(config.capacity.max(1));
        tokio::spawn(store_batches(app.clone(), decided));
        // Workers share one receiver; each takes the next job when free.
        let receiver = Arc::new(Mutex::new(receiver));
        for worker in 0..config.workers.max(1) {
            let app = app.clone();
            let receiver = receiver.clone();
            let to_writer = to_writer.clone();
            tokio::spawn(async move {
                loop {
                    let job = { receiver.lock().await.recv().await };
                    let Some(job) = job else { break };
                    let started = std::time::Instant::now();
                    // Credential events are decided from the policy cache and handed to the
                    // writer, which answers them once stored; the rest run whole here.
                    let result = match app.decide_event(&job.device_code, &job.event).await {
                        Ok(Some(decided)) => {
                            if let Err(mpsc::error::SendError((_, reply, started))) =
                                to_writer.send((decided, job.reply, started)).await
                            {
                                answer(
                                    reply,
                                    started,
                                    Err(AppError::Internal("the writer stopped".into())),
                                );
                            }
                            continue;
                        }
                        Ok(None) => app.device_event(&job.device_code, &job.event).await,
                        Err(e) => Err(e),
                    };
                    if let Err(e) = &result {
                        tracing::debug!(worker, device = %job.device_code, error = %e, "device event refused");
                    }
                    answer(job.reply, started, result);
                }
            });
        }
        Pipeline { queue }
    }

    /// Submits one event and waits for its answer; fails at once with `Busy` when full.
    pub async fn submit(&self, device_code: &str, event: DeviceEvent) -> Result<DeviceAnswer, PipelineError> {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            device_code: device_code.to_string(),
            event,
            reply,
        };
        match self.queue.try_send(job) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                metrics::counter!("anfang_pipeline_busy_total").increment(1);
                return Err(PipelineError::Busy);
            }
            Err(mpsc::error::TrySendError::Closed(_)) => return Err(PipelineError::Stopped),
        }
        metrics::counter!("anfang_pipeline_events_total").increment(1);
        answer
            .await
            .map_err(|_| PipelineError::Stopped)?
            .map_err(PipelineError::App)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anfang_app::access::DeviceEventKind;
    use anfang_app::audit::MemoryCheckpoint;
    use anfang_app::vault::Vault;

    async fn app() -> (App, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}", dir.path().join("p.db").display());
        let store = anfang_store_sql::SqlStore::open(&url).await.unwrap();
        let (d, i) = Vault::generate_keys();
        let app = App::new(
            std::sync::Arc::new(store),
            std::sync::Arc::new(anfang_base::SimClock::new(1_793_491_200_000)),
            Vault::new(&d, &i),
            std::sync::Arc::new(MemoryCheckpoint::default()),
            std::sync::Arc::new(anfang_app::faces::MemoryImages::default()),
            Default::default(),
        );
        let req = anfang_app::registry::CreateDevice {
            code: "37032300001320000001".into(),
            kind: "face_door_terminal".into(),
            protocol: "mqtt".into(),
            ..Default::default()
        };
        app.create_device(None, &req).await.unwrap();
        (app, dir)
    }

    fn heartbeat(id: &str) -> DeviceEvent {
        DeviceEvent {
            event_id: id.into(),
            at_ms: 1,
            kind: DeviceEventKind::Heartbeat {
                firmware: "1.0".into(),
                library_version: 0,
                accepts: None,
            },
            body_json: "{}".into(),
            images: Vec::new(),
        }
    }

    #[tokio::test]
    async fn events_are_answered_and_unknown_devices_refused() {
        let (app, _dir) = app().await;
        let pipeline = Pipeline::start(app, PipelineConfig::default());
        let answer = pipeline
            .submit("37032300001320000001", heartbeat("h1"))
            .await
            .unwrap();
        assert_eq!(answer.status, anfang_app::access::AckStatus::Stored);
        let err = pipeline
            .submit("99999999999999999999", heartbeat("h2"))
            .await
            .unwrap_err();
        assert!(matches!(err, PipelineError::App(AppError::NotFound { .. })));
    }

    /// A door terminal at a community's entrance, for credential events.
    async fn door(app: &App) -> String {
        use anfang_app::registry::*;
        let req = anfang_app::auth::CreateUser {
            username: "admin".into(),
            role: "district_admin".into(),
            scope: "district:370323".into(),
            display_name: None,
        };
        let (_, password) = app.create_user("test", &req).await.unwrap();
        let admin = app.login("admin", &password).await.unwrap().principal;
        let street = app
            .create_street(
                &admin,
                &CreateStreet {
                    district_code: "370323".into(),
                    code: "370323001".into(),
                    name: "历山街道".into(),
                },
            )
            .await
            .unwrap();
        let committee = app
            .create_committee(
                &admin,
                &CreateCommittee {
                    street_id: street.id,
                    code: "C1".into(),
                    name: "居委会".into(),
                    kind: "residents".into(),
                },
            )
            .await
            .unwrap();
        let community = app
            .create_community(
                &admin,
                &CreateCommunity {
                    committee_id: committee.id,
                    code: "370323001001001".into(),
                    name: "小区".into(),
                    category: "existing_closed".into(),
                    property_type: "commercial".into(),
                    address: "沂源县".into(),
                    site_width: 100.0,
                    site_height: 100.0,
                    police_area: None,
                },
            )
            .await
            .unwrap();
        let place = app
            .create_place(
                &admin,
                &CreatePlace {
                    community_id: community.id,
                    kind: "pedestrian_entrance".into(),
                    name: "南门".into(),
                    x: 1.0,
                    y: 1.0,
                    attended: true,
                    unit_id: None,
                },
            )
            .await
            .unwrap();
        let code = "37032300001320000002".to_string();
        let req = CreateDevice {
            code: code.clone(),
            kind: "face_door_terminal".into(),
            protocol: "mqtt".into(),
            community_id: Some(community.id),
            place_id: Some(place.id),
            ..Default::default()
        };
        app.create_device(Some(&admin), &req).await.unwrap();
        code
    }

    #[tokio::test]
    async fn copies_of_one_event_in_flight_together_are_stored_once() {
        let (app, _dir) = app().await;
        let code = door(&app).await;
        let pipeline = Pipeline::start(app, PipelineConfig::default());
        let card = |id: &str| DeviceEvent {
            event_id: id.into(),
            at_ms: 1,
            kind: DeviceEventKind::Credential {
                presented: anfang_app::access::Presented::Card("ABCD1234".into()),
                decided_locally: None,
            },
            body_json: "{}".into(),
            images: Vec::new(),
        };
        // Twenty copies of one event and twenty other events at once: the writer batches them.
        let mut handles = Vec::new();
        for n in 0..40 {
            let (p, code) = (pipeline.clone(), code.clone());
            let id = if n % 2 == 0 {
                "same".to_string()
            } else {
                format!("e{n}")
            };
            handles.push(tokio::spawn(async move { p.submit(&code, card(&id)).await }));
        }
        let mut stored = 0;
        let mut duplicates = 0;
        for h in handles {
            let answer = h.await.unwrap().unwrap();
            let decision = answer.decision.unwrap();
            assert_eq!(decision.reason, anfang_app::access::Reason::UnknownCredential);
            match answer.status {
                anfang_app::access::AckStatus::Stored => stored += 1,
                anfang_app::access::AckStatus::Duplicate => duplicates += 1,
            }
        }
        assert_eq!((stored, duplicates), (21, 19));
    }

    #[tokio::test]
    async fn a_full_queue_answers_busy_instead_of_growing() {
        let (app, _dir) = app().await;
        let app_store = app.store().clone();
        // One slot and one worker: flood it and some submissions must be refused at once.
        let pipeline = Pipeline::start(
            app,
            PipelineConfig {
                capacity: 1,
                workers: 1,
            },
        );
        let mut handles = Vec::new();
        for n in 0..50 {
            let p = pipeline.clone();
            handles.push(tokio::spawn(async move {
                let id = format!("f{n}");
                (id.clone(), p.submit("37032300001320000001", heartbeat(&id)).await)
            }));
        }
        let (mut stored, mut refused) = (Vec::new(), Vec::new());
        for h in handles {
            match h.await.unwrap() {
                (id, Ok(_)) => stored.push(id),
                (id, Err(PipelineError::Busy)) => refused.push(id),
                (_, Err(e)) => panic!("unexpected {e}"),
            }
        }
        assert!(
            !refused.is_empty() && !stored.is_empty(),
            "busy {refused:?}, done {stored:?}"
        );
        // Every acknowledged event is in the store; no refused one is (the device resends it).
        let mut tx = app_store.read().await.unwrap();
        let device = tx.device_by_code("37032300001320000001").await.unwrap().unwrap();
        for id in &stored {
            assert!(
                tx.device_event(device.id, id).await.unwrap().is_some(),
                "{id} lost"
            );
        }
        for id in &refused {
            assert!(
                tx.device_event(device.id, id).await.unwrap().is_none(),
                "{id} stored though refused"
            );
        }
    }
}
