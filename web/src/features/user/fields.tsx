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

/**
 * A new password and its confirmation, with the policy stated under it and checked as the server checks it
 * (`facts`: the ID number and mobile it must not contain).
 */
export function NewPasswordFields(props: {
  name?: string;
  label?: string;
  facts: () => { residentId?: string; mobile?: string };
}) {
  const name = props.name ?? 'newPassword';
  const label = props.label ?? '新密码';
  return (
    <>
      <Form.Item
        name={name}
        label={label}
        extra="至少 8 位，含大写字母、小写字母、数字、符号中的三类，不含身份证号和手机号"
        rules={passwordRules(props.facts)}
      >
        <Input.Password autoComplete="new-password" />
      </Form.Item>
      <Form.Item
        name={`${name}Confirm`}
        label={`确认${label}`}
        dependencies={[name]}
        rules={[
          { required: true, message: '请再次输入密码' },
          ({ getFieldValue }) => ({
            validator: async (_, v) => {
              if (v && v !== getFieldValue(name)) throw new Error('两次输入的密码不一致');
            },
          }),
        ]}
      >
        <Input.Password autoComplete="new-password" />
      </Form.Item>
    </>
  );
}

/** The same rules the server applies, so most mistakes are caught before sending. */
export const passwordRules = (facts: () => { residentId?: string; mobile?: string } = () => ({})) => [
  { required: true, message: '请设置密码' },
  { min: 8, message: '密码至少 8 位' },
  {
    validator: async (_: unknown, v?: string) => {
      if (!v) return;
      const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((r) => r.test(v)).length;
      if (classes < 3) throw new Error('须包含大写字母、小写字母、数字、符号中的至少三类');
      const f = facts();
      if (f.residentId && v.toUpperCase().includes(f.residentId.toUpperCase())) throw new Error('不能包含身份证号');
      if (f.mobile && v.includes(f.mobile)) throw new Error('不能包含手机号');
    },
  },
];

/** The error of a submission that is not about one field (those show under their fields). */
export function FormError({ error }: { error: unknown }) {
  if (!error || fieldErrors(error).length) return null;
  return <Alert type="error" showIcon title={errorText(error)} style={{ marginBottom: 16 }} />;
}
