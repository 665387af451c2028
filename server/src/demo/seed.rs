//! `server demo-data`: one app named "Demo" with users, devices (with
//! location trails around real cities), segments, a week of events and a few
//! messages. Deterministic (fixed seed) so demos and screenshots repeat.

use anyhow::Context;
use app::auth::{api_key, password};
use app::ids::LocationStatus;
use app::model::devices::DeviceAttributes;
use app::model::properties::{PropertySet, PropertyValue, BY_API};
use app::store::{DeviceInput, EventInput, LocationInput, NewMessage, Store, UserInput};
use app::time::now_ms;
use indicatif::{ProgressBar, ProgressStyle};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::{device_external_id, user_external_id, EVENT_TYPES};
use crate::config::Config;
use crate::web::open_store;

pub const DEMO_APP: &str = "Demo";
const DAY_MS: i64 = 24 * 3600 * 1000;

const FIRST: &[&str] = &[
    "Ana", "João", "Maria", "Pedro", "Sofia", "Tiago", "Emma", "Liam", "Olivia", "Noah", "Yuki", "Hiro", "Lena", "Max",
    "Chloé", "Lucas", "Inês", "Rui", "Aisha", "Omar", "Priya", "Arjun", "Mia", "Leo",
];
const LAST: &[&str] = &[
    "Silva", "Santos", "Ferreira", "Costa", "Smith", "Johnson", "Tanaka", "Sato", "Müller", "Schmidt", "Martin",
    "Bernard", "Oliveira", "Khan", "Patel", "Rossi", "García", "Jansen", "Nowak", "Kim",
];
/// (city, latitude, longitude, timezone, language)
const CITIES: &[(&str, f64, f64, &str, &str)] = &[
    ("Lisbon", 38.7223, -9.1393, "Europe/Lisbon", "pt"),
    ("Porto", 41.1579, -8.6291, "Europe/Lisbon", "pt"),
    ("Amsterdam", 52.3676, 4.9041, "Europe/Amsterdam", "nl"),
    ("London", 51.5072, -0.1276, "Europe/London", "en"),
    ("Berlin", 52.52, 13.405, "Europe/Berlin", "de"),
    ("New York", 40.7128, -74.006, "America/New_York", "en"),
    ("São Paulo", -23.5558, -46.6396, "America/Sao_Paulo", "pt"),
    ("Tokyo", 35.6762, 139.6503, "Asia/Tokyo", "ja"),
    ("Sydney", -33.8688, 151.2093, "Australia/Sydney", "en"),
];
/// (platform, os versions, models, transport)
const PLATFORMS: &[(&str, &[&str], &[&str], &str)] = &[
    ("iOS", &["17.5", "18.1", "18.3"], &["iPhone15,2", "iPhone16,1", "iPad13,4"], "APNS"),
    ("Android", &["13", "14", "15"], &["Pixel 8", "SM-S918B", "moto g84"], "FCM"),
    ("Web", &["Chrome 131", "Safari 18", "Firefox 133"], &["Macintosh", "Windows", "Linux"], "WebPush"),
];
/// (segment, description, share of users in it): a few big ones, many small.
const SEGMENTS: &[(&str, &str, f64)] = &[
    ("VIP", "Top 5% by spend", 0.05),
    ("VIP Gold", "VIP for more than a year", 0.02),
    ("Beta testers", "Gets new features first", 0.08),
    ("Newsletter", "Opted in to the weekly newsletter", 0.45),
    ("Premium", "Paying subscribers", 0.2),
    ("Free trial", "In the 14-day trial", 0.1),
    ("Churn risk", "No purchase in 30 days", 0.15),
    ("Dormant", "Not seen in 60 days", 0.1),
    ("Power users", "Opens the app daily", 0.12),
    ("iOS power users", "Daily on iPhone or iPad", 0.06),
    ("Android early adopters", "Installed the Android beta", 0.04),
    ("Lisbon", "Lives in or near Lisbon", 0.11),
    ("Porto", "Lives in or near Porto", 0.11),
    ("Amsterdam", "Lives in or near Amsterdam", 0.11),
    ("London", "Lives in or near London", 0.11),
    ("Berlin", "Lives in or near Berlin", 0.11),
    ("New York", "Lives in or near New York", 0.11),
    ("Tokyo", "Lives in or near Tokyo", 0.11),
    ("Weekend shoppers", "Buys mostly on Saturdays and Sundays", 0.18),
    ("Night owls", "Most sessions after 22:00", 0.09),
    ("Early birds", "Most sessions before 8:00", 0.07),
    ("Cart abandoners", "Left a full cart this week", 0.13),
    ("First purchase", "Bought once", 0.16),
    ("Repeat buyers", "Three or more orders", 0.14),
    ("Coupon lovers", "Used three or more coupons", 0.08),
    ("Referral champions", "Invited five or more friends", 0.03),
    ("Loyalty programme", "Member of the loyalty programme", 0.22),
    ("Push opt-out", "Disabled push notifications", 0.12),
    ("Sports fans", "Follows sports content", 0.1),
    ("Music lovers", "Follows music content", 0.1),
    ("Travellers", "Used the app in two or more countries", 0.05),
    ("Students", "Verified student discount", 0.06),
    ("Parents", "Shops in the kids' section", 0.07),
    ("Holiday campaign 2025", "Converted from the December campaign", 0.09),
    ("Survey respondents", "Answered the satisfaction survey", 0.04),
    ("Support tickets open", "Has an open support ticket", 0.02),
];

