-- One-time SMS codes, DB-backed rate-limit counters (shared by every process) and the sandbox SMS outbox.
create table auth_otp (
  region_code char(6) not null,
  id uuid not null default gen_random_uuid(),
  mobile_bidx text not null,
  purpose text not null check (purpose in ('register', 'login', 'reset', 'change_mobile', 'step_up')),
  code_hash text not null,
  expires_at timestamptz not null,
  attempts int not null default 0,
  consumed_at timestamptz,
  ip text,
  created_at timestamptz not null default now(),
  primary key (region_code, id)
);
create index auth_otp_lookup on auth_otp (region_code, mobile_bidx, purpose, created_at desc);

-- Fixed-window counters: (bucket, key) e.g. ('otp.mobile', <blind index>) per window start.
create table auth_rate_counter (
  region_code char(6) not null,
  bucket text not null,
  key text not null,
  window_start timestamptz not null,
  count int not null default 0,
  expires_at timestamptz not null,
  primary key (region_code, bucket, key, window_start)
);
create index auth_rate_counter_expires on auth_rate_counter (expires_at);

-- 沙箱短信: what the sandbox SMS gateway "sent" (no real SMS leaves the machine). Staff read it in the console.
create table auth_sms_outbox (
  region_code char(6) not null,
  id uuid not null default gen_random_uuid(),
  mobile_enc text not null,
  mobile_bidx text not null,
  mobile_masked text not null,
  purpose text not null,
  text text not null,
  created_at timestamptz not null default now(),
  primary key (region_code, id)
);
create index auth_sms_outbox_recent on auth_sms_outbox (region_code, created_at desc);
