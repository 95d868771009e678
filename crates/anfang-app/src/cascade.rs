//! Store-and-forward toward superior platforms: what is queued for a target (in the same
//! transaction as the records it reports), handed to the forwarder in order with its pictures
//! restored, and marked delivered — or failed — as the target answers. An item the target keeps
//! refusing is given up after [`MAX_ATTEMPTS`] so that it cannot block the queue for ever; that
//! is logged and counted.

use crate::{App, AppError, AppResult};
use anfang_store::*;
use base64::Engine;
use serde_json::Value;

/// Refusals of one item before it is given up.
pub const MAX_ATTEMPTS: i64 = 5;

/// One item ready to send.
#[derive(Debug, Clone, PartialEq)]
pub struct CascadeItem {
    /// The queue id.
    pub id: i64,
    /// `face`, `person`, `motor_vehicle`, `non_motor_vehicle`.
    pub kind: String,
    /// The object as uploaded, with its pictures' data restored.
    pub object: Value,
}

/// Puts each picture's data back into `SubImageList.SubImageInfoObject[].Data`, in order.
fn restore_images(object: &mut Value, images: Vec<Vec<u8>>) {
    let mut images = images.into_iter();
    if let Some(list) = object
        .get_mut("SubImageList")
        .and_then(|l| l.get_mut("SubImageInfoObject"))
        .and_then(Value::as_array_mut)
    {
        for info in list.iter_mut() {
            let sealed = info
                .get("Data")
                .and_then(Value::as_str)
                .is_some_and(|d| d.starts_with("(sealed"));
            if sealed && let Some(bytes) = images.next() {
                info["Data"] = Value::from(base64::engine::general_purpose::STANDARD.encode(bytes));
            }
        }
    }
}

impl App {
    /// The oldest undelivered items of `target`, ready to send.
    pub async fn cascade_batch(&self, target: &str, limit: i64) -> AppResult<Vec<CascadeItem>> {
        let mut tx = self.store.read().await?;
        let mut out = Vec::new();
        for row in tx.pending_cascade(target, limit).await? {
            let payload: Value = serde_json::from_str(&row.payload).unwrap_or_default();
            let Some(record_id) = payload["record"].as_i64() else {
                continue;
            };
            let Some(record) = tx.capture_record(record_id).await? else {
                continue;
            };
            let keys: Vec<String> = serde_json::from_str(&record.image_keys).unwrap_or_default();
            let mut images = Vec::with_capacity(keys.len());
            for key in &keys {
                let bytes = self
                    .get_sealed(crate::captures::CAPTURE_CONTEXT, key)
                    .await?
                    .ok_or(AppError::NotFound { entity: "image" })?;
                images.push(bytes);
            }
            let mut object: Value = serde_json::from_str(&record.attributes).unwrap_or_default();
            restore_images(&mut object, images);
            out.push(CascadeItem {
                id: row.id,
                kind: row.kind,
                object,
            });
        }
        Ok(out)
    }

    /// The target took these items.
    pub async fn cascade_delivered(&self, ids: &[i64]) -> AppResult<()> {
        let mut tx = self.store.write().await?;
        tx.mark_cascade_delivered(ids, self.clock.now_ms()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The target refused these items (or could not be reached); items refused
    /// [`MAX_ATTEMPTS`] times are given up.
    pub async fn cascade_failed(&self, target: &str, ids: &[i64], error: &str) -> AppResult<()> {
        let mut tx = self.store.write().await?;
        tx.note_cascade_failure(ids, error).await?;
        let given_up: Vec<i64> = tx
            .pending_cascade(target, 1000)
            .await?
            .into_iter()
            .filter(|c| ids.contains(&c.id) && c.attempts >= MAX_ATTEMPTS)
            .map(|c| c.id)
            .collect();
        if !given_up.is_empty() {
            tracing::warn!(target, items = given_up.len(), error, "cascade items given up");
            metrics::counter!("anfang_cascade_given_up_total", "target" => target.to_string())
                .increment(given_up.len() as u64);
            tx.mark_cascade_delivered(&given_up, self.clock.now_ms()).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Every configured target with its queue (district-wide callers only).
    pub async fn cascade_targets(&self, who: &crate::Principal) -> AppResult<Vec<(String, CascadeDepth)>> {
        who.require(crate::Permission::ReadDevices)?;
        if !who.scope.all {
            return Err(AppError::Forbidden("the cascade is district-wide".into()));
        }
        let mut out = Vec::new();
        for target in &self.config.cascade_targets {
            out.push((target.clone(), self.cascade_depth(target).await?));
        }
        Ok(out)
    }

    /// A target's queue depth and last delivery.
    pub async fn cascade_depth(&self, target: &str) -> AppResult<CascadeDepth> {
        let mut tx = self.store.read().await?;
        Ok(tx.cascade_depth(target).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pictures_go_back_where_they_were_sealed() {
        let mut object = serde_json::json!({"FaceID": "1", "SubImageList": {"SubImageInfoObject": [
            {"Type": "11", "Data": "(sealed, 3 bytes)"},
            {"Type": "14", "StoragePath": "http://x/y.jpg"},
            {"Type": "14", "Data": "(sealed, 2 bytes)"}
        ]}});
        restore_images(&mut object, vec![vec![1, 2, 3], vec![4, 5]]);
        let list = &object["SubImageList"]["SubImageInfoObject"];
        assert_eq!(list[0]["Data"], "AQID");
        assert!(list[1].get("Data").is_none());
        assert_eq!(list[2]["Data"], "BAU=");
    }
}
