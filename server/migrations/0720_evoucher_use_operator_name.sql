-- What the institution calls whoever scanned (收费员 王芳, 门诊收费 5 号窗): the person reads it in 用码记录 and on the
-- code screen; operator keeps the institution's own operator id.
alter table evoucher_use add column operator_name text;
