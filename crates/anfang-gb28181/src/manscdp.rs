//! MANSCDP bodies (the XML of GB/T 28181 §A): reading what devices and superiors send and
//! writing what we send. Reading is lenient: the body is decoded as UTF-8 when it is valid
//! UTF-8 and as GB18030 (a superset of GB2312 and GBK) otherwise, whatever the declaration
//! says (devices that declare GB2312 and send UTF-8 are common); the declaration is dropped,
//! raw `&` that Hikvision firmware leaves unescaped is escaped, and every field is looked up
//! as a child element or as an attribute of its parent (`<Response CmdType="Catalog" SN="1">`
//! is the attribute form some stacks write), names case-insensitively, at any depth where the
//! 2016 and 2022 texts differ (`AlarmType` at the top or under `Info`).
//!
//! Writing is strict: element form, `encoding="GB2312"` declared, bytes in GBK (identical to
//! GB2312 for its characters); a character outside GBK becomes an XML character reference, so
//! nothing is lost.

use std::fmt::Write as _;

/// Why a body could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManscdpError {
    /// Not well-formed XML even after the repairs.
    #[error("malformed XML: {0}")]
    Xml(String),
    /// The root is not Query, Control, Notify or Response, or `CmdType` is missing.
    #[error("not a MANSCDP message")]
    NotManscdp,
}

/// Text from body bytes: UTF-8 when valid, GB18030 otherwise.
pub fn decode(body: &[u8]) -> String {
    match std::str::from_utf8(body) {
        Ok(text) => text.to_string(),
        Err(_) => encoding_rs::GB18030
            .decode_without_bom_handling(body)
            .0
            .into_owned(),
    }
}

/// Body bytes in GBK from text (characters outside GBK become `&#N;`).
pub fn encode(text: &str) -> Vec<u8> {
    encoding_rs::GBK.encode(text).0.into_owned()
}

/// Escapes text for an XML element.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes `&` that does not start an entity or character reference.
fn repair_ampersands(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let bytes = text.as_bytes();
    for (i, c) in text.char_indices() {
        if c == '&' {
            let rest = &bytes[i + 1..];
            let end = rest.iter().take(12).position(|b| *b == b';');
            let is_ref = end.is_some_and(|end| {
                let name = &rest[..end];
                matches!(name, b"amp" | b"lt" | b"gt" | b"quot" | b"apos")
                    || (name.len() > 1
                        && name[0] == b'#'
                        && (name[1..].iter().all(u8::is_ascii_digit)
                            || (name[1] == b'x'
                                && name.len() > 2
                                && name[2..].iter().all(u8::is_ascii_hexdigit))))
            });
            if !is_ref {
                out.push_str("&amp;");
                continue;
            }
        }
        out.push(c);
    }
    out
}

/// An owned XML element: what we read from bodies.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Element {
    /// The local name.
    pub name: String,
    /// Attributes.
    pub attributes: Vec<(String, String)>,
    /// The text content, trimmed.
    pub text: String,
    /// Child elements.
    pub children: Vec<Element>,
}

impl Element {
    fn from_node(node: roxmltree::Node<'_, '_>) -> Element {
        let mut text = String::new();
        let mut children = Vec::new();
        for child in node.children() {
            if child.is_element() {
                children.push(Element::from_node(child));
            } else if child.is_text() {
                text.push_str(child.text().unwrap_or(""));
            }
        }
        Element {
            name: node.tag_name().name().to_string(),
            attributes: node
                .attributes()
                .map(|a| (a.name().to_string(), a.value().to_string()))
                .collect(),
            text: text.trim().to_string(),
            children,
        }
    }

