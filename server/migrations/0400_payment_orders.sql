-- Mobile payment center (移动支付中心): orders with every state transition, refunds per leg, provider notifications,
-- and reconciliation (对账). Money in integer fen. region_code leads every primary key and unique constraint.

create table payment_order (
  region_code char(6) not null,
  id text not null,
  pay_token text not null,
  app_id text not null,
  institution_code text not null,
  institution_order_no text not null,
  person_no text not null,
  resident_index text not null,
  person_id text,
  visit_id text,
  medical_type text not null,
  lines jsonb not null,
  total bigint not null check (total > 0),
  use_account boolean not null default true,
  fund_payment bigint,
  account_payment bigint,
  cash_payment bigint,
  account_balance_after bigint,
  split jsonb,
  status text not null check (status in ('created', 'pre_settled', 'awaiting_payment', 'cash_paid',
    'insurance_settled', 'completed', 'cancelled', 'refunding', 'partially_refunded', 'refunded', 'failed', 'abnormal')),
  version int not null default 0,
  settle_request_id text not null,
  settlement_id text,
  provider text,
  prepay_id text,
  cashier_url text,
  provider_txn_id text,
  provider_seq int not null default 0,
  cash_paid_at timestamptz,
  pay_expires_at timestamptz,
  settled_at timestamptz,
  refunded_fund bigint not null default 0,
  refunded_account bigint not null default 0,
  refunded_cash bigint not null default 0,
  failure_code text,
  failure_reason text,
  recovery_attempts int not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (region_code, id),
  unique (region_code, app_id, institution_order_no),
  check (fund_payment is null or fund_payment + account_payment + cash_payment = total),
  check (refunded_fund <= coalesce(fund_payment, 0) and refunded_account <= coalesce(account_payment, 0)
    and refunded_cash <= coalesce(cash_payment, 0))
);
create index payment_order_person on payment_order(region_code, resident_index, created_at desc);
create index payment_order_open on payment_order(region_code, status, updated_at)
  where status in ('created', 'pre_settled', 'awaiting_payment', 'cash_paid', 'insurance_settled', 'refunding');
create index payment_order_day on payment_order(region_code, created_at);

create table payment_order_transition (
  region_code char(6) not null,
  order_id text not null,
  seq int not null,
  from_status text,
  to_status text not null,
  reason text not null,
  actor text not null,
  detail jsonb not null default '{}',
  at timestamptz not null default now(),
  primary key (region_code, order_id, seq)
);

create table payment_refund (
  region_code char(6) not null,
  id text not null,
  order_id text not null,
  kind text not null check (kind in ('full', 'partial', 'compensation', 'late_payment')),
  app_refund_sn text not null,
  reason text not null,
  requested_by text not null,
  status text not null check (status in ('pending', 'succeeded', 'failed')),
  fund_amount bigint not null default 0,
  account_amount bigint not null default 0,
  cash_amount bigint not null default 0,
  insurance_status text not null check (insurance_status in ('none', 'pending', 'succeeded', 'failed')),
  cash_status text not null check (cash_status in ('none', 'pending', 'succeeded', 'failed')),
  provider_refund_id text,
  attempts int not null default 0,
  last_error text,
  created_at timestamptz not null default now(),
  finished_at timestamptz,
  primary key (region_code, id),
  unique (region_code, order_id, app_refund_sn)
);
create index payment_refund_open on payment_refund(region_code, status) where status = 'pending';

create table payment_provider_notification (
  region_code char(6) not null,
  id text not null,
  order_id text not null,
  event_type text not null,
  seq int not null,
  payload jsonb not null,
  effect text not null,
  received_at timestamptz not null default now(),
  primary key (region_code, id)
);

create table payment_reconciliation_run (
  region_code char(6) not null,
  business_date date not null,
  ran_at timestamptz not null default now(),
  totals jsonb not null,
  mismatch_count int not null,
  primary key (region_code, business_date)
);

create table payment_reconciliation_item (
  region_code char(6) not null,
  business_date date not null,
  order_id text not null,
  kind text not null check (kind in ('missing_in_platform', 'missing_in_core', 'missing_in_provider',
    'amount_differs', 'status_differs')),
  detail jsonb not null,
  status text not null default 'open' check (status in ('open', 'resolved')),
  resolution text,
  resolved_by text,
  resolved_at timestamptz,
  primary key (region_code, business_date, order_id, kind)
);
