//! `server bench seed`: the whole bench dataset in the "Bench" app, at a
//! `--scale` of the full size (1.0: 1,000,000 users, ≈ 2 devices each, most
//! located and some with trails, 100,000 segments with memberships,
//! 10,000,000 events over 30 days with one user holding 1,000,000 of them and
//! nine more 100,000 each, and a message with deliveries for every tenth
//! user). Bulk loaded (`COPY` on PostgreSQL, 500-row statements in large
//! transactions on SQLite) with a progress bar per step. Every step counts
//! what is there first, so a second run reuses the data, and an interrupted
//! one carries on.

use std::time::Instant;

use anyhow::Context;
use app::store::{BulkDevice, BulkEvent, Store};
use app::time::now_ms;
use indicatif::{ProgressBar, ProgressStyle};

const DAY_MS: i64 = 86_400_000;
const SPAN_MS: i64 = 30 * DAY_MS;
/// Rows per transaction.
const CHUNK: usize = 50_000;
/// The nine users after the heaviest one with a hundredth of the events each.
const HEAVY_USERS: usize = 9;
const CITIES: &[(f64, f64)] = &[(38.72, -9.14), (41.15, -8.61), (52.52, 13.40), (48.86, 2.35), (40.42, -3.70)];
const PLATFORMS: &[(&str, &str, &str)] =
    &[("iOS", "17.5", "iPhone15,2"), ("Android", "14", "Pixel 8"), ("iOS", "16.7", "iPhone12,1")];

/// The dataset's sizes for one scale.
#[derive(Debug, Clone, Copy)]
pub struct Scale {
    pub users: usize,
    pub segments: usize,
    /// All events of the app.
    pub events: usize,
    /// The heaviest user's share (the activity, profile and export benches' user).
    pub heaviest: usize,
}

impl Scale {
    pub fn of(scale: f64) -> Self {
        let n = |full: f64| ((full * scale).round() as usize).max(1);
        Scale { users: n(1e6).max(20), segments: n(1e5).max(20), events: n(1e7).max(200), heaviest: n(1e6).max(100) }
    }
}

/// A small deterministic generator (SplitMix64): the same dataset every run.
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Devices of user `i`: 1, 2 or 3, two on average.
fn devices_of(i: usize) -> usize {
    [2, 1, 3, 2][i % 4]
}

fn bar(len: usize, what: &str) -> ProgressBar {
    let style = ProgressStyle::with_template("{msg:>12} [{bar:30}] {human_pos}/{human_len} {per_sec} ETA {eta}")
        .expect("template");
    ProgressBar::new(len as u64).with_style(style).with_message(what.to_string())
}

/// Seeds (or completes) the dataset; returns the app id.
pub async fn seed(store: &Store, scale: Scale) -> anyhow::Result<i64> {
    let started = Instant::now();
    let app_id = super::seed(store, scale.users).await.context("users")?;
    super::segments::seed(store, scale.segments).await.context("segments")?;
    // "bench-0000000"…: digits sort before the other benches' "bench-activity" etc.
    let users = store.user_ids_with_prefix(app_id, "bench-").await?;
    anyhow::ensure!(users.len() >= scale.users, "{} bench users, expected {}", users.len(), scale.users);
    let users = &users[..scale.users];
    let [devices, locations, members, messages] = store.dataset_counts(app_id).await?;
    seed_devices(store, app_id, users, devices as usize, locations == 0).await.context("devices")?;
    seed_memberships(store, app_id, users, members as usize).await.context("memberships")?;
    super::activity::seed(store, scale.heaviest).await.context("the heaviest user")?;
    seed_events(store, app_id, users, scale).await.context("events")?;
    seed_messages(store, app_id, users, messages as usize).await.context("messages")?;
    let [devices, locations, members, messages] = store.dataset_counts(app_id).await?;
    eprintln!(
        "dataset: {} users, {devices} devices, {locations} locations, {members} memberships, {} events, {messages} \
         messages ({:.0} s)",
        users.len(),
        store.count_events(app_id).await?,
        started.elapsed().as_secs_f64()
    );
    Ok(app_id)
}

