-- A user's search tokens are kept on the user's row too (" ana com silva "),
-- so a search word is checked on a candidate's row instead of through an
-- index of user_search by user, which is dropped: an import writes about
-- sixteen search rows per user, and that index's entries were a fifth of
-- its writes. A user's rows are deleted by their key, built from the list
-- and the sort name.
ALTER TABLE users ADD COLUMN search_tokens TEXT NOT NULL DEFAULT '';
UPDATE users AS u SET search_tokens = t.list
FROM (SELECT user_id, ' ' || string_agg(token, ' ' ORDER BY token) || ' ' AS list FROM user_search GROUP BY user_id) AS t
WHERE u.id = t.user_id;
DROP INDEX user_search_by_user_token;
-- SQLite's instr, so that the search's statements are the same text on
-- both databases (a one-expression SQL function is inlined by the planner).
CREATE FUNCTION instr(haystack TEXT, needle TEXT) RETURNS INTEGER
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT strpos(haystack, needle) $$;
