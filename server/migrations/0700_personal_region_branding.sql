-- Personal hall: the demo regions' branding meets WCAG AA (white text on the brand colour ≥ 4.5:1), and the two demo
-- regions differ in what a person sees: slogan, hotline, enabled services (北原市 has no unit hall online).
update region_config set brand_color = '#0958d9',
  settings = settings || '{"slogan":"东湖医保 · 掌上办、一次办","hotline":"12393","themeName":"湖蓝"}'::jsonb,
  version = version + 1, updated_at = now()
where region_code = '990100';
update region_config set brand_color = '#ad1a70',
  enabled_services = '["evoucher","payment","ebill","message","personal"]'::jsonb,
  settings = settings || '{"slogan":"北原医保 · 就近办、马上办","hotline":"0471-12393","themeName":"玫红"}'::jsonb,
  version = version + 1, updated_at = now()
where region_code = '980100';
update region_config set brand_color = '#006d75', version = version + 1, updated_at = now()
where region_code = '990200';