    /// A direct child by name (case-insensitive).
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name.eq_ignore_ascii_case(name))
    }

    /// A field: a child element's text, else an attribute; empty values count as absent.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.child(name)
            .map(|c| c.text.as_str())
            .or_else(|| {
                self.attributes
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v.as_str())
            })
            .map(str::trim)
            .filter(|v| !v.is_empty())
    }

    /// A field at this level or any depth below (first in document order).
    pub fn deep_field(&self, name: &str) -> Option<&str> {
        self.field(name)
            .or_else(|| self.children.iter().find_map(|c| c.deep_field(name)))
    }

    fn string(&self, name: &str) -> String {
        self.field(name).unwrap_or_default().to_string()
    }

    fn number<T: std::str::FromStr>(&self, name: &str) -> Option<T> {
        self.field(name)?.parse().ok()
    }
}

/// The four MANSCDP roots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Root {
    /// A question (`Query`).
    Query,
    /// A command (`Control`).
    Control,
    /// An unsolicited report (`Notify`).
    Notify,
    /// An answer (`Response`).
    Response,
}

impl Root {
    /// The element name.
    pub fn as_str(self) -> &'static str {
        match self {
            Root::Query => "Query",
            Root::Control => "Control",
            Root::Notify => "Notify",
            Root::Response => "Response",
        }
    }
}

/// A MANSCDP message: root, the three mandatory fields and the whole element for the rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The root kind.
    pub root: Root,
    /// `CmdType` (`Keepalive`, `Catalog`, `DeviceInfo`, `DeviceStatus`, `Alarm`, …).
    pub cmd_type: String,
    /// `SN` (0 when missing or not a number).
    pub sn: u64,
    /// `DeviceID` as sent (may be a channel's id or empty).
    pub device_id: String,
    /// The root element.
    pub element: Element,
}

impl Message {
    /// Reads a body (bytes as received).
    pub fn parse(body: &[u8]) -> Result<Message, ManscdpError> {
        let text = decode(body);
        let mut text = text.trim_start_matches('\u{feff}').trim();
        if text.starts_with("<?xml")
            && let Some(end) = text.find("?>")
        {
            text = text[end + 2..].trim_start();
        }
        let text = repair_ampersands(text);
        let document = roxmltree::Document::parse(&text).map_err(|e| ManscdpError::Xml(e.to_string()))?;
        let element = Element::from_node(document.root_element());
        let root = match element.name.to_ascii_lowercase().as_str() {
            "query" => Root::Query,
            "control" => Root::Control,
            "notify" => Root::Notify,
            "response" => Root::Response,
            _ => return Err(ManscdpError::NotManscdp),
        };
        let cmd_type = element
            .field("CmdType")
            .ok_or(ManscdpError::NotManscdp)?
            .to_string();
        Ok(Message {
            root,
            sn: element.number("SN").unwrap_or(0),
            device_id: element.string("DeviceID"),
            cmd_type,
            element,
        })
    }

    /// Whether `CmdType` is `name` (case-insensitive).
    pub fn is(&self, name: &str) -> bool {
        self.cmd_type.eq_ignore_ascii_case(name)
    }

    /// A catalogue page (Response or Notify).
    pub fn catalog(&self) -> CatalogPage {
        let items = self
            .element
            .child("DeviceList")
            .map(|list| {
                list.children
                    .iter()
                    .filter(|c| c.name.eq_ignore_ascii_case("Item"))
                    .map(CatalogItem::from_element)
                    .collect()
            })
            .unwrap_or_default();
        CatalogPage {
            sum_num: self.element.number("SumNum"),
            items,
        }
    }

    /// A DeviceInfo answer.
    pub fn device_info(&self) -> DeviceInfo {
        let e = &self.element;
        DeviceInfo {
            device_name: e
                .field("DeviceName")
                .or(e.field("Name"))
                .unwrap_or_default()
                .to_string(),
            manufacturer: e.string("Manufacturer"),
            model: e.string("Model"),
            firmware: e.string("Firmware"),
            channels: e.number("Channel"),
            result_ok: e.field("Result").is_none_or(|r| r.eq_ignore_ascii_case("OK")),
        }
    }

