//! The smart booth (智能岗亭) at an unattended entrance: a visitor presses the one key, the
//! booth sends their details (name and ID number from the card reader, the house to visit) and
//! the call rings on the duty guard's console; the guard accepts (the gate opens) or refuses;
//! a call nobody answers in time is marked unanswered and escalated. Every outcome is an access
//! record. Answers reach the booth as queued commands: at once over MQTT, with the next ack
//! over HTTP push.

use crate::{App, AppError, AppResult, Permission, Principal};
use anfang_domain::access::{AccessDecision, Reason};
use anfang_store::*;
use serde_json::json;

/// A command waiting for a device, in application form.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingCommand {
    /// The command's id (unique).
    pub id: i64,
    /// The device's code.
    pub device_code: String,
    /// What to do.
    pub action: PendingAction,
}

/// A queued command's action.
#[derive(Debug, Clone, PartialEq)]
pub enum PendingAction {
    /// Open the door or barrier.
    Open {
        /// The reason code.
        reason: String,
    },
    /// Keep it shut and show a message.
    Deny {
        /// The message for the screen.
        message: String,
    },
    /// Apply settings.
    Config(DeviceSettings),
}

/// Device settings sent with a `config` command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DeviceSettings {
    /// Seconds between heartbeats, at least 1.
    pub heartbeat_secs: u16,
    /// Seconds to wait for an ack before resending an event.
    pub resend_secs: Option<u16>,
    /// Whether the terminal may decide from its library while the platform is unreachable.
    pub offline_decisions: Option<bool>,
}

impl App {
    /// Queues settings for a device (delivered at once over MQTT, with the next ack over HTTP
    /// push); audited.
    pub async fn configure_device(
        &self,
        who: &Principal,
        device_id: i64,
        settings: &DeviceSettings,
    ) -> AppResult<i64> {
        who.require(Permission::WriteDevices)?;
        if settings.heartbeat_secs == 0 || settings.resend_secs == Some(0) {
            return Err(AppError::invalid(
                "invalid_value",
                "heartbeat_secs",
                "heartbeat_secs and resend_secs are at least 1",
            ));
        }
        let mut tx = self.store.write().await?;
        let device = self.managed_device(&mut tx, who, device_id).await?;
        let command = json!({"config": settings}).to_string();
        let id = tx.queue_command(device_id, &command, self.clock.now_ms()).await?;
        let audit = self
            .audit(
                &mut tx,
                &who.actor(),
                "device.configure",
                &format!("device:{}", device.code),
                json!({"settings": settings, "command": id}),
            )
            .await?;
        self.commit(tx, Some(&audit)).await?;
        Ok(id)
    }
}

pub(crate) fn command_json(decision: AccessDecision) -> String {
    json!({"outcome": decision.outcome.as_str(), "reason": decision.reason.as_str()}).to_string()
}

impl App {
    /// Takes (marks delivered) the oldest pending command for one device, inside `tx`.
    pub(crate) async fn take_pending_for(
        &self,
        tx: &mut Box<dyn Tx>,
        device_id: i64,
    ) -> AppResult<Option<PendingCommand>> {
        let Some(row) = tx.pending_commands(Some(device_id), 1).await?.into_iter().next() else {
            return Ok(None);
        };
        let device = tx
            .device(device_id)
            .await?
            .ok_or(AppError::NotFound { entity: "device" })?;
        tx.mark_command_delivered(row.id, self.clock.now_ms()).await?;
        Ok(Some(to_pending(&row, &device.code)))
    }

    /// Takes up to `limit` pending commands for any device (the MQTT transport publishes them).
    pub async fn take_pending_commands(&self, limit: i64) -> AppResult<Vec<PendingCommand>> {
        let mut tx = self.store.write().await?;
        let rows = tx.pending_commands(None, limit).await?;
        let mut out = Vec::new();
        for row in rows {
            let Some(device) = tx.device(row.device_id).await? else {
                continue;
            };
            // Only MQTT devices can be pushed to; HTTP-push devices collect theirs with an ack.
            if device.protocol != "mqtt" {
                continue;
            }
            tx.mark_command_delivered(row.id, self.clock.now_ms()).await?;
            out.push(to_pending(&row, &device.code));
        }
        tx.commit().await?;
        Ok(out)
    }

