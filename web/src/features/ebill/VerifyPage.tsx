import { CheckCircleFilled, CloseCircleFilled, ExclamationCircleFilled, ReloadOutlined } from '@ant-design/icons';
import { Alert, Button, Card, Descriptions, Form, Input, Result, Space, Typography } from 'antd';
import { useCallback, useEffect, useState } from 'react';
import { ApiError, api, errorText } from '../../lib/api';
import { useRegionCode } from '../../lib/region';
import { dateTime, parseYuan, yuan } from './format';

interface Answer {
  result: 'valid' | 'reversed';
  bill: {
    billCode: string;
    billNumber: string;
    kind: 'blue' | 'red';
    issuedAt: string;
    total: number;
    refundedTotal: number;
    payeeName: string;
  };
}

interface Captcha {
  id: string;
  svg: string;
}

interface Fields {
  billCode: string;
  billNumber: string;
  checkCode: string;
  amount: string;
  captchaAnswer?: string;
}

/** 电子票据查验 (public, phone-first): by code + number + check code + amount, or by the bill's QR link. */
export function EbillVerifyPage() {
  const region = useRegionCode();
  const [form] = Form.useForm<Fields>();
  const [answer, setAnswer] = useState<Answer>();
  const [failure, setFailure] = useState<{ code: string; text: string }>();
  const [captcha, setCaptcha] = useState<Captcha>();
  const [busy, setBusy] = useState(false);
  const headers = { 'x-region-code': region };
  const qr = new URLSearchParams(location.search).get('qr');

  const loadCaptcha = useCallback(async () => {
    setCaptcha(await api<Captcha>('/api/ebill/verify/captcha', { headers: { 'x-region-code': region } }));
    form.setFieldValue('captchaAnswer', '');
  }, [region, form]);

  const handle = async (call: () => Promise<Answer>) => {
    setBusy(true);
    setFailure(undefined);
    setAnswer(undefined);
    try {
      setAnswer(await call());
    } catch (e) {
      const code = e instanceof ApiError ? e.code : 'ERROR';
      setFailure({ code, text: errorText(e) });
      if (code === 'EBILL_CAPTCHA_REQUIRED' || code === 'EBILL_CAPTCHA_INVALID' || captcha) await loadCaptcha();
    } finally {
      setBusy(false);
    }
  };

  // biome-ignore lint/correctness/useExhaustiveDependencies: runs once, for the scanned link
  useEffect(() => {
    if (qr) void handle(() => api<Answer>('/api/ebill/verify/qr', { body: { qr }, headers }));
  }, [qr]);

  const submit = (v: Fields) =>
    handle(() => {
      const amount = parseYuan(v.amount);
      return api<Answer>('/api/ebill/verify', {
        headers,
        body: {
          billCode: v.billCode.trim(),
          billNumber: v.billNumber.trim(),
          checkCode: v.checkCode.trim().toUpperCase(),
          amount,
          ...(captcha ? { captchaId: captcha.id, captchaAnswer: v.captchaAnswer ?? '' } : {}),
        },
      });
    });

  return (
    <div style={{ maxWidth: 560, margin: '0 auto', padding: '16px 12px 40px' }}>
      <Typography.Title level={3} style={{ textAlign: 'center' }}>
        医疗收费电子票据查验
      </Typography.Title>
      {answer && (
        <Result
          status={answer.result === 'valid' ? 'success' : 'warning'}
          icon={answer.result === 'valid' ? <CheckCircleFilled /> : <ExclamationCircleFilled />}
          title={answer.result === 'valid' ? '票据真实有效' : '票据已冲红作废'}
          subTitle="已核对财政票据平台签名与开票记录"
          extra={
            <Descriptions column={1} size="small" bordered>
              <Descriptions.Item label="票据代码">{answer.bill.billCode}</Descriptions.Item>
              <Descriptions.Item label="票据号码">{answer.bill.billNumber}</Descriptions.Item>
              <Descriptions.Item label="票据类型">
                {answer.bill.kind === 'red' ? '红字票据' : '正常票据'}
              </Descriptions.Item>
              <Descriptions.Item label="开票时间">{dateTime(answer.bill.issuedAt)}</Descriptions.Item>
              <Descriptions.Item label="金额（元）">{yuan(answer.bill.total)}</Descriptions.Item>
              {answer.bill.refundedTotal > 0 && (
                <Descriptions.Item label="已冲红（元）">{yuan(answer.bill.refundedTotal)}</Descriptions.Item>
              )}
              <Descriptions.Item label="收款单位">{answer.bill.payeeName}</Descriptions.Item>
            </Descriptions>
          }
        />
      )}
      {failure && (
        <Alert
          style={{ marginBottom: 16 }}
          type={failure.code === 'EBILL_VERIFY_NOT_FOUND' || failure.code === 'EBILL_QR_INVALID' ? 'error' : 'warning'}
          showIcon
          icon={<CloseCircleFilled />}
          message={failure.code === 'EBILL_VERIFY_NOT_FOUND' ? '查无此票据' : failure.text}
          description={failure.code === 'EBILL_VERIFY_NOT_FOUND' ? failure.text : undefined}
        />
      )}
      {qr && captcha && (
        <Card title="继续查验扫描的二维码" style={{ marginBottom: 16 }}>
          <Form
            layout="vertical"
            size="large"
            onFinish={(v: { answer: string }) =>
              handle(() =>
                api<Answer>('/api/ebill/verify/qr', {
                  headers,
                  body: { qr, captchaId: captcha.id, captchaAnswer: v.answer },
                }),
              )
            }
          >
            <CaptchaField name="answer" svg={captcha.svg} onRenew={() => void loadCaptcha()} />
            <Button type="primary" htmlType="submit" block loading={busy}>
              查验二维码
            </Button>
          </Form>
        </Card>
      )}
      <Card title="按票面信息查验">
        <Form form={form} layout="vertical" onFinish={submit} size="large" requiredMark={false}>
          <Form.Item
            name="billCode"
            label="票据代码"
            rules={[{ required: true, pattern: /^\d{8}$/, message: '请输入 8 位票据代码' }]}
          >
            <Input inputMode="numeric" maxLength={8} placeholder="8 位数字" />
          </Form.Item>
          <Form.Item
            name="billNumber"
            label="票据号码"
            rules={[{ required: true, pattern: /^\d{10}$/, message: '请输入 10 位票据号码' }]}
          >
            <Input inputMode="numeric" maxLength={10} placeholder="10 位数字" />
          </Form.Item>
          <Form.Item
            name="checkCode"
            label="校验码"
            rules={[{ required: true, pattern: /^[0-9A-Za-z]{6}$/, message: '请输入 6 位校验码' }]}
          >
            <Input maxLength={6} placeholder="6 位字母或数字" style={{ textTransform: 'uppercase' }} />
          </Form.Item>
          <Form.Item
            name="amount"
            label="开票金额（元）"
            rules={[
              { required: true, message: '请输入票面金额' },
              {
                validator: async (_, v) =>
                  v && parseYuan(v) === undefined ? Promise.reject(new Error('金额格式如 123.45')) : undefined,
              },
            ]}
          >
            <Input inputMode="decimal" placeholder="如 123.45" />
          </Form.Item>
          {captcha && <CaptchaField name="captchaAnswer" svg={captcha.svg} onRenew={() => void loadCaptcha()} />}
          <Button type="primary" htmlType="submit" block loading={busy}>
            查验
          </Button>
        </Form>
      </Card>
      <Typography.Paragraph type="secondary" style={{ marginTop: 16, fontSize: 13 }}>
        也可用手机扫描票据左上角的二维码直接查验。查验结果只显示票面信息，不显示交款人信息。
      </Typography.Paragraph>
    </div>
  );
}

/** The arithmetic captcha: its picture, the answer, and 换一题. */
function CaptchaField(props: { name: string; svg: string; onRenew: () => void }) {
  return (
    <Form.Item label="验证码" required>
      <Space.Compact style={{ width: '100%' }}>
        <Form.Item name={props.name} noStyle rules={[{ required: true, message: '请输入计算结果' }]}>
          <Input inputMode="numeric" maxLength={4} placeholder="计算结果" />
        </Form.Item>
        <img
          alt="算术验证码"
          src={`data:image/svg+xml;utf8,${encodeURIComponent(props.svg)}`}
          height={40}
          style={{ border: '1px solid #d9d9d9' }}
        />
        <Button icon={<ReloadOutlined />} onClick={props.onRenew} aria-label="换一题" />
      </Space.Compact>
    </Form.Item>
  );
}
