//! The fixtures the store, service and server tests share: an app, a user
//! (with or without a device), an admin account. Only with `test-support`.

use crate::auth::session::SessionAdmin;
use crate::model::devices::DeviceAttributes;
use crate::model::Role;
use crate::store::{DeviceInput, Store, UserInput};

/// A new app named `name` (its API key hash made from the name).
pub async fn new_app(store: &Store, name: &str) -> i64 {
    store.create_app(name, &format!("hash-{name}"), 1_000).await.expect("create app").id
}

/// A user `external_id` (named the same), created at time 1.
pub async fn new_user(store: &Store, app_id: i64, external_id: &str) -> i64 {
    let input = UserInput { user_name: Some(external_id), email: None };
    store.upsert_user(app_id, &external_id.parse().unwrap(), &input, 1).await.expect("create user").id
}

/// A user `external_id` with one device `<external_id>-d` (an "iPhone15,2").
pub async fn new_user_with_device(store: &Store, app_id: i64, external_id: &str) -> i64 {
    let id = new_user(store, app_id, external_id).await;
    let device = DeviceInput {
        user_external_id: Some(external_id.parse().unwrap()),
        attributes: DeviceAttributes {
            platform: "iOS".into(),
            device_string: Some("iPhone15,2".into()),
            ..Default::default()
        },
        ..Default::default()
    };
    store.upsert_device(app_id, &format!("{external_id}-d").parse().unwrap(), &device, 1).await.expect("device");
    id
}

/// A signed-in admin account (id 1).
pub fn admin() -> SessionAdmin {
    SessionAdmin { id: 1, email: "admin@example.com".into(), role: Role::Admin }
}
