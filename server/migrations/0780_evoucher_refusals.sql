-- 核验被拒: online verifications refused, per China-time day, reason and institution (用码统计 charts them): a rise of
-- replays is codes shown twice, of bad signatures forged codes, of unknown keys a key retired too early.
create table evoucher_refusal (
  region_code char(6) not null,
  day date not null,
  code text not null,
  institution_code text not null,
  count int not null default 0,
  last_at timestamptz not null default now(),
  primary key (region_code, day, code, institution_code)
);
