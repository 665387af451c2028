//! Loading many rows into one table fast, for the bench dataset and
//! imports: `COPY … FROM STDIN` on PostgreSQL (one stream, no statement per
//! row), multi-row `VALUES` inside the caller's transaction on SQLite. The
//! table and column names are the caller's constants; values are bound on
//! SQLite and written in COPY's text format (escaped) on PostgreSQL.

use std::fmt::Write as _;

use crate::store::tx::TxInner;
use crate::store::{StoreResult, WriteTx};

/// One value of a bulk-loaded row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Int(Option<i64>),
    Real(Option<f64>),
    Text(Option<String>),
    Bool(Option<bool>),
}

impl From<i64> for Cell {
    fn from(value: i64) -> Self {
        Cell::Int(Some(value))
    }
}
impl From<Option<i64>> for Cell {
    fn from(value: Option<i64>) -> Self {
        Cell::Int(value)
    }
}
impl From<f64> for Cell {
    fn from(value: f64) -> Self {
        Cell::Real(Some(value))
    }
}
impl From<Option<f64>> for Cell {
    fn from(value: Option<f64>) -> Self {
        Cell::Real(value)
    }
}
impl From<String> for Cell {
    fn from(value: String) -> Self {
        Cell::Text(Some(value))
    }
}
impl From<&str> for Cell {
    fn from(value: &str) -> Self {
        Cell::Text(Some(value.to_string()))
    }
}
impl From<Option<String>> for Cell {
    fn from(value: Option<String>) -> Self {
        Cell::Text(value)
    }
}
impl From<bool> for Cell {
    fn from(value: bool) -> Self {
        Cell::Bool(Some(value))
    }
}

/// Rows per multi-row statement on SQLite: ≤ 32,766 bound values at up to
/// 60 columns.
const SQLITE_ROWS_PER_STATEMENT: usize = 500;

/// Appends `cell` to a COPY text-format line: `\N` for NULL, and the four
/// characters COPY treats specially escaped.
fn copy_text(line: &mut String, cell: &Cell) {
    match cell {
        Cell::Int(None) | Cell::Real(None) | Cell::Text(None) | Cell::Bool(None) => line.push_str("\\N"),
        Cell::Int(Some(v)) => {
            let _ = write!(line, "{v}");
        }
        Cell::Real(Some(v)) => {
            let _ = write!(line, "{v:?}");
        }
        Cell::Bool(Some(v)) => line.push(if *v { 't' } else { 'f' }),
        Cell::Text(Some(text)) => {
            for c in text.chars() {
                match c {
                    '\\' => line.push_str("\\\\"),
                    '\n' => line.push_str("\\n"),
                    '\r' => line.push_str("\\r"),
                    '\t' => line.push_str("\\t"),
                    c => line.push(c),
                }
            }
        }
    }
}

/// The COPY text-format stream of `rows` (one line per row).
pub(crate) fn copy_stream(rows: &[Vec<Cell>]) -> String {
    let mut out = String::with_capacity(rows.len() * 64);
    for row in rows {
        for (n, cell) in row.iter().enumerate() {
            if n > 0 {
                out.push('\t');
            }
            copy_text(&mut out, cell);
        }
        out.push('\n');
    }
    out
}

impl WriteTx {
    /// Inserts `rows` (each with one cell per column, in `columns` order)
    /// into `table`. `table` and `columns` must be constants of the caller.
    pub async fn bulk_load(&mut self, table: &str, columns: &[&str], rows: &[Vec<Cell>]) -> StoreResult<u64> {
        debug_assert!(rows.iter().all(|row| row.len() == columns.len()));
        let column_list = columns.join(", ");
        let marks = self.marks();
        match &mut self.inner {
            TxInner::Postgres(tx) => {
                let mut copy = tx.copy_in_raw(&format!("COPY {table} ({column_list}) FROM STDIN")).await?;
                copy.send(copy_stream(rows).into_bytes()).await?;
                Ok(copy.finish().await?)
            }
            TxInner::Sqlite(tx) => {
                let mut written = 0;
                for chunk in rows.chunks(SQLITE_ROWS_PER_STATEMENT) {
                    let sql = format!(
                        "INSERT INTO {table} ({column_list}) VALUES {}",
                        marks.values(chunk.len(), columns.len())
                    );
                    let mut query = sqlx::query(&sql);
                    for cell in chunk.iter().flatten() {
                        query = match cell.clone() {
                            Cell::Int(v) => query.bind(v),
                            Cell::Real(v) => query.bind(v),
                            Cell::Text(v) => query.bind(v),
                            Cell::Bool(v) => query.bind(v),
                        };
                    }
                    written += query.execute(&mut **tx).await?.rows_affected();
                }
                Ok(written)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_text_escapes_what_copy_would_misread() {
        let rows = vec![
            vec![Cell::from(7), Cell::from("a\tb\nc\\d\re"), Cell::Text(None)],
            vec![Cell::from(-1), Cell::from(1.5), Cell::from(true)],
        ];
        assert_eq!(copy_stream(&rows), "7\ta\\tb\\nc\\\\d\\re\t\\N\n-1\t1.5\tt\n");
    }
}
