-- Fixed-window request counters shared by every app process (platform/rate-limit.ts). Rows older than a few
-- windows are deleted by the limiter itself.
create table rate_limit_window (
  region_code char(6) not null,
  bucket text not null,
  key text not null,
  window_start timestamptz not null,
  hits int not null,
  primary key (region_code, bucket, key, window_start)
);
create index rate_limit_window_start on rate_limit_window (window_start);
