-- 登录监控 reads a region's logins of the last hours; the existing index leads with the account.
create index auth_login_event_recent on auth_login_event (region_code, at desc);
