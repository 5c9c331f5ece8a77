import { useMemo } from 'react';
import { chartFrame, EChart, lastDays } from '../../components/EChart';

export interface UsageRow {
  app_id: string;
  name: string;
  day: string;
  calls: number;
  refused: number;
}

/** Daily bill-API calls per channel (stacked bars) and refusals over quota (line). */
export function UsageChart({ rows, days }: { rows: UsageRow[]; days: number }) {
  const option = useMemo(() => {
    const labels = lastDays(days);
    const channels = [...new Map(rows.map((r) => [r.app_id, r.name])).entries()];
    const sum = (day: string, k: 'calls' | 'refused', appId?: string) =>
      rows.filter((r) => r.day === day && (!appId || r.app_id === appId)).reduce((s, r) => s + r[k], 0);
    return {
      ...chartFrame(),
      xAxis: { type: 'category', data: labels.map((l) => l.slice(5)) },
      yAxis: { type: 'value', name: '调用次数', minInterval: 1 },
      series: [
        ...channels.map(([appId, name]) => ({
          name,
          type: 'bar',
          stack: 'calls',
          data: labels.map((d) => sum(d, 'calls', appId)),
        })),
        {
          name: '超配额拒绝',
          type: 'line',
          itemStyle: { color: '#cf1322' },
          data: labels.map((d) => sum(d, 'refused')),
        },
      ],
    };
  }, [rows, days]);
  return <EChart option={option} height={320} label="各渠道每日调用量图表" />;
}
