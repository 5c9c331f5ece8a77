-- Staff accounts whose password was set by someone else (created in the console, or reset there) must choose their
-- own at the next login; the auth center's login page asks for it.
alter table staff_account add column must_change_password boolean not null default false;
