-- The institution's name as the core zone's registry gave it at upload: what the person's bill and the staff's order
-- list show (a code like H99010000002 means nothing to a patient). Null for orders uploaded before, or when the
-- registry could not be asked: the pages then show the code.
alter table payment_order add column if not exists institution_name text;
