import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  Alert,
  Button,
  Card,
  Col,
  Descriptions,
  Empty,
  Input,
  InputNumber,
  List,
  Row,
  Select,
  Space,
  Switch,
  Table,
  Tabs,
  Tag,
  Typography,
} from 'antd';
import { useMemo, useState } from 'react';
import { PageTitle } from '../../components/PortalShell';
import { ApiError, api, errorText, type FieldError } from '../../lib/api';
import { useRegionCode } from '../../lib/region';
import { chinaDay, dateTime } from '../../lib/time';
import { useToast } from '../../lib/toast';
import { RatioChart } from './RatioChart';
import {
  fenToYuan,
  INSURANCE_NAMES,
  MEDICAL_NAMES,
  type Policy,
  type PolicyRule,
  type PolicyVersion,
  yuanToFen,
} from './types';

const today = () => chinaDay(Date.now());

/** The version in force today: the latest effectiveFrom ≤ today. */
function inForce(items: PolicyVersion[]): string | undefined {
  return items
    .filter((p) => p.effectiveFrom <= today())
    .sort((a, b) => b.effectiveFrom.localeCompare(a.effectiveFrom))[0]?.version;
}

/** Remounts the editor when the staff member switches region (drops any draft). */
export function PolicyPageForRegion() {
  return <PolicyPage key={useRegionCode()} />;
}

/** 待遇政策: versions per region, view, and a new version edited as a form or as JSON, validated by the server. */
export function PolicyPage() {
  const region = useRegionCode();
  const toast = useToast();
  const client = useQueryClient();
  const list = useQuery({
    queryKey: ['corezone-policies', region],
    queryFn: () => api<{ kind: string; items: PolicyVersion[] }>('/api/corezone/policies'),
  });
  const [selected, setSelected] = useState<string>();
  const [draft, setDraft] = useState<Policy>();
  const [json, setJson] = useState('');
  const [jsonError, setJsonError] = useState<string>();
  const [tab, setTab] = useState('form');
  const [errors, setErrors] = useState<FieldError[]>([]);

  const items = list.data?.items ?? [];
  const current = inForce(items);
  const shown = items.find((p) => p.version === (selected ?? current)) ?? items[0];

  const startDraft = () => {
    if (!shown) return;
    const base = structuredClone(shown.policy);
    const next: Policy = { ...base, version: `${base.version}-新`, effectiveFrom: today() };
    setDraft(next);
    setJson(JSON.stringify(next, null, 2));
    setErrors([]);
    setTab('form');
  };

  const updateDraft = (p: Policy) => {
    setDraft(p);
    setJson(JSON.stringify(p, null, 2));
  };

  /** The draft as currently edited: the JSON tab's text when that tab is open. */
  const currentDraft = (): Policy | undefined => {
    if (tab !== 'json') return draft;
    try {
      const parsed = JSON.parse(json) as Policy;
      setJsonError(undefined);
      return parsed;
    } catch (e) {
      setJsonError(`JSON 格式错误：${(e as Error).message}`);
      return undefined;
    }
  };

  const validate = useMutation({
    mutationFn: (policy: Policy) =>
      api<{ valid: boolean; errors: FieldError[] }>('/api/corezone/policies/validate', { body: { policy } }),
    onSuccess: (r) => {
      setErrors(r.errors);
      if (r.valid) toast.success('校验通过');
    },
    onError: toast.failed,
  });
  const save = useMutation({
    mutationFn: (policy: Policy) =>
      api<PolicyVersion>('/api/corezone/policies', { body: { policy }, idempotencyKey: crypto.randomUUID() }),
    onSuccess: (p) => {
      toast.success(`已新建版本 ${p.version}，自 ${p.effectiveFrom} 起生效`);
      setDraft(undefined);
      setErrors([]);
      setSelected(p.version);
      client.invalidateQueries({ queryKey: ['corezone-policies', region] });
    },
    onError: (e) => {
      if (e instanceof ApiError && e.errors.length > 0) setErrors(e.errors);
      toast.failed(e);
    },
  });

  const switchTab = (key: string) => {
    if (key === 'form' && tab === 'json') {
      const parsed = currentDraft();
      if (!parsed) return;
      setDraft(parsed);
    }
    setTab(key);
  };

  if (list.isError) return <Alert type="error" showIcon message={errorText(list.error)} />;

  return (
    <>
      <PageTitle
        extra={
          list.data?.kind === 'http' ? <Tag color="blue">外部核心区</Tag> : <Tag color="orange">示范核心区（沙箱）</Tag>
        }
      >
        待遇政策 · {region}
      </PageTitle>
      <Row gutter={[16, 16]}>
        <Col xs={24} lg={8}>
          <Card
            title="政策版本"
            loading={list.isLoading}
            extra={
              <Button onClick={startDraft} disabled={!shown || !!draft}>
                基于所选版本新建
              </Button>
            }
          >
            {items.length === 0 ? (
              <Empty description="本统筹区尚无待遇政策" />
            ) : (
              <List
                dataSource={items}
                renderItem={(p) => (
                  <List.Item
                    onClick={() => setSelected(p.version)}
                    style={{
                      cursor: 'pointer',
                      background: p.version === shown?.version ? '#f0f5ff' : undefined,
                      padding: 12,
                    }}
                  >
                    <List.Item.Meta
                      title={
                        <Space>
                          {p.version}
                          {p.version === current && <Tag color="green">当前生效</Tag>}
                          {p.effectiveFrom > today() && <Tag color="gold">待生效</Tag>}
                        </Space>
                      }
                      description={`自 ${p.effectiveFrom} 起生效 · 创建于 ${dateTime(p.createdAt)}`}
                    />
                  </List.Item>
                )}
              />
            )}
          </Card>
        </Col>
        <Col xs={24} lg={16}>
          {draft ? (
            <Card
              title={`新建版本（基于 ${shown?.version ?? ''}）`}
              extra={
                <Space wrap>
                  <Button onClick={() => setDraft(undefined)}>放弃</Button>
                  <Button
                    loading={validate.isPending}
                    onClick={() => {
                      const d = currentDraft();
                      if (d) validate.mutate(d);
                    }}
                  >
                    校验
                  </Button>
                  <Button
                    type="primary"
                    loading={save.isPending}
                    onClick={() => {
                      const d = currentDraft();
                      if (d) save.mutate(d);
                    }}
                  >
                    保存为新版本
                  </Button>
                </Space>
              }
            >
              {jsonError && <Alert type="error" showIcon message={jsonError} style={{ marginBottom: 12 }} />}
              {errors.length > 0 && (
                <Alert
                  type="error"
                  showIcon
                  style={{ marginBottom: 12 }}
                  message={`政策校验未通过（${errors.length} 处）`}
                  description={
                    <ul style={{ margin: 0, paddingLeft: 20 }}>
                      {errors.map((e) => (
                        <li key={`${e.field}:${e.message}`}>
                          <Typography.Text code>{fieldLabel(e.field)}</Typography.Text> {e.message}
                        </li>
                      ))}
                    </ul>
                  }
                />
              )}
              <Tabs
                activeKey={tab}
                onChange={switchTab}
                items={[
                  { key: 'form', label: '表单编辑', children: <PolicyForm policy={draft} onChange={updateDraft} /> },
                  {
                    key: 'json',
                    label: 'JSON 编辑',
                    children: (
                      <Input.TextArea
                        value={json}
                        onChange={(e) => setJson(e.target.value)}
                        autoSize={{ minRows: 16, maxRows: 40 }}
                        spellCheck={false}
                        style={{ fontFamily: 'monospace', fontSize: 12 }}
                        aria-label="政策 JSON"
                      />
                    ),
                  },
                ]}
              />
            </Card>
          ) : shown ? (
            <PolicyView version={shown} />
          ) : (
            <Card loading={list.isLoading} />
          )}
        </Col>
      </Row>
    </>
  );
}