    /// A DeviceStatus answer.
    pub fn device_status(&self) -> DeviceStatus {
        let e = &self.element;
        let on = |name: &str| {
            e.field(name)
                .map(|v| matches!(v.to_ascii_uppercase().as_str(), "ON" | "ONLINE" | "OK"))
        };
        DeviceStatus {
            result_ok: e.field("Result").is_none_or(|r| r.eq_ignore_ascii_case("OK")),
            online: on("Online").unwrap_or(false),
            status_ok: on("Status").unwrap_or(false),
            encode: on("Encode"),
            record: on("Record"),
            device_time: e.field("DeviceTime").map(str::to_string),
        }
    }

    /// An alarm (Notify/Alarm, by MESSAGE or NOTIFY).
    pub fn alarm(&self) -> Alarm {
        let e = &self.element;
        Alarm {
            device_id: self.device_id.clone(),
            priority: e.number("AlarmPriority").unwrap_or(0),
            method: e.number("AlarmMethod").unwrap_or(0),
            time: e.string("AlarmTime"),
            description: e.string("AlarmDescription"),
            longitude: e.number("Longitude"),
            latitude: e.number("Latitude"),
            alarm_type: e.deep_field("AlarmType").and_then(|v| v.parse().ok()),
            event_type: e.deep_field("EventType").and_then(|v| v.parse().ok()),
        }
    }
}

/// One page of a catalogue (one MESSAGE of possibly many).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CatalogPage {
    /// `SumNum`: the number of items in all pages together.
    pub sum_num: Option<usize>,
    /// The items on this page.
    pub items: Vec<CatalogItem>,
}

/// What a catalogue item is, by its id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemKind {
    /// A 2–8 digit administrative-region node.
    Region,
    /// Type 215.
    BusinessGroup,
    /// Type 216.
    VirtualOrganisation,
    /// Type 131/132: a camera one can INVITE.
    Camera,
    /// Any other 20-digit id (alarm inputs, NVRs listed as items, …).
    Other,
}

/// One catalogue item (a channel, region, group …).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CatalogItem {
    /// `DeviceID` of the item.
    pub device_id: String,
    /// `Name`.
    pub name: String,
    /// `Manufacturer`.
    pub manufacturer: String,
    /// `Model`.
    pub model: String,
    /// `Owner`.
    pub owner: String,
    /// `CivilCode`.
    pub civil_code: String,
    /// `Address`.
    pub address: String,
    /// `ParentID`.
    pub parent_id: String,
    /// `Parental` = 1 (has children).
    pub parental: bool,
    /// `Status` ON/OFF (also ONLINE/OFFLINE, OK) read as online.
    pub online: bool,
    /// `Longitude`.
    pub longitude: Option<f64>,
    /// `Latitude`.
    pub latitude: Option<f64>,
    /// `Info/PTZType`: 1 dome, 2 half-dome, 3 fixed, 4 remote-controlled bullet.
    pub ptz_type: Option<u8>,
    /// `IPAddress`.
    pub ip_address: String,
    /// `Event` in catalogue change notifications: ON OFF VLOST DEFECT ADD DEL UPDATE.
    pub event: Option<String>,
    /// `BusinessGroupID` of virtual organisations.
    pub business_group_id: String,
}

impl CatalogItem {
    fn from_element(e: &Element) -> CatalogItem {
        CatalogItem {
            device_id: e.string("DeviceID"),
            name: e.string("Name"),
            manufacturer: e.string("Manufacturer"),
            model: e.string("Model"),
            owner: e.string("Owner"),
            civil_code: e.string("CivilCode"),
            address: e.string("Address"),
            parent_id: e.string("ParentID"),
            parental: e.field("Parental") == Some("1"),
            online: e
                .field("Status")
                .is_some_and(|s| matches!(s.to_ascii_uppercase().as_str(), "ON" | "ONLINE" | "OK")),
            longitude: e.number("Longitude"),
            latitude: e.number("Latitude"),
            ptz_type: e.deep_field("PTZType").and_then(|v| v.parse().ok()),
            ip_address: e.string("IPAddress"),
            event: e.field("Event").map(str::to_string),
            business_group_id: e.deep_field("BusinessGroupID").unwrap_or_default().to_string(),
        }
    }

