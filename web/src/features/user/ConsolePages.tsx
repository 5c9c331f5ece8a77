import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  Alert,
  App,
  Button,
  Card,
  Checkbox,
  Descriptions,
  Drawer,
  Form,
  Input,
  Modal,
  Popconfirm,
  Select,
  Space,
  Switch,
  Table,
  Tabs,
  Tag,
  Typography,
} from 'antd';
import { useEffect, useState } from 'react';
import { useSearchParams } from 'react-router';
import { stepUp } from '../../auth/oidc';
import { openableRow } from '../../components/openableRow';
import { PageTitle } from '../../components/PortalShell';
import { ApiError, api, errorText, fieldErrors, newIdempotencyKey } from '../../lib/api';
import { MOBILE } from '../../lib/ids';
import { type StaffMe, useStaffMe, useStaffPermissions } from '../../lib/permissions';
import { chinaDay } from '../../lib/time';
import { useToast } from '../../lib/toast';
import {
  AGENT_ROLE_LABELS,
  type Agent,
  dateTime,
  type Membership,
  PERSON_STATUS,
  type Person,
  type Role,
  type Staff,
  UNIT_TYPE_LABELS,
  type Unit,
} from './api';
import { FormError, NewPasswordFields } from './fields';
import { StaffPasswordNotice } from './StaffPasswordNotice';
import { accountPanels, SecurityPanelCards } from './securitySlots';

const PAGE = 20;
/** A console list paged by the server: which page, how many in all, counted in people's words (共 N 人). */
const paging = (page: number, setPage: (p: number) => void, total: number | undefined, unit: string) => ({
  current: page,
  pageSize: PAGE,
  total: total ?? 0,
  onChange: setPage,
  showTotal: (t: number) => `共 ${t} ${unit}`,
});

function SearchBar(props: {
  placeholder: string;
  onSearch: (q: string) => void;
  extra?: React.ReactNode;
  defaultValue?: string;
}) {
  return (
    <Space wrap style={{ marginBottom: 16 }}>
      <Input.Search
        allowClear
        defaultValue={props.defaultValue}
        enterButton="查询"
        placeholder={props.placeholder}
        style={{ width: 360, maxWidth: '100%' }}
        onSearch={(v) => props.onSearch(v.trim())}
      />
      {props.extra}
    </Space>
  );
}

/** 个人用户: search (masked), detail drawer with audited unmasking and account actions. */
export function PersonsPage() {
  // the search and the open record live in the address, so a step-up sign-in comes back to them
  const [search, setSearch] = useSearchParams();
  // the list follows a search at once (an address change is a transition, which keeps the old rows up meanwhile)
  const [q, setQ] = useState(() => search.get('q') ?? '');
  const selected = search.get('person') ?? undefined;
  const setParam = (name: string, value?: string) =>
    setSearch(
      (prev) => {
        const next = new URLSearchParams(prev);
        if (value) next.set(name, value);
        else next.delete(name);
        return next;
      },
      { replace: true },
    );
  const [status, setStatus] = useState<string>();
  const [page, setPage] = useState(1);
  const params = new URLSearchParams({ limit: String(PAGE), offset: String((page - 1) * PAGE) });
  if (q) params.set('q', q);
  if (status) params.set('status', status);
  const { data, error, isFetching } = useQuery({
    queryKey: ['user', 'admin', 'persons', params.toString()],
    queryFn: () => api<{ total: number; items: Person[] }>(`/api/user/admin/persons?${params}`),
  });
  return (
    <>
      <PageTitle>个人用户</PageTitle>
      <SearchBar
        placeholder="身份证号 / 手机号（精确）、用户名或姓名开头"
        defaultValue={q}
        onSearch={(v) => {
          setQ(v);
          setParam('q', v);
          setPage(1);
        }}
        extra={
          <Select
            aria-label="账号状态"
            allowClear
            placeholder="账号状态"
            style={{ width: 130 }}
            value={status}
            onChange={(v) => {
              setStatus(v);
              setPage(1);
            }}
            options={Object.entries(PERSON_STATUS).map(([value, s]) => ({ value, label: s.label }))}
          />
        }
      />
      {error ? <Alert type="error" showIcon title={errorText(error)} style={{ marginBottom: 16 }} /> : null}
      <Table<Person>
        rowKey="id"
        loading={isFetching}
        dataSource={data?.items ?? []}
        scroll={{ x: 800 }}
        pagination={paging(page, setPage, data?.total, '人')}
        onRow={openableRow((p) => setParam('person', p.id))}
        columns={[
          { title: '姓名', dataIndex: 'name' },
          { title: '身份证号', dataIndex: 'residentId' },
          { title: '手机号', dataIndex: 'mobile' },
          { title: '用户名', dataIndex: 'username', render: (v) => v ?? '—' },
          {
            title: '状态',
            dataIndex: 'status',
            render: (s: Person['status']) => <Tag color={PERSON_STATUS[s].color}>{PERSON_STATUS[s].label}</Tag>,
          },
          { title: '注册时间', dataIndex: 'createdAt', render: dateTime },
        ]}
      />
      <PersonDrawer id={selected} onClose={() => setParam('person')} />
    </>
  );
}

