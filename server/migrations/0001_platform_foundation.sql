-- Platform foundation: regions, per-region configuration, audit chain, idempotency, durable jobs.
create extension if not exists pg_trgm;

-- Reference table (not distributed): GB/T 2260 codes of the provinces plus two synthetic demo provinces (99, 98).
create table region (
  code char(6) primary key check (code ~ '^[0-9]{6}$'),
  name text not null,
  parent_code char(6) references region(code),
  level smallint not null check (level between 1 and 3),
  demo boolean not null default false
);
insert into region(code, name, parent_code, level, demo) values
('110000','北京市',NULL,1,false),
('120000','天津市',NULL,1,false),
('130000','河北省',NULL,1,false),
('140000','山西省',NULL,1,false),
('150000','内蒙古自治区',NULL,1,false),
('210000','辽宁省',NULL,1,false),
('220000','吉林省',NULL,1,false),
('230000','黑龙江省',NULL,1,false),
('310000','上海市',NULL,1,false),
('320000','江苏省',NULL,1,false),
('330000','浙江省',NULL,1,false),
('340000','安徽省',NULL,1,false),
('350000','福建省',NULL,1,false),
('360000','江西省',NULL,1,false),
('370000','山东省',NULL,1,false),
('410000','河南省',NULL,1,false),
('420000','湖北省',NULL,1,false),
('430000','湖南省',NULL,1,false),
('440000','广东省',NULL,1,false),
('450000','广西壮族自治区',NULL,1,false),
('460000','海南省',NULL,1,false),
('500000','重庆市',NULL,1,false),
('510000','四川省',NULL,1,false),
('520000','贵州省',NULL,1,false),
('530000','云南省',NULL,1,false),
('540000','西藏自治区',NULL,1,false),
('610000','陕西省',NULL,1,false),
('620000','甘肃省',NULL,1,false),
('630000','青海省',NULL,1,false),
('640000','宁夏回族自治区',NULL,1,false),
('650000','新疆维吾尔自治区',NULL,1,false),
('990000','示范省',NULL,1,true),
('990100','示范省·东湖市','990000',2,true),
('990200','示范省·西山市','990000',2,true),
('990300','示范省·南港市','990000',2,true),
('980000','样例省',NULL,1,true),
('980100','样例省·北原市','980000',2,true),
('980200','样例省·青川市','980000',2,true);

create table region_config (
  region_code char(6) primary key references region(code),
  display_name text not null,
  brand_color text not null default '#1677ff' check (brand_color ~ '^#[0-9a-fA-F]{6}$'),
  logo_url text,
  enabled_services jsonb not null default '[]',
  settings jsonb not null default '{}',
  version int not null default 1,
  updated_at timestamptz not null default now()
);
insert into region_config(region_code, display_name, brand_color, enabled_services) values
('990100', '东湖市医疗保障局', '#1677ff', '["evoucher","payment","ebill","message","personal","unit"]'),
('990200', '西山市医疗保障局', '#13a8a8', '["evoucher","payment","ebill","message","personal"]'),
('980100', '北原市医疗保障局', '#c41d7f', '["evoucher","payment","ebill","message","personal","unit"]');

-- Tamper-evident audit log: one hash chain per region (so the table can be distributed by region_code).
create table audit_event (
  region_code char(6) not null,
  seq bigint not null,
  id uuid not null default gen_random_uuid(),
  at timestamptz not null default now(),
  actor_kind text not null,
  actor_id text not null,
  actor_role text,
  action text not null,
  target_type text,
  target_id text,
  purpose text,
  ip text,
  user_agent text,
  result text not null check (result in ('success', 'failure', 'denied')),
  detail jsonb not null default '{}',
  prev_hash char(64) not null,
  hash char(64) not null,
  primary key (region_code, seq)
);
create index audit_event_target on audit_event(region_code, target_type, target_id);
create index audit_event_actor on audit_event(region_code, actor_id, at desc);
create table audit_head (
  region_code char(6) primary key,
  seq bigint not null,
  hash char(64) not null
);
create function audit_event_append_only() returns trigger language plpgsql as $$
begin
  raise exception 'audit_event is append-only';
end $$;
create trigger audit_event_no_update before update or delete on audit_event
  for each row execute function audit_event_append_only();

create table idempotency_record (
  region_code char(6) not null,
  scope text not null,
  key text not null,
  request_hash char(64) not null,
  state text not null check (state in ('pending', 'done')),
  response_status int,
  response_body jsonb,
  created_at timestamptz not null default now(),
  primary key (region_code, scope, key)
);
create index idempotency_record_created on idempotency_record(created_at);

-- Durable job queue (platform infrastructure, not business data; workers claim with FOR UPDATE SKIP LOCKED).
create table job (
  id bigint generated always as identity primary key,
  queue text not null,
  region_code char(6),
  payload jsonb not null default '{}',
  state text not null default 'queued' check (state in ('queued', 'running', 'done', 'dead')),
  attempts int not null default 0,
  max_attempts int not null default 5,
  run_at timestamptz not null default now(),
  locked_until timestamptz,
  last_error text,
  dedupe_key text,
  created_at timestamptz not null default now(),
  finished_at timestamptz
);
create index job_ready on job(queue, run_at) where state = 'queued';
create index job_running on job(locked_until) where state = 'running';
create unique index job_dedupe on job(queue, dedupe_key) where dedupe_key is not null;

-- Token signing keys (reference table): ES256 keys for access tokens and the OIDC provider; private part encrypted.
create table signing_key (
  kid text primary key,
  alg text not null,
  public_jwk jsonb not null,
  private_jwk_enc text not null,
  created_at timestamptz not null default now(),
  retired_at timestamptz
);
