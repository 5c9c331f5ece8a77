import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { Card, Col, DatePicker, Form, Grid, List, Row, Select, Table } from 'antd';
import type { Dayjs } from 'dayjs';
import { useState } from 'react';
import { PageTitle } from '../../components/PortalShell';
import { EmptyState, ErrorState, formatFen, Loading, yuan } from '../../components/States';
import { ApiError, api } from '../../lib/api';
import { dateTime } from '../../lib/time';
import { LEDGER_KINDS, type LedgerEntry, type MyAccount, type Page } from './api';
import styles from './personal.module.css';

const PAGE_SIZE = 10;

/** 个人账户: balance and the ledger with filters (type, date range), paged. */
export function MyAccountPage() {
  const mobile = !Grid.useBreakpoint().md;
  const [kind, setKind] = useState<string | undefined>();
  const [range, setRange] = useState<[Dayjs | null, Dayjs | null] | null>(null);
  const [page, setPage] = useState(1);
  const account = useQuery({
    queryKey: ['personal', 'account'],
    queryFn: () => api<MyAccount>('/api/personal/account'),
  });
  const params = new URLSearchParams({ page: String(page), pageSize: String(PAGE_SIZE) });
  if (kind) params.set('kind', kind);
  if (range?.[0]) params.set('from', range[0].format('YYYY-MM-DD'));
  if (range?.[1]) params.set('to', range[1].format('YYYY-MM-DD'));
  const ledger = useQuery({
    queryKey: ['personal', 'ledger', params.toString()],
    queryFn: () => api<Page<LedgerEntry>>(`/api/personal/account/ledger?${params}`),
    enabled: account.data?.hasAccount === true,
    placeholderData: keepPreviousData,
  });

  if (account.isPending)
    return (
      <>
        <PageTitle>个人账户</PageTitle>
        <Card>
          <Loading lines={4} label="正在查询账户余额…" />
        </Card>
      </>
    );
  if (account.error)
    return (
      <>
        <PageTitle>个人账户</PageTitle>
        {account.error instanceof ApiError && account.error.code === 'PERSONAL_NOT_INSURED' ? (
          <Card>
            <EmptyState title="未查询到您的参保信息" hint="参保后即可查询个人账户" />
          </Card>
        ) : (
          <ErrorState error={account.error} onRetry={() => account.refetch()} />
        )}
      </>
    );

  const filters = (
    <Form layout={mobile ? 'vertical' : 'inline'} aria-label="明细筛选">
      <Form.Item label="类型" htmlFor="ledger-kind">
        <Select
          id="ledger-kind"
          allowClear
          placeholder="全部类型"
          style={{ minWidth: 160 }}
          size="large"
          value={kind}
          options={LEDGER_KINDS}
          onChange={(v) => {
            setKind(v);
            setPage(1);
          }}
        />
      </Form.Item>
      <Form.Item label="日期" htmlFor="ledger-range">
        <DatePicker.RangePicker
          id={{ start: 'ledger-range' }}
          size="large"
          value={range}
          allowEmpty={[true, true]}
          onChange={(v) => {
            setRange(v);
            setPage(1);
          }}
          style={{ width: mobile ? '100%' : undefined }}
        />
      </Form.Item>
    </Form>
  );

  return (
    <>
      <PageTitle>个人账户</PageTitle>
      <Row gutter={[16, 16]}>
        <Col xs={24} lg={8}>
          <Card title="账户余额">
            {account.data.hasAccount ? (
              <>
                <div className={styles.balance} data-testid="account-balance">
                  {yuan(account.data.balance)}
                </div>
                <div style={{ color: '#595959' }}>可用于定点医药机构就医购药结算</div>
              </>
            ) : (
              <EmptyState title="您没有个人账户" hint="城乡居民医保不设个人账户，门诊费用按政策由统筹基金报销" />
            )}
          </Card>
        </Col>
        {account.data.hasAccount ? (
          <Col xs={24} lg={16}>
            <Card title="账户明细">
              {filters}
              <div style={{ marginTop: 12 }} data-testid="ledger">
                {ledger.isPending ? (
                  <Loading lines={5} label="正在加载明细…" />
                ) : ledger.error ? (
                  <ErrorState error={ledger.error} onRetry={() => ledger.refetch()} />
                ) : ledger.data.items.length === 0 ? (
                  <EmptyState
                    title={kind || range ? '没有符合条件的明细' : '暂无账户明细'}
                    hint={kind || range ? '请调整筛选条件' : undefined}
                  />
                ) : mobile ? (
                  <List
                    dataSource={ledger.data.items}
                    pagination={{
                      current: page,
                      pageSize: PAGE_SIZE,
                      total: ledger.data.total,
                      onChange: setPage,
                      simple: true,
                      align: 'center',
                    }}
                    renderItem={(e) => (
                      <List.Item>
                        <div className={styles.ledgerItem}>
                          <div>
                            <div>{e.kindLabel}</div>
                            <div style={{ color: '#595959', fontSize: 13 }}>{dateTime(e.at)}</div>
                          </div>
                          <div style={{ textAlign: 'right' }}>
                            <div className={e.amount >= 0 ? styles.credit : styles.debit}>
                              {e.amount >= 0 ? '+' : ''}
                              {formatFen(e.amount)}
                            </div>
                            <div style={{ color: '#595959', fontSize: 13 }}>余额 {formatFen(e.balanceAfter)}</div>
                          </div>
                        </div>
                      </List.Item>
                    )}
                  />
                ) : (
                  <Table
                    rowKey="entryId"
                    size="middle"
                    dataSource={ledger.data.items}
                    pagination={{ current: page, pageSize: PAGE_SIZE, total: ledger.data.total, onChange: setPage }}
                    columns={[
                      { title: '时间', dataIndex: 'at', render: dateTime },
                      { title: '类型', dataIndex: 'kindLabel' },
                      {
                        title: '金额（元）',
                        dataIndex: 'amount',
                        align: 'right',
                        render: (v: number) => (
                          <span className={v >= 0 ? styles.credit : styles.debit}>
                            {v >= 0 ? '+' : ''}
                            {formatFen(v)}
                          </span>
                        ),
                      },
                      { title: '余额（元）', dataIndex: 'balanceAfter', align: 'right', render: formatFen },
                      { title: '备注', dataIndex: 'memo', render: (m: string, e) => m || e.reference || '—' },
                    ]}
                  />
                )}
              </div>
            </Card>
          </Col>
        ) : null}
      </Row>
    </>
  );
}