type PersonAction = 'disable' | 'enable' | 'unlock' | 'reset-password';

/**
 * What `user:manage` may do to a person's account from its details; 解除锁定 only where the 登录锁定 panel (which
 * shows the lock and lifts it) is not shown.
 */
function PersonActions({
  status,
  act,
  unlockHere,
}: {
  status: Person['status'];
  act: (a: PersonAction) => void;
  unlockHere: boolean;
}) {
  return (
    <>
      {status === 'active' ? (
        <Popconfirm title="确认停用该账号？停用后不能登录，已登录的设备随即退出。" onConfirm={() => act('disable')}>
          <Button danger>停用</Button>
        </Popconfirm>
      ) : null}
      {status === 'disabled' ? <Button onClick={() => act('enable')}>启用</Button> : null}
      {unlockHere ? <Button onClick={() => act('unlock')}>解除锁定</Button> : null}
      <Popconfirm title="重置后将生成临时密码，确认？" onConfirm={() => act('reset-password')}>
        <Button>重置密码</Button>
      </Popconfirm>
    </>
  );
}

/**
 * A read of the plain record asked for before a step-up sign-in: the officer comes back to the record and, with the
 * purpose already given, sees it (once, and only within 10 minutes of asking).
 */
const pendingUnmask = {
  key: 'yibao.console.unmask',
  set(v: { id: string; purpose: string }) {
    sessionStorage.setItem(this.key, JSON.stringify({ ...v, at: Date.now() }));
  },
  take(id: string): string | undefined {
    const raw = sessionStorage.getItem(this.key);
    if (!raw) return undefined;
    const v = JSON.parse(raw) as { id: string; purpose: string; at: number };
    if (v.id !== id) return undefined;
    sessionStorage.removeItem(this.key);
    return Date.now() - v.at < 600_000 ? v.purpose : undefined;
  },
};