/// Drops accents for email local parts ("João" -> "joao").
fn ascii_letter(c: char) -> Option<char> {
    match c {
        'á' | 'à' | 'ã' | 'â' => Some('a'),
        'é' | 'ê' => Some('e'),
        'í' => Some('i'),
        'ó' | 'ô' | 'õ' => Some('o'),
        'ú' | 'ü' => Some('u'),
        'ç' => Some('c'),
        c if c.is_ascii_alphanumeric() || c == '.' => Some(c),
        _ => None,
    }
}

/// Demo accounts; `demo-data` gives them fresh passwords on every run.
pub const DEMO_ACCOUNTS: &[(&str, &str)] = &[("admin@demo.local", "admin"), ("viewer@demo.local", "viewer")];

async fn reset_demo_account(store: &Store, email: &str, role: &str, now: i64) -> anyhow::Result<String> {
    let mut bytes = [0u8; 9];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    let password: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let hash = password::hash(password.clone()).await.map_err(|err| anyhow::anyhow!("hashing: {err}"))?;
    match store.admin_by_email(email).await? {
        Some(account) => store.set_admin_password(account.id, &hash).await?,
        None => {
            store.create_admin(email, &hash, role, now).await?;
        }
    }
    Ok(password)
}

fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

pub async fn run(config: &Config, users: usize) -> anyhow::Result<()> {
    let store = open_store(config).await?;
    let key = api_key::generate();
    let now = now_ms();
    for (email, role) in DEMO_ACCOUNTS {
        let password = reset_demo_account(&store, email, role, now).await?;
        println!("{role}: {email} {password}");
    }
    if let Some(app) = store.app_by_name(DEMO_APP).await? {
        store.set_app_key_hash(app.id, &api_key::hash(&key)).await?;
        eprintln!("The demo app is already seeded; issued it a new API key (the old one no longer works):");
        println!("{key}");
        return Ok(());
    }
    let app = store.create_app(DEMO_APP, &api_key::hash(&key), now).await?;
    seed(&store, app.id, users, now).await.context("seeding demo data")?;
    eprintln!("Seeded app '{DEMO_APP}' with {users} users. Its API key:");
    println!("{key}");
    Ok(())
}

/// A demo user's properties: a plan, seats on team plans, a trial flag,
/// where they came from and when they signed up (from the index alone, so
/// the rest of the demo data stays as it was).
fn demo_properties(index: usize, created: i64) -> Vec<PropertySet> {
    let text = |s: &str| Some(PropertyValue::String(s.into()));
    let mut set = vec![
        PropertySet { name: "plan".into(), value: text(["free", "pro", "team", "free"][index % 4]) },
        PropertySet { name: "signup_source".into(), value: text(["organic", "ads", "referral"][index % 3]) },
        PropertySet { name: "trial".into(), value: Some(PropertyValue::Boolean(index.is_multiple_of(5))) },
        PropertySet { name: "signed_up".into(), value: Some(PropertyValue::Date(created)) },
    ];
    if index % 4 == 2 {
        set.push(PropertySet { name: "seats".into(), value: Some(PropertyValue::Number((5 + index % 20) as f64)) });
    }
    set
}

