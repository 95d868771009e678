//! HTTP Digest (RFC 2617, `qop=auth`, MD5) as VIID peers expect it. The challenge is written
//! `Digest realm="…", qop="auth", nonce="…", opaque="…"` in exactly that order: several
//! clients parse it positionally. The password is looked up by the caller's device id, not by
//! the username (implementations differ on what they put there). Parsing accepts unquoted
//! values (`qop=auth`, `nc=00000001`), an absolute `uri` and any spacing.

use md5::{Digest, Md5};
use std::collections::HashMap;

/// Why an `Authorization` header was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DigestError {
    /// Not a Digest header at all.
    #[error("not a Digest authorization")]
    NotDigest,
    /// A required parameter is missing.
    #[error("the Digest authorization lacks {0}")]
    Missing(&'static str),
    /// The response does not match.
    #[error("wrong digest response")]
    Mismatch,
}

impl DigestError {
    /// A stable code for metrics and logs.
    pub fn code(&self) -> &'static str {
        match self {
            DigestError::NotDigest => "not_digest",
            DigestError::Missing(_) => "digest_incomplete",
            DigestError::Mismatch => "digest_mismatch",
        }
    }
}

/// A challenge sent with a 401.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// The realm (the platform's VIID id is customary).
    pub realm: String,
    /// A fresh nonce.
    pub nonce: String,
    /// An opaque value the client echoes.
    pub opaque: String,
}

impl Challenge {
    /// The `WWW-Authenticate` value, parameters in the order peers expect.
    pub fn header(&self) -> String {
        format!(
            "Digest realm=\"{}\", qop=\"auth\", nonce=\"{}\", opaque=\"{}\"",
            self.realm, self.nonce, self.opaque
        )
    }
}

impl Challenge {
    /// Reads a `WWW-Authenticate: Digest …` value (any order, quoted or not).
    pub fn parse(header: &str) -> Result<Challenge, DigestError> {
        let header = header.trim();
        let rest = header
            .get(..6)
            .filter(|scheme| scheme.eq_ignore_ascii_case("digest"))
            .map(|_| &header[6..])
            .ok_or(DigestError::NotDigest)?;
        let mut p = parameters(rest);
        Ok(Challenge {
            realm: p.remove("realm").unwrap_or_default(),
            nonce: p.remove("nonce").ok_or(DigestError::Missing("nonce"))?,
            opaque: p.remove("opaque").unwrap_or_default(),
        })
    }

    /// The `Authorization` value answering this challenge (`qop=auth`, `nc=00000001`).
    pub fn answer(&self, method: &str, uri: &str, username: &str, password: &str, cnonce: &str) -> String {
        let credentials = Credentials {
            username: username.to_string(),
            realm: self.realm.clone(),
            nonce: self.nonce.clone(),
            uri: uri.to_string(),
            response: String::new(),
            qop: Some("auth".into()),
            nc: Some("00000001".into()),
            cnonce: Some(cnonce.to_string()),
            opaque: Some(self.opaque.clone()),
        };
        let response = credentials.expected(method, password);
        format!(
            "Digest username=\"{username}\", realm=\"{}\", nonce=\"{}\", uri=\"{uri}\", qop=auth, nc=00000001, cnonce=\"{cnonce}\", response=\"{response}\", opaque=\"{}\"",
            self.realm, self.nonce, self.opaque
        )
    }
}

/// The parameters of a Digest `Authorization` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// `username` as sent (not used to find the password).
    pub username: String,
    /// `realm`.
    pub realm: String,
    /// `nonce`.
    pub nonce: String,
    /// `uri` as sent.
    pub uri: String,
    /// `response`.
    pub response: String,
    /// `qop`, if any.
    pub qop: Option<String>,
    /// `nc`, if any.
    pub nc: Option<String>,
    /// `cnonce`, if any.
    pub cnonce: Option<String>,
    /// `opaque`, if any.
    pub opaque: Option<String>,
}

fn md5_hex(text: &str) -> String {
    hex::encode(Md5::digest(text.as_bytes()))
}

/// Splits `a="x, y", b=z` into pairs, honouring quotes.
fn parameters(text: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let mut rest = text;
    loop {
        rest = rest.trim_start_matches(|c: char| c == ',' || c.is_whitespace());
        let Some(eq) = rest.find('=') else { break };
        let key = rest[..eq].trim().to_ascii_lowercase();
        rest = rest[eq + 1..].trim_start();
        let value;
        if let Some(quoted) = rest.strip_prefix('"') {
            let end = quoted.find('"').unwrap_or(quoted.len());
            value = quoted[..end].to_string();
            rest = quoted.get(end + 1..).unwrap_or("");
        } else {
            let end = rest.find(',').unwrap_or(rest.len());
            value = rest[..end].trim().to_string();
            rest = &rest[end..];
        }
        out.insert(key, value);
    }
    out
}