    async fn close_call(
        &self,
        tx: &mut Box<dyn Tx>,
        call: &BoothCallRow,
        to: &str,
        by: Option<&str>,
        decision: AccessDecision,
        note: Option<&str>,
    ) -> AppResult<bool> {
        let now = self.clock.now_ms();
        if !tx
            .set_booth_call_status(call.id, "ringing", to, now, by, note)
            .await?
        {
            return Ok(false);
        }
        tx.queue_command(call.device_id, &command_json(decision), now)
            .await?;
        self.record_decision(
            tx,
            (call.community_id, call.device_id),
            call.event_id.clone(),
            "booth",
            decision,
            now,
        )
        .await?;
        Ok(true)
    }

    /// Whether `who` may answer a call: the community's duty guards and property staff, or a
    /// resident of the house the call is for.
    fn may_answer(who: &Principal, call: &BoothCallRow) -> AppResult<()> {
        if who.role.allows(Permission::ManageParking) {
            return who.scope.check_whole_community(call.community_id, "booth call");
        }
        who.require(Permission::InviteVisitors)?;
        match (&who.scope.houses, call.house_id) {
            (Some(mine), Some(house)) if mine.contains(&house) => Ok(()),
            _ => Err(AppError::NotFound { entity: "booth call" }),
        }
    }

    /// Accepts or refuses a ringing call (duty guards and property staff of the community, or
    /// a resident of the visited house from the resident page).
    pub async fn answer_booth_call(
        &self,
        who: &Principal,
        call_id: i64,
        accept: bool,
        message: Option<&str>,
    ) -> AppResult<BoothCallRow> {
        if !who.role.allows(Permission::ManageParking) {
            who.require(Permission::InviteVisitors)?;
        }
        let message = crate::registry::opt_text("message", message, 64)?;
        let mut tx = self.store.write().await?;
        let call = tx
            .booth_call(call_id)
            .await?
            .ok_or(AppError::NotFound { entity: "booth call" })?;
        Self::may_answer(who, &call)?;
        let (to, decision) = if accept {
            ("accepted", AccessDecision::open(Reason::BoothAccepted))
        } else {
            ("denied", AccessDecision::deny(Reason::BoothDenied))
        };
        if !self
            .close_call(
                &mut tx,
                &call,
                to,
                Some(&who.actor()),
                decision,
                message.as_deref(),
            )
            .await?
        {
            return Err(AppError::Conflict {
                code: "call_not_ringing",
                message: format!("the call is already {}", call.status),
            });
        }
        let audit = self
            .audit(
                &mut tx,
                &who.actor(),
                &format!("booth.{to}"),
                &format!("booth_call:{call_id}"),
                json!({"message": message}),
            )
            .await?;
        let row = tx
            .booth_call(call_id)
            .await?
            .ok_or(AppError::NotFound { entity: "booth call" })?;
        self.commit(tx, Some(&audit)).await?;
        Ok(row)
    }

    /// A picture of a call's visitor: the live `snapshot` for whoever may answer the call, the
    /// ID card's `card_photo` for the duty guards and property staff only. Every view is audited.
    pub async fn booth_call_photo(
        &self,
        who: &Principal,
        call_id: i64,
        which: &str,
    ) -> AppResult<(Vec<u8>, &'static str)> {
        let mut tx = self.store.read().await?;
        let call = tx
            .booth_call(call_id)
            .await?
            .ok_or(AppError::NotFound { entity: "booth call" })?;
        drop(tx);
        Self::may_answer(who, &call)?;
        let key = match which {
            "snapshot" => call.snapshot_key,
            "card_photo" => {
                who.require(Permission::ManageParking)?;
                call.card_photo_key
            }
            _ => {
                return Err(AppError::invalid(
                    "invalid_value",
                    "which",
                    "a booth call has a snapshot and a card_photo",
                ));
            }
        };
        let key = key.ok_or(AppError::NotFound { entity: "photo" })?;
        let image = self.load_event_image(&key).await?;
        self.audit_now(
            &who.actor(),
            "booth_call.photo_view",
            &format!("booth_call:{call_id}"),
            json!({"which": which}),
        )
        .await?;
        Ok(image)
    }

