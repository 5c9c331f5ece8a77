-- E-bill center (电子票据中心): bills, the sandbox fiscal issuer's numbering and records, channels and quotas,
-- public verification limits and captchas, and the national reporting outbox (+ the sandbox national recorder).

-- Sandbox fiscal e-bill issuer (沙箱财政电子票据平台): its signing key, gap-free counters and the issued register.
create table ebill_issuer_key (
  region_code char(6) not null,
  key_id text not null,
  public_key text not null,
  private_key_enc text not null,
  created_at timestamptz not null default now(),
  primary key (region_code, key_id)
);
create table ebill_issuer_counter (
  region_code char(6) not null,
  bill_code char(8) not null check (bill_code ~ '^[0-9]{8}$'),
  next_number bigint not null default 1 check (next_number between 1 and 9999999999),
  primary key (region_code, bill_code)
);
create table ebill_issuer_record (
  region_code char(6) not null,
  bill_code char(8) not null,
  bill_number char(10) not null check (bill_number ~ '^[0-9]{10}$'),
  check_code char(6) not null,
  kind text not null check (kind in ('blue', 'red')),
  total bigint not null,
  issued_at timestamptz not null,
  digest char(64) not null,
  signature text not null,
  key_id text not null,
  reversed_by_code char(8),
  reversed_by_number char(10),
  primary key (region_code, bill_code, bill_number)
);

-- The center's bills (what people query and download).
create table ebill_bill (
  region_code char(6) not null,
  id uuid not null default gen_random_uuid(),
  bill_code char(8) not null,
  bill_number char(10) not null,
  check_code char(6) not null,
  kind text not null check (kind in ('blue', 'red')),
  status text not null default 'valid' check (status in ('valid', 'reversed')),
  order_id text not null,
  person_id text not null,
  payer_name_enc text,
  institution_code text not null,
  payee_name text not null,
  total bigint not null,
  fund_payment bigint not null,
  account_payment bigint not null,
  cash_payment bigint not null,
  items jsonb not null,
  settled_at timestamptz not null,
  issued_at timestamptz not null,
  canonical text not null,
  signature text not null,
  key_id text not null,
  original_bill_id uuid,
  created_at timestamptz not null default now(),
  primary key (region_code, id),
  unique (region_code, bill_code, bill_number),
  unique (region_code, order_id, kind),
  check (fund_payment + account_payment + cash_payment = total)
);
create index ebill_bill_person on ebill_bill(region_code, person_id, issued_at desc);
create index ebill_bill_institution on ebill_bill(region_code, institution_code, issued_at desc);

-- Access channels for the bill APIs (接入渠道) with their SM2 public key and secret, and per-API grants/quotas.
create table ebill_channel (
  region_code char(6) not null,
  app_id text not null,
  name text not null,
  institution_code text,
  status text not null default 'enabled' check (status in ('enabled', 'disabled')),
  contact_name text,
  contact_mobile_enc text,
  callback_url text,
  public_key text not null,
  app_secret_enc text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (region_code, app_id)
);
create table ebill_channel_api (
  region_code char(6) not null,
  app_id text not null,
  api text not null,
  enabled boolean not null default true,
  daily_quota int not null check (daily_quota >= 0),
  primary key (region_code, app_id, api)
);
create table ebill_channel_usage (
  region_code char(6) not null,
  app_id text not null,
  api text not null,
  day date not null,
  calls int not null default 0,
  refused int not null default 0,
  primary key (region_code, app_id, api, day)
);
create table ebill_channel_nonce (
  region_code char(6) not null,
  app_id text not null,
  nonce text not null,
  seen_at timestamptz not null default now(),
  primary key (region_code, app_id, nonce)
);

-- Public verification: per-IP attempt windows and arithmetic captchas.
create table ebill_verify_ip (
  region_code char(6) not null,
  ip text not null,
  window_start timestamptz not null,
  attempts int not null default 0,
  failures int not null default 0,
  primary key (region_code, ip, window_start)
);
create table ebill_captcha (
  region_code char(6) not null,
  id uuid not null default gen_random_uuid(),
  ip text not null,
  answer_hash char(64) not null,
  expires_at timestamptz not null,
  used boolean not null default false,
  primary key (region_code, id)
);

-- Vertical reporting outbox, and the sandbox national platform's register of what it received.
create table ebill_national_report (
  region_code char(6) not null,
  bill_id uuid not null,
  status text not null default 'pending' check (status in ('pending', 'reported', 'failed')),
  attempts int not null default 0,
  last_error text,
  receipt text,
  created_at timestamptz not null default now(),
  reported_at timestamptz,
  primary key (region_code, bill_id)
);
create table ebill_national_sandbox_record (
  region_code char(6) not null,
  bill_code char(8) not null,
  bill_number char(10) not null,
  receipt text not null,
  payload jsonb not null,
  received_at timestamptz not null default now(),
  primary key (region_code, bill_code, bill_number)
);
