-- A bill belongs to the insured person: to their hall account when they have one (person_id), and always by the
-- blind index of their resident ID, so that a person who opens an account after the visit finds their bills.
-- Bills issued before this kept the core zone's person number in person_id for persons without an account.
alter table ebill_bill alter column person_id drop not null;
alter table ebill_bill add column resident_index text;
create index ebill_bill_resident on ebill_bill(region_code, resident_index, issued_at desc);
