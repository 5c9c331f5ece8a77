import { BarChart, LineChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import { useEffect, useRef } from 'react';
import { CHANNEL_LABELS, CHANNEL_LIST, type Channel } from './api';

echarts.use([BarChart, LineChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer]);

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
  const el = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!el.current) return;
    const chart = echarts.init(el.current);
    const labels = Array.from({ length: days }, (_, i) => {
      const d = new Date(Date.now() + 8 * 3600_000 - (days - 1 - i) * 86400_000);
      return d.toISOString().slice(0, 10);
    });
    const cell = (c: Channel, day: string) => rows.find((r) => r.channel === c && r.day === day);
    chart.setOption({
      tooltip: { trigger: 'axis' },
      legend: { type: 'scroll', bottom: 0 },
      grid: { left: 48, right: 48, top: 32, bottom: 56 },
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
    });
    const onResize = () => chart.resize();
    window.addEventListener('resize', onResize);
    return () => {
      window.removeEventListener('resize', onResize);
      chart.dispose();
    };
  }, [rows, days]);
  return <div ref={el} style={{ width: '100%', height: 340 }} role="img" aria-label="各渠道每日发送量与失败率图表" />;
}