    /// What the item is, by the shape and type code of its id.
    pub fn kind(&self) -> ItemKind {
        let id = self.device_id.as_str();
        if id.len() <= 8 && !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) {
            return ItemKind::Region;
        }
        match crate::GbId::parse(id).map(|i| i.type_code()) {
            Ok(215) => ItemKind::BusinessGroup,
            Ok(216) => ItemKind::VirtualOrganisation,
            Ok(131 | 132) => ItemKind::Camera,
            _ => ItemKind::Other,
        }
    }

    fn write(&self, out: &mut String) {
        let _ = write!(
            out,
            "<Item><DeviceID>{}</DeviceID><Name>{}</Name><Manufacturer>{}</Manufacturer><Model>{}</Model><Owner>{}</Owner><CivilCode>{}</CivilCode><Address>{}</Address><Parental>{}</Parental><ParentID>{}</ParentID><SafetyWay>0</SafetyWay><RegisterWay>1</RegisterWay><Secrecy>0</Secrecy><Status>{}</Status>",
            escape(&self.device_id),
            escape(&self.name),
            escape(&self.manufacturer),
            escape(&self.model),
            escape(&self.owner),
            escape(&self.civil_code),
            escape(&self.address),
            u8::from(self.parental),
            escape(&self.parent_id),
            if self.online { "ON" } else { "OFF" },
        );
        if let (Some(lon), Some(lat)) = (self.longitude, self.latitude) {
            let _ = write!(out, "<Longitude>{lon}</Longitude><Latitude>{lat}</Latitude>");
        }
        if let Some(event) = &self.event {
            let _ = write!(out, "<Event>{}</Event>", escape(event));
        }
        if let Some(ptz) = self.ptz_type {
            let _ = write!(out, "<Info><PTZType>{ptz}</PTZType></Info>");
        }
        out.push_str("</Item>");
    }
}

/// A DeviceInfo answer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeviceInfo {
    /// `DeviceName` (`Name` accepted from older stacks).
    pub device_name: String,
    /// `Manufacturer`.
    pub manufacturer: String,
    /// `Model`.
    pub model: String,
    /// `Firmware`.
    pub firmware: String,
    /// `Channel`: the number of channels.
    pub channels: Option<u32>,
    /// `Result` OK (absent counts as OK).
    pub result_ok: bool,
}

/// A DeviceStatus answer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeviceStatus {
    /// `Result` OK.
    pub result_ok: bool,
    /// `Online` ONLINE.
    pub online: bool,
    /// `Status` OK.
    pub status_ok: bool,
    /// `Encode` ON/OFF.
    pub encode: Option<bool>,
    /// `Record` ON/OFF.
    pub record: Option<bool>,
    /// `DeviceTime` as sent.
    pub device_time: Option<String>,
}

/// An alarm.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Alarm {
    /// `DeviceID`: the channel or device that alarmed.
    pub device_id: String,
    /// `AlarmPriority` 1 (highest) – 4.
    pub priority: u8,
    /// `AlarmMethod`: 1 phone, 2 device, 3 SMS, 4 GPS, 5 video, 6 device fault, 7 other.
    pub method: u8,
    /// `AlarmTime` as sent (`YYYY-MM-DDTHH:MM:SS`, local time).
    pub time: String,
    /// `AlarmDescription`.
    pub description: String,
    /// `Longitude`.
    pub longitude: Option<f64>,
    /// `Latitude`.
    pub latitude: Option<f64>,
    /// `AlarmType` (under `Info` in 2016, at the top in some 2022 stacks).
    pub alarm_type: Option<u16>,
    /// `AlarmTypeParam/EventType`.
    pub event_type: Option<u16>,
}

const DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"GB2312\"?>\r\n";

fn head(root: Root, cmd_type: &str, sn: u64, device_id: &str) -> String {
    format!(
        "{DECLARATION}<{root}>\r\n<CmdType>{cmd_type}</CmdType>\r\n<SN>{sn}</SN>\r\n<DeviceID>{}</DeviceID>\r\n",
        escape(device_id),
        root = root.as_str()
    )
}

