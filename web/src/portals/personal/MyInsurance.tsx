import { useQuery } from '@tanstack/react-query';
import { Card, Descriptions } from 'antd';
import { PageTitle } from '../../components/PortalShell';
import { EmptyState, ErrorState, Loading, StatusBadge } from '../../components/States';
import { ApiError, api } from '../../lib/api';
import type { MyInsurance } from './api';

const statusColor = { active: 'ok', paused: 'warn', terminated: 'off' } as const;

/** 我的参保: status, insurance type, region and since when — read from the core zone. */
export function MyInsurancePage() {
  const q = useQuery({
    queryKey: ['personal', 'insurance'],
    queryFn: () => api<MyInsurance>('/api/personal/insurance'),
  });
  return (
    <>
      <PageTitle>我的参保</PageTitle>
      {q.isPending ? (
        <Card>
          <Loading lines={5} label="正在查询参保信息…" />
        </Card>
      ) : q.error ? (
        q.error instanceof ApiError && q.error.code === 'PERSONAL_NOT_INSURED' ? (
          <Card>
            <EmptyState
              title="未查询到您的参保信息"
              hint="如已参保，请携带身份证到医保经办窗口核实，或拨打医保服务热线"
            />
          </Card>
        ) : (
          <ErrorState error={q.error} onRetry={() => q.refetch()} />
        )
      ) : (
        <div style={{ display: 'flex', flexDirection: 'column', gap: 16 }}>
          <Card title="参保人">
            <Descriptions column={{ xs: 1, md: 2 }} size="middle">
              <Descriptions.Item label="姓名">{q.data.name}</Descriptions.Item>
              <Descriptions.Item label="身份证号">{q.data.residentId}</Descriptions.Item>
              <Descriptions.Item label="人员类别">{q.data.personTypeLabel}</Descriptions.Item>
              <Descriptions.Item label="参保地">
                {q.data.regionName}（{q.data.regionCode}）
              </Descriptions.Item>
              <Descriptions.Item label="个人编号">{q.data.personNo}</Descriptions.Item>
            </Descriptions>
          </Card>
          {q.data.insurances.length === 0 ? (
            <Card>
              <EmptyState title="暂无参保记录" />
            </Card>
          ) : (
            q.data.insurances.map((i) => (
              <Card
                key={i.insuranceType}
                title={i.insuranceTypeLabel}
                extra={<StatusBadge tone={statusColor[i.status]}>{i.statusLabel}</StatusBadge>}
              >
                <Descriptions column={{ xs: 1, md: 2 }} size="middle">
                  <Descriptions.Item label="参保状态">{i.statusLabel}</Descriptions.Item>
                  <Descriptions.Item label="参保日期">{i.startDate}</Descriptions.Item>
                  {i.pauseDate ? <Descriptions.Item label="暂停/终止日期">{i.pauseDate}</Descriptions.Item> : null}
                  <Descriptions.Item label="险种代码">{i.insuranceType}</Descriptions.Item>
                </Descriptions>
              </Card>
            ))
          )}
        </div>
      )}
    </>
  );
}
