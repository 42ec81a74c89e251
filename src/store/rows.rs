//! Reading result rows, once for both backends: each backend's row type implements
//! [`Columns`] (in `sqlite/mod.rs` and `postgres/mod.rs`), and each mapping from a row to a
//! domain type is written once, beside the column list it reads (`feeds.rs`, `matches.rs`, …).
//! Integers are read as `i64` (PostgreSQL stores them as BIGINT) and narrowed here.

/// A value both drivers can read from a column.
pub(crate) trait Value:
    rusqlite::types::FromSql + for<'a> tokio_postgres::types::FromSql<'a>
{
}

impl<T> Value for T where T: rusqlite::types::FromSql + for<'a> tokio_postgres::types::FromSql<'a> {}

/// A result row of either backend.
pub(crate) trait Columns {
    type Error;
    /// The value of column `index` (0-based).
    fn column<T: Value>(&self, index: usize) -> Result<T, Self::Error>;
}

/// An `i64` column narrowed to a smaller integer type (0 when it does not fit).
pub fn narrow<T: TryFrom<i64> + Default>(value: i64) -> T {
    T::try_from(value).unwrap_or_default()
}
