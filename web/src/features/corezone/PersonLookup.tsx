import { useMutation } from '@tanstack/react-query';
import { Alert, Button, Card, Descriptions, Form, Input, Radio, Space, Table, Tag } from 'antd';
import { useState } from 'react';
import { PageTitle } from '../../components/PortalShell';
import { api, errorText } from '../../lib/api';
import { RESIDENT_ID } from '../../lib/ids';
import { useRegionCode } from '../../lib/region';
import { fenToYuan, INSURANCE_NAMES, PERSON_TYPE_NAMES, STATUS_NAMES } from './types';

interface LookupResult {
  person: { personNo: string; name: string; residentId: string; sex: string; birthDate: string; personType: string };
  insurances: {
    insuranceType: string;
    status: string;
    startDate: string;
    pauseDate: string | null;
    unitNo: string | null;
  }[];
  account: { balance: number; hasAccount: boolean };
}

/** 参保人查询 (staff): masked identity, insurance status and account balance from the core zone. */
export function PersonLookupPage() {
  const region = useRegionCode();
  const [by, setBy] = useState<'residentId' | 'personNo'>('residentId');
  const lookup = useMutation({
    mutationFn: (value: string) =>
      api<LookupResult>(`/api/corezone/persons?${by}=${encodeURIComponent(value.trim().toUpperCase())}`),
  });
  const r = lookup.data;
  return (
    <>
      <PageTitle>参保人查询 · {region}</PageTitle>
      <Card>
        <Form layout="vertical" onFinish={(v: { value: string }) => lookup.mutate(v.value)} style={{ maxWidth: 520 }}>
          <Form.Item label="查询方式">
            <Radio.Group value={by} onChange={(e) => setBy(e.target.value)} optionType="button">
              <Radio.Button value="residentId">身份证号码</Radio.Button>
              <Radio.Button value="personNo">个人编号</Radio.Button>
            </Radio.Group>
          </Form.Item>
          <Form.Item
            name="value"
            label={by === 'residentId' ? '身份证号码' : '个人编号'}
            rules={[
              { required: true, message: '请输入' },
              ...(by === 'residentId' ? [{ pattern: RESIDENT_ID, message: '应为 18 位身份证号码' }] : []),
            ]}
          >
            <Input size="large" autoComplete="off" allowClear />
          </Form.Item>
          <Button type="primary" htmlType="submit" size="large" loading={lookup.isPending} block>
            查询
          </Button>
        </Form>
      </Card>
      {lookup.isError && <Alert style={{ marginTop: 16 }} type="warning" showIcon message={errorText(lookup.error)} />}
      {r && (
        <Space direction="vertical" style={{ width: '100%', marginTop: 16 }} size={16}>
          <Card title="基本信息（已脱敏）">
            <Descriptions column={{ xs: 1, sm: 2 }} size="small">
              <Descriptions.Item label="姓名">{r.person.name}</Descriptions.Item>
              <Descriptions.Item label="身份证号码">{r.person.residentId}</Descriptions.Item>
              <Descriptions.Item label="个人编号">{r.person.personNo}</Descriptions.Item>
              <Descriptions.Item label="人员类别">
                {PERSON_TYPE_NAMES[r.person.personType] ?? r.person.personType}
              </Descriptions.Item>
              <Descriptions.Item label="个人账户余额">
                {r.account.hasAccount ? `${fenToYuan(r.account.balance)} 元` : '无个人账户'}
              </Descriptions.Item>
            </Descriptions>
          </Card>
          <Card title="参保信息">
            <Table
              rowKey="insuranceType"
              size="small"
              pagination={false}
              dataSource={r.insurances}
              scroll={{ x: 560 }}
              columns={[
                { title: '险种', dataIndex: 'insuranceType', render: (v: string) => INSURANCE_NAMES[v] ?? v },
                {
                  title: '状态',
                  dataIndex: 'status',
                  render: (v: string) => <Tag color={v === 'active' ? 'green' : 'red'}>{STATUS_NAMES[v] ?? v}</Tag>,
                },
                { title: '参保日期', dataIndex: 'startDate' },
                { title: '暂停/终止日期', dataIndex: 'pauseDate', render: (v: string | null) => v ?? '—' },
                { title: '参保单位', dataIndex: 'unitNo', render: (v: string | null) => v ?? '—' },
              ]}
            />
          </Card>
        </Space>
      )}
    </>
  );
}
