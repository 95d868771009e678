//! SIP Digest (RFC 2617 as RFC 3261 §22 uses it, MD5, `qop=auth` or none). The response
//! arithmetic and header parsing are the GA/T 1400 crate's (`anfang_gat1400::digest`), shared
//! rather than copied; this module adds what SIP needs on top: the challenge as GB/T 28181
//! platforms send it (realm = the 10-digit domain, `algorithm=MD5`), and the client's answer
//! to a challenge that may or may not offer `qop` (superior platforms differ).
//!
//! `HA2` uses the `uri` the client put in its Authorization header, not the Request-URI:
//! devices disagree on which URI they sign.

pub use anfang_gat1400::digest::{Credentials, DigestError};

/// The `WWW-Authenticate` value of a 401 to a REGISTER.
pub fn challenge(realm: &str, nonce: &str) -> String {
    format!("Digest realm=\"{realm}\", nonce=\"{nonce}\", qop=\"auth\", algorithm=MD5")
}

/// The parameters of a `WWW-Authenticate: Digest …` value, names in lower case.
fn params(header: &str) -> Option<Vec<(String, String)>> {
    let header = header.trim();
    let rest = header
        .get(..6)
        .filter(|s| s.eq_ignore_ascii_case("digest"))
        .map(|_| &header[6..])?;
    let mut out = Vec::new();
    let mut rest = rest;
    loop {
        rest = rest.trim_start_matches(|c: char| c == ',' || c.is_whitespace());
        let Some(eq) = rest.find('=') else { break };
        let key = rest[..eq].trim().to_ascii_lowercase();
        rest = rest[eq + 1..].trim_start();
        let value = if let Some(quoted) = rest.strip_prefix('"') {
            let end = quoted.find('"').unwrap_or(quoted.len());
            let v = quoted[..end].to_string();
            rest = quoted.get(end + 1..).unwrap_or("");
            v
        } else {
            let end = rest.find(',').unwrap_or(rest.len());
            let v = rest[..end].trim().to_string();
            rest = &rest[end..];
            v
        };
        out.push((key, value));
    }
    Some(out)
}

/// The `Authorization` value answering `challenge` (a `WWW-Authenticate` value) for a request
/// with `method` to `uri`: with `qop=auth` only when the challenge offered it.
pub fn answer(
    challenge: &str,
    method: &str,
    uri: &str,
    username: &str,
    password: &str,
    cnonce: &str,
) -> Result<String, DigestError> {
    let p = params(challenge).ok_or(DigestError::NotDigest)?;
    let get = |k: &str| p.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let nonce = get("nonce").ok_or(DigestError::Missing("nonce"))?;
    let realm = get("realm").unwrap_or_default();
    let qop_auth = get("qop").is_some_and(|q| q.split(',').any(|q| q.trim() == "auth"));
    let credentials = Credentials {
        username: username.to_string(),
        realm: realm.clone(),
        nonce: nonce.clone(),
        uri: uri.to_string(),
        response: String::new(),
        qop: qop_auth.then(|| "auth".to_string()),
        nc: qop_auth.then(|| "00000001".to_string()),
        cnonce: qop_auth.then(|| cnonce.to_string()),
        opaque: get("opaque"),
    };
    let response = credentials.expected(method, password);
    let mut out = format!(
        "Digest username=\"{username}\", realm=\"{realm}\", nonce=\"{nonce}\", uri=\"{uri}\", response=\"{response}\", algorithm=MD5"
    );
    if qop_auth {
        out.push_str(&format!(", qop=auth, nc=00000001, cnonce=\"{cnonce}\""));
    }
    if let Some(opaque) = get("opaque") {
        out.push_str(&format!(", opaque=\"{opaque}\""));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_verify_with_and_without_qop() {
        for offered in [
            challenge("3402000000", "n1"),
            "Digest realm=\"3402000000\", nonce=\"n1\", algorithm=MD5".to_string(),
        ] {
            let header = answer(
                &offered,
                "REGISTER",
                "sip:34020000002000000001@3402000000",
                "34020000001320000001",
                "12345678",
                "c0",
            )
            .unwrap();
            let c = Credentials::parse(&header).unwrap();
            assert_eq!(c.qop.is_some(), offered.contains("qop"));
            assert_eq!(c.verify("REGISTER", "12345678"), Ok(()));
            assert_eq!(c.verify("REGISTER", "wrong"), Err(DigestError::Mismatch));
        }
        assert_eq!(
            answer("Basic x", "REGISTER", "u", "a", "b", "c"),
            Err(DigestError::NotDigest)
        );
    }
}