function PersonDrawer({ id, onClose }: { id?: string; onClose: () => void }) {
  const { modal } = App.useApp();
  const toast = useToast();
  const qc = useQueryClient();
  const [plain, setPlain] = useState<Person>();
  const [asking, setAsking] = useState(false);
  const [form] = Form.useForm();
  const can = useStaffPermissions().can ?? (() => false);
  const { data, error } = useQuery({
    queryKey: ['user', 'admin', 'person', id],
    enabled: !!id,
    queryFn: () => api<Person & { units: Membership[] }>(`/api/user/admin/persons/${id}`),
  });
  const refresh = () => qc.invalidateQueries({ queryKey: ['user', 'admin'] });
  const unmask = useMutation({
    mutationFn: (purpose: string) => api<Person>(`/api/user/admin/persons/${id}/unmask`, { body: { purpose } }),
    onSuccess: (p) => {
      setPlain(p);
      setAsking(false);
    },
    onError: (err, purpose) => {
      if (err instanceof ApiError && err.code === 'STEP_UP_REQUIRED') {
        setAsking(false);
        modal.confirm({
          title: '需要二次认证',
          content: '查看明文须使用短信验证码或通行密钥再次验证身份。验证后回到本记录，按您填写的用途显示明文。',
          okText: '去验证',
          onOk: () => {
            pendingUnmask.set({ id: id!, purpose });
            return stepUp('console', 'unmask');
          },
        });
        return;
      }
      toast.refused(form, err);
    },
  });
  const resume = unmask.mutate;
  useEffect(() => {
    const purpose = id ? pendingUnmask.take(id) : undefined;
    if (purpose) resume(purpose);
  }, [id, resume]);
  const act = useMutation({
    mutationFn: (action: PersonAction) =>
      api<{ temporaryPassword?: string; unlocked?: boolean }>(`/api/user/admin/persons/${id}/${action}`, { body: {} }),
    onSuccess: (r, action) => {
      refresh();
      if (action === 'reset-password' && r.temporaryPassword) {
        showTemporaryPassword(modal, r.temporaryPassword, '参保人');
      } else if (action === 'unlock') toast.success(r.unlocked ? '已解除锁定，对方可以重新登录' : '该账号当前未被锁定');
      else toast.success('操作成功');
    },
    onError: toast.failed,
  });
  const shown = plain ?? data;
  return (
    <Drawer
      open={!!id}
      onClose={() => {
        setPlain(undefined);
        onClose();
      }}
      title="个人用户详情"
      size="large"
      destroyOnHidden
    >
      {error ? <Alert type="error" showIcon title={errorText(error)} /> : null}
      {shown ? (
        <>
          {plain ? (
            <Alert type="warning" showIcon title="正在显示明文，本次查看已记入审计日志" style={{ marginBottom: 12 }} />
          ) : null}
          <Descriptions column={1} bordered size="small">
            <Descriptions.Item label="姓名">{shown.name}</Descriptions.Item>
            <Descriptions.Item label="身份证号">{shown.residentId}</Descriptions.Item>
            <Descriptions.Item label="手机号">{shown.mobile}</Descriptions.Item>
            <Descriptions.Item label="用户名">{shown.username ?? '—'}</Descriptions.Item>
            <Descriptions.Item label="电子邮箱">{shown.email ?? '—'}</Descriptions.Item>
            <Descriptions.Item label="状态">
              <Tag color={PERSON_STATUS[shown.status].color}>{PERSON_STATUS[shown.status].label}</Tag>
            </Descriptions.Item>
            <Descriptions.Item label="注册时间">{dateTime(shown.createdAt)}</Descriptions.Item>
            <Descriptions.Item label="经办单位">
              {data?.units.length
                ? data.units.map((m) => (
                    <div key={m.unit.id}>
                      {m.unit.name}（{AGENT_ROLE_LABELS[m.role]}）
                    </div>
                  ))
                : '—'}
            </Descriptions.Item>
          </Descriptions>
          {can('user:unmask') || can('user:manage') ? (
            <Space wrap style={{ marginTop: 16 }}>
              {!can('user:unmask') ? null : !plain ? (
                <Button onClick={() => setAsking(true)}>查看明文</Button>
              ) : (
                <Button onClick={() => setPlain(undefined)}>隐藏明文</Button>
              )}
              {can('user:manage') ? (
                <PersonActions status={shown.status} act={act.mutate} unlockHere={!can('auth:session')} />
              ) : null}
            </Space>
          ) : (
            <Typography.Paragraph type="secondary" style={{ marginTop: 16 }}>
              您的角色可以查询，不能查看明文、停用或重置账号。
            </Typography.Paragraph>
          )}
          {accountPanels({ kind: 'person', id: shown.id })
            .filter((p) => can(p.permission))
            .map((p) => (
              <Card key={p.key} size="small" title={p.title} style={{ marginTop: 16 }}>
                {p.element}
              </Card>
            ))}
        </>
      ) : null}
      <Modal
        title="查看明文"
        open={asking}
        onCancel={() => setAsking(false)}
        onOk={() => form.submit()}
        okText="查看"
        confirmLoading={unmask.isPending}
        destroyOnHidden
      >
        <Typography.Paragraph type="secondary">
          查看个人信息明文需具备权限并完成二次认证；请说明用途，本次查看将记入审计日志。
        </Typography.Paragraph>
        <Form form={form} layout="vertical" onFinish={(v) => unmask.mutate(v.purpose)}>
          <Form.Item
            name="purpose"
            label="查看用途"
            rules={[{ required: true, min: 4, message: '请说明用途（至少 4 个字）' }]}
          >
            <Input.TextArea rows={2} maxLength={200} placeholder="例如：核对参保登记信息（工单 2024-001）" />
          </Form.Item>
        </Form>
      </Modal>
    </Drawer>
  );
}

