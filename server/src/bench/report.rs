//! The cases' part of the report `server bench all` writes, and how a
//! re-run of some cases (`--only`) updates an earlier report in place: their
//! rows of the targets table and their sections are replaced (or added),
//! the rest is kept, and a line above the table names the cases re-run.

use std::collections::BTreeSet;

/// What the cases of one run show.
#[derive(Debug, Default)]
pub(super) struct Report {
    /// (case title, its row of the targets table)
    pub rows: Vec<(String, String)>,
    /// (case title, its section below the title: the tables per database)
    pub sections: Vec<(String, String)>,
}

/// The line above the targets table that names the cases re-run alone.
const RERUN: &str = "Re-run alone since (their sections say when): ";

impl Report {
    /// `earlier` (a whole report) with this run's rows and sections in it.
    pub fn splice_into(&self, earlier: &str) -> String {
        let mut lines: Vec<String> = earlier.lines().map(String::from).collect();
        for (title, row) in &self.rows {
            let prefix = format!("| {title} |");
            if let Some(at) = lines.iter().position(|l| l.starts_with(&prefix)) {
                lines[at] = row.clone();
            } else {
                lines.insert(new_row_at(&lines), row.clone());
            }
        }
        let mut rerun: BTreeSet<String> = lines
            .iter()
            .find_map(|l| l.strip_prefix(RERUN))
            .map(|list| list.trim_end_matches('.').split("; ").map(String::from).collect())
            .unwrap_or_default();
        rerun.extend(self.rows.iter().map(|(title, _)| title.clone()));
        let note = format!("{RERUN}{}.", rerun.into_iter().collect::<Vec<_>>().join("; "));
        if let Some(at) = lines.iter().position(|l| l.starts_with(RERUN)) {
            lines[at] = note;
        } else if let Some(at) = lines.iter().position(|l| l == "### Targets") {
            lines.splice(at..at, [note, String::new()]);
        }

        let mut text = lines.join("\n") + "\n";
        for (title, section) in &self.sections {
            let heading = format!("\n## {title}\n");
            let block = format!("{heading}\n{section}");
            match text.find(&heading) {
                Some(start) => {
                    let body = start + heading.len();
                    let end = text[body..].find("\n## ").map_or(text.len(), |i| body + i);
                    text.replace_range(start..end, &block);
                }
                None => text.push_str(&block),
            }
        }
        text
    }
}

/// Where a case new to the targets table goes: before the wasm row (the
/// last), else after the table's last row.
fn new_row_at(lines: &[String]) -> usize {
    if let Some(at) = lines.iter().position(|l| l.starts_with("| Wasm of a first visit")) {
        return at;
    }
    let table = lines.iter().position(|l| l.starts_with("| case |")).unwrap_or(lines.len());
    lines[table..].iter().position(|l| !l.starts_with('|')).map_or(lines.len(), |n| table + n)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EARLIER: &str =
        "# Benchmarks\n\nMachine: x.\n\n### Targets\n\n| case | SQLite | PostgreSQL |\n|---|---|---|\n\
        | Users list | **met**: 1 | **met**: 2 |\n| Import | **missed**: 3 | **missed**: 4 |\n\
        | Wasm of a first visit to Audience › Users | w | w |\n\n\
        ## Wasm per page\n\ntable\n\n## Users list\n\n### SQLite (run 1 of 1, 1 s)\n\nold list\n\n\
        ## Import\n\n### SQLite (run 1 of 1, 9 s)\n\nold import\n";

    #[test]
    fn a_rerun_replaces_its_rows_and_sections_and_keeps_the_rest() {
        let report = Report {
            rows: vec![
                ("Import".into(), "| Import | **met**: 30 | **met**: 40 |".into()),
                ("Merge".into(), "| Merge | **met**: 5 | **met**: 6 |".into()),
            ],
            sections: vec![
                ("Import".into(), "### SQLite (run 1 of 1, 8 s; re-run alone)\n\nnew import\n".into()),
                ("Merge".into(), "### SQLite (run 1 of 1, 2 s; re-run alone)\n\nnew merge\n".into()),
            ],
        };
        let text = report.splice_into(EARLIER);
        assert!(text
            .contains("| Users list | **met**: 1 | **met**: 2 |\n| Import | **met**: 30 | **met**: 40 |\n| Merge |"));
        assert!(text.contains("| Merge | **met**: 5 | **met**: 6 |\n| Wasm of a first visit"), "{text}");
        assert!(text.contains("## Users list\n\n### SQLite (run 1 of 1, 1 s)\n\nold list\n"), "{text}");
        assert!(
            !text.contains("old import") && text.contains("## Import\n\n### SQLite (run 1 of 1, 8 s; re-run alone)")
        );
        assert!(text.ends_with("## Merge\n\n### SQLite (run 1 of 1, 2 s; re-run alone)\n\nnew merge\n"), "{text}");
        assert!(text.contains(&format!("{RERUN}Import; Merge.\n\n### Targets")), "{text}");

        // A second re-run keeps the first's names in the note and adds nothing twice.
        let again = Report {
            rows: vec![("Users list".into(), "| Users list | **met**: 0 | **met**: 0 |".into())],
            sections: vec![("Import".into(), "### SQLite (run 1 of 1, 7 s)\n\nnewer import\n".into())],
        }
        .splice_into(&text);
        assert!(again.contains(&format!("{RERUN}Import; Merge; Users list.\n")), "{again}");
        assert_eq!(again.matches("## Import\n").count(), 1);
        assert!(again.contains("newer import") && !again.contains("new import\n"));
        assert!(again.contains("new merge"));
    }
}
