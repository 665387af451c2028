-- Each search token's first character is a token too (its initial), so a
-- one-letter search reads one posting list, in list order, instead of
-- every token starting with the letter. The rows of existing users:
INSERT INTO user_search (app_id, token, user_id, sort_name, created_at)
SELECT DISTINCT app_id, left(token, 1), user_id, sort_name, created_at FROM user_search
ON CONFLICT DO NOTHING;
