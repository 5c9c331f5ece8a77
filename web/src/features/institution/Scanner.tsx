import { CameraOutlined } from '@ant-design/icons';
import { Alert, Button, Modal } from 'antd';
import { useEffect, useRef, useState } from 'react';

interface Detector {
  detect(source: HTMLVideoElement): Promise<Array<{ rawValue: string }>>;
}
type DetectorCtor = new (opts: { formats: string[] }) => Detector;

/** Camera QR scanning via getUserMedia + BarcodeDetector where the browser has them; otherwise says so in Chinese. */
export function ScanButton({ onCode }: { onCode: (code: string) => void }) {
  const [open, setOpen] = useState(false);
  const supported = typeof navigator !== 'undefined' && !!navigator.mediaDevices?.getUserMedia;
  return (
    <>
      <Button size="large" icon={<CameraOutlined />} onClick={() => setOpen(true)} disabled={!supported}>
        扫码
      </Button>
      {open ? (
        <ScanModal
          onClose={() => setOpen(false)}
          onCode={(c) => {
            setOpen(false);
            onCode(c);
          }}
        />
      ) : null}
    </>
  );
}

function ScanModal({ onClose, onCode }: { onClose: () => void; onCode: (code: string) => void }) {
  const video = useRef<HTMLVideoElement>(null);
  const [error, setError] = useState<string>();
  useEffect(() => {
    let stream: MediaStream | undefined;
    let timer: ReturnType<typeof setInterval> | undefined;
    let stopped = false;
    const Ctor = (globalThis as { BarcodeDetector?: DetectorCtor }).BarcodeDetector;
    (async () => {
      try {
        stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' } });
        if (stopped || !video.current) return;
        video.current.srcObject = stream;
        await video.current.play();
        if (!Ctor) {
          setError('当前浏览器不支持自动识别二维码，请使用扫码枪或粘贴电子凭证码');
          return;
        }
        const detector = new Ctor({ formats: ['qr_code'] });
        timer = setInterval(async () => {
          if (!video.current) return;
          const found = await detector.detect(video.current).catch(() => []);
          if (found[0]?.rawValue) onCode(found[0].rawValue);
        }, 300);
      } catch {
        setError('无法打开摄像头（未授权或设备不可用），请粘贴电子凭证码');
      }
    })();
    return () => {
      stopped = true;
      if (timer) clearInterval(timer);
      for (const t of stream?.getTracks() ?? []) t.stop();
    };
  }, [onCode]);
  return (
    <Modal open title="扫描医保电子凭证" onCancel={onClose} footer={null} destroyOnHidden>
      {error ? <Alert type="warning" showIcon message={error} style={{ marginBottom: 12 }} /> : null}
      <video ref={video} style={{ width: '100%', borderRadius: 8, background: '#000' }} muted playsInline />
    </Modal>
  );
}