function fieldLabel(field: string): string {
  return field
    .replace(/^rules\.(\d+)/, (_m, i) => `第 ${Number(i) + 1} 条规则`)
    .replace(/^ageBands\.(\d+)/, (_m, i) => `第 ${Number(i) + 1} 个年龄段`)
    .replace(/^ageBands$/, '年龄段')
    .replace('deductibleFen', '起付线')
    .replace('reimbursementRatioBp', '报销比例')
    .replace('annualCeilingFen', '封顶线')
    .replace('bClassSelfPayRatioBp', '乙类先行自付比例')
    .replace('effectiveFrom', '生效日期')
    .replace('version', '版本号');
}

function ruleColumns(edit?: (i: number, patch: Partial<PolicyRule>) => void) {
  return [
    { title: '险种', dataIndex: 'insuranceType', render: (v: string) => INSURANCE_NAMES[v] ?? v },
    { title: '医疗类别', dataIndex: 'medicalType', render: (v: string) => MEDICAL_NAMES[v] ?? v },
    { title: '医院等级', dataIndex: 'institutionLevels', render: (v: number[]) => v.map((l) => `${l}级`).join('、') },
    { title: '年龄段', dataIndex: 'ageBands', render: (v: string[]) => v.join('、') },
    {
      title: '起付线（元）',
      dataIndex: 'deductibleFen',
      render: (v: number, _r: PolicyRule, i: number) =>
        edit ? (
          <InputNumber
            min={0}
            step={100}
            precision={2}
            value={Number(fenToYuan(v))}
            onChange={(x) => edit(i, { deductibleFen: yuanToFen(x ?? 0) })}
            style={{ width: 110 }}
          />
        ) : (
          fenToYuan(v)
        ),
    },
    {
      title: '报销比例（%）',
      dataIndex: 'reimbursementRatioBp',
      render: (v: number, _r: PolicyRule, i: number) =>
        edit ? (
          <InputNumber
            min={0}
            max={100}
            step={1}
            precision={2}
            value={v / 100}
            onChange={(x) => edit(i, { reimbursementRatioBp: Math.round((x ?? 0) * 100) })}
            style={{ width: 90 }}
          />
        ) : (
          `${v / 100}%`
        ),
    },
    {
      title: '封顶线（元）',
      dataIndex: 'annualCeilingFen',
      render: (v: number, _r: PolicyRule, i: number) =>
        edit ? (
          <InputNumber
            min={0}
            step={1000}
            precision={2}
            value={Number(fenToYuan(v))}
            onChange={(x) => edit(i, { annualCeilingFen: yuanToFen(x ?? 0) })}
            style={{ width: 130 }}
          />
        ) : (
          fenToYuan(v)
        ),
    },
    {
      title: '账户付自付',
      dataIndex: 'accountPaysInScopeSelfPart',
      render: (v: boolean, _r: PolicyRule, i: number) =>
        edit ? <Switch checked={v} onChange={(x) => edit(i, { accountPaysInScopeSelfPart: x })} /> : v ? '是' : '否',
    },
    {
      title: '账户付自费',
      dataIndex: 'accountPaysOutOfScope',
      render: (v: boolean, _r: PolicyRule, i: number) =>
        edit ? <Switch checked={v} onChange={(x) => edit(i, { accountPaysOutOfScope: x })} /> : v ? '是' : '否',
    },
  ];
}

