import { BellOutlined } from '@ant-design/icons';
import { Badge } from 'antd';
import { useUnreadCount } from './api';

/** The 消息 menu icon with the live unread badge. */
export function InboxNavIcon({ className }: { className?: string }) {
  const unread = useUnreadCount();
  // the side menu gives its icons their spacing through className
  return (
    <Badge
      className={className}
      count={unread ?? 0}
      size="small"
      offset={[6, -2]}
      aria-label={unread ? `${unread} 条未读消息` : undefined}
    >
      <BellOutlined />
    </Badge>
  );
}
