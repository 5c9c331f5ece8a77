-- Unified authentication center: channels (渠道) and their replay window.
create table auth_channel (
  region_code char(6) not null,
  app_id text not null,
  name text not null,
  type text not null check (type in ('web', 'app', 'miniprogram', 'institution', 'partner')),
  institution_code text,
  scopes text[] not null default '{}',
  redirect_uris text[] not null default '{}',
  post_logout_redirect_uris text[] not null default '{}',
  login_methods text[] not null default '{}',
  grant_types text[] not null default '{authorization_code,refresh_token}',
  public_client boolean not null default false,
  backchannel_logout_uri text,
  public_key_hex text not null check (public_key_hex ~ '^04[0-9a-f]{128}$'),
  app_secret_enc text not null,
  status text not null default 'active' check (status in ('active', 'disabled')),
  created_by text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (region_code, app_id)
);
create index auth_channel_app_id on auth_channel (app_id);

-- Nonces seen inside the timestamp window; a second use of (app, nonce) is a replay.
create table auth_channel_nonce (
  region_code char(6) not null,
  app_id text not null,
  nonce text not null,
  expires_at timestamptz not null,
  primary key (region_code, app_id, nonce)
);
create index auth_channel_nonce_expires on auth_channel_nonce (expires_at);
