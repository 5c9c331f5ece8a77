-- Sandbox gateways accept each delivery once (like a real gateway's OutId): a retry after a lost response finds
-- the first record instead of sending again.
create unique index message_sandbox_outbox_delivery on message_sandbox_outbox(region_code, channel, delivery_id);
