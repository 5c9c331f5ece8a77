-- Callback notifications to e-bill channels (接入渠道回调): one delivery per channel, bill and event, sent by the job
-- queue (retries with backoff), signed with HMAC-SM3 under the channel's app secret. Staff see them per channel.
create table ebill_callback_delivery (
  region_code char(6) not null,
  id uuid not null default gen_random_uuid(),
  app_id text not null,
  bill_id uuid not null,
  event text not null check (event in ('bill.issued', 'bill.reversed')),
  url text not null,
  status text not null default 'pending' check (status in ('pending', 'delivered', 'failed')),
  attempts int not null default 0,
  last_status_code int,
  last_error text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  delivered_at timestamptz,
  primary key (region_code, id),
  unique (region_code, app_id, bill_id, event)
);
create index ebill_callback_delivery_channel on ebill_callback_delivery(region_code, app_id, created_at desc);
