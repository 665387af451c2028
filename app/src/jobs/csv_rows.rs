//! The rows of an imported CSV file: which column holds what (from the
//! header), each record checked as the ingest API checks a user, cells
//! typed as properties, and rows naming the same user merged in file
//! order.

use csv::ByteRecord;

use super::model::Refusal;
use crate::ids::{check_line, is_plausible_email, ExternalId};
use crate::model::properties::{name_problem, PropertySet, PropertyValue, MAX_PROPERTIES};

/// Longest userName, as the ingest API.
const MAX_NAME: usize = 255;
/// How long a kept refusal's userID may be.
pub(super) const MAX_REF: usize = 255;

/// The header's names, as text (a byte-order mark dropped).
pub(super) fn header_columns(header: &ByteRecord) -> Result<Vec<String>, String> {
    header
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let name = std::str::from_utf8(name)
                .map_err(|_| format!("The header is not UTF-8 text (column {}). Save the file as UTF-8.", i + 1))?;
            Ok(name.strip_prefix('\u{feff}').unwrap_or(name).trim().to_string())
        })
        .collect()
}

/// Which column holds what.
#[derive(Debug, Clone)]
pub(super) struct Columns {
    user_id: usize,
    user_name: Option<usize>,
    email: Option<usize>,
    properties: Vec<(usize, String)>,
    count: usize,
}

impl Columns {
    pub(super) fn of(names: &[String]) -> Result<Columns, String> {
        let position = |name: &str| names.iter().position(|n| n == name);
        let user_id = position("userID").ok_or_else(|| {
            format!(
                "The header has no userID column (it has: {}).",
                names.join(", ").chars().take(200).collect::<String>()
            )
        })?;
        let mut seen = std::collections::HashSet::new();
        let mut properties = Vec::new();
        for (i, name) in names.iter().enumerate() {
            if name.is_empty() {
                return Err(format!("Column {} of the header has no name.", i + 1));
            }
            if !seen.insert(name.as_str()) {
                return Err(format!("The header names “{name}” twice."));
            }
            if !matches!(name.as_str(), "userID" | "userName" | "email") {
                if let Some(problem) = name_problem(name) {
                    return Err(format!("Column {}: {problem}", i + 1));
                }
                properties.push((i, name.clone()));
            }
        }
        if properties.len() > MAX_PROPERTIES {
            return Err(format!(
                "The file has {} property columns; a user holds at most {MAX_PROPERTIES}.",
                properties.len()
            ));
        }
        Ok(Columns {
            user_id,
            user_name: position("userName"),
            email: position("email"),
            properties,
            count: names.len(),
        })
    }
}

/// One row, checked: what to write.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportRow {
    pub user_id: ExternalId,
    pub user_name: Option<String>,
    pub email: Option<String>,
    pub properties: Vec<PropertySet>,
}

/// A cell's property value: `true`/`false`, a number, a date (RFC 3339),
/// else text. A number keeps its text when it would not read back the same
/// (a leading zero: "007", a zip code), so no digits are lost.
fn cell_value(name: &str, text: &str) -> Result<PropertyValue, String> {
    let trimmed = text.trim();
    match trimmed {
        "true" | "TRUE" | "True" => return Ok(PropertyValue::Boolean(true)),
        "false" | "FALSE" | "False" => return Ok(PropertyValue::Boolean(false)),
        _ => {}
    }
    let digits = trimmed.trim_start_matches('-');
    let leading_zero = digits.len() > 1 && digits.starts_with('0') && !digits.starts_with("0.");
    if let Ok(n) = trimmed.parse::<f64>() {
        if n.is_finite()
            && !leading_zero
            && trimmed.chars().all(|c| c.is_ascii_digit() || matches!(c, '-' | '.' | 'e' | 'E' | '+'))
        {
            return Ok(PropertyValue::Number(n));
        }
    }
    PropertyValue::from_text(name, text)
}

/// Checks one record; the refusal names the line and why.
pub(super) fn check_row(columns: &Columns, record: &ByteRecord, line: i64) -> Result<ImportRow, Refusal> {
    let raw_id = record.get(columns.user_id).map(String::from_utf8_lossy).unwrap_or_default();
    let refuse = |reason: String| Refusal { line, user_ref: raw_id.chars().take(MAX_REF).collect(), reason };
    if record.len() != columns.count {
        return Err(refuse(format!("has {} fields; the header has {}", record.len(), columns.count)));
    }
    let mut cells = Vec::with_capacity(record.len());
    for (i, cell) in record.iter().enumerate() {
        match std::str::from_utf8(cell) {
            // No text the console stores may hold U+0000 (PostgreSQL's
            // text cannot).
            Ok(text) if text.contains('\0') => {
                return Err(refuse(format!("column {} contains a NUL character", i + 1)));
            }
            Ok(text) => cells.push(text),
            Err(_) => return Err(refuse(format!("column {} is not UTF-8 text", i + 1))),
        }
    }
    let user_id = ExternalId::parse(cells[columns.user_id]).map_err(|err| refuse(format!("userID {err}")))?;
    let user_name = match columns.user_name.map(|i| cells[i].trim()).filter(|name| !name.is_empty()) {
        Some(name) => {
            check_line(name, MAX_NAME).map_err(|err| refuse(format!("userName {err}")))?;
            Some(name.to_string())
        }
        None => None,
    };
    let email = match columns.email.map(|i| cells[i].trim()).filter(|email| !email.is_empty()) {
        Some(email) if email.chars().count() <= 320 && is_plausible_email(email) && check_line(email, 320).is_ok() => {
            Some(email.to_string())
        }
        Some(_) => return Err(refuse("email is not an email address".into())),
        None => None,
    };
    let mut properties = Vec::new();
    for (i, name) in &columns.properties {
        let text = cells[*i];
        if text.trim().is_empty() {
            continue;
        }
        let value = cell_value(name, text).map_err(refuse)?;
        properties.push(PropertySet { name: name.clone(), value: Some(value) });
    }
    Ok(ImportRow { user_id, user_name, email, properties })
}

