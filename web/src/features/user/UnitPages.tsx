import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  Alert,
  Button,
  Card,
  DatePicker,
  Form,
  Grid,
  Input,
  List,
  Modal,
  Popconfirm,
  Result,
  Select,
  Space,
  Table,
  Tag,
  Tooltip,
  Typography,
} from 'antd';
import dayjs, { type Dayjs } from 'dayjs';
import { useState } from 'react';
import { Link } from 'react-router';
import { PageTitle } from '../../components/PortalShell';
import { api, errorText, fieldErrors, newIdempotencyKey } from '../../lib/api';
import { RESIDENT_ID } from '../../lib/ids';
import { getSession, setSession, useSession } from '../../lib/session';
import { chinaDaysUntil } from '../../lib/time';
import { useToast } from '../../lib/toast';
import {
  AGENT_ROLE_LABELS,
  type Agent,
  type AgentRole,
  dateTime,
  idempotencyKeys,
  type Membership,
  UNIT_TYPE_LABELS,
  type Unit,
} from './api';
import { FormError } from './fields';

const unitTypeOptions = Object.entries(UNIT_TYPE_LABELS).map(([value, label]) => ({ value, label }));
const roleOptions = Object.entries(AGENT_ROLE_LABELS).map(([value, label]) => ({ value, label }));

/** The units the signed-in person acts for, with their role in each. */
export function useMyUnits() {
  return useQuery({ queryKey: ['user', 'my-units'], queryFn: () => api<Membership[]>('/api/user/me/units') });
}

const ACTING_KEY = 'yibao.actingUnit';

/** 我的单位: the units the person acts for, their role in each, switching the unit to act for. */
export function MyUnitsPage() {
  const toast = useToast();
  const { data, error, isLoading } = useMyUnits();
  const [acting, setActing] = useState(() => sessionStorage.getItem(ACTING_KEY) ?? undefined);
  const switchTo = useMutation({
    mutationFn: (unitId: string | null) =>
      api<{ accessToken: string; unitId: string | null }>('/api/user/me/acting-unit', { body: { unitId } }),
    onSuccess: (r) => {
      const session = getSession();
      if (session) setSession({ ...session, accessToken: r.accessToken });
      if (r.unitId) sessionStorage.setItem(ACTING_KEY, r.unitId);
      else sessionStorage.removeItem(ACTING_KEY);
      setActing(r.unitId ?? undefined);
      toast.success(r.unitId ? '已切换为代办该单位' : '已回到个人身份');
    },
    onError: toast.failed,
  });
  return (
    <>
      <PageTitle
        extra={
          <Link to="/unit/register">
            <Button type="primary">单位注册</Button>
          </Link>
        }
      >
        我的单位
      </PageTitle>
      {error ? <Alert type="error" showIcon title={errorText(error)} /> : null}
      <Card>
        <List
          itemLayout="vertical"
          loading={isLoading}
          dataSource={data ?? []}
          locale={{ emptyText: '您尚未成为任何单位的经办人。可注册单位，或请单位管理员为您授权。' }}
          renderItem={(m) => (
            <List.Item
              actions={[
                // large enough to tap on a phone; only the pressed unit's button spins
                acting === m.unit.id ? (
                  <Button
                    key="switch"
                    size="large"
                    onClick={() => switchTo.mutate(null)}
                    loading={switchTo.isPending && switchTo.variables === null}
                  >
                    回到个人身份
                  </Button>
                ) : (
                  <Button
                    key="switch"
                    size="large"
                    type="primary"
                    onClick={() => switchTo.mutate(m.unit.id)}
                    loading={switchTo.isPending && switchTo.variables === m.unit.id}
                  >
                    代办该单位
                  </Button>
                ),
                ...(m.role === 'admin'
                  ? [
                      <Link key="agents" to={`/unit/agents?unit=${m.unit.id}`}>
                        <Button size="large">管理经办人</Button>
                      </Link>,
                    ]
                  : []),
              ]}
            >
              <List.Item.Meta
                title={
                  <Space wrap>
                    {m.unit.name}
                    <Tag color={ROLE_COLORS[m.role]}>{AGENT_ROLE_LABELS[m.role]}</Tag>
                    {acting === m.unit.id ? <Tag color="green">当前代办</Tag> : null}
                  </Space>
                }
                description={
                  <>
                    统一社会信用代码 {m.unit.uscc} · {UNIT_TYPE_LABELS[m.unit.unitType]}
                    {m.expiresAt ? ` · 授权至 ${dateTime(m.expiresAt)}` : ''}
                  </>
                }
              />
            </List.Item>
          )}
        />
      </Card>
    </>
  );
}

