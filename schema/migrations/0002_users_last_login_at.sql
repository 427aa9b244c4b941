-- Record when each user last logged in; shown in the User object.
ALTER TABLE users ADD COLUMN last_login_at DATETIME;