/// Rows of one chunk naming the same userID become one, at the first
/// one's place: later cells win, property changes apply in order (as the
/// file would if its rows were written one after another).
pub(super) fn merge_repeated(rows: Vec<(i64, ImportRow)>) -> Vec<(i64, ImportRow)> {
    let mut at: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut merged: Vec<(i64, ImportRow)> = Vec::with_capacity(rows.len());
    for (line, row) in rows {
        match at.get(row.user_id.as_str()) {
            Some(&i) => {
                let earlier = &mut merged[i].1;
                if row.user_name.is_some() {
                    earlier.user_name = row.user_name;
                }
                if row.email.is_some() {
                    earlier.email = row.email;
                }
                earlier.properties.extend(row.properties);
            }
            None => {
                at.insert(row.user_id.as_str().to_string(), merged.len());
                merged.push((line, row));
            }
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns(names: &[&str]) -> Columns {
        Columns::of(&names.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }

    fn record(cells: &[&[u8]]) -> ByteRecord {
        ByteRecord::from(cells.to_vec())
    }

    #[test]
    fn headers_need_a_user_id_and_unique_names() {
        let names = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(Columns::of(&names(&["userName", "email"])).unwrap_err().contains("no userID column"));
        assert!(Columns::of(&names(&["userID", "plan", "plan"])).unwrap_err().contains("twice"));
        assert!(Columns::of(&names(&["userID", "$plan"])).unwrap_err().contains("reserved"));
        let ok = columns(&["email", "userID", "plan"]);
        assert_eq!((ok.user_id, ok.email, ok.properties.len()), (1, Some(0), 1));
    }

    #[test]
    fn rows_are_checked_like_the_ingest_api() {
        let cols = columns(&["userID", "userName", "email", "plan", "seats", "zip"]);
        let row = check_row(&cols, &record(&[b"u-1", b"Ana", b"ana@example.com", b"pro", b"12", b"0712"]), 2).unwrap();
        assert_eq!(row.user_id.as_str(), "u-1");
        assert_eq!(row.properties[1].value, Some(PropertyValue::Number(12.0)));
        assert_eq!(row.properties[2].value, Some(PropertyValue::String("0712".into())), "leading zeros stay text");
        let refused = |cells: &[&[u8]]| check_row(&cols, &record(cells), 7).unwrap_err();
        assert_eq!(refused(&[b"", b"", b"", b"", b"", b""]).reason, "userID must not be empty");
        assert_eq!(refused(&[b"u-2", b"", b"nope", b"", b"", b""]).reason, "email is not an email address");
        assert_eq!(refused(&[b"u-3", b"\xff", b"", b"", b"", b""]).reason, "column 2 is not UTF-8 text");
        assert_eq!(refused(&[b"u-3", b"", b"", b"a\0b", b"", b""]).reason, "column 4 contains a NUL character");
        let ragged = refused(&[b"u-4", b"Bo"]);
        assert_eq!((ragged.line, ragged.user_ref.as_str()), (7, "u-4"));
        assert_eq!(ragged.reason, "has 2 fields; the header has 6");
        let empty_cells = check_row(&cols, &record(&[b"u-5", b"", b"", b"", b"", b""]), 3).unwrap();
        assert!(empty_cells.properties.is_empty() && empty_cells.user_name.is_none(), "empty cells change nothing");
    }

    #[test]
    fn cells_become_typed_values() {
        assert_eq!(cell_value("a", "true"), Ok(PropertyValue::Boolean(true)));
        assert_eq!(cell_value("a", "-2.5"), Ok(PropertyValue::Number(-2.5)));
        assert_eq!(cell_value("a", "007"), Ok(PropertyValue::String("007".into())));
        assert_eq!(cell_value("a", "0.5"), Ok(PropertyValue::Number(0.5)));
        assert_eq!(cell_value("a", "inf"), Ok(PropertyValue::String("inf".into())));
        assert!(matches!(cell_value("a", "2026-01-02T03:04:05Z"), Ok(PropertyValue::Date(_))));
    }
}