/** 单位注册: USCC, name, type, legal representative; the registrant becomes the first administrator. */
export function UnitRegisterPage() {
  const [form] = Form.useForm();
  const qc = useQueryClient();
  const [keyFor] = useState(idempotencyKeys);
  const [done, setDone] = useState<Unit>();
  const reg = useMutation({
    mutationFn: (v: Record<string, string>) => {
      const body = { ...v, uscc: v.uscc.toUpperCase() };
      return api<Unit>('/api/user/units', { body, idempotencyKey: keyFor(body) });
    },
    onSuccess: (u) => {
      setDone(u);
      qc.invalidateQueries({ queryKey: ['user', 'my-units'] });
    },
    onError: (err) => form.setFields(fieldErrors(err)),
  });
  if (done) {
    return (
      <Result
        status="success"
        title="单位注册成功"
        subTitle={`${done.name}（${done.uscc}）已登记，您是该单位的管理员。`}
        extra={
          <Link to={`/unit/agents?unit=${done.id}`}>
            <Button type="primary" size="large">
              授权经办人
            </Button>
          </Link>
        }
      />
    );
  }
  return (
    <>
      <PageTitle>单位注册</PageTitle>
      <Card style={{ maxWidth: 600 }}>
        <FormError error={reg.error} />
        <Form form={form} layout="vertical" size="large" onFinish={(v) => reg.mutate(v)} requiredMark={false}>
          <Form.Item
            name="uscc"
            label="统一社会信用代码"
            rules={[
              { required: true, message: '请输入统一社会信用代码' },
              { pattern: /^[0-9A-Za-z]{18}$/, message: '应为 18 位数字或字母' },
            ]}
            extra="早期试点代码无法通过校验的，请携带材料到经办窗口登记"
          >
            <Input maxLength={18} style={{ textTransform: 'uppercase' }} />
          </Form.Item>
          <Form.Item name="name" label="单位名称" rules={[{ required: true, min: 2, message: '请输入单位名称' }]}>
            <Input maxLength={100} />
          </Form.Item>
          <Form.Item name="unitType" label="单位类型" rules={[{ required: true, message: '请选择单位类型' }]}>
            <Select options={unitTypeOptions} placeholder="请选择" />
          </Form.Item>
          <Form.Item
            name="legalRepName"
            label="法定代表人姓名"
            rules={[{ required: true, message: '请输入法定代表人姓名' }]}
          >
            <Input maxLength={30} />
          </Form.Item>
          <Typography.Paragraph type="secondary">
            提交后，您将成为该单位的首位管理员，可为其他人员授权经办。
          </Typography.Paragraph>
          <Button type="primary" htmlType="submit" block loading={reg.isPending}>
            提交注册
          </Button>
        </Form>
      </Card>
    </>
  );
}

