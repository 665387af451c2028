-- The search table's key is the by-name posting order itself, so each
-- search row is written into the heap and three indexes instead of four
-- (an import writes about sixteen rows per user; those writes were most of
-- its time). A user holds a token once and has one sort name, so
-- (app, token, sort name, user) is as unique as (app, token, user) was.
ALTER TABLE user_search DROP CONSTRAINT user_search_pkey;
DROP INDEX user_search_by_name;
ALTER TABLE user_search ADD CONSTRAINT user_search_pkey PRIMARY KEY (app_id, token, sort_name, user_id);
