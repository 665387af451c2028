//! `server simulate`: posts a few demo events every interval through the real
//! ingest API, so live views have something to show.

use std::time::Duration;

use anyhow::bail;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

use super::{device_external_id, user_external_id, EVENT_TYPES};

/// How many demo users the simulator picks from (the demo seeds 500).
const USERS: usize = 500;

pub async fn run(base_url: &str, api_key: &str, interval_ms: u64, batches: Option<u64>) -> anyhow::Result<()> {
    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build()?;
    let url = format!("{}/api/v1/events", base_url.trim_end_matches('/'));
    let mut rng = StdRng::from_os_rng();
    let mut sent = 0u64;
    let mut waiting_logged = false;
    while batches.is_none_or(|max| sent < max) {
        let user = rng.random_range(0..USERS);
        let events: Vec<_> = (0..rng.random_range(1..4))
            .map(|_| {
                json!({
                    "type": EVENT_TYPES[rng.random_range(0..EVENT_TYPES.len())],
                    "userID": user_external_id(user),
                    "deviceID": device_external_id(user, 0),
                    "sessionID": format!("live-{user}"),
                })
            })
            .collect();
        match client.post(&url).bearer_auth(api_key).json(&events).send().await {
            Ok(response) if response.status().is_success() => {
                sent += 1;
                waiting_logged = false;
            }
            Ok(response) if response.status() == reqwest::StatusCode::UNAUTHORIZED => {
                bail!("the ingest API refused the API key (401)")
            }
            Ok(response) => {
                let status = response.status();
                eprintln!("simulate: ingest answered {status}: {}", response.text().await.unwrap_or_default());
                sent += 1;
            }
            Err(err) if err.is_connect() => {
                if !waiting_logged {
                    eprintln!("simulate: waiting for the console at {base_url} …");
                    waiting_logged = true;
                }
            }
            Err(err) => eprintln!("simulate: {err}"),
        }
        tokio::time::sleep(Duration::from_millis(interval_ms)).await;
    }
    Ok(())
}
