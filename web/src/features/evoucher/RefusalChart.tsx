import { Table, Typography } from 'antd';
import { useMemo } from 'react';
import { chartFrame, EChart, lastDays } from '../../components/EChart';

export interface Refusals {
  daily: Array<{ day: string; code: string; count: number }>;
  institutions: Array<{ code: string; name: string | null; count: number }>;
}

/** Why institutions' scans were refused, in the words a clerk would use, each in its own colour (not a scan type's). */
const REFUSALS: Record<string, [label: string, colour: string]> = {
  EVOUCHER_TOKEN_REPLAYED: ['重复扫码（码已使用）', '#fa8c16'],
  EVOUCHER_TOKEN_EXPIRED: ['码已过期', '#8c8c8c'],
  EVOUCHER_CLOCK_SKEW: ['扫码设备时间偏差过大', '#faad14'],
  EVOUCHER_SUSPENDED: ['凭证已挂失', '#722ed1'],
  EVOUCHER_REGION_MISMATCH: ['非本统筹区的码', '#13c2c2'],
  EVOUCHER_TOKEN_SIGNATURE_INVALID: ['签名无效（伪造或篡改）', '#cf1322'],
  EVOUCHER_TOKEN_UNKNOWN_KEY: ['签名密钥未知', '#eb2f96'],
  EVOUCHER_TOKEN_MALFORMED: ['码格式错误', '#595959'],
  EVOUCHER_VOUCHER_NOT_FOUND: ['凭证不存在', '#2f54eb'],
};

/**
 * 核验被拒: refused scans per day by reason. Replays rising: codes shown twice (screenshots passed around, or a
 * scanner resubmitting); bad signatures: forged codes; unknown keys: a key retired while its codes were on phones.
 */
export function RefusalChart({ data, days }: { data: Refusals; days: number }) {
  const option = useMemo(() => {
    const labels = lastDays(days);
    const codes = [...new Set(data.daily.map((r) => r.code))].sort();
    return {
      ...chartFrame(),
      xAxis: { type: 'category', data: labels.map((l) => l.slice(5)) },
      yAxis: { type: 'value', name: '被拒次数', minInterval: 1 },
      series: codes.map((code) => ({
        name: REFUSALS[code]?.[0] ?? code,
        type: 'bar',
        stack: 'refusals',
        itemStyle: { color: REFUSALS[code]?.[1] ?? '#bfbfbf' },
        data: labels.map((d) => data.daily.find((r) => r.day === d && r.code === code)?.count ?? 0),
      })),
    };
  }, [data, days]);
  const total = data.daily.reduce((s, r) => s + r.count, 0);
  if (total === 0) return <Typography.Text type="secondary">所选期间没有被拒的核验</Typography.Text>;
  return (
    <>
      <EChart option={option} height={300} label="每日核验被拒次数（按原因）图表" />
      <Typography.Paragraph strong style={{ marginTop: 12 }}>
        近 {days} 天共 {total} 次；被拒最多的机构：
      </Typography.Paragraph>
      <Table
        rowKey="code"
        size="small"
        pagination={false}
        dataSource={data.institutions}
        columns={[
          { title: '机构', render: (_, i) => i.name ?? i.code },
          { title: '机构编码', dataIndex: 'code' },
          { title: '被拒次数', dataIndex: 'count', width: 100 },
        ]}
      />
    </>
  );
}
