//! `server bench wasm`: what a browser downloads of the wasm bundle per
//! page, from the build's `pkg` directory. With `cargo leptos build
//! --split` every lazy route, and every `#[lazy]` function (the users
//! list's bulk bar), is a chunk plus the shared chunks it needs
//! (`__wasm_split_manifest.<hash>.json`); the main module loads on every
//! page, and carries Audience › Users (not a lazy route: the console opens
//! there). Sizes raw, gzip -9 (what the size budget in docs/BENCHMARKS.md counts), and as
//! served to a browser without brotli (the `.gz` copy built beside each
//! file, written with zopfli by `.ci/lib.sh`); browsers with brotli get
//! less still.

use std::io::Write as _;
use std::path::Path;

use anyhow::Context;

/// Raw, gzip -9 and served-gzip sizes of one file (the last 0 without a
/// `.gz` copy beside it).
fn sizes(path: &Path) -> anyhow::Result<[usize; 3]> {
    let raw = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gzip.write_all(&raw)?;
    let mut copy = path.as_os_str().to_owned();
    copy.push(".gz");
    let served = std::fs::metadata(copy).map(|m| m.len() as usize).unwrap_or(0);
    Ok([raw.len(), gzip.finish()?.len(), served])
}

fn add(total: &mut [usize; 3], more: [usize; 3]) {
    total.iter_mut().zip(more).for_each(|(t, m)| *t += m);
}

fn named<'a>(files: &'a [std::path::PathBuf], prefix: &str, ext: &str) -> Option<&'a std::path::PathBuf> {
    files.iter().find(|p| {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        name.starts_with(prefix) && name.ends_with(ext)
    })
}

/// The title of the wasm's row in docs/BENCHMARKS.md's targets table.
pub const TITLE: &str = "Wasm of a first visit to Audience › Users";
/// The title of its section there.
pub const SECTION: &str = "Wasm per page (release build, `server bench wasm`)";

/// The wasm's row of the targets table (one figure for both databases: it
/// depends on neither) and its section: the table per page, from the
/// release build in `target/site`, and when that build was written (a
/// re-run of some cases reads whatever build is there).
pub fn figures() -> anyhow::Result<(String, String)> {
    let pkg = Path::new("target/site/pkg");
    let (table, users_gzip) = report(pkg)?;
    let files: Vec<_> = std::fs::read_dir(pkg)?.filter_map(|e| e.ok().map(|e| e.path())).collect();
    let main = named(&files, "audience.", ".wasm").context("no audience.*.wasm: no release build")?;
    let built: chrono::DateTime<chrono::Utc> = std::fs::metadata(main)?.modified()?.into();
    let kb = users_gzip as f64 / 1000.0;
    let mark = if kb <= 250.0 { "**met**" } else { "**missed**" };
    let figure = format!("{mark}: {kb:.0} KB gzip (goal ≤ 250 KB)");
    let section = format!("The release build in `target/site` of {}.\n\n{table}", built.format("%Y-%m-%d %H:%M UTC"));
    Ok((format!("| {TITLE} | {figure} | {figure} |"), section))
}

/// A manifest entry as the table names it: a lazy route
/// ("__profile_route_view_1315…" → "profile route") or a lazy function
/// ("bulk_bar_9929…" → "bulk bar").
fn chunk_label(entry: &str) -> String {
    let name = entry.trim_start_matches('_');
    let name = match name.split_once("_view_") {
        Some((route, _)) => route,
        None => {
            name.rsplit_once('_').filter(|(_, hash)| hash.bytes().all(|b| b.is_ascii_digit())).map_or(name, |(f, _)| f)
        }
    };
    name.replace('_', " ")
}

/// The markdown table (main module, then each route with the chunks it
/// loads) and the gzip bytes of a first visit to Audience › Users.
pub fn report(pkg: &Path) -> anyhow::Result<(String, usize)> {
    let files: Vec<_> = std::fs::read_dir(pkg)
        .with_context(|| format!("cannot list {} (build with cargo leptos build --release --split)", pkg.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    let main = named(&files, "audience.", ".wasm").context("no audience.*.wasm: no release build")?;
    let [main_raw, main_gzip, main_served] = sizes(main)?;
    let mut table = String::from("| loaded on | files | raw | gzip -9 | served gzip |\n|---|---|---|---|---|\n");
    table.push_str(&format!(
        "| every page (main module, with Audience › Users) | 1 | {main_raw} B | {main_gzip} B | {main_served} B |\n"
    ));
    let mut users = [main_raw, main_gzip, main_served];
    if let Some(manifest) = named(&files, "__wasm_split_manifest", ".json") {
        let manifest: std::collections::BTreeMap<String, Vec<String>> =
            serde_json::from_str(&std::fs::read_to_string(manifest)?).context("the split manifest")?;
        for (entry, chunks) in &manifest {
            let mut route_total = [0; 3];
            for chunk in chunks {
                add(&mut route_total, sizes(&pkg.join(format!("{chunk}.wasm")))?);
            }
            let route = chunk_label(entry);
            let [raw, gzip, served] = route_total;
            table.push_str(&format!(
                "| + {route} (its chunks) | {} | {raw} B | {gzip} B | {served} B |\n",
                chunks.len()
            ));
            // Were Users a lazy route again, its chunks would count too.
            if route == "users route" {
                add(&mut users, route_total);
            }
        }
    } else {
        table.push_str("\nNot split: the whole bundle is the main module.\n");
    }
    let [_, users_gzip, users_served] = users;
    table.push_str(&format!(
        "| **first visit to Audience › Users** | | | **{users_gzip} B** | **{users_served} B** |\n"
    ));
    Ok((table, users_gzip))
}

pub fn wasm(site_root: &str) -> anyhow::Result<()> {
    let (table, _) = report(&Path::new(site_root).join("pkg"))?;
    println!("wasm bundle per page (gzip -9):\n\n{table}");
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn manifest_entries_are_named_without_their_hash() {
        assert_eq!(super::chunk_label("__profile_route_view_13409084913323356243"), "profile route");
        assert_eq!(super::chunk_label("bulk_bar_9929312126142272011"), "bulk bar");
        assert_eq!(super::chunk_label("plain"), "plain");
    }
}
