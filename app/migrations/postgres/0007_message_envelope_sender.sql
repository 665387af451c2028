-- The SMTP envelope sender (MAIL FROM) of a Push Mail, kept apart from the
-- From header's display name, which the sender writes freely.
ALTER TABLE messages ADD COLUMN envelope_sender TEXT;
