import { Button } from 'antd';
import { useEffect, useState } from 'react';
import { MOBILE } from '../../lib/ids';
import { useToast } from '../../lib/toast';
import { type OtpPurpose, sendOtp } from './api';

/** 获取验证码: asks the auth center to text a code, then counts down 60 s before allowing another. */
export function SmsCodeButton({ mobile, purpose, size }: { mobile?: string; purpose: OtpPurpose; size?: 'large' }) {
  const toast = useToast();
  const [left, setLeft] = useState(0);
  const [sending, setSending] = useState(false);
  useEffect(() => {
    if (left <= 0) return;
    const t = setTimeout(() => setLeft(left - 1), 1000);
    return () => clearTimeout(t);
  }, [left]);
  const onClick = async () => {
    if (!mobile || !MOBILE.test(mobile)) {
      toast.warning('请先填写正确的手机号码');
      return;
    }
    setSending(true);
    try {
      await sendOtp(mobile, purpose);
      toast.success('验证码已发送，请注意查收短信');
      setLeft(60);
    } catch (err) {
      toast.failed(err);
    } finally {
      setSending(false);
    }
  };
  return (
    <Button size={size} onClick={onClick} loading={sending} disabled={left > 0} style={{ minWidth: 112 }}>
      {left > 0 ? `${left} 秒后重发` : '获取验证码'}
    </Button>
  );
}
