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

use anfang_app::access::{DeviceAnswer, DeviceEvent};
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

impl Pipeline {
    /// Starts the workers on the current Tokio runtime.
    pub fn start(app: App, config: PipelineConfig) -> Pipeline {
        let (queue, receiver) = mpsc::channel::<Job>(config.capacity.max(1));
        // Workers share one receiver; each takes the next job when free.
        let receiver = Arc::new(Mutex::new(receiver));
        for worker in 0..config.workers.max(1) {
            let app = app.clone();
            let receiver = receiver.clone();
            tokio::spawn(async move {
                loop {
                    let job = { receiver.lock().await.recv().await };
                    let Some(job) = job else { break };
                    let started = std::time::Instant::now();
                    let result = app.device_event(&job.device_code, &job.event).await;
                    metrics::histogram!("anfang_pipeline_event_seconds")
                        .record(started.elapsed().as_secs_f64());
                    if let Err(e) = &result {
                        tracing::debug!(worker, device = %job.device_code, error = %e, "device event refused");
                    }
                    // The submitter may have given up (timeout, disconnect): nothing to do then.
                    let _ = job.reply.send(result);
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
            },
            body_json: "{}".into(),
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

    #[tokio::test]
    async fn a_full_queue_answers_busy_instead_of_growing() {
        let (app, _dir) = app().await;
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
                p.submit("37032300001320000001", heartbeat(&format!("f{n}")))
                    .await
            }));
        }
        let mut busy = 0;
        let mut done = 0;
        for h in handles {
            match h.await.unwrap() {
                Ok(_) => done += 1,
                Err(PipelineError::Busy) => busy += 1,
                Err(e) => panic!("unexpected {e}"),
            }
        }
        assert!(busy > 0 && done > 0, "busy {busy}, done {done}");
    }
}
