import { useMemo } from 'react';
import { chartFrame, EChart } from '../../components/EChart';
import { INSURANCE_NAMES, type Policy } from './types';

/** General-outpatient reimbursement ratio by hospital level, one series per insurance type × age band. */
export function RatioChart({ policy }: { policy: Policy }) {
  const option = useMemo(() => {
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
    return {
      ...chartFrame(),
      tooltip: { trigger: 'axis', valueFormatter: (v: number) => `${v}%` },
      xAxis: { type: 'category', data: ['一级医院', '二级医院', '三级医院'] },
      yAxis: { type: 'value', name: '报销比例 %', max: 100 },
      series,
    };
  }, [policy]);
  return <EChart option={option} height={300} label="门诊报销比例按医院等级对比图" />;
}
