-- Where a staff member's security alerts go (account locked, sign-in from a new device): a mobile and an e-mail
-- address, encrypted like every personal datum; both optional.
alter table staff_account add column mobile_enc text, add column email_enc text;