/// Devices in user order, committed in chunks that end on a user, so `have`
/// devices are the first users' all; then the trails, when `trails`.
async fn seed_devices(
    store: &Store,
    app_id: i64,
    users: &[i64],
    have: usize,
    trails_missing: bool,
) -> anyhow::Result<()> {
    let now = now_ms();
    let total: usize = (0..users.len()).map(devices_of).sum();
    let progress = bar(total, "devices");
    progress.set_position(have.min(total) as u64);
    let mut mix = Mix(1);
    let mut batch = Vec::with_capacity(CHUNK);
    let mut trails = Vec::new();
    let mut seen = 0;
    for (i, &user_id) in users.iter().enumerate() {
        for d in 0..devices_of(i) {
            seen += 1;
            let (platform, os_version, device_string) = PLATFORMS[(i + d) % PLATFORMS.len()];
            let (lat, lng) = CITIES[(i * 7 + d) % CITIES.len()];
            let at = now - (mix.unit() * SPAN_MS as f64) as i64;
            // Four in five devices are located; one in fifty has a trail.
            let location =
                ((i + d) % 5 != 0).then(|| (lat + (mix.unit() - 0.5) * 0.2, lng + (mix.unit() - 0.5) * 0.2, at));
            if seen <= have {
                if let Some((lat, lng, at)) = location.filter(|_| (i + d) % 50 == 1) {
                    trails.push((trails.len(), lat, lng, at));
                }
                continue;
            }
            batch.push(BulkDevice {
                external_id: format!("bench-{i:07}-d{d}"),
                user_id,
                platform,
                os_version,
                device_string,
                last_active_at: at,
                location,
            });
            if let Some((lat, lng, at)) = location.filter(|_| (i + d) % 50 == 1) {
                trails.push((trails.len(), lat, lng, at));
            }
        }
        if batch.len() >= CHUNK || (i + 1 == users.len() && !batch.is_empty()) {
            store.bulk_insert_devices(app_id, &batch, now).await?;
            progress.inc(batch.len() as u64);
            batch.clear();
        }
    }
    progress.finish();
    if !trails_missing {
        return Ok(());
    }
    // Trails: 20 points an hour apart ending at the device's last location.
    let device_ids = store.device_ids_with_prefix(app_id, "bench-").await?;
    let located: Vec<i64> = device_index(users.len())
        .filter(|&(i, d, _)| (i + d) % 5 != 0 && (i + d) % 50 == 1)
        .map(|(_, _, n)| device_ids[n])
        .collect();
    let progress = bar(located.len() * 20, "locations");
    for (chunk, ids) in trails.chunks(CHUNK / 20).zip(located.chunks(CHUNK / 20)) {
        let points: Vec<(i64, f64, f64, i64)> = chunk
            .iter()
            .zip(ids)
            .flat_map(|(&(_, lat, lng, at), &id)| {
                (0..20).map(move |k| (id, lat - k as f64 * 0.002, lng + k as f64 * 0.001, at - k * 3_600_000))
            })
            .collect();
        store.bulk_insert_locations(app_id, &points).await?;
        progress.inc(points.len() as u64);
    }
    progress.finish();
    Ok(())
}

/// `(user index, device index, position in external-id order)` of every
/// bench device.
fn device_index(users: usize) -> impl Iterator<Item = (usize, usize, usize)> {
    (0..users).flat_map(|i| (0..devices_of(i)).map(move |d| (i, d))).enumerate().map(|(n, (i, d))| (i, d, n))
}

/// Memberships in a fixed order; the first `have` are there already.
async fn seed_memberships(store: &Store, app_id: i64, users: &[i64], have: usize) -> anyhow::Result<()> {
    let segments = store.segment_ids(app_id).await?;
    let now = now_ms();
    // Every user in one segment, every other user in a second one.
    let pairs = users.iter().enumerate().flat_map(|(i, &user)| {
        let first = segments[(i * 7919) % segments.len()];
        let second = segments[(i * 104_729 + 1) % segments.len()];
        let second = (i.is_multiple_of(2) && second != first).then_some((second, user, now));
        std::iter::once((first, user, now)).chain(second)
    });
    let pairs: Vec<(i64, i64, i64)> = pairs.collect();
    let progress = bar(pairs.len(), "memberships");
    progress.set_position(have.min(pairs.len()) as u64);
    for chunk in pairs[have.min(pairs.len())..].chunks(CHUNK) {
        store.bulk_insert_memberships(chunk, "bench").await?;
        progress.inc(chunk.len() as u64);
    }
    progress.finish();
    Ok(())
}

