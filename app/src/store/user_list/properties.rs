//! Property filters as conditions of the list's plans: each checked on a
//! candidate user by the property's primary key (one row), and those a
//! user must hold the property to match (is, exists, less, greater) also
//! read as a range of the property indexes, so a selective one can drive
//! the page (**Property**: its few matches, sorted) and its count.
//!
//! Every condition binds five values, in order: the name, the text value,
//! the kind, and the low and high bounds of the stored number (`NULL` where
//! the operator or the value has none); a statement's conditions follow one
//! another from the placeholder its builder gives.

use crate::model::property_filter::{PropertyFilter, PropertyOp};
use crate::store::{with_pool, Store, StoreResult};

/// Characters of a string value the text index holds (see the migration
/// `property_text_index`).
pub(crate) const TEXT_KEY: usize = 200;

/// Values bound per condition.
pub(crate) const BINDS: usize = 5;

/// A property filter with its bound values.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PropertyCondition {
    pub op: PropertyOp,
    pub name: String,
    pub text: Option<String>,
    pub kind: Option<&'static str>,
    pub lo: Option<f64>,
    pub hi: Option<f64>,
}

impl PropertyCondition {
    pub fn of(filter: &PropertyFilter) -> PropertyCondition {
        let typed = filter.typed();
        let (text, kind, lo, hi) = match filter.op {
            PropertyOp::Is | PropertyOp::IsNot => {
                (Some(filter.value.clone()), typed.map(|t| t.kind), typed.map(|t| t.lo), typed.map(|t| t.hi))
            }
            PropertyOp::Less => (None, typed.map(|t| t.kind), None, typed.map(|t| t.lo)),
            PropertyOp::Greater => (None, typed.map(|t| t.kind), typed.map(|t| t.hi), None),
            PropertyOp::Exists | PropertyOp::Missing => (None, None, None, None),
        };
        PropertyCondition { op: filter.op, name: filter.name.clone(), text, kind, lo, hi }
    }

    /// The condition on a `user_properties` row `p` of the property, with
    /// its values from `$at`.
    fn value_sql(&self, at: usize) -> String {
        let (text, kind, lo, hi) = (at + 1, at + 2, at + 3, at + 4);
        match self.op {
            PropertyOp::Is | PropertyOp::IsNot => format!(
                "(p.text_value = ${text} OR (p.kind = ${kind} AND p.number_value >= ${lo} AND p.number_value <= ${hi}))"
            ),
            PropertyOp::Less => format!("p.kind = ${kind} AND p.number_value < ${hi}"),
            PropertyOp::Greater => format!("p.kind = ${kind} AND p.number_value > ${lo}"),
            PropertyOp::Exists | PropertyOp::Missing => "TRUE".into(),
        }
    }

    /// ` AND [NOT] EXISTS (…)` on the user `user_id`, values from `$at`.
    fn check_sql(&self, at: usize, user_id: &str) -> String {
        let not = if self.op.needs_property() { "" } else { "NOT " };
        format!(
            " AND {not}EXISTS (SELECT 1 FROM user_properties p WHERE p.user_id = {user_id} AND p.name = ${at} AND {})",
            self.value_sql(at)
        )
    }

    /// The ids of the app's (`$1`) users holding a match, from the property
    /// indexes, values from `$at` (only for a condition that needs the
    /// property). One row per user: a user holds a property once.
    pub fn matches_sql(&self, at: usize) -> String {
        self.index_sql(at, true)
    }

    /// [`PropertyCondition::matches_sql`] from the indexes alone: a string
    /// compared by the first characters the index holds, so it may count a
    /// few more (strings longer than those that share them). For the plan's
    /// probes, which only compare sizes.
    fn estimate_sql(&self, at: usize) -> String {
        self.index_sql(at, false)
    }

    fn index_sql(&self, at: usize, exact: bool) -> String {
        let from = format!("SELECT p.user_id FROM user_properties p WHERE p.app_id = $1 AND p.name = ${at}");
        let (text, kind, lo, hi) = (at + 1, at + 2, at + 3, at + 4);
        // `substr(…, 1)`, not the column: SQLite would propagate a
        // `column = value` term into the index expression beside it
        // (`substr(value, 1, 200)`), which then no longer matches the
        // index, and read every row of the property instead of its range.
        let whole = if exact { format!(" AND substr(p.text_value, 1) = ${text}") } else { String::new() };
        match self.op {
            // Strings by the text index (which holds their first
            // characters), typed values by the number index.
            PropertyOp::Is => format!(
                "{from} AND substr(p.text_value, 1, {TEXT_KEY}) = substr(${text}, 1, {TEXT_KEY}){whole} \
                 UNION ALL {from} AND p.kind = ${kind} AND p.number_value >= ${lo} AND p.number_value <= ${hi}"
            ),
            _ => format!("{from} AND {}", self.value_sql(at)),
        }
    }
}

/// The checks of every condition on `user_id`, values from `$at`.
pub(crate) fn checks_sql(conditions: &[PropertyCondition], at: usize, user_id: &str) -> String {
    conditions.iter().enumerate().map(|(i, c)| c.check_sql(at + BINDS * i, user_id)).collect()
}

/// [`checks_sql`] without the condition `lead`, for a plan that reads its
/// matches from the index: checking it again would read every match's
/// row a second time.
pub(crate) fn other_checks_sql(conditions: &[PropertyCondition], lead: usize, at: usize, user_id: &str) -> String {
    conditions
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != lead)
        .map(|(i, c)| c.check_sql(at + BINDS * i, user_id))
        .collect()
}

/// Binds every condition's values to a query, in order.
macro_rules! bind_conditions {
    ($q:ident, $conditions:expr) => {
        for c in $conditions.iter() {
            $q = $q.bind(c.name.clone()).bind(c.text.clone()).bind(c.kind).bind(c.lo).bind(c.hi);
        }
    };
}
pub(crate) use bind_conditions;

impl Store {
    /// About how many of the app's users match `condition` (one that needs
    /// the property), counting at most `up_to` (a range of one index, read
    /// from the index alone; see [`PropertyCondition::estimate_sql`]).
    pub(crate) async fn property_matches(
        &self,
        app_id: i64,
        condition: &PropertyCondition,
        up_to: i64,
    ) -> StoreResult<i64> {
        let sql = format!(
            "SELECT COUNT(*) FROM (SELECT user_id FROM ({}) AS d LIMIT $7) AS matching",
            condition.estimate_sql(2)
        );
        let conditions = std::slice::from_ref(condition);
        with_pool!(self, |pool| {
            let mut q = sqlx::query_scalar(&sql).bind(app_id);
            bind_conditions!(q, conditions);
            Ok(q.bind(up_to).fetch_one(pool).await?)
        })
    }
}
