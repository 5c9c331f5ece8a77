import { Space, Tag, Typography } from 'antd';
import { useMemo } from 'react';
import { chartFrame, EChart, lastDays } from '../../components/EChart';

export interface ScanRow {
  day: string;
  businessType: string;
  businessTypeName: string;
  count: number;
}

/** ECharts' default palette, given out by business type so that a type keeps its colour whatever the period holds. */
const PALETTE = ['#5470c6', '#91cc75', '#fac858', '#ee6666', '#73c0de', '#3ba272', '#fc8452', '#9a60b4', '#ea7ccc'];
/** 用码业务类型 in code order: 挂号, 结算, 取药, 药店购药, 线上身份核验 (a new code takes a colour after them). */
const KNOWN_TYPES = ['01101', '01301', '01302', '02121', '03131'];
const colourOf = (code: string) => {
  const known = KNOWN_TYPES.indexOf(code);
  return PALETTE[(known >= 0 ? known : KNOWN_TYPES.length + Number.parseInt(code, 10)) % PALETTE.length];
};

/** Daily scans, stacked by business type (用码业务类型), with the period's totals in words under it. */
export function ScanChart({ rows, days }: { rows: ScanRow[]; days: number }) {
  const option = useMemo(() => {
    const labels = lastDays(days);
    const types = [...new Map(rows.map((r) => [r.businessType, r.businessTypeName])).entries()].sort();
    return {
      ...chartFrame(),
      xAxis: { type: 'category', data: labels.map((l) => l.slice(5)) },
      yAxis: { type: 'value', name: '用码次数', minInterval: 1 },
      series: types.map(([code, name]) => ({
        name: `${code} ${name}`,
        type: 'bar',
        stack: 'scans',
        itemStyle: { color: colourOf(code) },
        data: labels.map((d) =>
          rows.filter((r) => r.day === d && r.businessType === code).reduce((s, r) => s + r.count, 0),
        ),
      })),
    };
  }, [rows, days]);
  return (
    <>
      <EChart option={option} height={340} label="每日用码量（按业务类型）图表" />
      <ScanTotals rows={rows} days={days} />
    </>
  );
}

/** The period's total and each business type's share, for reading off exact numbers (and for screen readers). */
function ScanTotals({ rows, days }: { rows: ScanRow[]; days: number }) {
  const byType = new Map<string, number>();
  for (const r of [...rows].sort((a, b) => a.businessType.localeCompare(b.businessType)))
    byType.set(r.businessTypeName, (byType.get(r.businessTypeName) ?? 0) + r.count);
  const total = rows.reduce((s, r) => s + r.count, 0);
  return (
    <Space wrap style={{ marginTop: 12 }} data-testid="scan-totals">
      <Typography.Text strong>
        近 {days} 天共 {total} 次
      </Typography.Text>
      {[...byType].map(([name, n]) => (
        <Tag key={name}>
          {name} {n} 次
        </Tag>
      ))}
    </Space>
  );
}
