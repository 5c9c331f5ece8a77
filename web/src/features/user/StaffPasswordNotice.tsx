import { Alert, Button } from 'antd';
import { useLocation, useNavigate } from 'react-router';
import { useStaffPermissions } from '../../lib/permissions';
import { chinaDaysUntil } from '../../lib/time';

/** Days ahead that the console says a staff password ages out (the server's reminder goes out then too). */
const NOTICE_DAYS = 7;

/** 密码即将到期: on a staff portal's home and 我的账号, within a week of the staff password ageing out. */
export function StaffPasswordNotice() {
  const { me } = useStaffPermissions();
  const navigate = useNavigate();
  const [, portal, page] = useLocation().pathname.split('/');
  if (!me?.passwordExpiresAt) return null;
  const days = chinaDaysUntil(me.passwordExpiresAt);
  if (days > NOTICE_DAYS) return null;
  const when = days <= 0 ? '今天' : days === 1 ? '明天' : ` ${days} 天后`;
  return (
    <Alert
      type="warning"
      showIcon
      style={{ marginBottom: 16 }}
      title={`您的密码将于${when}到期`}
      description="到期后登录时须先设置新密码。现在修改，可免去那时的打断。"
      action={
        page === 'me' ? null : (
          <Button size="small" onClick={() => navigate(`/${portal}/me`)}>
            修改密码
          </Button>
        )
      }
    />
  );
}