function PolicyView({ version }: { version: PolicyVersion }) {
  const p = version.policy;
  const [filter, setFilter] = useState<string>('all');
  const rules = useMemo(() => p.rules.filter((r) => filter === 'all' || r.insuranceType === filter), [p, filter]);
  return (
    <Space direction="vertical" style={{ width: '100%' }} size={16}>
      <Card title={`版本 ${p.version}`}>
        <Descriptions column={{ xs: 1, sm: 2 }} size="small">
          <Descriptions.Item label="统筹区">{p.regionCode}</Descriptions.Item>
          <Descriptions.Item label="生效日期">{p.effectiveFrom}</Descriptions.Item>
          <Descriptions.Item label="乙类先行自付比例">{p.bClassSelfPayRatioBp / 100}%</Descriptions.Item>
          <Descriptions.Item label="年龄段">
            {p.ageBands.map((b) => `${b.code}（${b.minAge}–${b.maxAge} 岁）`).join('；')}
          </Descriptions.Item>
        </Descriptions>
      </Card>
      <Card title="门诊报销比例对比（按医院等级）">
        <RatioChart policy={p} />
      </Card>
      <Card
        title={`待遇规则（${rules.length} 条）`}
        extra={
          <Select
            aria-label="规则筛选"
            value={filter}
            onChange={setFilter}
            style={{ width: 150 }}
            options={[
              { value: 'all', label: '全部险种' },
              { value: '310', label: INSURANCE_NAMES['310'] },
              { value: '390', label: INSURANCE_NAMES['390'] },
            ]}
          />
        }
      >
        <Table
          rowKey={(_r, i) => String(i)}
          dataSource={rules}
          columns={ruleColumns()}
          size="small"
          scroll={{ x: 900 }}
          pagination={{ pageSize: 12 }}
        />
      </Card>
    </Space>
  );
}

function PolicyForm({ policy, onChange }: { policy: Policy; onChange: (p: Policy) => void }) {
  const edit = (i: number, patch: Partial<PolicyRule>) =>
    onChange({ ...policy, rules: policy.rules.map((r, k) => (k === i ? { ...r, ...patch } : r)) });
  return (
    <Space direction="vertical" style={{ width: '100%' }} size={12}>
      <Row gutter={[12, 12]}>
        <Col xs={24} sm={8}>
          <Typography.Text>版本号</Typography.Text>
          <Input
            value={policy.version}
            maxLength={32}
            onChange={(e) => onChange({ ...policy, version: e.target.value })}
          />
        </Col>
        <Col xs={24} sm={8}>
          <Typography.Text>生效日期</Typography.Text>
          <Input
            type="date"
            value={policy.effectiveFrom}
            onChange={(e) => onChange({ ...policy, effectiveFrom: e.target.value })}
          />
        </Col>
        <Col xs={24} sm={8}>
          <Typography.Text>乙类先行自付比例（%）</Typography.Text>
          <InputNumber
            min={0}
            max={100}
            precision={2}
            style={{ width: '100%' }}
            value={policy.bClassSelfPayRatioBp / 100}
            onChange={(x) => onChange({ ...policy, bClassSelfPayRatioBp: Math.round((x ?? 0) * 100) })}
          />
        </Col>
      </Row>
      <Typography.Text type="secondary">
        年龄段与规则的增删请在「JSON 编辑」中进行；金额以元填写，保存时按分存储。
      </Typography.Text>
      <Table
        rowKey={(_r, i) => String(i)}
        dataSource={policy.rules}
        columns={ruleColumns(edit)}
        size="small"
        scroll={{ x: 1000 }}
        pagination={{ pageSize: 8 }}
      />
    </Space>
  );
}
