import { useMemo } from 'react';
import { chartFrame, EChart, lastDays } from '../../components/EChart';

export interface ScanRow {
  day: string;
  businessType: string;
  businessTypeName: string;
  count: number;
}

/** Daily scans, stacked by business type (用码业务类型). */
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
        data: labels.map((d) =>
          rows.filter((r) => r.day === d && r.businessType === code).reduce((s, r) => s + r.count, 0),
        ),
      })),
    };
  }, [rows, days]);
  return <EChart option={option} height={340} label="每日用码量（按业务类型）图表" />;
}