/** 单位: search by USCC or name; window registration with the staff override for pilot codes. */
export function UnitsPage() {
  const toast = useToast();
  const qc = useQueryClient();
  const [q, setQ] = useState('');
  const [page, setPage] = useState(1);
  const [adding, setAdding] = useState(false);
  const [form] = Form.useForm();
  const manage = !!useStaffPermissions().can?.('user:manage');
  const params = new URLSearchParams({ limit: String(PAGE), offset: String((page - 1) * PAGE) });
  if (q) params.set('q', q);
  const { data, error, isFetching } = useQuery({
    queryKey: ['user', 'admin', 'units', params.toString()],
    queryFn: () => api<{ total: number; items: Unit[] }>(`/api/user/admin/units?${params}`),
  });
  const toggle = useMutation({
    mutationFn: (u: Unit) =>
      api(`/api/user/admin/units/${u.id}/${u.status === 'active' ? 'disable' : 'enable'}`, { body: {} }),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['user', 'admin', 'units'] }),
    onError: toast.failed,
  });
  const register = useMutation({
    mutationFn: (v: Record<string, unknown>) =>
      api<Unit>('/api/user/admin/units', {
        body: { ...v, uscc: String(v.uscc).toUpperCase(), usccOverride: Boolean(v.usccOverride) },
        idempotencyKey: newIdempotencyKey(),
      }),
    onSuccess: () => {
      toast.success('单位已登记');
      setAdding(false);
      qc.invalidateQueries({ queryKey: ['user', 'admin', 'units'] });
    },
    onError: (err) => toast.refused(form, err),
  });
  return (
    <>
      <PageTitle extra={manage ? <Button onClick={() => setAdding(true)}>窗口登记单位</Button> : null}>单位</PageTitle>
      <SearchBar
        placeholder="统一社会信用代码或单位名称"
        onSearch={(v) => {
          setQ(v);
          setPage(1);
        }}
      />
      {error ? <Alert type="error" showIcon title={errorText(error)} style={{ marginBottom: 16 }} /> : null}
      <Table<Unit>
        rowKey="id"
        loading={isFetching}
        dataSource={data?.items ?? []}
        scroll={{ x: 800 }}
        pagination={paging(page, setPage, data?.total, '家')}
        columns={[
          { title: '单位名称', dataIndex: 'name' },
          {
            title: '统一社会信用代码',
            dataIndex: 'uscc',
            render: (v, u) => (
              <Space>
                {v}
                {u.usccOverrideBy ? <Tag color="orange">人工核验</Tag> : null}
              </Space>
            ),
          },
          { title: '类型', dataIndex: 'unitType', render: (t: Unit['unitType']) => UNIT_TYPE_LABELS[t] },
          { title: '法定代表人', dataIndex: 'legalRepName' },
          {
            title: '状态',
            dataIndex: 'status',
            render: (s) => (s === 'active' ? <Tag color="green">正常</Tag> : <Tag color="red">已停用</Tag>),
          },
          {
            title: '操作',
            hidden: !manage,
            render: (_, u) => (
              <Popconfirm
                title={u.status === 'active' ? '确认停用该单位？' : '确认启用该单位？'}
                onConfirm={() => toggle.mutate(u)}
              >
                <Button size="small">{u.status === 'active' ? '停用' : '启用'}</Button>
              </Popconfirm>
            ),
          },
        ]}
      />
      <Modal
        title="窗口登记单位"
        open={adding}
        onCancel={() => setAdding(false)}
        onOk={() => form.submit()}
        confirmLoading={register.isPending}
        destroyOnHidden
      >
        <Form form={form} layout="vertical" onFinish={(v) => register.mutate(v)}>
          <Form.Item name="uscc" label="统一社会信用代码" rules={[{ required: true, len: 18, message: '应为 18 位' }]}>
            <Input maxLength={18} />
          </Form.Item>
          <Form.Item
            name="usccOverride"
            valuePropName="checked"
            extra="仅用于已核验材料、但无法通过 GB 32100 校验的早期试点代码；记入审计"
          >
            <Checkbox>核验放行未通过校验的试点代码</Checkbox>
          </Form.Item>
          <Form.Item name="name" label="单位名称" rules={[{ required: true, message: '请输入单位名称' }]}>
            <Input maxLength={100} />
          </Form.Item>
          <Form.Item name="unitType" label="单位类型" rules={[{ required: true, message: '请选择' }]}>
            <Select options={Object.entries(UNIT_TYPE_LABELS).map(([value, label]) => ({ value, label }))} />
          </Form.Item>
          <Form.Item name="legalRepName" label="法定代表人" rules={[{ required: true, message: '请输入' }]}>
            <Input maxLength={30} />
          </Form.Item>
          <Form.Item
            name="adminResidentId"
            label="首位管理员身份证号"
            extra="须已注册个人账号"
            rules={[{ required: true, message: '请输入' }]}
          >
            <Input maxLength={18} />
          </Form.Item>
        </Form>
      </Modal>
    </>
  );
}

/** 经办人: by the agent's ID number / mobile, or the unit's code / name (masked). */
export function AgentsPage() {
  const [q, setQ] = useState('');
  const { data, error, isFetching } = useQuery({
    queryKey: ['user', 'admin', 'agents', q],
    queryFn: () => api<Agent[]>(`/api/user/admin/agents?limit=100${q ? `&q=${encodeURIComponent(q)}` : ''}`),
  });
  return (
    <>
      <PageTitle>经办人</PageTitle>
      <SearchBar placeholder="经办人身份证号 / 手机号，或单位代码 / 名称" onSearch={setQ} />
      {error ? <Alert type="error" showIcon title={errorText(error)} style={{ marginBottom: 16 }} /> : null}
      <Table<Agent>
        rowKey={(a) => `${a.unitId}:${a.personId}`}
        loading={isFetching}
        dataSource={data ?? []}
        scroll={{ x: 900 }}
        columns={[
          { title: '单位', render: (_, a) => a.unit?.name },
          { title: '统一社会信用代码', render: (_, a) => a.unit?.uscc },
          { title: '经办人', render: (_, a) => a.person.name },
          { title: '身份证号', render: (_, a) => a.person.residentId },
          { title: '手机号', render: (_, a) => a.person.mobile },
          { title: '角色', render: (_, a) => AGENT_ROLE_LABELS[a.role] },
          {
            title: '有效期',
            render: (_, a) =>
              a.active ? a.expiresAt ? `至 ${dateTime(a.expiresAt)}` : '长期' : <Tag color="red">已过期</Tag>,
          },
        ]}
      />
    </>
  );
}

