-- Digital-certificate login: CAs trusted per region, with their current CRL.
create table auth_trusted_ca (
  region_code char(6) not null,
  id text not null,
  name text not null,
  cert_pem text not null,
  crl_pem text,
  crl_updated_at timestamptz,
  created_at timestamptz not null default now(),
  primary key (region_code, id)
);
