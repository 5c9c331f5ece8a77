import { BarChart, LineChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import { useEffect, useRef } from 'react';

echarts.use([BarChart, LineChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer]);

export interface UsageRow {
  app_id: string;
  name: string;
  day: string;
  calls: number;
  refused: number;
}

/** Daily bill-API calls per channel (stacked bars) and refusals over quota (line). */
export function UsageChart({ rows, days }: { rows: UsageRow[]; days: number }) {
  const el = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!el.current) return;
    const chart = echarts.init(el.current);
    const today = new Date();
    const labels = Array.from({ length: days }, (_, i) => {
      const d = new Date(today);
      d.setDate(d.getDate() - (days - 1 - i));
      return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
    });
    const channels = [...new Map(rows.map((r) => [r.app_id, r.name])).entries()];
    const value = (appId: string, day: string, k: 'calls' | 'refused') =>
      rows.filter((r) => r.app_id === appId && r.day === day).reduce((s, r) => s + r[k], 0);
    chart.setOption({
      tooltip: { trigger: 'axis' },
      legend: { type: 'scroll', bottom: 0 },
      grid: { left: 48, right: 16, top: 24, bottom: 56 },
      xAxis: { type: 'category', data: labels.map((l) => l.slice(5)) },
      yAxis: { type: 'value', name: '调用次数', minInterval: 1 },
      series: [
        ...channels.map(([appId, name]) => ({
          name,
          type: 'bar',
          stack: 'calls',
          data: labels.map((d) => value(appId, d, 'calls')),
        })),
        {
          name: '超配额拒绝',
          type: 'line',
          itemStyle: { color: '#cf1322' },
          data: labels.map((d) => rows.filter((r) => r.day === d).reduce((s, r) => s + r.refused, 0)),
        },
      ],
    });
    const onResize = () => chart.resize();
    window.addEventListener('resize', onResize);
    return () => {
      window.removeEventListener('resize', onResize);
      chart.dispose();
    };
  }, [rows, days]);
  return <div ref={el} style={{ width: '100%', height: 320 }} role="img" aria-label="各渠道每日调用量图表" />;
}
