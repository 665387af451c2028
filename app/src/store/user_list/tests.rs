//! Store-internal checks of the users list on both databases: the prefix
//! token scan and the re-indexing migration.

use super::search::prefix_range;
use crate::model::{UserFilter, UserSort};
use crate::store::{with_pool, Store, UserInput};
use crate::store_test;

store_test!(a_prefix_resolves_its_distinct_tokens_in_one_scan, |store: Store| async move {
    let app = store.create_app("T", "ht", 1).await.unwrap().id;
    let other = store.create_app("O", "ho", 1).await.unwrap().id;
    for (id, name) in [("1", "Pedro Pereira"), ("2", "Pedro Person"), ("3", "Pe"), ("4", "Paula"), ("5", "Pêssego")] {
        store
            .upsert_user(app, &id.parse().unwrap(), &UserInput { user_name: Some(name), email: None }, 1)
            .await
            .unwrap();
    }
    store
        .upsert_user(other, &"x".parse().unwrap(), &UserInput { user_name: Some("Pelé"), email: None }, 1)
        .await
        .unwrap();
    let tokens = |word: &'static str, up_to| {
        let store = store.clone();
        async move { store.tokens_with_prefix(app, word, up_to).await.unwrap() }
    };
    assert_eq!(tokens("pe", 10).await, ["pe", "pedro", "pereira", "person", "pessego"], "distinct, in order");
    assert_eq!(tokens("pe", 2).await, ["pe", "pedro"], "at most up_to");
    assert_eq!(tokens("ped", 10).await, ["pedro"]);
    assert!(tokens("x", 10).await.is_empty(), "another app's tokens are not found");
    assert!(tokens("pz", 10).await.is_empty());
});

store_test!(migration_0008_reindexes_users_with_folded_keys, |store: Store| async move {
    let app = store.create_app("M", "hm", 1).await.unwrap().id;
    for (id, name) in [("a", "Alice"), ("n", "Álvaro Núñez"), ("b", "Bruno")] {
        store
            .upsert_user(app, &id.parse().unwrap(), &UserInput { user_name: Some(name), email: None }, 1)
            .await
            .unwrap();
    }
    let alvaro = store.user_by_external_id(app, "n").await.unwrap().unwrap();
    // Index "Álvaro" as before 0008: unfolded token and sort keys.
    let old_rows = [
        "UPDATE users SET sort_name = 'álvaro núñez' WHERE id = $1",
        "DELETE FROM user_search WHERE user_id = $1",
        "INSERT INTO user_search (app_id, token, user_id, sort_name, created_at)
         SELECT app_id, 'álvaro', id, sort_name, created_at FROM users WHERE id = $1",
    ];
    let migration = match store.backend_name() {
        "sqlite" => include_str!("../../../migrations/sqlite/0008_folded_search_keys.sql"),
        _ => include_str!("../../../migrations/postgres/0008_folded_search_keys.sql"),
    };
    with_pool!(store, |pool| {
        for sql in old_rows {
            sqlx::query(sql).bind(alvaro.id).execute(pool).await.unwrap();
        }
    });
    let names = |search: &'static str| {
        let store = store.clone();
        async move {
            let filter = UserFilter { search: search.into(), sort: UserSort::Name, ..Default::default() };
            let page = store.users_page(app, &filter, Default::default(), None, 10).await.unwrap();
            page.users.into_iter().map(|u| u.external_id).collect::<Vec<_>>()
        }
    };
    assert!(names("alvaro").await.is_empty(), "the old index does not fold");
    assert_eq!(names("").await, ["a", "b", "n"], "the old key sorts Álvaro last");
    with_pool!(store, |pool| {
        sqlx::raw_sql(migration).execute(pool).await.unwrap();
    });
    store.backfill_user_index().await.unwrap();
    assert_eq!(names("alvaro").await, ["n"]);
    assert_eq!(names("ÁLVARO").await, ["n"]);
    assert_eq!(names("").await, ["a", "n", "b"]);
    let (lo, hi) = prefix_range("álvaro");
    let sql = "SELECT COUNT(*) FROM user_search WHERE token >= $1 AND token < $2 OR sort_name = 'álvaro núñez'";
    let unfolded: i64 =
        with_pool!(store, |pool| sqlx::query_scalar(sql).bind(&lo).bind(&hi).fetch_one(pool).await.unwrap());
    assert_eq!(unfolded, 0, "no unfolded search row is left");
});
