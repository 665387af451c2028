-- Search tokens and the by-name sort key are now folded (lower case,
-- accents and other combining marks dropped: "Álvaro" is found by "alvaro"
-- and sorts with the A's). Both are computed in Rust, so this only marks
-- every user for re-indexing: the start-up backfill
-- (store/user_list/index.rs) rewrites users.sort_name and the user's
-- user_search rows, a thousand users per transaction.
UPDATE users SET sort_name = '';
