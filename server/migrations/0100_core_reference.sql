-- Reference core zone (核心区示范实现): its own tables; nothing outside server/src/integration/core-zone touches them.
-- region_code is part of every primary key and unique constraint.

create table core_policy (
  region_code char(6) not null,
  version text not null,
  effective_from date not null,
  document jsonb not null,
  created_at timestamptz not null default now(),
  primary key (region_code, version),
  unique (region_code, effective_from)
);

create table core_unit (
  region_code char(6) not null,
  unit_no text not null,
  uscc char(18) not null,
  name text not null,
  address text,
  request_id text,
  registered_at timestamptz not null default now(),
  primary key (region_code, unit_no),
  unique (region_code, uscc)
);

create table core_person (
  region_code char(6) not null,
  person_no text not null,
  resident_id_idx text not null,
  resident_id_enc text not null,
  name_enc text not null,
  sex char(1) not null check (sex in ('1', '2')),
  birth_date date not null,
  person_type text not null check (person_type in ('employee', 'retiree', 'flexible', 'resident', 'student')),
  created_at timestamptz not null default now(),
  primary key (region_code, person_no),
  unique (region_code, resident_id_idx)
);

-- One row per person × insurance type; employees carry their unit and monthly contribution base.
create table core_insurance (
  region_code char(6) not null,
  person_no text not null,
  insurance_type char(3) not null check (insurance_type in ('310', '390')),
  status text not null check (status in ('active', 'paused', 'terminated')),
  start_date date not null,
  pause_date date,
  unit_no text,
  base bigint not null default 0 check (base >= 0),
  primary key (region_code, person_no, insurance_type)
);
create index core_insurance_unit on core_insurance (region_code, unit_no) where unit_no is not null;

create table core_enrolment (
  region_code char(6) not null,
  enrolment_no text not null,
  request_id text not null,
  kind text not null check (kind in ('flexible', 'resident', 'suspension')),
  state text not null check (state in ('submitted', 'approved', 'rejected')),
  person_no text,
  input jsonb not null,
  submitted_at timestamptz not null default now(),
  decided_at timestamptz,
  note text,
  primary key (region_code, enrolment_no),
  unique (region_code, request_id)
);

create table core_enrolment_event (
  region_code char(6) not null,
  enrolment_no text not null,
  seq int not null,
  state text not null,
  at timestamptz not null default now(),
  note text,
  primary key (region_code, enrolment_no, seq)
);

create table core_contribution (
  region_code char(6) not null,
  person_no text not null,
  insurance_type char(3) not null,
  period char(7) not null,
  base bigint not null check (base >= 0),
  unit_part bigint not null check (unit_part >= 0),
  personal_part bigint not null check (personal_part >= 0),
  account_credit bigint not null check (account_credit >= 0),
  unit_no text,
  paid_at timestamptz not null default now(),
  primary key (region_code, person_no, insurance_type, period)
);

-- Personal accounts: `balance` is a running total kept for locking and fast reads; the truth is the ledger
-- (core_ledger_entry), and the core.ledger-check job proves sum(entries) = balance for every account.
create table core_account (
  region_code char(6) not null,
  person_no text not null,
  balance bigint not null check (balance >= 0),
  opened_at timestamptz not null default now(),
  primary key (region_code, person_no)
);

-- Double-entry ledger: every posting (txn_id) has entries summing to zero. `account` is 'P:<person_no>' for a
-- personal account or 'S:<name>' for a system account (contribution income, settlement clearing, opening).
create table core_ledger_entry (
  region_code char(6) not null,
  entry_id bigint generated always as identity,
  txn_id text not null,
  account text not null,
  amount bigint not null,
  kind text not null,
  reference text,
  memo text not null default '',
  at timestamptz not null default now(),
  primary key (region_code, entry_id)
);
create index core_ledger_entry_account on core_ledger_entry (region_code, account, entry_id);
create index core_ledger_entry_txn on core_ledger_entry (region_code, txn_id);

create table core_mutual_aid (
  region_code char(6) not null,
  payer_person_no text not null,
  beneficiary_person_no text not null,
  authorised_at timestamptz not null default now(),
  revoked_at timestamptz,
  primary key (region_code, payer_person_no, beneficiary_person_no)
);

create table core_institution (
  region_code char(6) not null,
  code char(12) not null check (code ~ '^[HP][0-9]{11}$'),
  kind text not null check (kind in ('hospital', 'pharmacy')),
  name text not null,
  level smallint not null check (level between 1 and 3),
  primary key (region_code, code)
);

create table core_catalogue (
  region_code char(6) not null,
  code text not null,
  category text not null check (category in ('western_drug', 'patent_drug', 'service', 'consumable')),
  name text not null,
  spec text,
  unit text not null,
  item_class char(1) not null check (item_class in ('A', 'B', 'C')),
  self_pay_ratio_bp int check (self_pay_ratio_bp between 0 and 10000),
  price_cap bigint check (price_cap >= 0),
  primary key (region_code, code)
);

create table core_visit (
  region_code char(6) not null,
  visit_id text not null,
  request_id text not null,
  person_no text not null,
  institution_code char(12) not null,
  institution_level smallint not null,
  insurance_type char(3) not null,
  medical_type char(2) not null,
  begin_at timestamptz not null,
  diagnosis_code text,
  state text not null check (state in ('open', 'cancelled', 'settled')),
  fees_version int not null default 0,
  presettled_version int,
  primary key (region_code, visit_id),
  unique (region_code, request_id)
);

create table core_fee_line (
  region_code char(6) not null,
  visit_id text not null,
  line_no text not null,
  code text not null,
  name text not null,
  item_class char(1) not null,
  quantity int not null check (quantity > 0),
  unit_price bigint not null check (unit_price >= 0),
  self_pay_ratio_bp int,
  price_cap bigint,
  primary key (region_code, visit_id, line_no)
);

create table core_settlement (
  region_code char(6) not null,
  settlement_id text not null,
  request_id text not null,
  visit_id text not null,
  person_no text not null,
  institution_code char(12) not null,
  policy_version text not null,
  total bigint not null,
  fund_payment bigint not null,
  account_payment bigint not null,
  mutual_aid_payment bigint not null,
  cash_payment bigint not null,
  mutual_aid_payer text,
  accumulator_year int not null,
  split jsonb not null,
  state text not null check (state in ('settled', 'reversed')),
  settled_at timestamptz not null default now(),
  reversed_at timestamptz,
  reversal_request_id text,
  check (fund_payment + account_payment + cash_payment = total),
  primary key (region_code, settlement_id),
  unique (region_code, request_id),
  unique (region_code, visit_id)
);

create table core_accumulator (
  region_code char(6) not null,
  person_no text not null,
  year int not null,
  insurance_type char(3) not null,
  grp text not null,
  deductible_paid bigint not null default 0 check (deductible_paid >= 0),
  fund_paid bigint not null default 0 check (fund_paid >= 0),
  primary key (region_code, person_no, year, insurance_type, grp)
);

create sequence core_serial;
