import { Alert, Form, Input, Space } from 'antd';
import type { ReactNode } from 'react';
import { errorText, fieldErrors } from '../../lib/api';
import type { OtpPurpose } from './api';

import { SmsCodeButton } from './SmsCodeButton';

/** A 6-digit SMS code input with its 获取验证码 button, as one labelled form field. */
export function SmsCodeField(props: {
  id: string;
  mobile?: string;
  purpose: OtpPurpose;
  name?: string;
  label?: ReactNode;
  size?: 'large';
}) {
  return (
    <Form.Item label={props.label ?? '短信验证码'} required htmlFor={props.id}>
      <Space.Compact style={{ width: '100%' }}>
        <Form.Item name={props.name ?? 'smsCode'} noStyle rules={[{ required: true, message: '请输入验证码' }]}>
          <Input id={props.id} maxLength={6} inputMode="numeric" autoComplete="one-time-code" />
        </Form.Item>
        <SmsCodeButton mobile={props.mobile} purpose={props.purpose} size={props.size} />
      </Space.Compact>
    </Form.Item>
  );
}

/** The error of a submission that is not about one field (those show under their fields). */
export function FormError({ error }: { error: unknown }) {
  if (!error || fieldErrors(error).length) return null;
  return <Alert type="error" showIcon title={errorText(error)} style={{ marginBottom: 16 }} />;
}
