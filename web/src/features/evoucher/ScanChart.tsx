import { BarChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import { useEffect, useRef } from 'react';

echarts.use([BarChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer]);

export interface ScanRow {
  day: string;
  businessType: string;
  businessTypeName: string;
  count: number;
}

/** Daily scans, stacked by business type (用码业务类型). */
export function ScanChart({ rows, days }: { rows: ScanRow[]; days: number }) {
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
    const types = [...new Map(rows.map((r) => [r.businessType, r.businessTypeName])).entries()].sort();
    chart.setOption({
      tooltip: { trigger: 'axis' },
      legend: { type: 'scroll', bottom: 0 },
      grid: { left: 48, right: 16, top: 24, bottom: 56 },
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
    });
    const onResize = () => chart.resize();
    window.addEventListener('resize', onResize);
    return () => {
      window.removeEventListener('resize', onResize);
      chart.dispose();
    };
  }, [rows, days]);
  return <div ref={el} style={{ width: '100%', height: 340 }} role="img" aria-label="每日用码量（按业务类型）图表" />;
}