/** 经办人管理 (unit admins): list, grant with role and expiry, revoke. */
export function UnitAgentsPage() {
  const mobile = !Grid.useBreakpoint().md;
  const me = useSession()?.subject;
  const toast = useToast();
  const qc = useQueryClient();
  const { data: units } = useMyUnits();
  const adminUnits = (units ?? []).filter((m) => m.role === 'admin');
  const fromUrl = new URLSearchParams(location.search).get('unit') ?? undefined;
  const [picked, setPicked] = useState<string>();
  const unitId = picked ?? (adminUnits.some((m) => m.unit.id === fromUrl) ? fromUrl : adminUnits[0]?.unit.id);
  const [adding, setAdding] = useState(false);
  const [adjusting, setAdjusting] = useState<Agent>();
  const agents = useQuery({
    queryKey: ['user', 'agents', unitId],
    enabled: !!unitId,
    queryFn: () => api<Agent[]>(`/api/user/units/${unitId}/agents`),
  });
  const revoke = useMutation({
    mutationFn: (personId: string) => api(`/api/user/units/${unitId}/agents/${personId}`, { method: 'DELETE' }),
    onSuccess: () => {
      toast.success('已撤销授权');
      qc.invalidateQueries({ queryKey: ['user', 'agents', unitId] });
    },
    onError: toast.failed,
  });
  if (units && adminUnits.length === 0) {
    return <Result status="info" title="您不是任何单位的管理员" subTitle="只有单位管理员可以管理经办人。" />;
  }
  const admins = (agents.data ?? []).filter((a) => a.role === 'admin' && a.active).length;
  const revokeButton = (a: Agent) => {
    const button = (
      <Button size={mobile ? 'large' : 'small'} danger disabled={isLastAdmin(a, admins)}>
        撤销
      </Button>
    );
    // the server refuses to leave a unit without an admin: say so before the press, not after it
    if (isLastAdmin(a, admins)) {
      return (
        <Tooltip key="revoke" title="单位须至少保留一名管理员，请先授权其他管理员">
          <span>{button}</span>
        </Tooltip>
      );
    }
    return (
      <Popconfirm
        key="revoke"
        title={
          a.personId === me
            ? '确认撤销您本人的经办授权？撤销后您不能再办理该单位的业务。'
            : `确认撤销 ${a.person.name} 的经办授权？`
        }
        onConfirm={() => revoke.mutate(a.personId)}
      >
        {button}
      </Popconfirm>
    );
  };
  const nameOf = (a: Agent) => (a.personId === me ? `${a.person.name}（本人）` : a.person.name);
  const adjustButton = (a: Agent) => (
    <Button key="adjust" size={mobile ? 'large' : 'small'} onClick={() => setAdjusting(a)}>
      {a.active ? '调整' : '续期'}
    </Button>
  );
  return (
    <>
      <PageTitle
        extra={
          <Button type="primary" onClick={() => setAdding(true)} disabled={!unitId}>
            授权经办人
          </Button>
        }
      >
        经办人管理
      </PageTitle>
      <Space wrap style={{ marginBottom: 16 }}>
        <span>单位：</span>
        <Select
          aria-label="单位"
          style={{ minWidth: 260 }}
          value={unitId}
          onChange={setPicked}
          options={adminUnits.map((m) => ({ value: m.unit.id, label: `${m.unit.name}（${m.unit.uscc}）` }))}
        />
      </Space>
      {agents.error ? <Alert type="error" showIcon title={errorText(agents.error)} /> : null}
      {mobile ? (
        // a phone shows each agent whole, the revoke button within reach (a wide table hid role, validity and 撤销)
        <List<Agent>
          loading={agents.isLoading}
          dataSource={agents.data ?? []}
          locale={{ emptyText: '尚未授权经办人' }}
          renderItem={(a) => (
            <List.Item actions={[adjustButton(a), revokeButton(a)]}>
              <List.Item.Meta
                title={
                  <Space wrap>
                    {nameOf(a)}
                    {roleTag(a)}
                    {validity(a)}
                  </Space>
                }
                description={
                  <>
                    {a.person.residentId}
                    <br />
                    {a.person.mobile}
                  </>
                }
              />
            </List.Item>
          )}
        />
      ) : (
        <Table<Agent>
          rowKey="personId"
          loading={agents.isLoading}
          dataSource={agents.data ?? []}
          pagination={false}
          locale={{ emptyText: '尚未授权经办人' }}
          columns={[
            { title: '姓名', render: (_, a) => nameOf(a) },
            { title: '身份证号', render: (_, a) => a.person.residentId },
            { title: '手机号', render: (_, a) => a.person.mobile },
            { title: '角色', render: (_, a) => roleTag(a) },
            { title: '有效期', render: (_, a) => validity(a) },
            {
              title: '操作',
              render: (_, a) => (
                <Space>
                  {adjustButton(a)}
                  {revokeButton(a)}
                </Space>
              ),
            },
          ]}
        />
      )}
      {unitId ? <GrantAgentModal unitId={unitId} open={adding} onClose={() => setAdding(false)} /> : null}
      {unitId && adjusting ? (
        <AdjustAgentModal unitId={unitId} agent={adjusting} onClose={() => setAdjusting(undefined)} />
      ) : null}
    </>
  );
}

const isLastAdmin = (a: Agent, admins: number) => a.role === 'admin' && a.active && admins <= 1;

const ROLE_COLORS: Record<Agent['role'], string> = { admin: 'blue', handler: 'cyan', viewer: 'purple' };
const roleTag = (a: Agent) => <Tag color={ROLE_COLORS[a.role]}>{AGENT_ROLE_LABELS[a.role]}</Tag>;

/** As the daily reminder counts: a grant ending within a week is flagged, so an admin renews it in time. */
const EXPIRY_NOTICE_DAYS = 7;

function validity(a: Agent) {
  if (!a.active) return <Tag color="red">已过期</Tag>;
  if (!a.expiresAt) return '长期';
  return (
    <>
      至 {dateTime(a.expiresAt)}
      <ExpiryTag expiresAt={a.expiresAt} />
    </>
  );
}