/// The events besides the heaviest user's: nine heavy users with a
/// hundredth each, the rest skewed towards the first users (user
/// `⌊n·u³⌋` for uniform `u`: a long tail, like real apps).
async fn seed_events(store: &Store, app_id: i64, users: &[i64], scale: Scale) -> anyhow::Result<()> {
    let have = store.count_events(app_id).await? as usize;
    let want = scale.events.saturating_sub(have);
    if want < scale.events / 100 {
        eprintln!("reusing {have} events");
        return Ok(());
    }
    let device_ids = store.device_ids_with_prefix(app_id, "bench-").await?;
    let first_device: Vec<usize> = {
        let mut at = 0;
        (0..users.len())
            .map(|i| {
                let first = at;
                at += devices_of(i);
                first
            })
            .collect()
    };
    let heavy_each = scale.events / 100;
    let now = now_ms();
    let progress = bar(want, "events");
    let mut mix = Mix(have as u64 + 7);
    let mut written = 0;
    while written < want {
        let count = CHUNK.min(want - written);
        let rows: Vec<BulkEvent> = (0..count)
            .map(|k| {
                let n = have + written + k;
                let i = if n < HEAVY_USERS * heavy_each {
                    1 + n / heavy_each.max(1)
                } else {
                    (users.len() as f64 * mix.unit().powi(3)) as usize
                };
                let device = device_ids.get(first_device[i] + n % devices_of(i)).copied();
                let event_type = super::activity::TYPES[(n * 7) % super::activity::TYPES.len()];
                BulkEvent {
                    event_type: event_type.to_string(),
                    // One in twenty is a device's alone (before sign-in).
                    user_id: (n % 20 != 19).then_some(users[i]),
                    device_id: device,
                    occurred_at: now - (mix.unit() * SPAN_MS as f64) as i64,
                    data: n.is_multiple_of(3).then(|| format!(r#"{{"screen":"s{}","n":{n}}}"#, n % 40)),
                }
            })
            .collect();
        store.bulk_insert_events(app_id, &rows, now).await?;
        written += count;
        progress.inc(count as u64);
    }
    progress.finish();
    Ok(())
}

/// A message for every tenth user, delivered to each of its devices; the
/// first `have` are there already.
async fn seed_messages(store: &Store, app_id: i64, users: &[i64], have: usize) -> anyhow::Result<()> {
    let now = now_ms();
    let mut mix = Mix(3);
    let messages: Vec<(i64, String, String, i64)> = users
        .iter()
        .enumerate()
        .filter(|(i, _)| i.is_multiple_of(10))
        .map(|(i, &user)| {
            let at = now - (mix.unit() * SPAN_MS as f64) as i64;
            (user, format!("Welcome back, #{i}"), "Your weekly offers are ready.".to_string(), at)
        })
        .collect();
    let progress = bar(messages.len(), "messages");
    progress.set_position(have.min(messages.len()) as u64);
    for chunk in messages[have.min(messages.len())..].chunks(CHUNK / 5) {
        store.bulk_insert_delivered_messages(app_id, chunk).await?;
        progress.inc(chunk.len() as u64);
    }
    progress.finish();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_keep_the_shape() {
        let full = Scale::of(1.0);
        assert_eq!(
            (full.users, full.segments, full.events, full.heaviest),
            (1_000_000, 100_000, 10_000_000, 1_000_000)
        );
        let tiny = Scale::of(0.0001);
        assert_eq!((tiny.users, tiny.segments, tiny.events, tiny.heaviest), (100, 20, 1_000, 100));
        assert_eq!((0..1000).map(devices_of).sum::<usize>(), 2000);
    }
}
