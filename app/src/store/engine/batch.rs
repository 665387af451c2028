//! Multi-row statements: placeholder lists for `VALUES` and `IN`, and the
//! chunking that keeps the number of distinct statement texts small. Only
//! placeholders are generated here; values are always bound.

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
    fn mark(self, n: usize) -> String {
        match self {
            Marks::Numbered => format!("${n}"),
            Marks::Anonymous => "?".to_string(),
        }
    }

    /// "($1, $2, …), ($n, …)" for `rows` rows of `columns` placeholders.
    pub(crate) fn values(self, rows: usize, columns: usize) -> String {
        self.values_after(0, rows, columns)
    }

    /// [`Marks::values`] for a statement whose first `before` placeholders
    /// come ahead of the rows.
    pub(crate) fn values_after(self, before: usize, rows: usize, columns: usize) -> String {
        (0..rows).map(|r| format!("({})", self.list(before + r * columns + 1, columns))).collect::<Vec<_>>().join(", ")
    }

    /// "$first, $first+1, …" (`count` placeholders), e.g. for `IN (…)`. With
    /// anonymous marks every placeholder of the statement must come from
    /// here, in bind order.
    pub(crate) fn list(self, first: usize, count: usize) -> String {
        (first..first + count).map(|n| self.mark(n)).collect::<Vec<_>>().join(", ")
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
