-- Console accounts. Passwords are argon2 hashes (PHC strings).
CREATE TABLE admins (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    email         TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    role          TEXT    NOT NULL CHECK (role IN ('admin', 'viewer')),
    created_at    INTEGER NOT NULL
);
CREATE UNIQUE INDEX admins_email_ci ON admins (lower(email));
