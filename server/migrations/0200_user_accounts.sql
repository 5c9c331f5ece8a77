-- User center (用户中心): persons, units, agents, staff and RBAC.
-- Personal data is encrypted (AES-256-GCM via platform privacy) with HMAC-SM3 blind indexes for look-ups.

create table person_account (
  region_code char(6) not null,
  id uuid not null default gen_random_uuid(),
  name_enc text not null,
  -- blind indexes of the name's prefixes (1..6 characters): name-prefix search without plaintext
  name_prefix_bidx text[] not null default '{}',
  resident_id_enc text not null,
  resident_id_bidx char(64) not null,
  mobile_enc text not null,
  mobile_bidx char(64) not null,
  username text,
  email_enc text,
  password_hash text,
  status text not null default 'active' check (status in ('active', 'disabled', 'deactivated')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  password_changed_at timestamptz,
  deactivated_at timestamptz,
  primary key (region_code, id)
);
-- A deactivated account frees its ID number, mobile and username for a new registration.
create unique index person_account_resident_id on person_account (region_code, resident_id_bidx)
  where status <> 'deactivated';
create unique index person_account_mobile on person_account (region_code, mobile_bidx)
  where status <> 'deactivated';
create unique index person_account_username on person_account (region_code, lower(username))
  where username is not null and status <> 'deactivated';
create index person_account_name_prefix on person_account using gin (name_prefix_bidx);
create index person_account_created on person_account (region_code, created_at desc);

create table unit (
  region_code char(6) not null,
  id uuid not null default gen_random_uuid(),
  uscc char(18) not null,
  name text not null,
  unit_type text not null check (unit_type in ('insured_employer', 'medical_institution', 'retail_pharmacy',
    'pharma_company', 'consumables_company', 'distribution_company', 'other')),
  legal_rep_name_enc text not null,
  status text not null default 'active' check (status in ('active', 'disabled')),
  -- staff id that accepted a pilot code failing the GB 32100 check
  uscc_override_by text,
  created_by text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (region_code, id),
  unique (region_code, uscc)
);
create index unit_name_trgm on unit using gin (name gin_trgm_ops);

create table agent (
  region_code char(6) not null,
  unit_id uuid not null,
  person_id uuid not null,
  role text not null check (role in ('admin', 'handler', 'viewer')),
  expires_at timestamptz,
  granted_by text not null,
  granted_at timestamptz not null default now(),
  primary key (region_code, unit_id, person_id),
  foreign key (region_code, unit_id) references unit (region_code, id),
  foreign key (region_code, person_id) references person_account (region_code, id)
);
create index agent_person on agent (region_code, person_id);

-- Staff: region_code is the home region; roles are granted per region in staff_role_grant.
-- Usernames are unique across regions (enforced by the service under an advisory lock).
create table staff_account (
  region_code char(6) not null,
  id uuid not null default gen_random_uuid(),
  username text not null,
  display_name text not null,
  password_hash text not null,
  status text not null default 'active' check (status in ('active', 'disabled')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (region_code, id)
);
create unique index staff_account_username on staff_account (region_code, lower(username));
create index staff_account_username_any on staff_account (lower(username));
create index staff_account_id on staff_account (id);

-- Reference tables (province-wide catalogues): permissions declared by the centers, roles grouping them.
create table permission_catalog (
  code text primary key check (code ~ '^(\*|[a-z][a-z0-9_-]*:[a-z][a-z0-9_.-]*)$'),
  name text not null,
  center text not null,
  updated_at timestamptz not null default now()
);

create table role_catalog (
  code text primary key check (code ~ '^[a-z][a-z0-9_-]{1,39}$'),
  name text not null,
  permissions text[] not null default '{}',
  builtin boolean not null default false,
  updated_at timestamptz not null default now()
);

create table staff_role_grant (
  region_code char(6) not null,
  staff_id uuid not null,
  role_code text not null references role_catalog (code),
  granted_by text not null,
  granted_at timestamptz not null default now(),
  primary key (region_code, staff_id, role_code)
);
create index staff_role_grant_staff on staff_role_grant (staff_id);