/** 工作人员与角色 (user:admin): staff of this region, role grants per region, role definitions. */
export function StaffPage() {
  return (
    <>
      <PageTitle>工作人员与角色</PageTitle>
      <Tabs
        items={[
          { key: 'staff', label: '工作人员', children: <StaffTab /> },
          { key: 'roles', label: '角色', children: <RolesTab /> },
        ]}
      />
    </>
  );
}

function StaffTab() {
  const { modal } = App.useApp();
  const toast = useToast();
  const qc = useQueryClient();
  const [creating, setCreating] = useState(false);
  const [contactOf, setContactOf] = useState<Staff>();
  const [form] = Form.useForm();
  const staff = useQuery({
    queryKey: ['user', 'admin', 'staff'],
    queryFn: () => api<Staff[]>('/api/user/admin/staff'),
  });
  const roles = useQuery({ queryKey: ['user', 'admin', 'roles'], queryFn: () => api<Role[]>('/api/user/admin/roles') });
  const roleName = (code: string) => roles.data?.find((r) => r.code === code)?.name ?? code;
  const refresh = () => qc.invalidateQueries({ queryKey: ['user', 'admin', 'staff'] });
  const create = useMutation({
    mutationFn: (v: Record<string, unknown>) => api('/api/user/admin/staff', { body: v }),
    onSuccess: () => {
      setCreating(false);
      refresh();
    },
    onError: (err) => toast.refused(form, err),
  });
  const grant = useMutation({
    mutationFn: (v: { id: string; roleCode: string }) =>
      api(`/api/user/admin/staff/${v.id}/roles`, { body: { roleCode: v.roleCode } }),
    onSuccess: refresh,
    onError: toast.failed,
  });
  const revoke = useMutation({
    mutationFn: (v: { id: string; roleCode: string }) =>
      api(`/api/user/admin/staff/${v.id}/roles/${v.roleCode}`, { method: 'DELETE' }),
    onSuccess: refresh,
    onError: toast.failed,
  });
  const setStatus = useMutation({
    mutationFn: (v: { id: string; status: string }) =>
      api(`/api/user/admin/staff/${v.id}`, { method: 'PATCH', body: { status: v.status } }),
    onSuccess: refresh,
    onError: toast.failed,
  });
  const resetPassword = useMutation({
    mutationFn: (id: string) =>
      api<{ temporaryPassword: string }>(`/api/user/admin/staff/${id}/reset-password`, { body: {} }),
    onSuccess: (r) => {
      refresh();
      showTemporaryPassword(modal, r.temporaryPassword, '该工作人员');
    },
    onError: toast.failed,
  });
  return (
    <>
      <Button type="primary" onClick={() => setCreating(true)} style={{ marginBottom: 12 }}>
        新建工作人员
      </Button>
      {staff.error ? <Alert type="error" showIcon title={errorText(staff.error)} /> : null}
      <Table<Staff>
        rowKey="id"
        loading={staff.isLoading}
        dataSource={staff.data ?? []}
        scroll={{ x: 900 }}
        columns={[
          { title: '用户名', dataIndex: 'username' },
          { title: '名称', dataIndex: 'displayName' },
          { title: '所属统筹区', dataIndex: 'regionCode' },
          {
            title: '角色（按统筹区）',
            render: (_, s) => (
              <Space wrap>
                {s.grants.map((g) => (
                  <Tag
                    key={`${g.regionCode}:${g.roleCode}`}
                    closable
                    onClose={(e) => {
                      e.preventDefault();
                      revoke.mutate({ id: s.id, roleCode: g.roleCode });
                    }}
                  >
                    {g.regionCode} · {roleName(g.roleCode)}
                  </Tag>
                ))}
                <Select
                  aria-label="授予本区角色"
                  size="small"
                  placeholder="授予本区角色"
                  style={{ width: 140 }}
                  value={null}
                  onChange={(roleCode: string) => grant.mutate({ id: s.id, roleCode })}
                  options={(roles.data ?? []).map((r) => ({ value: r.code, label: r.name }))}
                />
              </Space>
            ),
          },
          {
            title: '启用',
            render: (_, s) => (
              <Switch
                aria-label={`启用 ${s.username}`}
                checked={s.status === 'active'}
                onChange={(on) => setStatus.mutate({ id: s.id, status: on ? 'active' : 'disabled' })}
              />
            ),
          },
          {
            title: '安全提醒',
            render: (_, s) => (
              <Space wrap>
                {s.mobile || s.email ? (
                  <Typography.Text>{[s.mobile, s.email].filter(Boolean).join('，')}</Typography.Text>
                ) : (
                  <Typography.Text type="secondary">未设置</Typography.Text>
                )}
                <Button size="small" onClick={() => setContactOf(s)} aria-label={`设置 ${s.username} 的提醒方式`}>
                  设置
                </Button>
              </Space>
            ),
          },
          {
            title: '密码',
            render: (_, s) => (
              <Space wrap>
                {s.passwordExpiredAfterDays ? (
                  <Tag color="orange">已超 {s.passwordExpiredAfterDays} 天，登录时须修改</Tag>
                ) : s.mustChangePassword ? (
                  <Tag color="orange">临时密码，登录时须修改</Tag>
                ) : (
                  <Typography.Text type="secondary">更新于 {chinaDay(new Date(s.passwordChangedAt))}</Typography.Text>
                )}
                <Popconfirm
                  title="重置后将生成临时密码，下次登录须修改，确认？"
                  onConfirm={() => resetPassword.mutate(s.id)}
                >
                  <Button size="small">重置密码</Button>
                </Popconfirm>
              </Space>
            ),
          },
        ]}
      />
      <Typography.Paragraph type="secondary" style={{ marginTop: 8 }}>
        角色只在当前统筹区生效；在其他统筹区授权请先切换统筹区。关闭标签即撤销该统筹区的角色。
      </Typography.Paragraph>
      <Modal
        title="新建工作人员"
        open={creating}
        onCancel={() => setCreating(false)}
        onOk={() => form.submit()}
        confirmLoading={create.isPending}
        destroyOnHidden
      >
        <Form form={form} layout="vertical" onFinish={(v) => create.mutate(v)} initialValues={{ roles: [] }}>
          <Form.Item name="username" label="用户名" rules={[{ required: true, message: '请输入用户名' }]}>
            <Input maxLength={32} />
          </Form.Item>
          <Form.Item name="displayName" label="名称" rules={[{ required: true, message: '请输入名称' }]}>
            <Input maxLength={40} />
          </Form.Item>
          <Form.Item
            name="password"
            label="初始密码"
            extra="至少 8 位，含三类字符；首次登录时须修改"
            rules={[{ required: true, min: 8, message: '至少 8 位' }]}
          >
            <Input.Password autoComplete="new-password" />
          </Form.Item>
          <Form.Item name="roles" label="本统筹区角色">
            <Select mode="multiple" options={(roles.data ?? []).map((r) => ({ value: r.code, label: r.name }))} />
          </Form.Item>
          <StaffContactFields />
        </Form>
      </Modal>
      <StaffContactModal staff={contactOf} onClose={() => setContactOf(undefined)} onSaved={refresh} />
    </>
  );
}