    /// Marks calls ringing longer than `timeout_ms` as unanswered (escalated to the duty
    /// centre) and tells their booths; returns how many.
    pub async fn expire_booth_calls(&self, timeout_ms: i64) -> AppResult<usize> {
        let mut tx = self.store.write().await?;
        let stale = tx
            .ringing_booth_calls_before(self.clock.now_ms() - timeout_ms)
            .await?;
        let mut expired = 0;
        for call in &stale {
            let note = format!(
                "no answer within {} s; escalated to the duty centre",
                timeout_ms / 1000
            );
            if self
                .close_call(
                    &mut tx,
                    call,
                    "timed_out",
                    None,
                    AccessDecision::deny(Reason::BoothUnanswered),
                    Some(&note),
                )
                .await?
            {
                expired += 1;
            }
        }
        tx.commit().await?;
        Ok(expired)
    }

    /// Booth calls in scope, newest first (`kind` = status); a resident sees the calls to
    /// their own houses.
    pub async fn list_booth_calls(
        &self,
        who: &Principal,
        q: &crate::registry::ListQuery,
        page: crate::registry::PageRequest,
    ) -> AppResult<Paged<BoothCallRow>> {
        if !who.role.allows(Permission::ManageParking) {
            who.require(Permission::InviteVisitors)?;
        }
        let filter = self.scoped_filter(who, q).await?;
        let mut tx = self.store.read().await?;
        Ok(tx.list_booth_calls(&filter, page.to_page()?).await?)
    }
}

/// Reads a visitor's house reference `building-unit-house` (`1-2-301`, full-width dashes
/// and spaces tolerated; `1栋2单元301` too) into its three numbers.
pub fn parse_house_ref(text: &str) -> Option<(String, String, String)> {
    let cleaned: String = text
        .trim()
        .replace("号楼", "-")
        .replace("单元", "-")
        .replace(['－', '—', '栋'], "-")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let parts: Vec<&str> = cleaned.split('-').filter(|p| !p.is_empty()).collect();
    match parts.as_slice() {
        [b, u, h] => Some((b.to_string(), u.to_string(), h.trim_end_matches('室').to_string())),
        _ => None,
    }
}

fn to_pending(row: &DeviceCommandRow, device_code: &str) -> PendingCommand {
    let v: serde_json::Value = serde_json::from_str(&row.command).unwrap_or_default();
    let settings = v
        .get("config")
        .and_then(|c| serde_json::from_value::<DeviceSettings>(c.clone()).ok());
    let open = v.get("outcome").and_then(|o| o.as_str()) == Some("open");
    let reason = v
        .get("reason")
        .and_then(|r| r.as_str())
        .and_then(Reason::parse)
        .unwrap_or(Reason::BoothDenied);
    let action = match settings {
        Some(settings) => PendingAction::Config(settings),
        None if open => PendingAction::Open {
            reason: reason.as_str().to_string(),
        },
        None => PendingAction::Deny {
            message: reason.message_zh().to_string(),
        },
    };
    PendingCommand {
        id: row.id,
        device_code: device_code.to_string(),
        action,
    }
}

#[cfg(test)]
mod tests {
    use super::parse_house_ref;

    #[test]
    fn house_references_read_in_the_usual_spellings() {
        let want = Some(("1".to_string(), "2".to_string(), "301".to_string()));
        for text in [
            "1-2-301",
            " 1 - 2 - 301 ",
            "1－2－301",
            "1栋2单元301",
            "1号楼2单元301室",
        ] {
            assert_eq!(parse_house_ref(text), want, "{text}");
        }
        assert_eq!(parse_house_ref("301"), None);
        assert_eq!(parse_house_ref("1-2"), None);
    }
}
