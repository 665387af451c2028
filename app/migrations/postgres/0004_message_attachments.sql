-- Attachments of a private message as JSON: [{"name": "...", "size": 123}].
ALTER TABLE messages ADD COLUMN attachments TEXT NOT NULL DEFAULT '[]';