/** Where a staff account's security alerts go: e-mail first, else SMS. */
function StaffContactFields(props: { current?: Staff }) {
  const keep = props.current ? '留空则不变' : '选填';
  return (
    <>
      <Typography.Paragraph type="secondary">
        账号被锁定或在新设备登录时，提醒发到邮箱；没有邮箱时发短信。
      </Typography.Paragraph>
      <Form.Item
        name="email"
        label="接收提醒的电子邮箱"
        rules={[{ type: 'email', message: '请填写有效的电子邮箱' }]}
        extra={props.current?.email ? `当前：${props.current.email}，${keep}` : keep}
      >
        <Input maxLength={254} autoComplete="off" />
      </Form.Item>
      <Form.Item
        name="mobile"
        label="接收提醒的手机号"
        rules={[{ pattern: MOBILE, message: '应为 1 开头的 11 位手机号码' }]}
        extra={props.current?.mobile ? `当前：${props.current.mobile}，${keep}` : keep}
      >
        <Input maxLength={11} inputMode="numeric" autoComplete="off" />
      </Form.Item>
      {props.current?.mobile || props.current?.email ? (
        <Form.Item name="clear" valuePropName="checked">
          <Checkbox>清除现有的邮箱和手机号，不再发送提醒</Checkbox>
        </Form.Item>
      ) : null}
    </>
  );
}

/** The alert addresses a contact form asks to change: cleared, or those typed in (an empty field keeps its value). */
function contactPatch(v: { email?: string; mobile?: string; clear?: boolean }) {
  return v.clear ? { email: null, mobile: null } : { email: v.email || undefined, mobile: v.mobile || undefined };
}

