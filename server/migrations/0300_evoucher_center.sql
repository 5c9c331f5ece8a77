-- E-voucher center (电子凭证中心): signing keys, vouchers, real-person checks, uses, ecTokens, channel
-- authorisations and QR login tickets. Every table is keyed by region_code first.

create table evoucher_key (
  region_code char(6) not null,
  kid integer not null check (kid between 1 and 65535),
  purpose text not null check (purpose in ('qr', 'sandbox_liveness')),
  alg text not null check (alg in ('SM2', 'Ed25519')),
  public_key text not null,
  private_key_enc text not null,
  -- active: signs (the newest active key of a purpose) and verifies; retiring: verifies only; retired: neither
  status text not null default 'active' check (status in ('active', 'retiring', 'retired')),
  created_by text,
  created_at timestamptz not null default now(),
  retired_at timestamptz,
  primary key (region_code, kid)
);

create table evoucher_voucher (
  region_code char(6) not null,
  id uuid not null default gen_random_uuid(),
  -- 16 hex digits carried in the QR token; changes on every (re)activation so old codes die with the old phone
  code char(16) not null,
  person_id text not null,
  person_no text not null,
  name_enc text not null,
  resident_id_enc text not null,
  resident_id_bidx text not null,
  status text not null check (status in ('active', 'suspended')),
  device jsonb not null default '{}',
  liveness_id uuid,
  activated_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (region_code, id),
  unique (region_code, code),
  unique (region_code, person_id)
);
create index evoucher_voucher_bidx on evoucher_voucher (region_code, resident_id_bidx);

create table evoucher_voucher_event (
  region_code char(6) not null,
  id uuid not null default gen_random_uuid(),
  voucher_id uuid not null,
  action text not null check (action in ('activate', 'reactivate', 'suspend', 'resume')),
  from_status text,
  to_status text not null,
  actor_kind text not null,
  actor_id text not null,
  reason text,
  at timestamptz not null default now(),
  primary key (region_code, id)
);
create index evoucher_voucher_event_voucher on evoucher_voucher_event (region_code, voucher_id, at);

-- Real-person verification sessions (实人认证) through the verification port.
create table evoucher_liveness (
  region_code char(6) not null,
  id uuid not null default gen_random_uuid(),
  person_id text not null,
  provider text not null,
  challenge text not null,
  status text not null default 'pending' check (status in ('pending', 'passed', 'failed', 'consumed')),
  result jsonb,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  primary key (region_code, id)
);

-- One row per accepted scan: single use per (voucher, token nonce, business type).
create table evoucher_use (
  region_code char(6) not null,
  id uuid not null default gen_random_uuid(),
  voucher_id uuid not null,
  token_nonce char(12) not null,
  business_type char(5) not null,
  institution_code text not null,
  app_id text not null,
  operator text,
  device text,
  ec_token text not null,
  used_at timestamptz not null default now(),
  primary key (region_code, id),
  unique (region_code, voucher_id, token_nonce, business_type)
);
create index evoucher_use_voucher on evoucher_use (region_code, voucher_id, used_at desc);
create index evoucher_use_day on evoucher_use (region_code, used_at);

-- ecTokens handed to institutions for 1101 with mdtrt_cert_type 01.
create table evoucher_ec_token (
  region_code char(6) not null,
  token text not null check (length(token) <= 50),
  voucher_id uuid not null,
  person_no text not null,
  resident_id_enc text not null,
  institution_code text not null,
  expires_at timestamptz not null,
  created_at timestamptz not null default now(),
  primary key (region_code, token)
);

-- A person's authorisation of a channel (scopes + expiry), and its one-time codes and server-side tokens.
create table evoucher_authorization (
  region_code char(6) not null,
  id uuid not null default gen_random_uuid(),
  voucher_id uuid not null,
  person_id text not null,
  app_id text not null,
  channel_name text not null,
  scopes jsonb not null,
  expires_at timestamptz not null,
  revoked_at timestamptz,
  created_at timestamptz not null default now(),
  primary key (region_code, id)
);
create index evoucher_authorization_person on evoucher_authorization (region_code, person_id, created_at desc);

create table evoucher_auth_code (
  region_code char(6) not null,
  code_hash text not null,
  authorization_id uuid not null,
  app_id text not null,
  expires_at timestamptz not null,
  used_at timestamptz,
  primary key (region_code, code_hash)
);

create table evoucher_channel_token (
  region_code char(6) not null,
  token_hash text not null,
  authorization_id uuid not null,
  app_id text not null,
  expires_at timestamptz not null,
  created_at timestamptz not null default now(),
  primary key (region_code, token_hash)
);

-- E-voucher QR login (扫码登录): the browser shows a ticket, the phone confirms, the browser completes.
create table evoucher_login_ticket (
  region_code char(6) not null,
  id uuid not null default gen_random_uuid(),
  secret_hash text not null,
  status text not null default 'pending' check (status in ('pending', 'scanned', 'confirmed', 'consumed', 'cancelled')),
  person_id text,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  confirmed_at timestamptz,
  primary key (region_code, id)
);
