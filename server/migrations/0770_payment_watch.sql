-- The operator's gauges (/metrics) and the console's 异常 filter count abnormal orders and open differences.
create index payment_order_abnormal on payment_order (region_code, updated_at) where status = 'abnormal';
create index payment_reconciliation_open on payment_reconciliation_item (region_code, business_date)
  where status = 'open';
