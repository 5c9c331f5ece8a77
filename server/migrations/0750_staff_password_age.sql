-- Staff passwords are changed periodically (STAFF_PASSWORD_MAX_AGE_DAYS); existing ones start their clock now.
alter table staff_account add column password_changed_at timestamptz not null default now();
