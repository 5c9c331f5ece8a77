-- 密码到期提醒: when a staff member was told that their current password ages out (cleared by a new password).
alter table staff_account add column password_reminded_at timestamptz;