function StaffContactModal(props: { staff?: Staff; onClose: () => void; onSaved: () => void }) {
  const toast = useToast();
  const [form] = Form.useForm();
  const s = props.staff;
  const save = useMutation({
    mutationFn: (v: { email?: string; mobile?: string; clear?: boolean }) =>
      api(`/api/user/admin/staff/${s?.id}`, {
        method: 'PATCH',
        body: contactPatch(v),
      }),
    onSuccess: () => {
      toast.success('已保存');
      props.onSaved();
      props.onClose();
    },
    onError: (err) => toast.refused(form, err),
  });
  return (
    <Modal
      title={`安全提醒：${s?.displayName ?? ''}（${s?.username ?? ''}）`}
      open={!!s}
      onCancel={props.onClose}
      onOk={() => form.submit()}
      okText="保存"
      confirmLoading={save.isPending}
      destroyOnHidden
    >
      <Form form={form} layout="vertical" onFinish={(v) => save.mutate(v)}>
        <StaffContactFields current={s} />
      </Form>
    </Modal>
  );
}

function RolesTab() {
  const toast = useToast();
  const qc = useQueryClient();
  const [editing, setEditing] = useState<Partial<Role>>();
  const [form] = Form.useForm();
  const roles = useQuery({ queryKey: ['user', 'admin', 'roles'], queryFn: () => api<Role[]>('/api/user/admin/roles') });
  const perms = useQuery({
    queryKey: ['user', 'admin', 'permissions'],
    queryFn: () => api<Array<{ code: string; name: string; center: string }>>('/api/user/admin/permissions'),
  });
  const permName = (code: string) =>
    code === '*' ? '全部权限' : (perms.data?.find((p) => p.code === code)?.name ?? code);
  const save = useMutation({
    mutationFn: (v: { code: string; name: string; permissions: string[] }) =>
      api(`/api/user/admin/roles/${v.code}`, { method: 'PUT', body: { name: v.name, permissions: v.permissions } }),
    onSuccess: () => {
      setEditing(undefined);
      qc.invalidateQueries({ queryKey: ['user', 'admin', 'roles'] });
    },
    onError: (err) => toast.refused(form, err),
  });
  const remove = useMutation({
    mutationFn: (code: string) => api(`/api/user/admin/roles/${code}`, { method: 'DELETE' }),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['user', 'admin', 'roles'] }),
    onError: toast.failed,
  });
  return (
    <>
      <Button
        type="primary"
        style={{ marginBottom: 12 }}
        onClick={() => {
          form.resetFields();
          setEditing({});
        }}
      >
        新建角色
      </Button>
      <Table<Role>
        rowKey="code"
        loading={roles.isLoading}
        dataSource={roles.data ?? []}
        pagination={false}
        scroll={{ x: 800 }}
        columns={[
          { title: '代码', dataIndex: 'code' },
          {
            title: '名称',
            dataIndex: 'name',
            render: (v, r) =>
              r.builtin ? (
                <Space>
                  {v}
                  <Tag>内置</Tag>
                </Space>
              ) : (
                v
              ),
          },
          {
            title: '权限',
            dataIndex: 'permissions',
            render: (ps: string[]) => (
              <Space wrap size={4}>
                {ps.map((p) => (
                  <Tag key={p} title={p}>
                    {permName(p)}
                  </Tag>
                ))}
              </Space>
            ),
          },
          {
            title: '操作',
            render: (_, r) =>
              r.builtin ? null : (
                <Space>
                  <Button
                    size="small"
                    onClick={() => {
                      form.setFieldsValue(r);
                      setEditing(r);
                    }}
                  >
                    编辑
                  </Button>
                  <Popconfirm title="确认删除该角色？" onConfirm={() => remove.mutate(r.code)}>
                    <Button size="small" danger>
                      删除
                    </Button>
                  </Popconfirm>
                </Space>
              ),
          },
        ]}
      />
      <Modal
        title={editing?.code ? `编辑角色 ${editing.code}` : '新建角色'}
        open={!!editing}
        onCancel={() => setEditing(undefined)}
        onOk={() => form.submit()}
        confirmLoading={save.isPending}
        destroyOnHidden
      >
        <Form form={form} layout="vertical" onFinish={(v) => save.mutate({ ...v, code: editing?.code ?? v.code })}>
          <Form.Item
            name="code"
            label="代码"
            rules={[{ required: true, pattern: /^[a-z][a-z0-9_-]{1,39}$/, message: '小写字母开头' }]}
          >
            <Input disabled={!!editing?.code} />
          </Form.Item>
          <Form.Item name="name" label="名称" rules={[{ required: true, message: '请输入名称' }]}>
            <Input maxLength={40} />
          </Form.Item>
          <Form.Item name="permissions" label="权限" rules={[{ required: true, message: '请选择权限' }]}>
            <Select
              mode="multiple"
              optionFilterProp="label"
              options={(perms.data ?? []).map((p) => ({ value: p.code, label: `${p.name}（${p.code}）` }))}
            />
          </Form.Item>
        </Form>
      </Modal>
    </>
  );
}

