//! Catalogue reassembly. A device answers one Catalog query with one or more MESSAGEs (UDP
//! size: NVRs often send one item per MESSAGE), each carrying `SumNum`, the total. Pages are
//! gathered per (device, SN) until `SumNum` distinct items are there; a page sent twice (a
//! retransmission after a lost 200) replaces its items instead of counting them again; at the
//! timeout what arrived is given back as incomplete. `SumNum 0` is a complete, empty catalogue.
//! Pure: times are arguments.

use crate::GbId;
use crate::manscdp::{CatalogItem, CatalogPage};
use std::collections::HashMap;

/// One catalogue being gathered.
#[derive(Debug, Clone)]
struct Gathering {
    /// Items by arrival, repeats replaced.
    items: Vec<CatalogItem>,
    /// `SumNum` of the first page (or the first page's item count without one).
    sum_num: usize,
    /// When the first page arrived (ms).
    started: i64,
}

/// A catalogue that is done: complete, or cut off at the timeout.
#[derive(Debug, Clone, PartialEq)]
pub struct Assembled {
    /// The device that answered.
    pub device: GbId,
    /// The query's SN.
    pub sn: u64,
    /// Every item received.
    pub items: Vec<CatalogItem>,
    /// Whether `SumNum` items arrived.
    pub complete: bool,
    /// `SumNum`.
    pub sum_num: usize,
}

/// The catalogues being gathered.
#[derive(Debug, Default)]
pub struct Assembler {
    gathering: HashMap<(GbId, u64), Gathering>,
}

impl Assembler {
    /// Takes a page; returns the catalogue when this page completed it.
    pub fn page(&mut self, device: &GbId, sn: u64, page: CatalogPage, now: i64) -> Option<Assembled> {
        let key = (device.clone(), sn);
        let gathering = self.gathering.entry(key.clone()).or_insert_with(|| Gathering {
            items: Vec::new(),
            sum_num: page.sum_num.unwrap_or(page.items.len()),
            started: now,
        });
        for item in page.items {
            match gathering.items.iter_mut().find(|i| i.device_id == item.device_id) {
                Some(existing) => *existing = item,
                None => gathering.items.push(item),
            }
        }
        if gathering.items.len() < gathering.sum_num {
            return None;
        }
        let done = self.gathering.remove(&key)?;
        Some(Assembled {
            device: key.0,
            sn,
            sum_num: done.sum_num,
            items: done.items,
            complete: true,
        })
    }

    /// Gives back, as incomplete, every catalogue whose first page is `timeout_ms` old.
    pub fn expire(&mut self, now: i64, timeout_ms: i64) -> Vec<Assembled> {
        let keys: Vec<(GbId, u64)> = self
            .gathering
            .iter()
            .filter(|(_, g)| now - g.started >= timeout_ms)
            .map(|(k, _)| k.clone())
            .collect();
        let mut out: Vec<Assembled> = keys
            .into_iter()
            .filter_map(|key| {
                let g = self.gathering.remove(&key)?;
                Some(Assembled {
                    device: key.0,
                    sn: key.1,
                    sum_num: g.sum_num,
                    items: g.items,
                    complete: false,
                })
            })
            .collect();
        out.sort_by(|a, b| (&a.device, a.sn).cmp(&(&b.device, b.sn)));
        out
    }

    /// How many catalogues are being gathered.
    pub fn pending(&self) -> usize {
        self.gathering.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(n: u32) -> CatalogItem {
        CatalogItem {
            device_id: format!("340200000013200000{n:02}"),
            ..CatalogItem::default()
        }
    }

    fn page(sum_num: Option<usize>, items: &[u32]) -> CatalogPage {
        CatalogPage {
            sum_num,
            items: items.iter().map(|n| item(*n)).collect(),
        }
    }

    #[test]
    fn pages_in_any_order_with_repeats_complete_at_sum_num() {
        let nvr = GbId::parse("34020000001180000001").unwrap();
        let mut a = Assembler::default();
        assert_eq!(a.page(&nvr, 7, page(Some(3), &[2]), 0), None);
        assert_eq!(
            a.page(&nvr, 7, page(Some(3), &[2]), 10),
            None,
            "a retransmitted page counts once"
        );
        assert_eq!(
            a.page(&nvr, 8, page(Some(1), &[9]), 10).map(|c| c.sn),
            Some(8),
            "another query apart"
        );
        let done = a.page(&nvr, 7, page(Some(3), &[3, 1]), 20).unwrap();
        assert!(done.complete);
        let ids: Vec<&str> = done.items.iter().map(|i| &i.device_id[18..]).collect();
        assert_eq!(ids, ["02", "03", "01"]);
        assert_eq!(a.pending(), 0);
    }

    #[test]
    fn sum_num_zero_is_an_empty_catalogue_and_missing_pages_time_out() {
        let nvr = GbId::parse("34020000001180000001").unwrap();
        let mut a = Assembler::default();
        let empty = a.page(&nvr, 1, page(Some(0), &[]), 0).unwrap();
        assert!(empty.complete && empty.items.is_empty());
        assert_eq!(a.page(&nvr, 2, page(Some(53), &[1, 2]), 1_000), None);
        assert!(a.expire(10_999, 10_000).is_empty());
        let cut = a.expire(11_000, 10_000);
        assert_eq!(cut.len(), 1);
        assert!(!cut[0].complete);
        assert_eq!((cut[0].items.len(), cut[0].sum_num), (2, 53));
        assert_eq!(a.pending(), 0);
    }
}