fn finish(mut xml: String, root: Root) -> Vec<u8> {
    let _ = write!(xml, "</{}>\r\n", root.as_str());
    encode(&xml)
}

/// A query with only the three mandatory fields (Catalog, DeviceInfo, DeviceStatus).
pub fn query(cmd_type: &str, sn: u64, device_id: &str) -> Vec<u8> {
    finish(head(Root::Query, cmd_type, sn, device_id), Root::Query)
}

/// The query body of an alarm subscription (all priorities and methods).
pub fn alarm_subscription(sn: u64, device_id: &str) -> Vec<u8> {
    let mut xml = head(Root::Query, "Alarm", sn, device_id);
    xml.push_str("<StartAlarmPriority>0</StartAlarmPriority>\r\n<EndAlarmPriority>0</EndAlarmPriority>\r\n<AlarmMethod>0</AlarmMethod>\r\n");
    finish(xml, Root::Query)
}

/// `Notify/Keepalive` with `Status OK`.
pub fn keepalive(sn: u64, device_id: &str) -> Vec<u8> {
    let mut xml = head(Root::Notify, "Keepalive", sn, device_id);
    xml.push_str("<Status>OK</Status>\r\n");
    finish(xml, Root::Notify)
}

/// `Response` with just a `Result` (answers to alarms, subscriptions, controls).
pub fn result(cmd_type: &str, sn: u64, device_id: &str, ok: bool) -> Vec<u8> {
    let mut xml = head(Root::Response, cmd_type, sn, device_id);
    let _ = write!(xml, "<Result>{}</Result>\r\n", if ok { "OK" } else { "ERROR" });
    finish(xml, Root::Response)
}

/// One page of a catalogue answer: `sum_num` is the total over all pages.
pub fn catalog_response(sn: u64, device_id: &str, sum_num: usize, items: &[CatalogItem]) -> Vec<u8> {
    let mut xml = head(Root::Response, "Catalog", sn, device_id);
    let _ = write!(
        xml,
        "<SumNum>{sum_num}</SumNum>\r\n<DeviceList Num=\"{}\">\r\n",
        items.len()
    );
    for item in items {
        item.write(&mut xml);
        xml.push_str("\r\n");
    }
    xml.push_str("</DeviceList>\r\n");
    finish(xml, Root::Response)
}

/// A DeviceInfo answer about `device_id`.
pub fn device_info_response(sn: u64, device_id: &str, info: &DeviceInfo) -> Vec<u8> {
    let mut xml = head(Root::Response, "DeviceInfo", sn, device_id);
    let _ = write!(
        xml,
        "<DeviceName>{}</DeviceName>\r\n<Result>{}</Result>\r\n<Manufacturer>{}</Manufacturer>\r\n<Model>{}</Model>\r\n<Firmware>{}</Firmware>\r\n",
        escape(&info.device_name),
        if info.result_ok { "OK" } else { "ERROR" },
        escape(&info.manufacturer),
        escape(&info.model),
        escape(&info.firmware)
    );
    if let Some(n) = info.channels {
        let _ = write!(xml, "<Channel>{n}</Channel>\r\n");
    }
    finish(xml, Root::Response)
}

/// A DeviceStatus answer about `device_id`.
pub fn device_status_response(sn: u64, device_id: &str, status: &DeviceStatus) -> Vec<u8> {
    let on = |b: bool| if b { "ON" } else { "OFF" };
    let mut xml = head(Root::Response, "DeviceStatus", sn, device_id);
    let _ = write!(
        xml,
        "<Result>{}</Result>\r\n<Online>{}</Online>\r\n<Status>{}</Status>\r\n",
        if status.result_ok { "OK" } else { "ERROR" },
        if status.online { "ONLINE" } else { "OFFLINE" },
        if status.status_ok { "OK" } else { "ERROR" },
    );
    if let Some(e) = status.encode {
        let _ = write!(xml, "<Encode>{}</Encode>\r\n", on(e));
    }
    if let Some(r) = status.record {
        let _ = write!(xml, "<Record>{}</Record>\r\n", on(r));
    }
    if let Some(t) = &status.device_time {
        let _ = write!(xml, "<DeviceTime>{}</DeviceTime>\r\n", escape(t));
    }
    finish(xml, Root::Response)
}