/** A password set by a clerk, shown once; the account must change it at its next login. */
function showTemporaryPassword(modal: ReturnType<typeof App.useApp>['modal'], password: string, who: string): void {
  modal.info({
    title: '临时密码（仅显示一次）',
    content: (
      <>
        <Typography.Paragraph copyable strong style={{ fontSize: 18 }}>
          {password}
        </Typography.Paragraph>
        <Typography.Paragraph type="secondary">
          {who}在各设备上的登录已退出，下次登录时须设置新密码。
        </Typography.Paragraph>
      </>
    ),
  });
}

/** 我的账号: the signed-in staff member's own password, alert addresses, devices and login history. */
export function MyStaffAccountPage() {
  const toast = useToast();
  const qc = useQueryClient();
  const [pwForm] = Form.useForm();
  const [contactForm] = Form.useForm();
  const me = useStaffMe<Staff & StaffMe>();
  const change = useMutation({
    mutationFn: (v: { oldPassword: string; newPassword: string }) =>
      api('/api/user/admin/me/password', { body: { oldPassword: v.oldPassword, newPassword: v.newPassword } }),
    onSuccess: () => {
      toast.success('密码已修改，其他设备上的登录已退出');
      pwForm.resetFields();
      for (const queryKey of [['staff-me'], ['auth', 'sessions']]) void qc.invalidateQueries({ queryKey });
    },
    onError: (err) =>
      pwForm.setFields(fieldErrors(err).map((e) => ({ ...e, name: e.name === 'password' ? 'newPassword' : e.name }))),
  });
  const contact = useMutation({
    mutationFn: (v: { password: string; email?: string; mobile?: string; clear?: boolean }) =>
      api('/api/user/admin/me/contact', {
        method: 'PATCH',
        body: { password: v.password, ...contactPatch(v) },
      }),
    onSuccess: () => {
      toast.success('已保存');
      contactForm.resetFields();
      void qc.invalidateQueries({ queryKey: ['staff-me'] });
    },
    onError: (err) => toast.refused(contactForm, err),
  });
  const s = me.data;
  return (
    <>
      <PageTitle>我的账号</PageTitle>
      <StaffPasswordNotice />
      <Space orientation="vertical" size={16} style={{ width: '100%' }}>
        <Card title="账号信息" loading={me.isLoading}>
          {me.error ? <Alert type="error" showIcon title={errorText(me.error)} /> : null}
          {s ? (
            <Descriptions column={{ xs: 1, md: 2 }}>
              <Descriptions.Item label="用户名">{s.username}</Descriptions.Item>
              <Descriptions.Item label="名称">{s.displayName}</Descriptions.Item>
              <Descriptions.Item label="所属统筹区">{s.regionCode}</Descriptions.Item>
              <Descriptions.Item label="密码更新于">{chinaDay(new Date(s.passwordChangedAt))}</Descriptions.Item>
              {s.passwordExpiresAt ? (
                <Descriptions.Item label="密码有效期至">{chinaDay(new Date(s.passwordExpiresAt))}</Descriptions.Item>
              ) : null}
            </Descriptions>
          ) : null}
        </Card>
        <Card title="修改密码">
          <FormError error={change.error} />
          <Form form={pwForm} layout="vertical" onFinish={(v) => change.mutate(v)} style={{ maxWidth: 480 }}>
            <Form.Item name="oldPassword" label="原密码" rules={[{ required: true, message: '请输入原密码' }]}>
              <Input.Password autoComplete="current-password" />
            </Form.Item>
            <NewPasswordFields facts={() => ({})} />
            <Button type="primary" htmlType="submit" loading={change.isPending}>
              修改密码
            </Button>
          </Form>
        </Card>
        <Card title="安全提醒">
          <Form form={contactForm} layout="vertical" onFinish={(v) => contact.mutate(v)} style={{ maxWidth: 480 }}>
            <StaffContactFields current={s} />
            <Form.Item
              name="password"
              label="当前密码"
              extra="为防止他人借用您的登录改走提醒，保存前请输入密码"
              rules={[{ required: true, message: '请输入当前密码' }]}
            >
              <Input.Password autoComplete="current-password" />
            </Form.Item>
            <Button type="primary" htmlType="submit" loading={contact.isPending}>
              保存
            </Button>
          </Form>
        </Card>
        <SecurityPanelCards />
      </Space>
    </>
  );
}
