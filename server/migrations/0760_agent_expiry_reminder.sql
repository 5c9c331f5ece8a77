-- A grant that expires soon is announced once to the agent and the unit's admins; a renewal clears the mark.
alter table agent add column expiry_reminded_at timestamptz;
create index agent_expiring on agent (expires_at) where expires_at is not null and expiry_reminded_at is null;