/// `Notify/Alarm` as sent upward.
pub fn alarm_notify(sn: u64, alarm: &Alarm) -> Vec<u8> {
    let mut xml = head(Root::Notify, "Alarm", sn, &alarm.device_id);
    let _ = write!(
        xml,
        "<AlarmPriority>{}</AlarmPriority>\r\n<AlarmMethod>{}</AlarmMethod>\r\n<AlarmTime>{}</AlarmTime>\r\n<AlarmDescription>{}</AlarmDescription>\r\n",
        alarm.priority,
        alarm.method,
        escape(&alarm.time),
        escape(&alarm.description)
    );
    if let (Some(lon), Some(lat)) = (alarm.longitude, alarm.latitude) {
        let _ = write!(
            xml,
            "<Longitude>{lon}</Longitude>\r\n<Latitude>{lat}</Latitude>\r\n"
        );
    }
    if let Some(t) = alarm.alarm_type {
        let _ = write!(xml, "<Info><AlarmType>{t}</AlarmType>");
        if let Some(e) = alarm.event_type {
            let _ = write!(xml, "<AlarmTypeParam><EventType>{e}</EventType></AlarmTypeParam>");
        }
        xml.push_str("</Info>\r\n");
    }
    finish(xml, Root::Notify)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gb(text: &str) -> Vec<u8> {
        encoding_rs::GBK.encode(text).0.into_owned()
    }

    #[test]
    fn a_gb2312_catalog_page_reads() {
        let body = gb(r#"<?xml version="1.0" encoding="GB2312"?>
<Response><CmdType>Catalog</CmdType><SN>425097</SN><DeviceID>34020000001110000008</DeviceID>
<SumNum>53</SumNum><DeviceList Num="1"><Item>
  <DeviceID>34020000001320000034</DeviceID><Name>东门 7-2 & 入口</Name><Manufacturer>Hikvision</Manufacturer>
  <Parental>0</Parental><ParentID>34020000001110000008</ParentID><Status>ON</Status>
  <Longitude>120.1</Longitude><Latitude/>
  <Info><PTZType>1</PTZType></Info>
</Item></DeviceList></Response>"#);
        let m = Message::parse(&body).unwrap();
        assert_eq!(
            (m.root, m.sn, m.device_id.as_str()),
            (Root::Response, 425097, "34020000001110000008")
        );
        assert!(m.is("catalog"));
        let page = m.catalog();
        assert_eq!(page.sum_num, Some(53));
        let item = &page.items[0];
        assert_eq!(item.name, "东门 7-2 & 入口");
        assert!(item.online);
        assert_eq!(item.ptz_type, Some(1));
        assert_eq!(item.longitude, Some(120.1));
        assert_eq!(item.latitude, None);
        assert_eq!(item.kind(), ItemKind::Camera);
    }

    #[test]
    fn the_attribute_form_and_utf8_bodies_read() {
        let body = r#"<Response CmdType="DeviceStatus" SN="7"><DeviceID>34020000001320000001</DeviceID><Result>OK</Result><Online>ONLINE</Online><Status>OK</Status><Encode>ON</Encode><Record>OFF</Record><DeviceTime>2026-11-23T12:00:00</DeviceTime></Response>"#;
        let m = Message::parse(body.as_bytes()).unwrap();
        assert_eq!((m.cmd_type.as_str(), m.sn), ("DeviceStatus", 7));
        let s = m.device_status();
        assert!(s.online && s.status_ok && s.result_ok);
        assert_eq!((s.encode, s.record), (Some(true), Some(false)));
        // A UTF-8 body declared GB2312 still reads.
        let body = "<?xml version=\"1.0\" encoding=\"GB2312\"?><Response><CmdType>DeviceInfo</CmdType><SN>1</SN><DeviceID>x</DeviceID><DeviceName>南门</DeviceName><Channel>4</Channel></Response>";
        let info = Message::parse(body.as_bytes()).unwrap().device_info();
        assert_eq!((info.device_name.as_str(), info.channels), ("南门", Some(4)));
    }

    #[test]
    fn alarms_of_both_versions_read() {
        let v2016 = "<Notify><CmdType>Alarm</CmdType><SN>3</SN><DeviceID>34020000001340000001</DeviceID><AlarmPriority>1</AlarmPriority><AlarmMethod>5</AlarmMethod><AlarmTime>2026-11-23T12:00:00</AlarmTime><AlarmDescription>越界</AlarmDescription><Info><AlarmType>6</AlarmType><AlarmTypeParam><EventType>1</EventType></AlarmTypeParam></Info></Notify>";
        let a = Message::parse(&gb(v2016)).unwrap().alarm();
        assert_eq!(
            (a.priority, a.method, a.alarm_type, a.event_type),
            (1, 5, Some(6), Some(1))
        );
        assert_eq!(a.description, "越界");
        let v2022 = "<Notify><CmdType>Alarm</CmdType><SN>4</SN><DeviceID>d</DeviceID><AlarmPriority>2</AlarmPriority><AlarmMethod>2</AlarmMethod><AlarmTime>t</AlarmTime><AlarmType>1</AlarmType></Notify>";
        assert_eq!(
            Message::parse(v2022.as_bytes()).unwrap().alarm().alarm_type,
            Some(1)
        );
    }

    #[test]
    fn what_we_write_reads_back_and_is_gb2312() {
        let item = CatalogItem {
            device_id: "34020000001320000001".into(),
            name: "北门<主>".into(),
            online: true,
            ptz_type: Some(3),
            parent_id: "34020000002000000001".into(),
            ..CatalogItem::default()
        };
        let body = catalog_response(9, "34020000002000000001", 2, std::slice::from_ref(&item));
        assert!(std::str::from_utf8(&body).is_err(), "GB bytes, not UTF-8");
        assert!(body.starts_with(b"<?xml version=\"1.0\" encoding=\"GB2312\"?>"));
        let m = Message::parse(&body).unwrap();
        let page = m.catalog();
        assert_eq!(page.sum_num, Some(2));
        assert_eq!(page.items, vec![item]);
        // A character outside GBK survives as a character reference.
        let info = DeviceInfo {
            device_name: "camera 🎥".into(),
            result_ok: true,
            ..DeviceInfo::default()
        };
        let back = Message::parse(&device_info_response(1, "x", &info))
            .unwrap()
            .device_info();
        assert_eq!(back.device_name, "camera 🎥");
        let alarm = Alarm {
            device_id: "d".into(),
            priority: 1,
            method: 5,
            time: "t".into(),
            alarm_type: Some(2),
            event_type: Some(1),
            ..Alarm::default()
        };
        assert_eq!(Message::parse(&alarm_notify(5, &alarm)).unwrap().alarm(), alarm);
        let status = DeviceStatus {
            result_ok: true,
            online: true,
            status_ok: true,
            encode: Some(true),
            record: Some(false),
            device_time: Some("t".into()),
        };
        assert_eq!(
            Message::parse(&device_status_response(1, "x", &status))
                .unwrap()
                .device_status(),
            status
        );
    }

    #[test]
    fn malformed_bodies_are_errors() {
        for bad in [
            &b""[..],
            b"<Query>",
            b"<Foo><CmdType>Catalog</CmdType></Foo>",
            b"<Query><SN>1</SN></Query>",
            b"\xff\xff\xff",
        ] {
            assert!(Message::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            repair_ampersands("a & b &amp; &#20013; &x"),
            "a &amp; b &amp; &#20013; &amp;x"
        );
    }
}
