-- Message center (消息中心): templates, rules, channels, messages, deliveries, inbox, announcements, preferences,
-- sandbox outboxes. Message types are declared in code by the centers that emit them (no table).

-- Versioned templates per type × channel; the newest version is the one used. Default templates live in code (version 0).
create table message_template (
  region_code char(6) not null,
  type_code text not null,
  channel text not null check (channel in ('inbox', 'sms', 'email', 'wechat')),
  version int not null check (version > 0),
  title text not null default '',
  body text not null,
  created_by text not null,
  created_at timestamptz not null default now(),
  primary key (region_code, type_code, channel, version)
);

-- Push rules per type (overrides the type's defaults): channels always used, then a fallback chain.
create table message_rule (
  region_code char(6) not null,
  type_code text not null,
  always text[] not null default '{}',
  fallback text[] not null default '{}',
  respect_quiet_hours boolean not null default true,
  dedupe_seconds int not null default 300 check (dedupe_seconds >= 0),
  user_limit_per_hour int not null default 20 check (user_limit_per_hour > 0),
  enabled boolean not null default true,
  updated_by text not null,
  updated_at timestamptz not null default now(),
  primary key (region_code, type_code)
);

-- Channel switches and per-channel rate limits per region; quiet hours (Asia/Shanghai) live on the inbox-independent row '*'.
create table message_channel (
  region_code char(6) not null,
  channel text not null check (channel in ('inbox', 'sms', 'email', 'wechat')),
  enabled boolean not null default true,
  rate_per_minute int not null default 600 check (rate_per_minute > 0),
  -- sandbox providers only: fail every send (fault injection from the console)
  sandbox_fail boolean not null default false,
  updated_at timestamptz not null default now(),
  primary key (region_code, channel)
);

create table message_settings (
  region_code char(6) primary key,
  quiet_start smallint not null default 22 check (quiet_start between 0 and 23),
  quiet_end smallint not null default 8 check (quiet_end between 0 and 23),
  updated_at timestamptz not null default now()
);

create table message (
  region_code char(6) not null,
  id uuid not null default gen_random_uuid(),
  type_code text not null,
  category text not null,
  priority text not null check (priority in ('urgent', 'high', 'normal', 'low')),
  mandatory boolean not null,
  to_person_id text,
  to_staff_id text,
  to_mobile_enc text,
  to_email_enc text,
  recipient_key text not null,
  payload jsonb not null,
  dedupe_key text not null,
  -- the fallback chain fixed at dispatch time
  chain text[] not null default '{}',
  source text not null default 'service',
  status text not null default 'queued' check (status in ('queued', 'dispatched', 'deduplicated', 'failed')),
  reason text,
  created_at timestamptz not null default now(),
  primary key (region_code, id)
);
create index message_dedupe on message(region_code, type_code, recipient_key, dedupe_key, created_at desc);
create index message_recipient_time on message(region_code, recipient_key, created_at desc);
create index message_created on message(region_code, created_at desc);

create table message_delivery (
  region_code char(6) not null,
  id uuid not null default gen_random_uuid(),
  message_id uuid not null,
  type_code text not null,
  channel text not null check (channel in ('inbox', 'sms', 'email', 'wechat')),
  -- position in the fallback chain (null: an "always" channel)
  chain_index int,
  status text not null default 'queued' check (status in ('queued', 'sent', 'delivered', 'failed', 'dead', 'skipped')),
  reason text,
  attempts int not null default 0,
  address_masked text,
  address_enc text,
  template_version int,
  title text,
  body text,
  provider_ref text,
  sandbox boolean not null default false,
  not_before timestamptz,
  -- when this delivery last took a slot of its channel's per-minute rate limit
  slot_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  sent_at timestamptz,
  primary key (region_code, id)
);
create index message_delivery_message on message_delivery(region_code, message_id);
create index message_delivery_log on message_delivery(region_code, created_at desc);
create index message_delivery_channel_slot on message_delivery(region_code, channel, slot_at) where slot_at is not null;

-- In-site inbox (站内信). Announcements fan out here with one INSERT … SELECT.
create table message_inbox (
  region_code char(6) not null,
  person_id text not null,
  id uuid not null default gen_random_uuid(),
  message_id uuid,
  announcement_id uuid,
  type_code text not null,
  category text not null,
  title text not null,
  body text not null,
  read_at timestamptz,
  deleted_at timestamptz,
  created_at timestamptz not null default now(),
  primary key (region_code, person_id, id)
);
create index message_inbox_list on message_inbox(region_code, person_id, created_at desc) where deleted_at is null;
create unique index message_inbox_announcement on message_inbox(region_code, person_id, announcement_id)
  where announcement_id is not null;

-- Who can be reached by broadcasts: fed by the message center whenever it reaches a person, and by other centers
-- (user, unit) through MessageService.registerRecipients.
create table message_recipient (
  region_code char(6) not null,
  kind text not null check (kind in ('person', 'staff')),
  subject_id text not null,
  unit_id text not null default '',
  created_at timestamptz not null default now(),
  primary key (region_code, kind, subject_id, unit_id)
);

create table message_preference (
  region_code char(6) not null,
  person_id text not null,
  category text not null,
  channel text not null check (channel in ('inbox', 'sms', 'email', 'wechat')),
  enabled boolean not null,
  updated_at timestamptz not null default now(),
  primary key (region_code, person_id, category, channel)
);

-- WeChat official-account bindings (openid per person).
create table message_wechat_binding (
  region_code char(6) not null,
  person_id text not null,
  openid text not null,
  created_at timestamptz not null default now(),
  primary key (region_code, person_id)
);

create table message_announcement (
  region_code char(6) not null,
  id uuid not null default gen_random_uuid(),
  title text not null,
  body text not null,
  hall text not null check (hall in ('all', 'personal', 'unit')),
  audience jsonb not null,
  to_inbox boolean not null default false,
  publish_at timestamptz not null,
  expires_at timestamptz,
  status text not null check (status in ('scheduled', 'published', 'withdrawn')),
  fanout_count int,
  created_by text not null,
  created_at timestamptz not null default now(),
  primary key (region_code, id)
);
create index message_announcement_live on message_announcement(region_code, status, publish_at desc);

-- What the sandbox SMS / WeChat providers would have sent (沙箱). Staff see it in the console.
create table message_sandbox_outbox (
  region_code char(6) not null,
  id uuid not null default gen_random_uuid(),
  channel text not null check (channel in ('sms', 'wechat', 'email')),
  delivery_id uuid not null,
  address text not null,
  template_id text,
  title text,
  content text not null,
  status text not null default 'accepted' check (status in ('accepted', 'delivered', 'rejected')),
  created_at timestamptz not null default now(),
  receipt_at timestamptz,
  primary key (region_code, id)
);
create index message_sandbox_outbox_time on message_sandbox_outbox(region_code, channel, created_at desc);
