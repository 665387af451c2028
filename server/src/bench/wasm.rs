//! `server bench wasm`: what a browser downloads of the wasm bundle per
//! page, from the build's `pkg` directory. With `cargo leptos build
//! --split` every lazy route is a chunk plus the shared chunks it needs
//! (`__wasm_split_manifest.<hash>.json`); the main module loads on every
//! page. Sizes raw and gzip -9 (what the budget counts; browsers
//! get brotli, a little smaller).

use std::io::Write as _;
use std::path::Path;

use anyhow::Context;

/// Raw and gzip sizes of one file.
fn sizes(path: &Path) -> anyhow::Result<(usize, usize)> {
    let raw = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gzip.write_all(&raw)?;
    Ok((raw.len(), gzip.finish()?.len()))
}

fn named<'a>(files: &'a [std::path::PathBuf], prefix: &str, ext: &str) -> Option<&'a std::path::PathBuf> {
    files.iter().find(|p| {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        name.starts_with(prefix) && name.ends_with(ext)
    })
}

/// The markdown table (main module, then each route with the chunks it
/// loads) and the gzip bytes of a first visit to Audience › Users.
pub fn report(pkg: &Path) -> anyhow::Result<(String, usize)> {
    let files: Vec<_> = std::fs::read_dir(pkg)
        .with_context(|| format!("cannot list {} (build with cargo leptos build --release --split)", pkg.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    let main = named(&files, "audience.", ".wasm").context("no audience.*.wasm: no release build")?;
    let (main_raw, main_gzip) = sizes(main)?;
    let mut table = String::from("| loaded on | files | raw | gzip |\n|---|---|---|---|\n");
    table.push_str(&format!("| every page (main module) | 1 | {main_raw} B | {main_gzip} B |\n"));
    let Some(manifest) = named(&files, "__wasm_split_manifest", ".json") else {
        table.push_str("\nNot split: the whole bundle is the main module.\n");
        return Ok((table, main_gzip));
    };
    let manifest: std::collections::BTreeMap<String, Vec<String>> =
        serde_json::from_str(&std::fs::read_to_string(manifest)?).context("the split manifest")?;
    let mut users_gzip = main_gzip;
    for (entry, chunks) in &manifest {
        let (mut raw, mut gzip) = (0, 0);
        for chunk in chunks {
            let (r, g) = sizes(&pkg.join(format!("{chunk}.wasm")))?;
            raw += r;
            gzip += g;
        }
        // "__users_route_view_1315…" → "users route".
        let route = entry.trim_start_matches('_').split("_view").next().unwrap_or(entry).replace('_', " ");
        table.push_str(&format!("| + {route} (its chunks) | {} | {raw} B | {gzip} B |\n", chunks.len()));
        if route == "users route" {
            users_gzip += gzip;
        }
    }
    table.push_str(&format!("| **first visit to Audience › Users** | | | **{users_gzip} B** |\n"));
    Ok((table, users_gzip))
}

pub fn wasm(site_root: &str) -> anyhow::Result<()> {
    let (table, _) = report(&Path::new(site_root).join("pkg"))?;
    println!("wasm bundle per page (gzip -9):\n\n{table}");
    Ok(())
}
