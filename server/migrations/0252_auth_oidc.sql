-- OIDC provider state (oidc-provider adapter): sessions, grants, codes, refresh tokens, interactions...
-- The provider is deployment-wide: rows carry the deployment's home region (DEFAULT_REGION) so the table
-- distributes by region like every other business table.
create table oidc_payload (
  region_code char(6) not null,
  kind text not null,
  id text not null,
  payload jsonb not null,
  grant_id text,
  user_code text,
  uid text,
  expires_at timestamptz,
  consumed_at timestamptz,
  primary key (region_code, kind, id)
);
create index oidc_payload_grant on oidc_payload (region_code, grant_id) where grant_id is not null;
create index oidc_payload_uid on oidc_payload (region_code, kind, uid) where uid is not null;
create index oidc_payload_user_code on oidc_payload (region_code, kind, user_code) where user_code is not null;
create index oidc_payload_expires on oidc_payload (expires_at);

-- Login sessions as users see them (active sessions, remote sign-out); sid = the provider session's uid.
create table auth_session (
  region_code char(6) not null,
  sid text not null,
  account_kind text not null check (account_kind in ('person', 'staff')),
  account_id text not null,
  client_id text,
  acr text not null,
  amr text[] not null default '{}',
  ip text,
  user_agent text,
  created_at timestamptz not null default now(),
  authenticated_at timestamptz not null default now(),
  revoked_at timestamptz,
  revoked_by text,
  primary key (region_code, sid)
);
create index auth_session_account on auth_session (region_code, account_id, created_at desc);

-- Login history shown to its user (the tamper-evident copy is in the audit chain).
create table auth_login_event (
  region_code char(6) not null,
  id uuid not null default gen_random_uuid(),
  account_kind text,
  account_id text,
  method text not null,
  result text not null check (result in ('success', 'failure', 'locked', 'throttled')),
  client_id text,
  ip text,
  user_agent text,
  at timestamptz not null default now(),
  primary key (region_code, id)
);
create index auth_login_event_account on auth_login_event (region_code, account_id, at desc);

-- Failed-login state per account (or per unknown login id, so answers never reveal existence).
create table auth_login_guard (
  region_code char(6) not null,
  key text not null,
  failures int not null default 0,
  locked_until timestamptz,
  hard_locked boolean not null default false,
  last_failure_at timestamptz,
  primary key (region_code, key)
);

-- WebAuthn credentials (passkeys) and pending challenges.
create table auth_passkey (
  region_code char(6) not null,
  id text not null,
  account_kind text not null,
  account_id text not null,
  name text not null,
  public_key text not null,
  counter bigint not null default 0,
  transports text[] not null default '{}',
  device_type text,
  backed_up boolean not null default false,
  created_at timestamptz not null default now(),
  last_used_at timestamptz,
  primary key (region_code, id)
);
create index auth_passkey_account on auth_passkey (region_code, account_id);

create table auth_webauthn_challenge (
  region_code char(6) not null,
  id text not null,
  challenge text not null,
  account_id text,
  expires_at timestamptz not null,
  primary key (region_code, id)
);

create index auth_session_sid on auth_session (sid);

-- The user center's SMS purposes use hyphenated names and 'deactivate'; accept both spellings.
alter table auth_otp drop constraint auth_otp_purpose_check;
alter table auth_otp add constraint auth_otp_purpose_check
  check (purpose in ('register', 'login', 'reset', 'change_mobile', 'step_up', 'deactivate'));
create index auth_passkey_id on auth_passkey (id);
create index auth_session_account_id on auth_session (account_id);
