//! A tiny portable query builder: SQL text with `$n` placeholders (understood by both
//! PostgreSQL and SQLite) and the values to bind, built up piece by piece for dynamic filters.

use anfang_store::Filter;
use sqlx::any::AnyArguments;
use sqlx::{Any, query::Query};

/// One value to bind.
#[derive(Debug, Clone)]
pub(crate) enum Arg {
    I64(Option<i64>),
    F64(Option<f64>),
    Str(Option<String>),
    Bytes(Option<Vec<u8>>),
}

impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Arg::I64(Some(v))
    }
}
impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Self {
        Arg::I64(v)
    }
}
impl From<f64> for Arg {
    fn from(v: f64) -> Self {
        Arg::F64(Some(v))
    }
}
impl From<Option<f64>> for Arg {
    fn from(v: Option<f64>) -> Self {
        Arg::F64(v)
    }
}
impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Arg::Str(Some(v.to_string()))
    }
}
impl From<&String> for Arg {
    fn from(v: &String) -> Self {
        Arg::Str(Some(v.clone()))
    }
}
impl From<&Option<String>> for Arg {
    fn from(v: &Option<String>) -> Self {
        Arg::Str(v.clone())
    }
}
impl From<&Vec<u8>> for Arg {
    fn from(v: &Vec<u8>) -> Self {
        Arg::Bytes(Some(v.clone()))
    }
}
impl From<&[u8]> for Arg {
    fn from(v: &[u8]) -> Self {
        Arg::Bytes(Some(v.to_vec()))
    }
}
impl From<&Option<Vec<u8>>> for Arg {
    fn from(v: &Option<Vec<u8>>) -> Self {
        Arg::Bytes(v.clone())
    }
}

/// SQL text plus arguments, numbered in the order they are pushed.
#[derive(Debug, Clone, Default)]
pub(crate) struct Q {
    pub(crate) sql: String,
    args: Vec<Arg>,
}

impl Q {
    /// Starts a query with literal SQL (no placeholders).
    pub(crate) fn new(sql: &str) -> Self {
        Q {
            sql: sql.to_string(),
            args: Vec::new(),
        }
    }

    /// Appends literal SQL.
    pub(crate) fn sql(&mut self, sql: &str) -> &mut Self {
        self.sql.push_str(sql);
        self
    }

    /// Appends a placeholder bound to `value`.
    pub(crate) fn bind(&mut self, value: impl Into<Arg>) -> &mut Self {
        self.args.push(value.into());
        self.sql.push('$');
        self.sql.push_str(&self.args.len().to_string());
        self
    }

    /// Appends `placeholder, placeholder, …` for a list of values.
    pub(crate) fn bind_list(&mut self, values: &[i64]) -> &mut Self {
        if values.is_empty() {
            // `IN ()` is a syntax error; `IN (NULL)` matches nothing on both backends.
            return self.sql("NULL");
        }
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                self.sql(", ");
            }
            self.bind(*v);
        }
        self
    }

    /// Appends `placeholder, placeholder, …` for values of any type (an insert's `VALUES`).
    pub(crate) fn values(&mut self, values: impl IntoIterator<Item = Arg>) -> &mut Self {
        for (i, v) in values.into_iter().enumerate() {
            if i > 0 {
                self.sql(", ");
            }
            self.bind(v);
        }
        self
    }

    /// Appends ` AND column IN (…)` when `ids` is a restriction.
    pub(crate) fn and_in(&mut self, column: &str, ids: Option<&Vec<i64>>) -> &mut Self {
        if let Some(ids) = ids {
            self.sql(" AND ").sql(column).sql(" IN (");
            self.bind_list(ids).sql(")");
        }
        self
    }

    /// Appends ` AND column = value` when `value` is given.
    pub(crate) fn and_eq(&mut self, column: &str, value: Option<impl Into<Arg>>) -> &mut Self {
        if let Some(value) = value {
            self.sql(" AND ").sql(column).sql(" = ");
            self.bind(value);
        }
        self
    }

    /// Appends ` AND column LIKE '%q%'` for a name search; `%` and `_` in the query are dropped.
    pub(crate) fn and_like(&mut self, column: &str, q: Option<&String>) -> &mut Self {
        if let Some(q) = q {
            let cleaned: String = q.chars().filter(|c| *c != '%' && *c != '_').collect();
            self.sql(" AND ").sql(column).sql(" LIKE ");
            self.bind(format!("%{cleaned}%").as_str());
        }
        self
    }

    /// Appends the scope restriction on a community column.
    pub(crate) fn and_scope(&mut self, community_column: &str, filter: &Filter) -> &mut Self {
        self.and_in(community_column, filter.community_ids.as_ref())
    }

    /// The sqlx query with every argument bound.
    pub(crate) fn build(&self) -> Query<'_, Any, AnyArguments<'_>> {
        let mut query = sqlx::query(&self.sql);
        for arg in &self.args {
            query = match arg.clone() {
                Arg::I64(v) => query.bind(v),
                Arg::F64(v) => query.bind(v),
                Arg::Str(v) => query.bind(v),
                Arg::Bytes(v) => query.bind(v),
            };
        }
        query
    }
}
