-- Institution workstation (医药机构工作台): each designated institution's channel credentials (the relay signs with
-- them exactly as the institution's own HIS would), which staff work for which institution, and the orders the
-- workstation started (with the pay token it needs for 6202/6203/6401).
create table institution_channel (
  region_code char(6) not null,
  institution_code text not null,
  app_id text not null,
  app_secret_enc text not null,
  private_key_enc text not null,
  created_at timestamptz not null default now(),
  primary key (region_code, institution_code)
);
create table institution_staff (
  region_code char(6) not null,
  staff_id text not null,
  institution_code text not null,
  created_at timestamptz not null default now(),
  primary key (region_code, staff_id)
);
create table institution_order (
  region_code char(6) not null,
  id text not null,
  institution_code text not null,
  org_biz_ser text not null,
  pay_token_enc text not null,
  person_name text not null,
  total bigint not null,
  status text not null,
  created_by text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (region_code, id),
  unique (region_code, institution_code, org_biz_ser)
);
create index institution_order_recent on institution_order (region_code, institution_code, created_at desc);
