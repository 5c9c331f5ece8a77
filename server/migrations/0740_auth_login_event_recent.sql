-- 登录监控 reads a region's logins of the last hours (the existing index leads with the account); the hourly purge
-- deletes history past LOGIN_HISTORY_DAYS across regions.
create index auth_login_event_recent on auth_login_event (region_code, at desc);
create index auth_login_event_at on auth_login_event (at);