/** 授权 N 天后到期 for a grant ending within the week, counted in China-time calendar days (nothing otherwise). */
export function ExpiryTag({ expiresAt }: { expiresAt?: string }) {
  if (!expiresAt) return null;
  const days = chinaDaysUntil(expiresAt);
  if (days > EXPIRY_NOTICE_DAYS) return null;
  return (
    <Tag color="orange" style={{ marginInlineStart: 8 }}>
      {days <= 0 ? '授权今天到期' : days === 1 ? '授权明天到期' : `授权 ${days} 天后到期`}
    </Tag>
  );
}

function GrantAgentModal({ unitId, open, onClose }: { unitId: string; open: boolean; onClose: () => void }) {
  const toast = useToast();
  const qc = useQueryClient();
  const [form] = Form.useForm();
  const grant = useMutation({
    mutationFn: (v: { residentId: string; name: string; role: AgentRole; expiresAt?: Dayjs }) =>
      api(`/api/user/units/${unitId}/agents`, {
        body: {
          residentId: v.residentId.toUpperCase(),
          name: v.name,
          role: v.role,
          expiresAt: v.expiresAt ? v.expiresAt.endOf('day').toISOString() : null,
        },
        idempotencyKey: newIdempotencyKey(),
      }),
    onSuccess: () => {
      toast.success('已授权');
      qc.invalidateQueries({ queryKey: ['user', 'agents', unitId] });
      onClose();
    },
    onError: (err) => toast.refused(form, err),
  });
  return (
    <Modal
      title="授权经办人"
      open={open}
      onCancel={onClose}
      onOk={() => form.submit()}
      confirmLoading={grant.isPending}
      destroyOnHidden
    >
      <Typography.Paragraph type="secondary">被授权人须已注册个人账号；请填写其姓名和身份证号。</Typography.Paragraph>
      <Form form={form} layout="vertical" initialValues={{ role: 'handler' }} onFinish={(v) => grant.mutate(v)}>
        <Form.Item name="name" label="姓名" rules={[{ required: true, message: '请输入姓名' }]}>
          <Input maxLength={30} />
        </Form.Item>
        <Form.Item
          name="residentId"
          label="身份证号码"
          rules={[
            { required: true, message: '请输入身份证号码' },
            { pattern: RESIDENT_ID, message: '请输入 18 位身份证号码' },
          ]}
        >
          <Input maxLength={18} />
        </Form.Item>
        <AgentTermsFields />
      </Form>
    </Modal>
  );
}

/** 调整 / 续期: an agent's role and the end of the grant, changed without typing their ID number again. */
function AdjustAgentModal({ unitId, agent, onClose }: { unitId: string; agent: Agent; onClose: () => void }) {
  const toast = useToast();
  const qc = useQueryClient();
  const [form] = Form.useForm();
  const adjust = useMutation({
    mutationFn: (v: { role: AgentRole; expiresAt?: Dayjs | null }) =>
      api(`/api/user/units/${unitId}/agents/${agent.personId}`, {
        method: 'PATCH',
        body: { role: v.role, expiresAt: v.expiresAt ? v.expiresAt.endOf('day').toISOString() : null },
        idempotencyKey: newIdempotencyKey(),
      }),
    onSuccess: () => {
      toast.success('已更新授权');
      qc.invalidateQueries({ queryKey: ['user', 'agents', unitId] });
      onClose();
    },
    onError: (err) => toast.refused(form, err),
  });
  // an expired grant is renewed from today: its old date would be refused as past
  const initialExpiry = agent.active && agent.expiresAt ? dayjs(agent.expiresAt) : null;
  return (
    <Modal
      title={`调整 ${agent.person.name} 的授权`}
      open
      onCancel={onClose}
      onOk={() => form.submit()}
      confirmLoading={adjust.isPending}
      destroyOnHidden
    >
      <Form
        form={form}
        layout="vertical"
        initialValues={{ role: agent.role, expiresAt: initialExpiry }}
        onFinish={(v) => adjust.mutate(v)}
      >
        <AgentTermsFields />
      </Form>
    </Modal>
  );
}

/** The terms of a grant, as both 授权经办人 and 调整 ask them: the role, and until when (empty: 长期). */
function AgentTermsFields() {
  return (
    <>
      <Form.Item name="role" label="角色" extra="管理员可管理经办人；经办可办理业务；查看仅可查询">
        <Select options={roleOptions} />
      </Form.Item>
      <Form.Item name="expiresAt" label="授权截止日期" extra="不填表示长期有效">
        <DatePicker style={{ width: '100%' }} disabledDate={(d) => d.isBefore(new Date(), 'day')} />
      </Form.Item>
    </>
  );
}
