//! Multi-row statements: placeholder lists for `VALUES` and `IN`, and the
//! chunking that keeps the number of distinct statement texts small. Only
//! placeholders are generated here; values are always bound.

use std::fmt::Write as _;

/// Most rows (or list items) in one statement. Chunks are powers of two up to
/// this, so a batch of any size uses at most nine statement texts per table,
/// each prepared once per connection and then reused from the cache. 256 rows
/// of up to 9 columns stay far under SQLite's 32,766 bound parameters.
pub(crate) const MAX_ROWS: usize = 256;

/// Splits `items` into chunks whose lengths are powers of two, largest first,
/// each at most [`MAX_ROWS`] long (500 → 256, 128, 64, 32, 16, 4).
pub(crate) fn chunks<T>(items: &[T]) -> impl Iterator<Item = &[T]> {
    let mut rest = items;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let size = MAX_ROWS.min(1 << rest.len().ilog2());
        let (chunk, tail) = rest.split_at(size);
        rest = tail;
        Some(chunk)
    })
}

/// How generated placeholders are written. PostgreSQL numbers them (`$1`).
/// SQLite gets anonymous `?`, bound in order: for a named or numbered
/// parameter sqlx asks SQLite for its name (`sqlite3_bind_parameter_name`,
/// a scan of the statement's parameter list), so binding n of them costs
/// O(n²) — a fifth of the writer's time with 256-row inserts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Marks {
    Numbered,
    Anonymous,
}

impl Marks {
    /// Appends "$first, $first+1, …" (`count` placeholders) to `sql`,
    /// without a string per placeholder: an import's 256-row statements
    /// hold over a thousand of them, built while the writer waits.
    fn write_list(self, sql: &mut String, first: usize, count: usize) {
        for n in first..first + count {
            if n > first {
                sql.push_str(", ");
            }
            match self {
                Marks::Numbered => {
                    let _ = write!(sql, "${n}");
                }
                Marks::Anonymous => sql.push('?'),
            }
        }
    }

    /// "($1, $2, …), ($n, …)" for `rows` rows of `columns` placeholders.
    pub(crate) fn values(self, rows: usize, columns: usize) -> String {
        self.values_after(0, rows, columns)
    }

    /// [`Marks::values`] for a statement whose first `before` placeholders
    /// come ahead of the rows.
    pub(crate) fn values_after(self, before: usize, rows: usize, columns: usize) -> String {
        let mut sql = String::with_capacity(rows * (columns * 7 + 4));
        for r in 0..rows {
            if r > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            self.write_list(&mut sql, before + r * columns + 1, columns);
            sql.push(')');
        }
        sql
    }

    /// The condition "is in the list bound at `$n`" ([`BindList`]):
    /// `= ANY($n::type[])` on PostgreSQL (`pg_type` the items' type),
    /// `IN (SELECT value FROM json_each($n))` on SQLite.
    pub(crate) fn in_bound_list(self, n: usize, pg_type: &str) -> String {
        match self {
            Marks::Numbered => format!("= ANY(${n}::{pg_type}[])"),
            Marks::Anonymous => format!("IN (SELECT value FROM json_each(${n}))"),
        }
    }

    /// "$first, $first+1, …" (`count` placeholders), e.g. for `IN (…)`. With
    /// anonymous marks every placeholder of the statement must come from
    /// here, in bind order.
    pub(crate) fn list(self, first: usize, count: usize) -> String {
        let mut sql = String::with_capacity(count * 6);
        self.write_list(&mut sql, first, count);
        sql
    }
}

/// A list bound as one value: a PostgreSQL array, or its JSON text on
/// SQLite (read with `json_each`). One statement text for a list of any
/// length; [`Marks::in_bound_list`] writes the condition that reads it.
pub(crate) trait BindList {
    fn bind_ids(self, ids: &[i64]) -> Self;
    fn bind_names(self, names: &[&str]) -> Self;
}

fn json_list<T: serde::Serialize>(items: &[T]) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "[]".into())
}

macro_rules! bind_list {
    ($sqlite:ty, $postgres:ty) => {
        impl<'q, O> BindList for $sqlite {
            fn bind_ids(self, ids: &[i64]) -> Self {
                self.bind(json_list(ids))
            }
            fn bind_names(self, names: &[&str]) -> Self {
                self.bind(json_list(names))
            }
        }
        impl<'q, O> BindList for $postgres {
            fn bind_ids(self, ids: &[i64]) -> Self {
                self.bind(ids.to_vec())
            }
            fn bind_names(self, names: &[&str]) -> Self {
                self.bind(names.iter().map(|name| name.to_string()).collect::<Vec<String>>())
            }
        }
    };
}

bind_list!(
    sqlx::query::QueryScalar<'q, sqlx::Sqlite, O, sqlx::sqlite::SqliteArguments<'q>>,
    sqlx::query::QueryScalar<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments>
);
bind_list!(
    sqlx::query::QueryAs<'q, sqlx::Sqlite, O, sqlx::sqlite::SqliteArguments<'q>>,
    sqlx::query::QueryAs<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments>
);

impl<'q> BindList for sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>> {
    fn bind_ids(self, ids: &[i64]) -> Self {
        self.bind(json_list(ids))
    }
    fn bind_names(self, names: &[&str]) -> Self {
        self.bind(json_list(names))
    }
}

impl<'q> BindList for sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
    fn bind_ids(self, ids: &[i64]) -> Self {
        self.bind(ids.to_vec())
    }
    fn bind_names(self, names: &[&str]) -> Self {
        self.bind(names.iter().map(|name| name.to_string()).collect::<Vec<String>>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders() {
        assert_eq!(Marks::Numbered.values(2, 3), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(Marks::Numbered.list(2, 3), "$2, $3, $4");
        assert_eq!(Marks::Numbered.values_after(2, 2, 2), "($3, $4), ($5, $6)");
        assert_eq!(Marks::Anonymous.values(2, 2), "(?, ?), (?, ?)");
        assert_eq!(Marks::Anonymous.list(2, 3), "?, ?, ?");
        assert_eq!(Marks::Numbered.in_bound_list(3, "bigint"), "= ANY($3::bigint[])");
        assert_eq!(Marks::Anonymous.in_bound_list(3, "bigint"), "IN (SELECT value FROM json_each($3))");
    }

    #[test]
    fn chunks_are_powers_of_two_and_cover_everything() {
        let items: Vec<usize> = (0..1000).collect();
        let sizes: Vec<usize> = chunks(&items).map(<[usize]>::len).collect();
        assert_eq!(sizes, [256, 256, 256, 128, 64, 32, 8]);
        assert_eq!(chunks(&items).flatten().copied().collect::<Vec<_>>(), items);
        assert_eq!(chunks(&items[..1]).count(), 1);
        assert_eq!(chunks::<usize>(&[]).count(), 0);
    }
}
