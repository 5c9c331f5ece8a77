-- Single use of authorization codes and refresh tokens under concurrency: the statement that marks one consumed (and
-- writes the tokens issued for it) fails whole when a concurrent request consumed it first (SQLSTATE YB001).
create or replace function oidc_assert_single_use(consumed bigint, expected int) returns int
language plpgsql as $$
begin
  if consumed < expected then
    raise exception 'oidc payload already consumed' using errcode = 'YB001';
  end if;
  return 1;
end
$$;
