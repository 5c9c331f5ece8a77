import { CameraOutlined, UploadOutlined } from '@ant-design/icons';
import { useQueryClient } from '@tanstack/react-query';
import { Alert, Button, Card, Result, Space, Steps, Tag, Typography } from 'antd';
import { useEffect, useRef, useState } from 'react';
import { api, errorText, newIdempotencyKey } from '../../lib/api';
import { useToast } from '../../lib/toast';
import { deviceInfo, type LivenessStart } from './api';

/** Scales an image/video frame to at most `max` px wide and returns a JPEG data URL. */
function frameOf(source: HTMLVideoElement | HTMLImageElement, max = 480): string {
  const w = source instanceof HTMLVideoElement ? source.videoWidth : source.naturalWidth;
  const h = source instanceof HTMLVideoElement ? source.videoHeight : source.naturalHeight;
  const scale = Math.min(1, max / Math.max(1, w));
  const canvas = document.createElement('canvas');
  canvas.width = Math.round(w * scale);
  canvas.height = Math.round(h * scale);
  canvas.getContext('2d')!.drawImage(source, 0, 0, canvas.width, canvas.height);
  return canvas.toDataURL('image/jpeg', 0.8);
}

function stopStream(s: MediaStream | null): void {
  for (const t of s?.getTracks() ?? []) t.stop();
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Activation with the real-person check. The provider here is the SANDBOX (沙箱): it checks images, not faces. */
export function ActivatePage({ onDone }: { onDone?: () => void }) {
  const toast = useToast();
  const qc = useQueryClient();
  const [session, setSession] = useState<LivenessStart>();
  const [step, setStep] = useState(0);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const [camera, setCamera] = useState(false);
  const video = useRef<HTMLVideoElement>(null);
  const stream = useRef<MediaStream | null>(null);

  useEffect(() => () => stopStream(stream.current), []);
  // attach the stream once the <video> is rendered
  useEffect(() => {
    if (camera && video.current && stream.current) {
      video.current.srcObject = stream.current;
      void video.current.play().catch(() => {});
    }
  }, [camera]);

  const start = async () => {
    setError(undefined);
    try {
      setSession(await api<LivenessStart>('/api/evoucher/me/liveness', { method: 'POST', body: {} }));
      setStep(1);
    } catch (e) {
      setError(errorText(e));
    }
  };

  const openCamera = async () => {
    setError(undefined);
    try {
      stream.current = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'user' }, audio: false });
      setCamera(true);
    } catch {
      setError('无法打开摄像头，请允许浏览器使用摄像头，或改为上传本人照片');
    }
  };

  const submit = async (mode: 'camera' | 'photo', frames: string[]) => {
    if (!session) return;
    setBusy(true);
    setError(undefined);
    try {
      const evidence = await api<{ result: string; signature: string }>(session.captureUrl, {
        method: 'POST',
        body: { sessionId: session.sessionId, challenge: session.challenge, mode, frames },
      });
      setStep(2);
      await api('/api/evoucher/me/activate', {
        method: 'POST',
        body: { evidence: { result: evidence.result, signature: evidence.signature }, device: deviceInfo() },
        idempotencyKey: newIdempotencyKey(),
      });
      setStep(3);
      toast.success('医保电子凭证已激活');
      await qc.invalidateQueries({ queryKey: ['evoucher'] });
      onDone?.();
    } catch (e) {
      setError(errorText(e));
      setStep(1);
      // a session is single use: start a new one for the next try
      void api<LivenessStart>('/api/evoucher/me/liveness', { method: 'POST', body: {} }).then(setSession, () => {});
    } finally {
      setBusy(false);
    }
  };

  const captureCamera = async () => {
    const v = video.current;
    if (!v) return;
    for (let i = 0; i < 30 && v.videoWidth === 0; i++) await sleep(100);
    if (v.videoWidth === 0) {
      setError('摄像头画面未就绪，请稍候再试，或改为上传本人照片');
      return;
    }
    const first = frameOf(v);
    await sleep(900);
    const second = frameOf(v);
    stopStream(stream.current);
    setCamera(false);
    await submit('camera', [first, second]);
  };

  const uploadPhoto = (file: File) => {
    const img = new Image();
    img.onload = () => {
      void submit('photo', [frameOf(img, 640)]);
      URL.revokeObjectURL(img.src);
    };
    img.onerror = () => setError('无法读取该图片，请上传 JPEG 或 PNG 照片');
    img.src = URL.createObjectURL(file);
  };

  if (step === 3) return <Result status="success" title="激活成功" subTitle="现在可以出示医保电子凭证就医购药" />;

  return (
    <Card
      title={
        <Space>
          激活医保电子凭证
          <Tag color="orange">沙箱实人认证</Tag>
        </Space>
      }
    >
      <Steps
        size="small"
        current={step}
        items={[{ title: '开始认证' }, { title: '活体采集' }, { title: '绑定凭证' }]}
        style={{ marginBottom: 16 }}
      />
      <Alert
        type="warning"
        showIcon
        style={{ marginBottom: 16 }}
        title="当前为沙箱环境"
        description="沙箱实人认证只检查画面是否为有效图像及是否有动作，不做真实人脸比对；正式环境由持牌认证服务商完成。"
      />
      {error ? <Alert type="error" showIcon title={error} style={{ marginBottom: 16 }} /> : null}
      {step === 0 ? (
        <Space orientation="vertical" style={{ width: '100%' }}>
          <Typography.Paragraph>
            激活前需完成实人认证，并核对您在本统筹区的参保信息。激活后本设备将作为凭证绑定设备。
          </Typography.Paragraph>
          <Button type="primary" size="large" block onClick={() => void start()}>
            开始实人认证
          </Button>
        </Space>
      ) : null}
      {step >= 1 && session ? (
        <Space orientation="vertical" style={{ width: '100%' }}>
          <Typography.Paragraph>
            请正对镜头，听到提示后缓慢眨眼或转头。本次认证码：
            <Typography.Text strong>{session.challenge}</Typography.Text>
          </Typography.Paragraph>
          {camera ? (
            <>
              <video
                ref={video}
                playsInline
                muted
                style={{ width: '100%', maxWidth: 360, borderRadius: 8, background: '#000' }}
                aria-label="摄像头画面"
              />
              <Button type="primary" size="large" block loading={busy} onClick={() => void captureCamera()}>
                采集（请缓慢眨眼）
              </Button>
            </>
          ) : (
            <>
              <Button
                type="primary"
                size="large"
                block
                icon={<CameraOutlined />}
                loading={busy}
                onClick={() => void openCamera()}
              >
                打开摄像头
              </Button>
              <Button
                size="large"
                block
                icon={<UploadOutlined />}
                disabled={busy}
                onClick={() => document.getElementById('evoucher-photo')?.click()}
              >
                上传本人照片
              </Button>
              <input
                id="evoucher-photo"
                type="file"
                accept="image/jpeg,image/png"
                capture="user"
                hidden
                onChange={(e) => {
                  const f = e.target.files?.[0];
                  if (f) uploadPhoto(f);
                  e.target.value = '';
                }}
              />
            </>
          )}
        </Space>
      ) : null}
    </Card>
  );
}
