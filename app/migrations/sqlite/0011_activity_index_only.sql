-- PostgreSQL only (its 0009 lets the activity index answer searches alone);
-- SQLite already reads the key from the index. Kept so both folders number
-- their migrations alike.
SELECT 1;
