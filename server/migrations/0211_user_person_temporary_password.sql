-- A password a clerk set (console reset) is temporary: the person chooses their own at the next login.
alter table person_account add column must_change_password boolean not null default false;
