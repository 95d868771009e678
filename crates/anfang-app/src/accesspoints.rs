//! Access points and what they offer: every pedestrian door (unit doors, pedestrian entrances)
//! with its devices and the credential kinds they offer, as the devices report them in their
//! heartbeats or as installers configured them. A door whose devices offer only face
//! recognition is flagged: the 2025 face-recognition measures require that nobody is forced to
//! use their face, so every door needs another way in (card, QR code, PIN).

use crate::{App, AppError, AppResult, Permission, Principal};
use anfang_store::*;
use serde_json::json;

/// The kinds of credential, in their canonical order.
pub const KINDS: &[&str] = &["face", "card", "qr", "pin"];

/// Validates kinds and writes them in canonical order without repeats (`face,card`).
pub fn canonical_kinds(kinds: &[String]) -> AppResult<String> {
    for kind in kinds {
        if !KINDS.contains(&kind.as_str()) {
            return Err(AppError::invalid(
                "invalid_credential_kind",
                "accepts",
                format!("'{kind}' is not one of face, card, qr, pin"),
            ));
        }
    }
    Ok(KINDS
        .iter()
        .filter(|k| kinds.iter().any(|given| given == *k))
        .copied()
        .collect::<Vec<_>>()
        .join(","))
}

/// One door with what its devices offer.
#[derive(Debug, Clone, PartialEq)]
pub struct AccessPoint {
    /// The place.
    pub place: PlaceRow,
    /// Its devices.
    pub devices: Vec<DeviceRow>,
    /// The kinds offered by the devices that report them, canonical order.
    pub offers: Vec<String>,
    /// Devices whose offer is not known.
    pub unknown_devices: usize,
    /// Only face is offered (and every device's offer is known).
    pub face_only: bool,
}

/// Whether a door with these devices offers only face recognition: every device's offer is
/// known and together they offer face and nothing else.
pub fn face_only(devices: &[DeviceRow]) -> bool {
    !devices.is_empty()
        && devices.iter().all(|d| d.accepts.is_some())
        && devices
            .iter()
            .flat_map(|d| d.accepts.as_deref().unwrap_or_default().split(','))
            .filter(|k| !k.is_empty())
            .all(|k| k == "face")
        && devices
            .iter()
            .any(|d| d.accepts.as_deref().is_some_and(|a| a.contains("face")))
}

impl App {
    /// Loads a device the caller may manage: its whole community in scope (an unassigned
    /// device: district-wide callers only).
    pub(crate) async fn managed_device(
        &self,
        tx: &mut Box<dyn Tx>,
        who: &Principal,
        id: i64,
    ) -> AppResult<DeviceRow> {
        let device = tx
            .device(id)
            .await?
            .ok_or(AppError::NotFound { entity: "device" })?;
        match device.community_id {
            Some(c) => who.scope.check_whole_community(c, "device")?,
            None if who.scope.all => {}
            None => return Err(AppError::NotFound { entity: "device" }),
        }
        Ok(device)
    }

    /// The pedestrian doors of a community with what their devices offer (`face_only`: only
    /// the flagged ones).
    pub async fn access_points(
        &self,
        who: &Principal,
        community_id: i64,
        only_face_only: bool,
    ) -> AppResult<Vec<AccessPoint>> {
        who.require(Permission::ReadDevices)?;
        who.scope.check_whole_community(community_id, "community")?;
        let mut tx = self.store.read().await?;
        let filter = Filter {
            community_id: Some(community_id),
            ..Filter::default()
        };
        let devices = tx.list_devices(&filter, Page::ALL).await?.items;
        let mut out = Vec::new();
        for place in tx.list_places(&filter, Page::ALL).await?.items {
            if place.kind != "unit_door" && place.kind != "pedestrian_entrance" {
                continue;
            }
            let here: Vec<DeviceRow> = devices
                .iter()
                .filter(|d| d.place_id == Some(place.id))
                .cloned()
                .collect();
            let offers: Vec<String> = KINDS
                .iter()
                .filter(|k| {
                    here.iter().any(|d| {
                        d.accepts
                            .as_deref()
                            .is_some_and(|a| a.split(',').any(|x| x == **k))
                    })
                })
                .map(|k| k.to_string())
                .collect();
            let point = AccessPoint {
                unknown_devices: here.iter().filter(|d| d.accepts.is_none()).count(),
                face_only: face_only(&here),
                offers,
                devices: here,
                place,
            };
            if !only_face_only || point.face_only {
                out.push(point);
            }
        }
        Ok(out)
    }

    /// Records what a device offers, as its installer configured it (devices that report it
    /// in their heartbeats overwrite it).
    pub async fn set_device_accepts(
        &self,
        who: &Principal,
        device_id: i64,
        kinds: &[String],
    ) -> AppResult<DeviceRow> {
        who.require(Permission::WriteDevices)?;
        let offered = canonical_kinds(kinds)?;
        let mut tx = self.store.write().await?;
        let device = self.managed_device(&mut tx, who, device_id).await?;
        let value = (!offered.is_empty()).then_some(offered.as_str());
        tx.set_device_accepts(device_id, value).await?;
        let audit = self
            .audit(
                &mut tx,
                &who.actor(),
                "device.accepts",
                &format!("device:{}", device.code),
                json!({"accepts": offered}),
            )
            .await?;
        let row = tx
            .device(device_id)
            .await?
            .ok_or(AppError::NotFound { entity: "device" })?;
        self.commit(tx, Some(&audit)).await?;
        Ok(row)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(accepts: Option<&str>) -> DeviceRow {
        DeviceRow {
            id: 1,
            code: "37032300001320000001".into(),
            name: String::new(),
            kind: "face_door_terminal".into(),
            protocol: "mqtt".into(),
            community_id: Some(1),
            place_id: Some(1),
            x: None,
            y: None,
            install_date: None,
            contractor: None,
            secret_enc: Vec::new(),
            created_at: 0,
            last_seen_at: None,
            firmware: None,
            library_version: None,
            accepts: accepts.map(String::from),
        }
    }

    #[test]
    fn kinds_are_checked_and_put_in_order() {
        let kinds = |k: &[&str]| k.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            canonical_kinds(&kinds(&["pin", "face", "pin"])).unwrap(),
            "face,pin"
        );
        assert_eq!(canonical_kinds(&[]).unwrap(), "");
        assert!(canonical_kinds(&kinds(&["iris"])).is_err());
    }

    #[test]
    fn a_door_is_face_only_when_every_known_device_offers_just_face() {
        assert!(face_only(&[device(Some("face"))]));
        assert!(face_only(&[device(Some("face")), device(Some("face"))]));
        assert!(
            !face_only(&[device(Some("face")), device(Some("card"))]),
            "a card reader beside it"
        );
        assert!(!face_only(&[device(Some("face,qr"))]));
        assert!(
            !face_only(&[device(Some("face")), device(None)]),
            "an unknown device may offer more"
        );
        assert!(!face_only(&[]));
        assert!(
            !face_only(&[device(Some(""))]),
            "offers nothing at all is another problem"
        );
    }
}