/// Fills `app_id` with `users` demo users and everything around them.
pub async fn seed(store: &Store, app_id: i64, users: usize, now: i64) -> anyhow::Result<()> {
    let mut rng = StdRng::seed_from_u64(20_261_128);
    let progress = ProgressBar::new(users as u64)
        .with_style(ProgressStyle::with_template("{msg:>10} [{bar:30}] {pos}/{len} users").expect("valid template"));
    progress.set_message("seeding");

    let mut user_ids = Vec::with_capacity(users);
    let mut events = Vec::new();
    let mut properties = Vec::new();
    for index in 0..users {
        let (first, last) = (pick(&mut rng, FIRST), pick(&mut rng, LAST));
        let name = format!("{first} {last}");
        let email = (index % 7 != 3).then(|| {
            let local: String =
                format!("{first}.{last}{index}").to_lowercase().chars().filter_map(ascii_letter).collect();
            format!("{local}@example.com")
        });
        let created = now - rng.random_range(8..120) * DAY_MS;
        let input = UserInput { user_name: Some(&name), email: email.as_deref() };
        let user = store.upsert_user(app_id, &user_external_id(index).parse()?, &input, created).await?;
        user_ids.push(user.id);
        properties.push((user_external_id(index).parse()?, demo_properties(index, created)));
        if properties.len() >= 500 {
            store.set_properties_of_many(app_id, &properties, BY_API, now).await?;
            properties.clear();
        }

        let city = *pick(&mut rng, CITIES);
        let device_count = if rng.random_bool(0.3) { 2 } else { 1 };
        for device in 0..device_count {
            seed_device(store, app_id, &mut rng, index, device, city, now).await?;
        }
        let sessions = rng.random_range(1..8);
        for session in 0..sessions {
            let start = now - rng.random_range(0..7 * DAY_MS);
            let session_id = format!("s-{index}-{session}");
            for step in 0..rng.random_range(2..9) {
                let event_type = if step == 0 { EVENT_TYPES[0] } else { *pick(&mut rng, &EVENT_TYPES[2..]) };
                events.push(EventInput {
                    client_id: Some(format!("demo-{index}-{session}-{step}").parse()?),
                    event_type: event_type.to_string(),
                    user_external_id: Some(user_external_id(index).parse()?),
                    device_external_id: Some(device_external_id(index, 0).parse()?),
                    session_id: Some(session_id.clone()),
                    occurred_at: (start + step * 45_000).min(now),
                    data: event_type
                        .starts_with("custom.")
                        .then(|| format!("{{\"value\":{}}}", rng.random_range(1..200))),
                });
            }
        }
        if events.len() >= 1000 {
            store.insert_events(app_id, &events, now).await?;
            events.clear();
        }
        progress.inc(1);
    }
    store.insert_events(app_id, &events, now).await?;
    store.set_properties_of_many(app_id, &properties, BY_API, now).await?;
    progress.finish_with_message("users done");

    for (name, description, share) in SEGMENTS {
        let segment = store.create_segment(app_id, name, description, now - 30 * DAY_MS).await?;
        let members: Vec<i64> = user_ids.iter().copied().filter(|_| rng.random_bool(*share)).collect();
        store.add_segment_members(segment, &members, "demo", now - 10 * DAY_MS).await?;
    }
    for &user_id in user_ids.iter().step_by(15) {
        let message = NewMessage {
            title: "Welcome to the app!",
            body: "Thanks for signing up. Reply to this message if you need anything.",
            source: "dashboard",
            sender: "demo",
            envelope_sender: None,
            created_at: now - rng.random_range(1..7) * DAY_MS,
            attachments: &[],
        };
        store.insert_message(app_id, user_id, &message).await?;
    }
    Ok(())
}

async fn seed_device(
    store: &Store,
    app_id: i64,
    rng: &mut StdRng,
    user: usize,
    device: usize,
    (_, lat, lng, timezone, language): (&str, f64, f64, &str, &str),
    now: i64,
) -> anyhow::Result<()> {
    let (platform, versions, models, transport) = *pick(rng, PLATFORMS);
    let location_status =
        *pick(rng, &[LocationStatus::Always, LocationStatus::Use, LocationStatus::Use, LocationStatus::None]);
    let input = DeviceInput {
        user_external_id: Some(user_external_id(user).parse()?),
        location_status: Some(location_status),
        attributes: DeviceAttributes {
            platform: platform.to_string(),
            os_version: Some(pick(rng, versions).to_string()),
            app_version: Some(format!("3.{}.{}", rng.random_range(0..5), rng.random_range(0..10))),
            sdk_version: Some("4.2.0".into()),
            device_string: Some(pick(rng, models).to_string()),
            language: Some(language.into()),
            timezone: Some(timezone.into()),
            transport: Some(transport.into()),
            allowed_ui: Some(rng.random_bool(0.8)),
            bluetooth_enabled: Some(rng.random_bool(0.5)),
        },
    };
    let id = store.upsert_device(app_id, &device_external_id(user, device).parse()?, &input, now).await?;
    if location_status.allows_updates() {
        let points: Vec<LocationInput> = (0..rng.random_range(3..9))
            .map(|step| LocationInput {
                latitude: lat + rng.random_range(-0.05..0.05),
                longitude: lng + rng.random_range(-0.05..0.05),
                accuracy: Some(rng.random_range(5.0..80.0)),
                recorded_at: now - (step + 1) * 3 * 3600 * 1000,
            })
            .collect();
        store.add_locations(app_id, id, &points).await?;
    }
    Ok(())
}
