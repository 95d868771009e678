//! A bounded pool of recognition workers. Each worker thread owns its own [`FaceEngine`] (dlib's
//! detector is not thread-safe, and a face is too little work to split across cores), jobs wait
//! in a bounded queue, and a full queue answers [`VisionError::Busy`] at once instead of growing
//! memory. A job that panics is answered with an error and its worker carries on.

use crate::face::FaceEngine;
use crate::{VisionError, VisionResult};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};

type Job = Box<dyn FnOnce(&mut dyn FaceEngine) + Send>;

/// Counters of a pool.
#[derive(Debug, Default)]
pub struct PoolStats {
    /// Jobs run to the end.
    pub done: AtomicU64,
    /// Jobs refused because the queue was full.
    pub refused: AtomicU64,
    /// Jobs that panicked.
    pub failed: AtomicU64,
}

/// The worker pool. Cheap to clone; the workers stop when the last clone is dropped.
#[derive(Clone)]
pub struct FacePool {
    tx: SyncSender<Job>,
    stats: Arc<PoolStats>,
    workers: usize,
    model_id: &'static str,
}

impl std::fmt::Debug for FacePool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FacePool")
            .field("workers", &self.workers)
            .field("model_id", &self.model_id)
            .finish()
    }
}

impl FacePool {
    /// Starts `workers` threads, each with an engine from `load`, and a queue of `queue` jobs.
    /// Fails if any engine fails to load.
    pub fn start<F>(workers: usize, queue: usize, load: F) -> VisionResult<FacePool>
    where
        F: Fn() -> VisionResult<Box<dyn FaceEngine>> + Send + Sync + 'static,
    {
        let workers = workers.max(1);
        let (tx, rx) = sync_channel::<Job>(queue.max(1));
        let rx = Arc::new(Mutex::new(rx));
        let load = Arc::new(load);
        let stats = Arc::new(PoolStats::default());
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        for n in 0..workers {
            let (rx, load, stats, ready) = (rx.clone(), load.clone(), stats.clone(), ready_tx.clone());
            std::thread::Builder::new()
                .name(format!("anfang-face-{n}"))
                .spawn(move || match load() {
                    Ok(mut engine) => {
                        let _ = ready.send(Ok(engine.model_id()));
                        drop(ready);
                        work(&rx, engine.as_mut(), &stats);
                    }
                    Err(e) => {
                        let _ = ready.send(Err(e));
                    }
                })
                .map_err(|e| VisionError::Worker(e.to_string()))?;
        }
        drop(ready_tx);
        let mut model_id = "";
        for _ in 0..workers {
            match ready_rx.recv() {
                Ok(Ok(id)) => model_id = id,
                Ok(Err(e)) => return Err(e),
                Err(_) => return Err(VisionError::Worker("a worker died while loading".into())),
            }
        }
        Ok(FacePool {
            tx,
            stats,
            workers,
            model_id,
        })
    }

    /// The engines' model id.
    pub fn model_id(&self) -> &'static str {
        self.model_id
    }

    /// How many workers run.
    pub fn workers(&self) -> usize {
        self.workers
    }

    /// The pool's counters.
    pub fn stats(&self) -> &PoolStats {
        &self.stats
    }

    /// Runs `f` on a worker's engine; [`VisionError::Busy`] at once when the queue is full.
    pub async fn run<T, F>(&self, f: F) -> VisionResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn FaceEngine) -> T + Send + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |engine| {
            let _ = reply.send(f(engine));
        });
        match self.tx.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                self.stats.refused.fetch_add(1, Ordering::Relaxed);
                return Err(VisionError::Busy);
            }
            Err(TrySendError::Disconnected(_)) => {
                return Err(VisionError::Worker("the workers have stopped".into()));
            }
        }
        answer
            .await
            .map_err(|_| VisionError::Worker("the job failed".into()))
    }

    /// Runs `f` on a worker's engine, waiting for room in the queue (for batch work such as
    /// benchmarks and re-indexing, never for requests).
    pub fn run_blocking<T, F>(&self, f: F) -> VisionResult<std::sync::mpsc::Receiver<T>>
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn FaceEngine) -> T + Send + 'static,
    {
        let (reply, answer) = std::sync::mpsc::channel();
        let job: Job = Box::new(move |engine| {
            let _ = reply.send(f(engine));
        });
        self.tx
            .send(job)
            .map_err(|_| VisionError::Worker("the workers have stopped".into()))?;
        Ok(answer)
    }
}

fn work(rx: &Mutex<Receiver<Job>>, engine: &mut dyn FaceEngine, stats: &PoolStats) {
    loop {
        let job = match rx.lock() {
            Ok(guard) => match guard.recv() {
                Ok(job) => job,
                Err(_) => return,
            },
            Err(_) => return,
        };
        match catch_unwind(AssertUnwindSafe(|| job(&mut *engine))) {
            Ok(()) => stats.done.fetch_add(1, Ordering::Relaxed),
            Err(_) => stats.failed.fetch_add(1, Ordering::Relaxed),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::face::{Embedding, Rect};
    use image::RgbImage;

    struct Slow;
    impl FaceEngine for Slow {
        fn model_id(&self) -> &'static str {
            "slow"
        }
        fn detect_and_embed(&mut self, image: &RgbImage) -> Vec<(Rect, Embedding)> {
            if image.width() == 13 {
                panic!("boom");
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
            Vec::new()
        }
    }

    #[tokio::test]
    async fn refuses_when_full_and_survives_a_panic() {
        let pool = FacePool::start(1, 1, || Ok(Box::new(Slow) as Box<dyn FaceEngine>)).unwrap();
        assert_eq!(pool.model_id(), "slow");
        let img = RgbImage::new(20, 20);
        let (a, b, c) = tokio::join!(
            pool.run({
                let img = img.clone();
                move |e| e.detect_and_embed(&img).len()
            }),
            pool.run({
                let img = img.clone();
                move |e| e.detect_and_embed(&img).len()
            }),
            pool.run({
                let img = img.clone();
                move |e| e.detect_and_embed(&img).len()
            }),
        );
        let outcomes = [a, b, c];
        assert!(
            outcomes.iter().any(|r| r == &Err(VisionError::Busy)),
            "{outcomes:?}"
        );
        assert!(outcomes.iter().any(|r| r == &Ok(0)));
        let bad = RgbImage::new(13, 13);
        let err = pool
            .run(move |e| e.detect_and_embed(&bad).len())
            .await
            .unwrap_err();
        assert_eq!(err.code(), "recognition_failed");
        // The worker is still there.
        assert_eq!(pool.run(move |e| e.detect_and_embed(&img).len()).await, Ok(0));
        assert_eq!(pool.stats().failed.load(Ordering::Relaxed), 1);
    }
}
