import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Button, Card, Form, Input, Modal, Table, Tag, Typography, Upload } from 'antd';
import { useState } from 'react';
import { PageTitle } from '../../components/PortalShell';
import { EmptyState, ErrorState, Loading } from '../../components/States';
import { api, errorText } from '../../lib/api';
import { dateMinute } from '../../lib/time';
import { useToast } from '../../lib/toast';

interface TrustedCa {
  id: string;
  name: string;
  crlUpdatedAt: string | null;
  createdAt: string;
}

const time = dateMinute;

/** A PEM text area that can also be filled from a file (.pem/.crt/.crl). */
function PemInput(props: { value?: string; onChange?: (v: string) => void; id?: string; placeholder: string }) {
  return (
    <>
      <Input.TextArea
        id={props.id}
        rows={6}
        value={props.value}
        onChange={(e) => props.onChange?.(e.target.value)}
        placeholder={props.placeholder}
        style={{ fontFamily: 'monospace', fontSize: 12 }}
      />
      <Upload
        accept=".pem,.crt,.cer,.crl"
        showUploadList={false}
        beforeUpload={async (file) => {
          props.onChange?.(await file.text());
          return false;
        }}
      >
        <Button style={{ marginTop: 8 }}>从文件读取</Button>
      </Upload>
    </>
  );
}

/** 证书登录信任的 CA: the CAs whose certificates may log in (chain, validity and CRL are checked at login). */
export function TrustedCasPage() {
  const toast = useToast();
  const qc = useQueryClient();
  const [adding, setAdding] = useState(false);
  const [crlFor, setCrlFor] = useState<TrustedCa>();
  const [addForm] = Form.useForm<{ name: string; certPem: string }>();
  const [crlForm] = Form.useForm<{ crlPem: string }>();
  const list = useQuery({ queryKey: ['auth', 'cas'], queryFn: () => api<TrustedCa[]>('/api/auth/cas') });
  const refresh = () => void qc.invalidateQueries({ queryKey: ['auth', 'cas'] });
  const add = useMutation({
    mutationFn: (v: { name: string; certPem: string }) => api<{ id: string }>('/api/auth/cas', { body: v }),
    onSuccess: () => {
      toast.success('已添加信任的 CA');
      setAdding(false);
      addForm.resetFields();
      refresh();
    },
  });
  const crl = useMutation({
    mutationFn: (v: { crlPem: string }) =>
      api(`/api/auth/cas/${encodeURIComponent(crlFor!.id)}/crl`, { method: 'PUT', body: v }),
    onSuccess: () => {
      toast.success('吊销列表已更新');
      setCrlFor(undefined);
      crlForm.resetFields();
      refresh();
    },
  });
  return (
    <>
      <PageTitle
        extra={
          <Button type="primary" onClick={() => setAdding(true)}>
            添加 CA
          </Button>
        }
      >
        数字证书 CA
      </PageTitle>
      <Card>
        <Typography.Paragraph type="secondary">
          数字证书登录只接受由这些 CA 签发、在有效期内且未被吊销的证书（支持 RSA、ECDSA 与 SM2）。请定期更新吊销列表
          (CRL)。
        </Typography.Paragraph>
        {list.isPending ? (
          <Loading />
        ) : list.isError ? (
          <ErrorState error={list.error} onRetry={() => void list.refetch()} />
        ) : list.data.length === 0 ? (
          <EmptyState title="尚未配置信任的 CA" hint="数字证书登录在添加 CA 之后可用" />
        ) : (
          <Table<TrustedCa>
            rowKey="id"
            size="small"
            pagination={false}
            scroll={{ x: true }}
            dataSource={list.data}
            columns={[
              { title: '名称', dataIndex: 'name' },
              { title: '证书指纹 (SHA-256 前 32 位)', dataIndex: 'id', render: (v: string) => <code>{v}</code> },
              { title: '添加时间', dataIndex: 'createdAt', render: time },
              {
                title: '吊销列表',
                dataIndex: 'crlUpdatedAt',
                render: (v: string | null) => (v ? `更新于 ${time(v)}` : <Tag color="orange">未配置</Tag>),
              },
              {
                title: '操作',
                render: (_, ca) => (
                  <Button size="small" onClick={() => setCrlFor(ca)} aria-label={`更新 ${ca.name} 的吊销列表`}>
                    更新 CRL
                  </Button>
                ),
              },
            ]}
          />
        )}
      </Card>
      <Modal
        title="添加信任的 CA"
        open={adding}
        onCancel={() => setAdding(false)}
        onOk={() => addForm.submit()}
        confirmLoading={add.isPending}
        destroyOnHidden
      >
        {add.error ? <Typography.Text type="danger">{errorText(add.error)}</Typography.Text> : null}
        <Form form={addForm} layout="vertical" onFinish={(v) => add.mutate(v)}>
          <Form.Item
            name="name"
            label="名称"
            rules={[{ required: true, min: 2, max: 60, message: '请输入 2–60 字的名称' }]}
          >
            <Input placeholder="例如：示范省数字证书认证中心" />
          </Form.Item>
          <Form.Item name="certPem" label="CA 证书 (PEM)" rules={[{ required: true, message: '请粘贴或读取 CA 证书' }]}>
            <PemInput placeholder="-----BEGIN CERTIFICATE-----" />
          </Form.Item>
        </Form>
      </Modal>
      <Modal
        title={`更新吊销列表：${crlFor?.name ?? ''}`}
        open={crlFor !== undefined}
        onCancel={() => setCrlFor(undefined)}
        onOk={() => crlForm.submit()}
        confirmLoading={crl.isPending}
        destroyOnHidden
      >
        {crl.error ? <Typography.Text type="danger">{errorText(crl.error)}</Typography.Text> : null}
        <Form form={crlForm} layout="vertical" onFinish={(v) => crl.mutate(v)}>
          <Form.Item name="crlPem" label="CRL (PEM)" rules={[{ required: true, message: '请粘贴或读取 CRL' }]}>
            <PemInput placeholder="-----BEGIN X509 CRL-----" />
          </Form.Item>
        </Form>
      </Modal>
    </>
  );
}
