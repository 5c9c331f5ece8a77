// Prints the configuration reference (markdown) from the Zod schema; `--write` updates README.md between markers.
import { readFileSync, writeFileSync } from 'node:fs';
import { configSchema } from '../src/platform/config.ts';

export function configTable(): string {
  const rows = Object.entries(configSchema.shape).map(([name, schema]) => {
    const parsed = configSchema.shape[name as keyof typeof configSchema.shape].safeParse(undefined);
    const fallback = parsed.success && parsed.data !== undefined ? `\`${String(parsed.data)}\`` : '(unset)';
    const description = (schema as { description?: string }).description ?? '';
    return `| \`${name}\` | ${fallback.length > 40 ? `${fallback.slice(0, 37)}…\`` : fallback} | ${description} |`;
  });
  return ['| variable | default | meaning |', '|---|---|---|', ...rows].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const table = configTable();
  if (process.argv.includes('--write')) {
    const path = new URL('../../README.md', import.meta.url).pathname;
    const readme = readFileSync(path, 'utf8');
    writeFileSync(
      path,
      readme.replace(
        /<!-- config-table:start -->[\s\S]*<!-- config-table:end -->/,
        `<!-- config-table:start -->\n${table}\n<!-- config-table:end -->`,
      ),
    );
  } else {
    console.log(table);
  }
}
