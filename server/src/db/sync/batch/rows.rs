//! Multi-row statements: parameters and the rows of an `INSERT`, sent as few statements as the
//! databases' parameter limits allow.

use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Any, AssertSqlSafe};

use super::super::Tx;
use crate::db::Backend;

/// At most this many parameters in one statement (SQLite allows 32,766, PostgreSQL 65,535).
pub(super) const MAX_BINDS: usize = 8_000;

/// One parameter of a multi-row statement.
pub(in crate::db) enum Value {
    Text(Option<String>),
    Int(Option<i64>),
}

impl From<String> for Value {
    fn from(v: String) -> Self {
        Self::Text(Some(v))
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Self::Text(Some(v.to_owned()))
    }
}

impl From<Option<String>> for Value {
    fn from(v: Option<String>) -> Self {
        Self::Text(v)
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Self::Int(Some(v))
    }
}

impl From<Option<i64>> for Value {
    fn from(v: Option<i64>) -> Self {
        Self::Int(v)
    }
}

/// The rows of a multi-row `INSERT`, sent as few statements as the parameter limit allows.
pub(in crate::db) struct Rows {
    width: usize,
    values: Vec<Value>,
}

impl Rows {
    pub fn new(width: usize) -> Self {
        Self {
            width,
            values: Vec::new(),
        }
    }

    pub fn push<const N: usize>(&mut self, row: [Value; N]) {
        debug_assert_eq!(N, self.width);
        self.values.extend(row);
    }

    /// Runs `{head} VALUES (…), (…){tail}`.
    pub async fn insert(
        self,
        tx: &mut Tx,
        backend: Backend,
        head: &str,
        tail: &str,
    ) -> Result<(), sqlx::Error> {
        let per_statement = (MAX_BINDS / self.width).max(1);
        let mut values = self.values.into_iter();
        let mut left = values.len() / self.width;
        while left > 0 {
            let n = left.min(per_statement);
            left -= n;
            let tuples: Vec<String> = (0..n)
                .map(|r| format!("({})", backend.markers(r * self.width + 1, self.width)))
                .collect();
            let sql = format!("{head} VALUES {}{tail}", tuples.join(", "));
            let mut query: Query<'_, Any, AnyArguments> = sqlx::query(AssertSqlSafe(sql));
            for value in values.by_ref().take(n * self.width) {
                query = match value {
                    Value::Text(v) => query.bind(v),
                    Value::Int(v) => query.bind(v),
                };
            }
            query.execute(&mut **tx).await?;
        }
        Ok(())
    }
}