impl Credentials {
    /// Parses an `Authorization` header value.
    pub fn parse(header: &str) -> Result<Credentials, DigestError> {
        let header = header.trim();
        let rest = header
            .get(..6)
            .filter(|scheme| scheme.eq_ignore_ascii_case("digest"))
            .map(|_| &header[6..])
            .ok_or(DigestError::NotDigest)?;
        let mut p = parameters(rest);
        let mut take = |key: &'static str| p.remove(key).filter(|v| !v.is_empty());
        Ok(Credentials {
            username: take("username").unwrap_or_default(),
            realm: take("realm").unwrap_or_default(),
            nonce: take("nonce").ok_or(DigestError::Missing("nonce"))?,
            uri: take("uri").ok_or(DigestError::Missing("uri"))?,
            response: take("response").ok_or(DigestError::Missing("response"))?,
            qop: take("qop"),
            nc: take("nc"),
            cnonce: take("cnonce"),
            opaque: take("opaque"),
        })
    }

    /// The response a client knowing `password` computes for `method` (RFC 2617; with
    /// `qop=auth` when the client sent a qop, the legacy form otherwise).
    pub fn expected(&self, method: &str, password: &str) -> String {
        let ha1 = md5_hex(&format!("{}:{}:{}", self.username, self.realm, password));
        let ha2 = md5_hex(&format!("{method}:{}", self.uri));
        match (&self.qop, &self.nc, &self.cnonce) {
            (Some(qop), Some(nc), Some(cnonce)) => {
                md5_hex(&format!("{ha1}:{}:{nc}:{cnonce}:{qop}:{ha2}", self.nonce))
            }
            _ => md5_hex(&format!("{ha1}:{}:{ha2}", self.nonce)),
        }
    }

    /// Checks the response for `method` against `password` (the caller has checked the nonce).
    pub fn verify(&self, method: &str, password: &str) -> Result<(), DigestError> {
        let expected = self.expected(method, password);
        let given = self.response.to_ascii_lowercase();
        // Constant time over equal lengths: both are 32 hex digits when well formed.
        let same = expected.len() == given.len()
            && expected
                .bytes()
                .zip(given.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        if same { Ok(()) } else { Err(DigestError::Mismatch) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rfc_2617_example_verifies() {
        // RFC 2617 §3.5.
        let header = r#"Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", qop=auth, nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41""#;
        let c = Credentials::parse(header).unwrap();
        assert_eq!(
            (c.qop.as_deref(), c.nc.as_deref()),
            (Some("auth"), Some("00000001"))
        );
        assert_eq!(c.verify("GET", "Circle Of Life"), Ok(()));
        assert_eq!(c.verify("GET", "wrong"), Err(DigestError::Mismatch));
        assert_eq!(c.verify("POST", "Circle Of Life"), Err(DigestError::Mismatch));
    }

    #[test]
    fn sloppy_headers_parse() {
        let c = Credentials::parse(
            r#"digest username=34078100001190001002,realm="viid",nonce="n1",uri="http://10.0.0.1:8080/VIID/System/Register",response="ABC",qop="auth",nc="00000001",cnonce="c""#,
        )
        .unwrap();
        assert_eq!(c.username, "34078100001190001002");
        assert_eq!(c.uri, "http://10.0.0.1:8080/VIID/System/Register");
        assert_eq!(c.nc.as_deref(), Some("00000001"));
        assert_eq!(Credentials::parse("Basic abc"), Err(DigestError::NotDigest));
        assert_eq!(
            Credentials::parse(r#"Digest username="u", uri="/x""#),
            Err(DigestError::Missing("nonce"))
        );
    }

    #[test]
    fn the_challenge_keeps_the_order_clients_parse_by() {
        let header = Challenge {
            realm: "37032300005030000001".into(),
            nonce: "abc".into(),
            opaque: "def".into(),
        }
        .header();
        assert_eq!(
            header,
            r#"Digest realm="37032300005030000001", qop="auth", nonce="abc", opaque="def""#
        );
        // The regex a published Python client uses.
        assert!(header.starts_with("Digest realm=\"") && header.find("qop=") < header.find("nonce="));
    }

    #[test]
    fn our_answer_to_a_challenge_verifies() {
        let challenge = Challenge::parse(r#"Digest realm="r", qop="auth", nonce="n", opaque="o""#).unwrap();
        let header = challenge.answer(
            "POST",
            "/VIID/System/Register",
            "34078100001190001002",
            "pw",
            "c1",
        );
        let c = Credentials::parse(&header).unwrap();
        assert_eq!(c.opaque.as_deref(), Some("o"));
        assert_eq!(c.verify("POST", "pw"), Ok(()));
    }

    #[test]
    fn a_client_without_qop_uses_the_legacy_response() {
        let mut c = Credentials::parse(
            r#"Digest username="u", realm="r", nonce="n", uri="/VIID/System/Register", response="x""#,
        )
        .unwrap();
        c.response = c.expected("POST", "pw");
        assert_eq!(c.verify("POST", "pw"), Ok(()));
    }
}
