import { useMemo } from 'react';
import { chartFrame, EChart, lastDays } from '../../components/EChart';
import { CHANNEL_LABELS, CHANNEL_LIST, type Channel } from './api';

export interface StatRow {
  day: string;
  channel: Channel;
  total: number;
  failed: number;
  sent: number;
  failureRate: number;
}

/** Daily deliveries per channel (stacked bars) and each channel's failure rate (lines, right axis). */
export function VolumeChart({ rows, days }: { rows: StatRow[]; days: number }) {
  const option = useMemo(() => {
    const labels = lastDays(days);
    const cell = (c: Channel, day: string) => rows.find((r) => r.channel === c && r.day === day);
    return {
      ...chartFrame(48),
      xAxis: { type: 'category', data: labels.map((l) => l.slice(5)) },
      yAxis: [
        { type: 'value', name: '条数', minInterval: 1 },
        { type: 'value', name: '失败率', min: 0, max: 100, axisLabel: { formatter: '{value}%' } },
      ],
      series: [
        ...CHANNEL_LIST.map((c) => ({
          name: `${CHANNEL_LABELS[c]}发送量`,
          type: 'bar',
          stack: 'total',
          data: labels.map((d) => cell(c, d)?.total ?? 0),
        })),
        ...CHANNEL_LIST.map((c) => ({
          name: `${CHANNEL_LABELS[c]}失败率`,
          type: 'line',
          yAxisIndex: 1,
          connectNulls: true,
          tooltip: { valueFormatter: (v: number | null) => (v === null ? '—' : `${v}%`) },
          data: labels.map((d) => {
            const r = cell(c, d);
            return r ? Math.round(r.failureRate * 1000) / 10 : null;
          }),
        })),
      ],
    };
  }, [rows, days]);
  return <EChart option={option} height={340} label="各渠道每日发送量与失败率图表" />;
}
