import { BarChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import { useEffect, useRef } from 'react';
import { INSURANCE_NAMES, type Policy } from './types';

echarts.use([BarChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer]);

/** General-outpatient reimbursement ratio by hospital level, one series per insurance type × age band. */
export function RatioChart({ policy }: { policy: Policy }) {
  const el = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!el.current) return;
    const chart = echarts.init(el.current);
    const series = [];
    for (const type of ['310', '390']) {
      for (const band of policy.ageBands) {
        const data = [1, 2, 3].map((level) => {
          const rule = policy.rules.find(
            (r) =>
              r.insuranceType === type &&
              r.medicalType === '11' &&
              r.institutionLevels.includes(level) &&
              r.ageBands.includes(band.code),
          );
          return rule ? rule.reimbursementRatioBp / 100 : null;
        });
        if (data.some((d) => d !== null)) {
          series.push({ name: `${INSURANCE_NAMES[type]} · ${band.minAge}–${band.maxAge}岁`, type: 'bar', data });
        }
      }
    }
    chart.setOption({
      tooltip: { trigger: 'axis', valueFormatter: (v: number) => `${v}%` },
      legend: { type: 'scroll', bottom: 0 },
      grid: { left: 48, right: 16, top: 24, bottom: 56 },
      xAxis: { type: 'category', data: ['一级医院', '二级医院', '三级医院'] },
      yAxis: { type: 'value', name: '报销比例 %', max: 100 },
      series,
    });
    const onResize = () => chart.resize();
    window.addEventListener('resize', onResize);
    return () => {
      window.removeEventListener('resize', onResize);
      chart.dispose();
    };
  }, [policy]);
  return <div ref={el} style={{ width: '100%', height: 300 }} role="img" aria-label="门诊报销比例按医院等级对比图" />;
}
