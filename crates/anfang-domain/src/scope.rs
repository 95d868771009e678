//! Scopes: the set of places a user may see and act on. A scope is a list of entries, each the
//! whole district, a street, a community or a single house; the application resolves it to
//! community and house ids and filters every read and write by it.

use crate::DomainError;

/// One entry of a user's scope, naming its target by code (streets, communities) or id (houses).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ScopeEntry {
    /// Everything in the deployment's district.
    District,
    /// Every community of the street with this code.
    Street(String),
    /// The community with this code.
    Community(String),
    /// One house, by id (residents).
    House(i64),
}

impl ScopeEntry {
    /// The kind as stored: `district`, `street`, `community` or `house`.
    pub fn kind(&self) -> &'static str {
        match self {
            ScopeEntry::District => "district",
            ScopeEntry::Street(_) => "street",
            ScopeEntry::Community(_) => "community",
            ScopeEntry::House(_) => "house",
        }
    }

    /// The target as stored: the code, the house id, or empty for the district.
    pub fn target(&self) -> String {
        match self {
            ScopeEntry::District => String::new(),
            ScopeEntry::Street(code) | ScopeEntry::Community(code) => code.clone(),
            ScopeEntry::House(id) => id.to_string(),
        }
    }

    /// Rebuilds an entry from its stored kind and target.
    pub fn from_parts(kind: &str, target: &str) -> Result<Self, DomainError> {
        let invalid = |why: &str| DomainError::new("invalid_scope", why.to_string());
        match kind {
            "district" => Ok(ScopeEntry::District),
            "street" | "community" => {
                let code = target.trim();
                if code.is_empty() || !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
                    return Err(invalid(
                        "a street or community scope needs its code, e.g. community:370323001001",
                    ));
                }
                Ok(if kind == "street" {
                    ScopeEntry::Street(code.to_string())
                } else {
                    ScopeEntry::Community(code.to_string())
                })
            }
            "house" => target
                .trim()
                .parse::<i64>()
                .map(ScopeEntry::House)
                .map_err(|_| invalid("a house scope needs the house id, e.g. house:42")),
            other => Err(invalid(&format!(
                "unknown scope kind '{other}': use district, street:CODE, community:CODE or house:ID"
            ))),
        }
    }

    /// Parses a comma-separated list such as `street:370323001,community:370323002001`.
    pub fn parse_list(raw: &str) -> Result<Vec<ScopeEntry>, DomainError> {
        let mut entries = Vec::new();
        for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (kind, target) = part.split_once(':').unwrap_or((part, ""));
            entries.push(ScopeEntry::from_parts(kind.trim(), target)?);
        }
        if entries.is_empty() {
            return Err(DomainError::new(
                "invalid_scope",
                "a scope must name at least one entry",
            ));
        }
        Ok(entries)
    }
}

impl std::fmt::Display for ScopeEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ScopeEntry::District => f.write_str("district"),
            other => write!(f, "{}:{}", other.kind(), other.target()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lists_and_round_trips() {
        let list = ScopeEntry::parse_list("street:370323001, community:370323001001,house:7").unwrap();
        assert_eq!(list.len(), 3);
        assert_eq!(list[2], ScopeEntry::House(7));
        for entry in &list {
            assert_eq!(
                &ScopeEntry::from_parts(entry.kind(), &entry.target()).unwrap(),
                entry
            );
        }
        assert_eq!(
            ScopeEntry::parse_list("district").unwrap(),
            vec![ScopeEntry::District]
        );
    }

    #[test]
    fn rejects_nonsense() {
        assert_eq!(ScopeEntry::parse_list("").unwrap_err().code, "invalid_scope");
        assert!(ScopeEntry::parse_list("planet:earth").is_err());
        assert!(ScopeEntry::parse_list("house:abc").is_err());
        assert!(ScopeEntry::parse_list("community:").is_err());
    }
}
