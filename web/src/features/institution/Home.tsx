import { ScanOutlined } from '@ant-design/icons';
import { useQuery } from '@tanstack/react-query';
import { Button, Card, Col, Row, Statistic } from 'antd';
import { Link, useNavigate } from 'react-router';
import { PageTitle } from '../../components/PortalShell';
import { ErrorState, Loading, yuan } from '../../components/States';
import { api } from '../../lib/api';
import { StaffPasswordNotice } from '../user/StaffPasswordNotice';
import type { Me, TodayOrders } from './api';
import { Recent } from './Workstation';

const AWAITING = ['created', 'pre_settled', 'awaiting_payment', 'cash_paid', 'insurance_settled'];
const REFUNDS = ['refunding', 'refunded', 'partially_refunded'];

/** 医药机构工作台 home: the way to the cashier's desk, today's orders in figures, and the latest orders. */
export function InstitutionHome() {
  const navigate = useNavigate();
  const me = useQuery({ queryKey: ['institution', 'me'], queryFn: () => api<Me>('/api/institution/me') });
  const today = useQuery({
    queryKey: ['institution', 'today'],
    queryFn: () => api<TodayOrders>('/api/institution/orders/today'),
    refetchInterval: 30_000,
  });
  const count = (statuses: string[]) => statuses.reduce((n, s) => n + (today.data?.byStatus[s]?.count ?? 0), 0);
  return (
    <>
      <PageTitle>{me.data?.institution.name ?? '医药机构工作台'}</PageTitle>
      <StaffPasswordNotice />
      <Link to="/institution/workstation">
        <Button type="primary" size="large" block icon={<ScanOutlined />} style={{ height: 56, fontSize: 18 }}>
          进入收费工作台
        </Button>
      </Link>
      <Card title={`今日订单${today.data ? `（${today.data.day}）` : ''}`} style={{ margin: '16px 0' }}>
        {today.isPending ? (
          <Loading lines={2} />
        ) : today.error ? (
          <ErrorState error={today.error} onRetry={() => today.refetch()} />
        ) : (
          <Row gutter={[16, 16]} data-testid="today-orders">
            <Col xs={12} md={6}>
              <Statistic title="订单" value={today.data.count} suffix="笔" />
            </Col>
            <Col xs={12} md={6}>
              <Statistic title="费用总额" value={yuan(today.data.total)} />
            </Col>
            <Col xs={12} md={6}>
              <Statistic title="已完成" value={count(['completed'])} suffix="笔" />
            </Col>
            <Col xs={12} md={6}>
              <Statistic title="待支付或处理中" value={count(AWAITING)} suffix="笔" />
            </Col>
            {count(REFUNDS) ? (
              <Col xs={12} md={6}>
                <Statistic title="退款" value={count(REFUNDS)} suffix="笔" />
              </Col>
            ) : null}
          </Row>
        )}
      </Card>
      <Recent onOpen={(id) => navigate(`/institution/workstation?order=${encodeURIComponent(id)}`)} />
    </>
  );
}
