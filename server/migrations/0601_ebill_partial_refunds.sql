-- A refund (whole or partial) gives its own red bill: red bills are keyed by the payment center's refund id.
alter table ebill_bill add column refund_id text not null default '';
alter table ebill_bill add column refunded_total bigint not null default 0;
alter table ebill_bill drop constraint ebill_bill_region_code_order_id_kind_key;
alter table ebill_bill add constraint ebill_bill_order_kind_refund unique (region_code, order_id, kind, refund_id);
alter table ebill_bill drop constraint ebill_bill_status_check;
alter table ebill_bill add constraint ebill_bill_status_check
  check (status in ('valid', 'partially_reversed', 'reversed'));
